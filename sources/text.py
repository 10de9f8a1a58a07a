"""The one Arabic/English text path: normalisation for matching, language detection, tokenisation.

BM25, chunking and the evaluation metrics all go through these functions, so an Arabic word is
matched the same way everywhere. Normalisation is for *matching only*: displayed text (passages,
quotes, answers) is never altered.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

NORMALISER_VERSION = 2   # 2: Arabic stop words matched after normalisation (على, متى, التي…)

Language = Literal["ar", "en", "mixed", "unknown"]

# Harakat, tanwin, shadda, sukun, superscript alef, Quranic annotation marks, and tatweel.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
# Zero-width joiners and direction marks: no letters, only stray tokens (``normalize`` drops them).
_FORMAT_MARKS = "\u200c\u200d\u200e\u200f\ufeff"
# … and the other invisible format characters (Arabic letter mark, zero-width space, bidi embeddings
# and isolates), which ``strip_invisible`` also drops.
_INVISIBLE = re.compile(f"[{_FORMAT_MARKS}\u061c\u200b\u202a-\u202e\u2066-\u2069]")
_CHAR_MAP = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ی": "ي", "ئ": "ي",
    "ة": "ه",
    "ؤ": "و",
    "ک": "ك",
    # Arabic-Indic and Eastern Arabic-Indic digits → ASCII digits, so "٦٧٨" matches "678".
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
    **{c: "" for c in _FORMAT_MARKS},
})

_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Longest first: the definite article with a conjunction or preposition glued to it.
_AR_PREFIXES = ("وبال", "وكال", "فبال", "وال", "بال", "كال", "فال", "ولل", "لل", "ال")
_AR_MIN_STEM = 2

_EN_STOPWORDS = frozenset(
    "a an and are as at be been but by did do does for from had has have how i in is it its of on or "
    "that the their there these they this to was were what when where which who whom whose why will "
    "with would you your".split()
)
_AR_STOPWORDS = frozenset(
    "في من على الى الي عن مع ما ماذا متى اين كيف كم هل هو هي هم هن انا نحن انت ذلك تلك هذا هذه "
    "التي الذي الذين او ام ثم لم لن قد كان كانت يكون تكون و ف ب ل ك ان لا بين كل بعد قبل عند".split()
)


def _normalised_stopwords() -> frozenset[str]:
    # The list is written as Arabic is spelt; tokens are compared after normalisation (على → علي).
    return frozenset(normalize(w) for w in _AR_STOPWORDS) | _AR_STOPWORDS


def strip_marks(text: str) -> str:
    """``text`` without Arabic diacritics and tatweel, its letters otherwise as written (the first
    step of ``normalize``, for words that are written back out: «المجْلس» → «المجلس»)."""
    return _ARABIC_MARKS.sub("", text)


def strip_invisible(text: str) -> str:
    """``text`` without invisible format characters (XQuAD's Arabic questions often open with a
    right-to-left mark, U+200F), its visible characters as written — for text a model reads, never
    for text whose offsets are quoted."""
    return _INVISIBLE.sub("", text)


def normalize(text: str) -> str:
    """Normalise for matching: NFKC, Arabic diacritics and tatweel removed, alef/ya/ta-marbuta
    forms unified, Arabic digits to ASCII, lower-case. Never use the result for display."""
    text = strip_marks(unicodedata.normalize("NFKC", text))
    return text.translate(_CHAR_MAP).casefold()


def detect_language(text: str, *, threshold: float = 0.8) -> Language:
    """``ar`` or ``en`` when at least ``threshold`` of the words are in that script, ``mixed``
    when both scripts are present below that, ``unknown`` when there are no words with letters."""
    ar = en = 0
    for word in _WORD.findall(text):
        if _ARABIC_LETTER.search(word):
            ar += 1
        elif _LATIN_LETTER.search(word):
            en += 1
    total = ar + en
    if total == 0:
        return "unknown"
    if ar / total >= threshold:
        return "ar"
    if en / total >= threshold:
        return "en"
    return "mixed"


def is_arabic_word(word: str) -> bool:
    return bool(_ARABIC_LETTER.match(word))


def strip_arabic_prefix(word: str) -> str:
    """Remove one clitic-plus-article prefix (ال وال بال كال فال لل …) from a *normalised* word,
    keeping at least two letters of stem."""
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _AR_MIN_STEM:
            return word[len(prefix):]
    return word


_AR_STOPWORDS_NORMALISED = _normalised_stopwords()


@lru_cache(maxsize=1)
def _english_stemmer():
    try:
        import Stemmer  # PyStemmer
    except ImportError:  # pragma: no cover - PyStemmer is a core dependency
        from sources.errors import MissingDependencyError

        raise MissingDependencyError("English stemming needs PyStemmer.", "pip install PyStemmer") from None
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Normalised word tokens (letters and digits), no prefix stripping, no stop-word removal."""
    return _WORD.findall(normalize(text))


def tokenize(text: str, *, stem: bool = False, stopwords: bool = False) -> list[str]:
    """Tokens for lexical matching (BM25): normalised words, Arabic article/clitic prefixes
    stripped, English lower-cased and optionally Snowball-stemmed, optionally stop words dropped."""
    out: list[str] = []
    latin: list[int] = []
    for word in words(text):
        if stopwords and (word in _EN_STOPWORDS or word in _AR_STOPWORDS_NORMALISED):
            continue
        if is_arabic_word(word):
            word = strip_arabic_prefix(word)
        elif stem and word.isascii() and word.isalpha():
            latin.append(len(out))
        out.append(word)
    if latin:
        stemmed = _english_stemmer().stemWords([out[i] for i in latin])
        for i, s in zip(latin, stemmed):
            out[i] = s
    return out


_SPAN_TOKEN = re.compile(r"[^\s،,.;؛:!?؟()\[\]«»\"'“”*`]+")


def token_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each token of the *original* text, split at spaces and punctuation
    (Arabic and Latin; a hyphen does not split: ``forty-one``): offsets for quoting and highlighting."""
    return [m.span() for m in _SPAN_TOKEN.finditer(text)]


def match_key(word: str) -> str:
    """The key a word of a sentence is matched by: normalised; Arabic without its article and
    clitics and a leading conjunction or preposition (و ف ب ل ك); English without a plural -s on
    words longer than four letters."""
    w = normalize(word)
    if is_arabic_word(w):
        return _conjunction_forms(strip_arabic_prefix(w))[-1]
    if len(w) > 4 and w.endswith("s"):
        return w[:-1]
    return w


def soft_overlap(query_tokens: set[str], text_tokens: set[str]) -> int:
    """How many of ``query_tokens`` occur in ``text_tokens``, Arabic words also matching their
    close derivations (one letter more or less, or up to two letters of suffix: صدر/صدور,
    قرار/قرارا, انتهت/انتهاء) — both sides as ``tokenize`` makes them."""
    found = 0
    for q in query_tokens:
        if q in text_tokens or is_arabic_word(q) and len(q) >= 3 and any(
                _near_arabic(form, t) for form in _conjunction_forms(q) for t in text_tokens):
            found += 1
    return found


def _near_arabic(a: str, b: str) -> bool:
    if not b or a[0] != b[0] or abs(len(a) - len(b)) > 2 or min(len(a), len(b)) < 3:
        return False
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if short.endswith("ه") and long_ == short[:-1] + "ات":   # feminine plural: فئة/فئات, قرارة/قرارات
        return True
    if long_.startswith(short[:-1] if len(short) > 3 else short) and len(long_) - len(short) <= 2:
        return True
    if len(a) == len(b):  # one substituted letter, not the first
        return sum(x != y for x, y in zip(a, b)) == 1 and len(a) >= 4
    if len(long_) - len(short) == 1:  # one inserted letter
        return any(long_[:i] + long_[i + 1:] == short for i in range(1, len(long_)))
    return False


def _conjunction_forms(word: str) -> tuple[str, ...]:
    """``word`` and, when it starts with a conjunction or preposition (و ف ب ل ك), the rest."""
    if len(word) > 3 and word[0] in "وفبلك":
        return (word, strip_arabic_prefix(word[1:]))
    return (word,)

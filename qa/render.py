"""Short answers rendered for the asker: dates, months and digits in the asker's language.

A short answer is the source's own words. When the source is Arabic and the asker English (or the
other way round), a date or a number is still readable once its month names and digits are put
into the asker's script: ``29 نوفمبر 1990`` → ``29 November 1990``, ``١٢`` → ``12``; and for an
Arabic asker ``27 February 1991`` → ``27 فبراير 1991``. Deterministic: a table, no model. Anything
else (names, phrases) is left as written — the citation shows it in context. Digits follow the
asker: an English asker always gets ASCII digits; an Arabic asker gets Arabic-Indic digits only
when the question itself was written with them.
"""

from __future__ import annotations

import re

from sources.text import detect_language, normalize

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
# The Egyptian/Gulf month names and the Levantine/Iraqi ones; both read as the same month.
_AR_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
              "ديسمبر")
_AR_MONTHS_LEVANT = ("كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول",
                     "تشرين الأول", "تشرين الثاني", "كانون الأول")
_AR_VARIANTS = {"ابريل": 3, "إبريل": 3, "اغسطس": 7, "أغسطس": 7, "اكتوبر": 9, "أكتوبر": 9, "يوليه": 6, "يونيه": 5,
                "نوفمبر": 10, "ديسمبر": 11, "سبتمبر": 8, "مارس": 2, "مايو": 4, "فبراير": 1, "يناير": 0}

_AR_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans({**{_AR_DIGITS[i]: str(i) for i in range(10)},
                           **{chr(0x06F0 + i): str(i) for i in range(10)}, "٫": ".", "٬": ","})
_TO_ARABIC = str.maketrans({str(i): _AR_DIGITS[i] for i in range(10)})
_NEEDS_AR_DIGITS = re.compile("[٠-٩]")
_AR_LEAD = re.compile(r"^(?:(?:في|عام|العام|سنة|يوم|منذ|حتى)\s+)+")


def _month_table() -> list[tuple[re.Pattern[str], int]]:
    names: dict[str, int] = {}
    for i, name in enumerate(_AR_MONTHS):
        names[name] = i
    for i, name in enumerate(_AR_MONTHS_LEVANT):
        names[name] = i
    names.update(_AR_VARIANTS)
    # Longest first, so "كانون الثاني" wins over a shorter name; a name may carry a prefix (في/ب).
    ordered = sorted(names.items(), key=lambda kv: -len(kv[0]))
    out = []
    for name, i in ordered:
        pattern = r"(?<![\w])(?:ب|ل|في\s)?" + re.escape(name).replace(r"\ ", r"\s+") + r"(?![\w])"
        out.append((re.compile(pattern), i))
    return out


_AR_MONTH_PATTERNS = _month_table()
_EN_MONTH_PATTERN = re.compile(r"\b(" + "|".join(_EN_MONTHS) + r"|" + "|".join(m[:3] for m in _EN_MONTHS)
                               + r")(?![A-Za-z])\.?", re.IGNORECASE)


def to_ascii_digits(text: str) -> str:
    """Arabic-Indic (and Eastern Arabic-Indic) digits → ASCII: ``١٢`` → ``12``."""
    return text.translate(_TO_ASCII)


def to_arabic_digits(text: str) -> str:
    """ASCII digits → Arabic-Indic: ``12`` → ``١٢``."""
    return text.translate(_TO_ARABIC)


def _english_months(text: str) -> str:
    for pattern, i in _AR_MONTH_PATTERNS:
        text = pattern.sub(_EN_MONTHS[i], text)
    return text


def _arabic_months(text: str) -> str:
    def month(m: re.Match[str]) -> str:
        word = m.group(1).lower()
        for i, name in enumerate(_EN_MONTHS):
            if name.lower() == word or name[:3].lower() == word:
                return _AR_MONTHS[i]
        return m.group(0)

    return _EN_MONTH_PATTERN.sub(month, text)


def is_date_or_number(text: str) -> bool:
    """Whether ``text`` is a date or a number: digits, with at most month names and a few words
    (day, year, the article) around them."""
    t = to_ascii_digits(text)
    if not re.search(r"\d", t):
        return False
    rest = _EN_MONTH_PATTERN.sub(" ", _english_months(t))
    words = [w for w in re.split(r"[\s,./\-–—]+", rest) if w and not re.fullmatch(r"\d+(?:[.,]\d+)?%?", w)]
    return len(words) <= 2


# Count words one to twelve (with the feminine/case forms a span shows) and their value: a short answer
# that is only such a word is a number for the asker of the other language ("ست" → "6" for English).
_AR_COUNTS = {w: n for n, forms in enumerate((
    "واحد|واحدة", "اثنان|اثنين|اثنتان|اثنتين", "ثلاث|ثلاثة", "أربع|أربعة|اربع|اربعة", "خمس|خمسة", "ست|ستة",
    "سبع|سبعة", "ثماني|ثمانية|ثمان", "تسع|تسعة", "عشر|عشرة", "أحد عشر|احد عشر", "اثنا عشر|اثني عشر"), start=1)
    for w in forms.split("|")}
_EN_COUNTS = {w: n for n, w in enumerate(("one two three four five six seven eight nine ten eleven twelve").split(),
                                         start=1)}


def _count_word(text: str) -> int | None:
    t = " ".join(text.split()).strip(" .،,")
    return _AR_COUNTS.get(t) or _EN_COUNTS.get(t.lower())


def render_short(text: str, asker_lang: str, *, question: str = "") -> str:
    """``text`` (a short answer in the source's words) rendered for an asker writing ``asker_lang``.
    Only dates and numbers change (a count word of the other language becomes digits); anything else
    is returned as it is."""
    if not text:
        return text
    count = _count_word(text)
    if count is not None:
        if detect_language(text) == asker_lang:
            return text
        out = str(count)
        return to_arabic_digits(out) if asker_lang == "ar" and _NEEDS_AR_DIGITS.search(question) else out
    if not is_date_or_number(text):
        return text
    if asker_lang == "en":
        out = _english_months(to_ascii_digits(text))
        # Arabic words that only lead into the date ("في 29 نوفمبر", "عام 1991") are not part of it.
        return _AR_LEAD.sub("", out).strip() or out
    if asker_lang == "ar":
        out = _arabic_months(text)
        if _NEEDS_AR_DIGITS.search(question):
            out = to_arabic_digits(out)
        return out
    return text


def same_answer(a: str, b: str) -> bool:
    """Whether two renderings name the same date or number (months and digits unified)."""
    return normalize(_english_months(to_ascii_digits(a))) == normalize(_english_months(to_ascii_digits(b)))

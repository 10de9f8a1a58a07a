"""Short answer spans inside an answer sentence, without a generative model.

The question's type (``qa.question_form``: number, date, person, other) picks the kind of span; among the candidates, the one nearest to the words the sentence shares with the
question wins. Everything matches through the shared normaliser (``sources.text``).

Measured on XQuAD (150 questions per language), a short span beats quoting the whole sentence
for numbers and dates in both languages and for people's names in English (capitalisation marks
them); for other questions, and names in Arabic, the sentence scores better, so no span is
proposed there.
"""

from __future__ import annotations

import re

from qa.markdown import clean_span
from qa.question_form import QuestionType, asks_count, question_type
from qa.terms import STOP_EDGE as _STOP_EDGE
from qa.terms import Token as _Tok
from qa.terms import is_number as _is_number
from qa.terms import key_of as _key
from qa.terms import tokens as _tokens
from sources.text import is_arabic_word, normalize



_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec "
           "يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر "
           "كانون شباط اذار نيسان ايار حزيران تموز اب ايلول تشرين").split()
_DECADE = re.compile(r"(?:1\d|20)\d0s|(?:ال)?(?:عشرين|ثلاثين|اربعين|خمسين|ستين|سبعين|ثمانين|تسعين)يات|"
                     r"(?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)")


def _is_month(tok: _Tok) -> bool:
    return tok.key in _MONTHS or normalize(tok.raw) in _MONTHS


def _is_decade(tok: _Tok) -> bool:
    return bool(_DECADE.fullmatch(normalize(tok.raw))) or bool(_DECADE.fullmatch(tok.key))


def _is_date_part(toks: list[_Tok], i: int) -> bool:
    near = toks[max(i - 1, 0):i] + toks[i + 1:i + 2]
    year = re.fullmatch(r"1[5-9]\d{2}|20\d{2}", normalize(toks[i].raw))
    before = normalize(toks[i - 1].raw) if i else ""
    return any(_is_month(t) for t in near) or bool(year and before in ("عام", "سنه", "in", "since", "في", "year"))


# Words that make the number after them a label, not a quantity ("القرار رقم 678", "Article 43").
_LABELS = frozenset(normalize(w) for w in (
    "رقم", "برقم", "قرار", "القرار", "قراره", "ماده", "الماده", "الفقره", "فقره", "البند", "بند", "الفصل",
    "no", "nos", "number", "resolution", "resolutions", "article", "articles", "paragraph", "chapter",
    "section", "clause", "item"))


def _is_label(toks: list[_Tok], i: int) -> bool:
    return i > 0 and normalize(toks[i - 1].raw).lower().rstrip(".") in _LABELS


def _candidates(toks: list[_Tok], qtype: QuestionType, *, counting: bool = False) -> list[tuple[int, int]]:
    """Token index ranges [i, j) of candidate spans for a number or date question; ``counting``
    (a how-many question) leaves out labels ("رقم 678")."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if qtype == "date" and _is_decade(t):
            j = i + 1
            while j < len(toks) and j - i < 3 and (_is_number(toks[j]) or toks[j].key in ("قرن", "century")
                                                   or normalize(toks[j].raw) in ("القرن", "العشرين", "التاسع")):
                j += 1
            out.append((i, j))
            i = j
            continue
        if qtype == "date" and (_is_month(t) or _is_number(t)):
            j = i
            while j < len(toks) and (_is_month(toks[j]) or _is_number(toks[j])) and j - i < 4:
                j += 1
            span = toks[i:j]
            has_year = any(re.fullmatch(r"1\d{3}|20\d{2}", normalize(s.raw)) for s in span)
            if has_year or any(_is_month(s) for s in span):
                out.append((i, j))
            i = j
            continue
        if qtype == "number" and _is_number(t) and _is_date_part(toks, i):
            i += 1   # "29" of "29 نوفمبر 1990", or a year, is not a count
            continue
        if qtype == "number" and counting and _is_number(t) and _is_label(toks, i):
            i += 1   # nor is the number of "resolution 678"
            continue
        if qtype == "number" and _is_number(t):
            j = i + 1
            while j < len(toks) and _is_number(toks[j]) and j - i < 3:
                j += 1
            out.append((i, j))
            i = j
            continue
        i += 1
    return out


def _runs(toks: list[_Tok], qkeys: set[str]) -> list[tuple[int, int]]:
    """Maximal runs of tokens that are not question words (edges trimmed of stop words)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        if toks[i].key in qkeys:
            i += 1
            continue
        j = i
        while j < len(toks) and toks[j].key not in qkeys:
            j += 1
        a, b = i, j
        while a < b and toks[a].key in _STOP_EDGE:
            a += 1
        while b > a and toks[b - 1].key in _STOP_EDGE:
            b -= 1
        if a < b:
            out.append((a, b))
        i = j
    return out


def _capitalised(toks: list[_Tok], i: int, j: int) -> list[tuple[int, int]]:
    """Sub-runs of capitalised words (a name) inside ``toks[i:j]``; Arabic runs are kept whole."""
    if any(is_arabic_word(normalize(t.raw)) for t in toks[i:j]):
        return [(i, j)]
    out, a = [], None
    for x in range(i, j + 1):
        cap = x < j and toks[x].raw[:1].isupper()
        if cap and a is None:
            a = x
        elif not cap and a is not None:
            out.append((a, x))
            a = None
    return out


def short_span(question: str, search_query: str, sentence: str) -> tuple[int, int] | None:
    """The character span ``[start, end)`` of a short answer inside ``sentence``, or ``None``."""
    toks = _tokens(sentence)
    if not toks:
        return None
    qkeys = {_key(w.raw) for w in _tokens(search_query + " " + question)}
    matched = [i for i, t in enumerate(toks) if t.key in qkeys and t.key not in _STOP_EDGE]
    if not matched:
        return None
    qtype = question_type(question)
    if qtype == "other" or (qtype == "person" and any(is_arabic_word(normalize(t.raw)) for t in toks)):
        return None
    if qtype in ("number", "date"):
        spans = [(i, j) for i, j in _candidates(toks, qtype, counting=asks_count(question))
                 if not all(toks[x].key in qkeys for x in range(i, j))]
        max_len = 4
    else:
        spans = _runs(toks, qkeys)
        if qtype == "person":
            spans = [sub for i, j in spans for sub in _capitalised(toks, i, j)] or spans
        max_len = 6
    best = None
    for i, j in spans:
        if j - i > max_len:
            # Keep the part nearest to the question words.
            near = min(matched, key=lambda m: min(abs(m - i), abs(m - (j - 1))))
            i, j = (i, i + max_len) if near < i else (j - max_len, j)
        dist = min(min(abs(m - i), abs(m - (j - 1))) for m in matched)
        score = dist + 0.15 * (j - i)
        if qtype == "person" and not any(t.raw[:1].isupper() or is_arabic_word(normalize(t.raw)) for t in toks[i:j]):
            score += 3
        if best is None or score < best[0]:
            best = (score, i, j)
    if best is None:
        return None
    _, i, j = best
    return toks[i].start, toks[j - 1].end


# ---------------------------------------------------------------------------- spans in source offsets

_CLAUSE = re.compile(r"[،,؛;:]\s+|\s+(?=(?:و|ف)?(?:لكن|حيث|إذ|اذ|بل|كما|رغم|على الرغم|وذلك|الذي|التي)\s)"
                     r"|\s+(?=(?:which|while|although|whereas|but|because|since|when)\s)")


def clause_spans(sentence: str) -> list[tuple[int, int]]:
    """Clause spans of a sentence (cut at commas, semicolons and clause-opening words), trimmed."""
    out, pos = [], 0
    for m in _CLAUSE.finditer(sentence):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(sentence)))
    spans = []
    for s, e in out:
        while s < e and sentence[s].isspace():
            s += 1
        while e > s and sentence[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
    return spans


def windows(sentence: str, max_words: int) -> list[tuple[int, int]]:
    """Candidate quotes inside a long sentence: runs of consecutive clauses of at most
    ``max_words`` words, and windows of ``max_words`` words sliding over a longer clause."""
    clauses = clause_spans(sentence)
    words = [[(s + m.start(), s + m.end()) for m in re.finditer(r"\S+", sentence[s:e])] for s, e in clauses]
    out: list[tuple[int, int]] = []
    stride = max(1, max_words // 4)
    for i, toks in enumerate(words):
        if len(toks) > max_words:
            for a in range(0, len(toks) - max_words + stride, stride):
                chunk = toks[a:a + max_words]
                out.append((chunk[0][0], chunk[-1][1]))
            continue
        total = 0
        for j in range(i, len(words)):
            total += len(words[j])
            if total > max_words or (j > i and len(words[j]) > max_words):
                break
            out.append((clauses[i][0], clauses[j][1]))
    return list(dict.fromkeys(out))


def typed_spans(sentence: str, qtype: QuestionType, *, counting: bool = False) -> list[tuple[int, int]]:
    """Character spans of every date (for ``date``) or number (for ``number``) in ``sentence``;
    ``counting`` (``asks_count``) keeps only quantities, not labels ("resolution 678")."""
    if qtype not in ("date", "number"):
        return []
    toks = _tokens(sentence)
    return [(toks[i].start, toks[j - 1].end) for i, j in _candidates(toks, qtype, counting=counting)]


def span_near_question(question: str, search_query: str, sentence: str, spans: list[tuple[int, int]]
                       ) -> tuple[tuple[int, int] | None, int]:
    """Of ``spans``, the one nearest (in tokens) to a word the sentence shares with the question,
    with that distance (``None``, a large number when nothing is shared)."""
    toks = _tokens(sentence)
    qkeys = {_key(w.raw) for w in _tokens(search_query + " " + question)}
    matched = [i for i, t in enumerate(toks) if t.key in qkeys and t.key not in _STOP_EDGE]
    if not matched or not spans:
        return None, 10 ** 6
    index_of = {t.start: i for i, t in enumerate(toks)}
    end_of = {t.end: i for i, t in enumerate(toks)}
    best, best_d = None, 10 ** 6
    for s, e in spans:
        i, j = index_of.get(s), end_of.get(e)
        if i is None or j is None:
            continue
        if all(toks[x].key in qkeys for x in range(i, j + 1)):
            continue  # the question's own number ("resolution 678") is not the answer
        d = min(min(abs(m - i), abs(m - j)) for m in matched)
        if d < best_d:
            best, best_d = (s, e), d
    return best, best_d


def snap(answer: str, text: str, start: int, end: int, *, same_language: bool = True) -> tuple[int, int] | None:
    """The span of ``text[start:end]`` (offsets into ``text``) that says what ``answer`` says: in
    the same language, the shortest run of words holding most of the answer's words (at least
    0.6 of them); across languages, the date or number that holds the answer's digits. ``None``
    when nothing matches well enough."""
    toks = [t for t in _tokens(text) if start <= t.start and t.end <= end]
    if not toks:
        return None
    if not same_language:
        digits = set(re.findall(r"\d+", normalize(answer)))
        if not digits:
            return None
        for qtype in ("date", "number"):
            for i, j in _candidates(toks, qtype):
                found = set(re.findall(r"\d+", normalize(" ".join(t.raw for t in toks[i:j]))))
                if digits <= found:
                    return clean_span(text, toks[i].start, toks[j - 1].end)
        return None
    want = [_key(t.raw) for t in _tokens(answer)]
    want_set = {w for w in want if w not in _STOP_EDGE} or set(want)
    if not want_set:
        return None
    best = None
    max_len = len(want) + 2
    for i in range(len(toks)):
        if toks[i].key not in want_set:
            continue
        seen: set[str] = set()
        for j in range(i, min(len(toks), i + max_len)):
            if toks[j].key in want_set:
                seen.add(toks[j].key)
                score = (len(seen), -(j - i))
                if best is None or score > best[0]:
                    best = (score, i, j)
    if best is None or best[0][0] < 0.6 * len(want_set):
        return None
    _, i, j = best
    return clean_span(text, toks[i].start, toks[j].end)

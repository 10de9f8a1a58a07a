"""Answer metrics — pure functions, Arabic-aware.

Answers are normalised with the shared text path (``sources.text``: diacritics, tatweel, alef
forms, ى/ة, digits) plus: punctuation removed; Arabic tokens lose a leading و and the article ال;
English follows SQuAD's official normalisation (lower case, articles a/an/the dropped).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

from qa import normalize

_PUNCT = set(string.punctuation) | set("،؛؟«»…—–“”‘’·")
_EN_ARTICLES = {"a", "an", "the"}
_ARABIC = re.compile("[\u0600-\u06ff]")


def _strip_arabic(token: str) -> str:
    if token.startswith("و") and len(token) > 3:
        token = token[1:]
    if token.startswith("ال") and len(token) > 3:
        token = token[2:]
    return token


def answer_tokens(text: str) -> list[str]:
    text = "".join(" " if ch in _PUNCT else ch for ch in normalize(text))
    out = []
    for tok in text.split():
        if _ARABIC.match(tok):
            tok = _strip_arabic(tok)
        elif tok in _EN_ARTICLES:
            continue
        if tok:
            out.append(tok)
    return out


def normalize_answer(text: str) -> str:
    return " ".join(answer_tokens(text))


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in golds))


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 against the best-matching gold answer (SQuAD)."""
    p = answer_tokens(prediction)
    best = 0.0
    for g in golds:
        gt = answer_tokens(g)
        if not p or not gt:
            best = max(best, float(p == gt))
            continue
        common = sum((Counter(p) & Counter(gt)).values())
        if common == 0:
            continue
        precision, recall = common / len(p), common / len(gt)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_gold(prediction: str, golds: Sequence[str]) -> float:
    """1 if some gold answer appears (normalised, on token boundaries) inside the prediction."""
    p = f" {normalize_answer(prediction)} "
    return float(any(normalize_answer(g) and f" {normalize_answer(g)} " in p for g in golds))


def percentile(values: Iterable[float], q: float) -> float:
    v = sorted(values)
    if not v:
        return 0.0
    pos = (len(v) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr(ranks: Sequence[int | None], k: int = 10) -> float:
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0

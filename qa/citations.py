"""``[n]`` markers: parse, validate, renumber, repair, and turn into ``Citation``s.

A marker may only refer to a passage the reader was shown (1…len(hits)); anything else is
dropped, never shown. Markers are renumbered by first appearance so ``[1]`` is always
``citations[0]``. Text inside «…» is a verbatim quote of a source and is never parsed (a source's
own footnote ``[3]`` is not a citation). An answer that cites nothing is repaired with the shown
passage that shares the most words with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.types import Hit
from qa.readers.base import Evidence
from qa.markdown import display_text
from qa.types import Citation
from sources.text import tokenize

# The one citation-marker pattern (the chat, the HTTP API and the citation checks use it): [1],
# [١], [1, 2], [١،٢].
MARKER = re.compile(r"\[\s*([0-9\u0660-\u0669]+(?:\s*[,،]\s*[0-9\u0660-\u0669]+)*)\s*\]")
_MARKER = MARKER
_QUOTE = re.compile(r"«[^»]*»")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


def _outside_quotes(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that are not inside «…» quotes (quotes may nest: a source's own «…»)."""
    spans, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "«":
            if depth == 0:
                spans.append((start, i))
            depth += 1
        elif ch == "»" and depth:
            depth -= 1
            if depth == 0:
                start = i + 1
    if depth == 0:
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if a < b]


def marker_numbers(match: re.Match) -> list[int]:
    """The numbers one ``MARKER`` match cites ("[١، 2]" → [1, 2])."""
    return [int(x.strip().translate(_ARABIC_DIGITS)) for x in re.split(r"[,،]", match.group(1))]


def markers(text: str) -> list[int]:
    """Every number cited in ``text`` (outside quotes), in order, with repeats."""
    out = []
    for a, b in _outside_quotes(text):
        for m in _MARKER.finditer(text, a, b):
            out.extend(marker_numbers(m))
    return out


def strip_markers(text: str) -> str:
    """``text`` without its ``[n]`` markers (and the space before each)."""
    return re.sub(r"\s*" + _MARKER.pattern, "", text).strip()


def _best_supporting(text: str, hits: Sequence[Hit]) -> int | None:
    words = set(tokenize(_QUOTE.sub(lambda m: m.group(0)[1:-1], text), stem=True, stopwords=True))
    if not words or not hits:
        return None
    overlap = [len(words & set(tokenize(h.passage.text, stem=True, stopwords=True))) for h in hits]
    best = max(range(len(hits)), key=lambda i: (overlap[i], -i))
    return best + 1 if overlap[best] > 0 else None


def cite(text: str, hits: Sequence[Hit], evidence: Sequence[Evidence] = ()) -> tuple[str, tuple[Citation, ...]]:
    """Validate and renumber the markers of ``text``; return the cleaned text and its citations."""
    valid = [n for n in markers(text) if 1 <= n <= len(hits)]
    if not valid and text.strip():
        repaired = _best_supporting(text, hits)
        if repaired is not None:
            text = text.rstrip() + f" [{repaired}]"
            valid = [repaired]
    order: dict[int, int] = {}
    for n in valid:
        order.setdefault(n, len(order) + 1)

    def rewrite(m: re.Match) -> str:
        nums = [int(x.strip().translate(_ARABIC_DIGITS)) for x in re.split(r"[,،]", m.group(1))]
        kept = list(dict.fromkeys(order[n] for n in nums if n in order))
        return "".join(f"[{k}]" for k in kept)

    pieces, pos = [], 0
    for a, b in _outside_quotes(text) or []:
        pieces.append(text[pos:a])
        pieces.append(_MARKER.sub(rewrite, text[a:b]))
        pos = b
    pieces.append(text[pos:])
    cleaned = re.sub(r"[ \t]{2,}", " ", "".join(pieces)).replace(" .", ".").strip()

    spans = {e.n: e for e in evidence}
    citations = []
    for old, new in order.items():
        hit = hits[old - 1]
        p = hit.passage
        ev = spans.get(old)
        inside = ev is not None and p.start <= ev.start < ev.end <= p.end
        start, end = (ev.start, ev.end) if inside else (p.start, p.end)
        a0 = a1 = None
        if inside and ev.answer_start is not None and ev.answer_end is not None \
                and start <= ev.answer_start < ev.answer_end <= end:
            a0, a1 = ev.answer_start, ev.answer_end
        citations.append(Citation(
            n=new, passage_id=p.id, source=p.source, start=start, end=end, page=p.page,
            quote=display_text(p.text[start - p.start:end - p.start]), score=hit.score, answer_start=a0,
            answer_end=a1, answer_text=p.text[a0 - p.start:a1 - p.start] if a0 is not None else "",
            passage_start=p.start, passage_end=p.end))
    return cleaned, tuple(citations)

"""Sentence-aware chunking with exact character offsets.

A document is cut into sentences (Arabic ``؟ ؛`` and ``. ! ?``, line breaks), sentences are packed
into passages up to ``max_tokens`` embedder tokens, and consecutive passages overlap by up to
``overlap_tokens`` of whole sentences. A heading always starts a new passage and is remembered as
the heading of the passages under it; a page break (PDF) starts a new passage too. Every passage's text is the document's text between its
``start`` and ``end`` offsets, untouched; nothing but whitespace falls between passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable, Iterator

from sources.text import detect_language
from sources.types import Document, Passage, passage_id

TokenCounter = Callable[[str], int]

# A sentence ends after terminal punctuation (plus closing quotes/brackets) followed by
# whitespace, or at a line break.
_SENTENCE_END = re.compile(r"[.!?؟…]+[\"'»”’)\]]*(?=\s)|\n")
# Inside an over-long sentence: clause punctuation, then spaces.
_CLAUSE_END = re.compile(r"[؛;،,:]+(?=\s)")
_SPACE = re.compile(r"\s+")


def approximate_tokens(text: str) -> int:
    """A model-free estimate of subword tokens (≈1.5 per word), for use without an embedder."""
    return max(1, round(len(text.split()) * 1.5)) if text.strip() else 0


@dataclass(frozen=True)
class ChunkConfig:
    # Measured on XQuAD (README): 100/30 retrieves better than 200/40 or whole paragraphs,
    # most of all across languages.
    max_tokens: int = 100
    overlap_tokens: int = 30

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError(f"max_tokens={self.max_tokens} is too small: use at least 8.")
        if not 0 <= self.overlap_tokens < self.max_tokens:
            raise ValueError(
                f"overlap_tokens={self.overlap_tokens} must be ≥ 0 and below max_tokens={self.max_tokens}.")


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    heading: bool


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _split(text: str, start: int, end: int, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """Trimmed pieces of ``text[start:end]`` cut after each match of ``pattern``."""
    pos = start
    for m in pattern.finditer(text, start, end):
        piece = _trimmed(text, pos, m.end())
        if piece:
            yield piece
        pos = m.end()
    piece = _trimmed(text, pos, end)
    if piece:
        yield piece


def _fit(text: str, start: int, end: int, count: TokenCounter, limit: int) -> Iterator[tuple[int, int, int]]:
    """Cut a span into pieces of at most ``limit`` tokens: clauses, then words, then characters."""
    n = count(text[start:end])
    if n <= limit:
        yield start, end, n
        return
    for pattern in (_CLAUSE_END, _SPACE):
        pieces = list(_split(text, start, end, pattern))
        if len(pieces) > 1:
            yield from _pack_pieces(text, pieces, count, limit)
            return
    # A single "word" longer than the limit: cut it by characters.
    step = max(1, (end - start) * limit // max(n, 1))
    for s in range(start, end, step):
        e = min(end, s + step)
        yield s, e, count(text[s:e])


def _pack_pieces(text: str, pieces: list[tuple[int, int]], count: TokenCounter, limit: int
                 ) -> Iterator[tuple[int, int, int]]:
    cur_start: int | None = None
    cur_end = cur_tokens = 0
    for s, e in pieces:
        for ps, pe, pn in _fit(text, s, e, count, limit):
            if cur_start is not None and cur_tokens + pn <= limit:
                cur_end, cur_tokens = pe, cur_tokens + pn
                continue
            if cur_start is not None:
                yield cur_start, cur_end, cur_tokens
            cur_start, cur_end, cur_tokens = ps, pe, pn
    if cur_start is not None:
        yield cur_start, cur_end, cur_tokens


def _heading_label(line: str) -> str:
    return line.strip().lstrip("#").strip()


def sentences(text: str) -> list[tuple[int, int]]:
    """Trimmed sentence spans of ``text`` (line breaks always end a sentence)."""
    return list(_split(text, 0, len(text), _SENTENCE_END))


def _units(doc: Document, count: TokenCounter, limit: int) -> list[_Unit]:
    text = doc.text
    heading_spans = sorted((h.start, h.end) for h in doc.headings)
    units: list[_Unit] = []
    h = 0
    for s, e in sentences(text):
        while h < len(heading_spans) and heading_spans[h][1] <= s:
            h += 1
        is_heading = h < len(heading_spans) and heading_spans[h][0] <= s < heading_spans[h][1]
        for ps, pe, pn in _fit(text, s, e, count, limit):
            units.append(_Unit(ps, pe, pn, is_heading))
    return units


def chunk(doc: Document, config: ChunkConfig = ChunkConfig(), count: TokenCounter = approximate_tokens
          ) -> list[Passage]:
    """Cut ``doc`` into passages (see the module docstring)."""
    text = doc.text
    units = _units(doc, count, config.max_tokens)
    groups: list[tuple[list[_Unit], str]] = []
    current: list[_Unit] = []
    current_heading = heading_text = ""
    tokens = 0
    fresh = 0  # units in `current` not already emitted in an earlier passage

    def flush() -> None:
        if current and fresh:
            groups.append((list(current), current_heading))

    page = None
    for unit in units:
        unit_page = doc.page_at(unit.start)
        if unit_page != page:  # a passage never spans a page break (citations name one page)
            flush()
            current, tokens, fresh, page = [], 0, 0, unit_page
        if unit.heading:
            continues_heading = bool(current) and all(u.heading for u in current) \
                and tokens + unit.tokens <= config.max_tokens
            if continues_heading:  # a title line, then a section line: one heading "title / section"
                heading_text += " / " + _heading_label(text[unit.start:unit.end])
            else:
                flush()
                current, tokens, fresh = [], 0, 0
                heading_text = _heading_label(text[unit.start:unit.end])
            current.append(unit)
            tokens += unit.tokens
            fresh += 1
            current_heading = heading_text
            continue
        if current and tokens + unit.tokens > config.max_tokens:
            flush()
            # Carry whole trailing sentences (not headings) forward as overlap.
            carry: list[_Unit] = []
            carried = 0
            for prev in reversed(current):
                if prev.heading or carried + prev.tokens > config.overlap_tokens \
                        or carried + prev.tokens + unit.tokens > config.max_tokens:
                    break
                carry.insert(0, prev)
                carried += prev.tokens
            current, tokens, fresh = carry, carried, 0
        current.append(unit)
        tokens += unit.tokens
        fresh += 1
    flush()

    passages = []
    for members, heading in groups:
        start, end = members[0].start, members[-1].end
        body = text[start:end]
        passages.append(Passage(
            id=passage_id(doc.source, start, end, body), text=body, source=doc.source, start=start, end=end,
            lang=detect_language(body), page=doc.page_at(start), heading=heading,
        ))
    return passages

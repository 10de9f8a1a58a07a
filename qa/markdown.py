"""Markdown syntax kept out of what a reader quotes: span edges cleaned of heading, list and quote
marks and emphasis (offsets still name the source's own characters), headings and label lines
told apart from sentences, a numbered-list item's number."""

from __future__ import annotations

import re

_MD_PREFIX = re.compile(r"(?:#{1,6}\s+|>\s*|[-*+•]\s+|\(?\d{1,3}[.)]\s+|\(?[a-zA-Z\u0621-\u064a][.)]\s+)+")
_EDGE_JUNK = "`~#|>\"'“”‘’ \t\n«»()[]{}،,.;؛:!?؟-–—"
_EMPHASIS = re.compile(r"\*\*|__|`+|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)")
_LIST_MARK = re.compile(r"\s*\(?(\d{1,2})[.)]\s")


def clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without markdown syntax at its edges (heading ``#``, list markers, quote
    ``>``, emphasis) and without surrounding punctuation or spaces; never empty unless given empty."""
    s, e = start, end
    m = _MD_PREFIX.match(text, s, e)
    if m and m.end() < e:
        s = m.end()
    while s < e and text[s] in _EDGE_JUNK:
        s += 1
    while e > s and text[e - 1] in _EDGE_JUNK:
        e -= 1
    while e - s > 2 and text[s] in "*_" and text[e - 1] == text[s]:   # paired emphasis around the span
        s, e = s + 1, e - 1
    while s < e and text[s] in _EDGE_JUNK:
        s += 1
    while e > s and text[e - 1] in _EDGE_JUNK:
        e -= 1
    # Keep a closing bracket or quote whose opening is inside the span.
    for open_, close in (("(", ")"), ("«", "»"), ("[", "]"), ('"', '"')):
        if e < end and text[e] == close and text[s:e].count(open_) > text[s:e].count(close):
            e += 1
    return (s, e) if s < e else (start, end)


def display_text(text: str) -> str:
    """A quote as shown: markdown emphasis and code marks removed (offsets still name the source span)."""
    return _EMPHASIS.sub("", text)


def is_heading_line(text: str, heading: str = "") -> bool:
    """A markdown heading, a line that ends with a colon (a label), or the passage's own heading."""
    t = text.strip()
    if not t or t.startswith("#") or t.endswith((":", "：")):
        return True
    labels = {x.strip() for x in heading.split(" / ") if x.strip()}
    return t.lstrip("#").strip() in labels


def list_number(text: str, start: int) -> int | None:
    """The number of the numbered-list item whose text starts at ``start`` ("5. الإرهاب" → 5)."""
    line_start = text.rfind("\n", 0, start) + 1
    m = _LIST_MARK.match(text[line_start:start + 1])
    return int(m.group(1)) if m and line_start + m.end() - 1 <= start else None

"""The ``Reader`` Protocol and what a reader returns.

A reader is shown the hits numbered from 1 and writes text whose ``[n]`` markers refer to them.
It may also point at the exact supporting span inside a passage (``Evidence``), which becomes the
citation's quote. Readers stream: ``stream`` yields text deltas and ends with a chunk carrying
the ``Reading`` (whose ``delta``, if any, is not shown separately: the reading's text is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from collections.abc import Iterator, Sequence

from index.types import Hit


@dataclass(frozen=True)
class Evidence:
    """The span ``[start, end)`` (document offsets) inside passage ``n`` that supports the answer,
    and inside it, where known, the exact words of the answer ``[answer_start, answer_end)``."""

    n: int
    start: int
    end: int
    answer_start: int | None = None
    answer_end: int | None = None


CHECKS = ("quoted", "supported", "repaired", "unchecked", "unsupported")


@dataclass(frozen=True)
class Reading:
    """A reader's result. ``check`` says how far the citation was verified: ``quoted`` (the text is
    the source's own words), ``supported`` (the answer's words are in the cited passage),
    ``repaired`` (they were in another shown passage, now cited instead), ``unchecked`` (the answer
    translates a passage in the other language; the model's choice is kept) or ``unsupported``
    (no shown passage has the answer's words: flagged). Token counts come from generative readers.
    ``support``: how strong the evidence is, in words (``strong``, ``partial``, ``weak``), from
    the abstention decision (``qa.abstention``); ``signals`` what it was decided on."""

    text: str
    short: str = ""
    confidence: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    abstained: bool = False
    check: str = "quoted"
    prompt_tokens: int = 0
    generated_tokens: int = 0
    support: str = ""
    signals: dict | None = None


@dataclass(frozen=True)
class ReadingChunk:
    delta: str = ""
    reading: Reading | None = None


@runtime_checkable
class Reader(Protocol):
    name: str

    def stream(self, question: str, hits: Sequence[Hit], *, lang: str, search_query: str) -> Iterator[ReadingChunk]:
        """Yield text deltas, then a last chunk whose ``reading`` is the full result."""
        ...


"""The ``Reader`` Protocol and what a reader returns.

A reader is shown the hits numbered from 1 and writes text whose ``[n]`` markers refer to them.
It may also point at the exact supporting span inside a passage (``Evidence``), which becomes the
citation's quote. Readers stream: ``stream`` yields text deltas and ends with a chunk carrying
the ``Reading`` (whose ``delta``, if any, is not shown separately: the reading's text is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence, runtime_checkable

from index.types import Hit


@dataclass(frozen=True)
class Evidence:
    """The span ``[start, end)`` (document offsets) inside passage ``n`` that supports the answer."""

    n: int
    start: int
    end: int


@dataclass(frozen=True)
class Reading:
    text: str
    short: str = ""
    confidence: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    abstained: bool = False


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


"""The values that leave ``sources``: a loaded ``Document`` and the ``Passage``s cut from it."""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A character range ``[start, end)`` in a document's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A loaded source: its full text exactly as read, and where pages and headings are in it.

    ``source`` names it (a path or a name given by the caller); ``page_starts`` holds the
    character offset at which each page begins (PDF only, page numbers from 1);
    ``headings`` the spans of heading lines.
    """

    source: str
    text: str
    kind: str = "txt"
    page_starts: tuple[int, ...] = ()
    headings: tuple[Span, ...] = ()
    content_hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", hashlib.sha256(self.text.encode("utf-8")).hexdigest())

    def page_at(self, offset: int) -> int | None:
        """The 1-based page that contains ``offset``, or ``None`` for a document without pages."""
        if not self.page_starts:
            return None
        return max(bisect.bisect_right(self.page_starts, offset), 1)


def passage_id(source: str, start: int, end: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
    return digest[:20]


@dataclass(frozen=True)
class Passage:
    """A chunk of a document. ``text == document.text[start:end]`` always holds."""

    id: str
    text: str
    source: str
    start: int
    end: int
    lang: str
    page: int | None = None
    heading: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "source": self.source, "start": self.start,
                "end": self.end, "lang": self.lang, "page": self.page, "heading": self.heading}

    @classmethod
    def from_dict(cls, d: dict) -> Passage:
        return cls(id=str(d["id"]), text=str(d["text"]), source=str(d["source"]), start=int(d["start"]),
                   end=int(d["end"]), lang=str(d["lang"]), page=d.get("page"), heading=str(d.get("heading", "")))

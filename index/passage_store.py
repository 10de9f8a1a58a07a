"""A shard's passages: held in memory after a change, read on demand from ``passages.jsonl`` after
a load.

A loaded store keeps only compact columns in memory — each passage's source (an index into the
shard's source names), language, start and end, and the byte offset of its line — and decodes a
passage from the memory-mapped file when it is asked for (a search returns a handful). Every line
is still parsed and checked once at load, so a damaged file is refused there, not mid-search.
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from sources.types import Passage

_BLOCK = 1 << 26


class PassageStore:
    def __init__(self) -> None:
        self._items: tuple[Passage, ...] | None = None
        self._mm: mmap.mmap | None = None
        self._offsets = np.zeros(1, np.int64)
        self.names: tuple[str, ...] = ()           # distinct sources, in order of first passage
        self.source_ix = np.zeros(0, np.int32)     # per passage: its source's position in ``names``
        self.langs: tuple[str, ...] = ()
        self.lang_ix = np.zeros(0, np.int16)
        self.start = np.zeros(0, np.int64)
        self.end = np.zeros(0, np.int64)

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> "PassageStore":
        """Passages held in memory."""
        obj = cls()
        obj._items = tuple(passages)
        obj._columns(obj._items)
        return obj

    @classmethod
    def open(cls, path: Path, check) -> "PassageStore":
        """The passages of ``path`` (one JSON object a line), each parsed by ``check`` (which
        raises ``ValueError`` on a bad one) once, then read on demand."""
        obj = cls()
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if size == 0:
                obj._columns(())
                return obj
            obj._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        found = []
        for at in range(0, size, _BLOCK):                # newlines a block at a time: bounded memory
            block = np.frombuffer(obj._mm[at:at + _BLOCK], dtype=np.uint8)
            found.append(np.flatnonzero(block == 10) + at + 1)
        ends = np.concatenate(found)
        if not len(ends) or ends[-1] != size:
            ends = np.append(ends, size)
        starts = np.concatenate([[0], ends[:-1]])
        keep = ends - starts > 1                       # blank lines are not passages
        obj._offsets = np.stack([starts[keep], ends[keep]], axis=1).astype(np.int64)
        obj._columns(check(json.loads(obj._mm[a:b])) for a, b in obj._offsets)
        return obj

    def _columns(self, passages) -> None:
        names: dict[str, int] = {}
        langs: dict[str, int] = {}
        src, lang, start, end = [], [], [], []
        for p in passages:
            src.append(names.setdefault(p.source, len(names)))
            lang.append(langs.setdefault(p.lang, len(langs)))
            start.append(p.start)
            end.append(p.end)
        self.names, self.langs = tuple(names), tuple(langs)
        self.source_ix = np.asarray(src, dtype=np.int32)
        self.lang_ix = np.asarray(lang, dtype=np.int16)
        self.start = np.asarray(start, dtype=np.int64)
        self.end = np.asarray(end, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.source_ix)

    def __getitem__(self, i: int) -> Passage:
        if self._items is not None:
            return self._items[i]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        a, b = self._offsets[i]
        return Passage.from_dict(json.loads(self._mm[a:b]))

    def __iter__(self) -> Iterator[Passage]:
        for i in range(len(self)):
            yield self[i]

    def lang_of(self, i: int) -> str:
        return self.langs[self.lang_ix[i]]

    def source_of(self, i: int) -> str:
        return self.names[self.source_ix[i]]

    def rows_of_sources(self, sources: set[str]) -> np.ndarray:
        """The rows whose passages belong to ``sources``."""
        wanted = [i for i, n in enumerate(self.names) if n in sources]
        return np.flatnonzero(np.isin(self.source_ix, wanted)) if wanted else np.zeros(0, np.int64)

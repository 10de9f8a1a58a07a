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
from array import array
from pathlib import Path
from collections.abc import Iterator, Sequence

import numpy as np

from sources.types import Passage


class PassageStore:
    def __init__(self) -> None:
        self._items: tuple[Passage, ...] | None = None
        self._mm: mmap.mmap | None = None
        self._offsets = np.zeros((0, 2), np.int64)   # (start, end) of each file-backed passage's line
        self._extra: tuple[Passage, ...] = ()          # passages after the file-backed ones, in memory
        self.names: tuple[str, ...] = ()           # distinct sources, in order of first passage
        self.source_ix = np.zeros(0, np.int32)     # per passage: its source's position in ``names``
        self.langs: tuple[str, ...] = ()
        self.lang_ix = np.zeros(0, np.int16)
        self.start = np.zeros(0, np.int64)
        self.end = np.zeros(0, np.int64)

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> PassageStore:
        """Passages held in memory."""
        obj = cls()
        obj._items = tuple(passages)
        obj._columns(obj._items)
        return obj

    @classmethod
    def open(cls, path: Path, check) -> PassageStore:
        """The passages of ``path`` (one JSON object a line), each parsed by ``check`` (which
        raises ``ValueError`` on a bad one) once, then read on demand."""
        obj = cls()
        spans = array("q")        # compact: no Python object per passage survives the load

        def parsed():
            # Read with plain file reads, not through the map: the pages stay page cache, not this process's.
            at = 0
            with open(path, "rb") as fh:
                for line in fh:
                    if line.strip():                 # blank lines are not passages
                        spans.extend((at, at + len(line)))
                        yield check(json.loads(line))
                    at += len(line)

        obj._columns(parsed())
        obj._offsets = np.frombuffer(spans, dtype=np.int64).reshape(-1, 2).copy()
        if spans:
            with open(path, "rb") as fh:
                obj._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        return obj

    def _columns(self, passages) -> None:
        names: dict[str, int] = {}
        langs: dict[str, int] = {}
        src, lang, start, end = array("i"), array("h"), array("q"), array("q")
        for p in passages:
            src.append(names.setdefault(p.source, len(names)))
            lang.append(langs.setdefault(p.lang, len(langs)))
            start.append(p.start)
            end.append(p.end)
        self.names, self.langs = tuple(names), tuple(langs)
        self.source_ix = np.frombuffer(src, dtype=np.int32).copy()
        self.lang_ix = np.frombuffer(lang, dtype=np.int16).copy()
        self.start = np.frombuffer(start, dtype=np.int64).copy()
        self.end = np.frombuffer(end, dtype=np.int64).copy()

    def __len__(self) -> int:
        return len(self.source_ix)

    def __getitem__(self, i: int) -> Passage:
        if self._items is not None:
            return self._items[i]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        if i >= len(self._offsets):
            return self._extra[i - len(self._offsets)]
        a, b = self._offsets[i]
        return Passage.from_dict(json.loads(self._mm[a:b]))

    def taken(self, rows: np.ndarray, added: Sequence[Passage]) -> PassageStore:
        """The passages at ``rows`` (in that order), then ``added``. A loaded store's rows stay on
        its file, read on demand and written back as the very bytes (nothing decoded again)."""
        rows = np.asarray(rows, dtype=np.int64)
        on_file = rows < len(self._offsets)
        if self._items is None and (on_file[1:] & ~on_file[:-1]).any():   # a file row after an in-memory one
            return PassageStore.of([self[int(i)] for i in rows] + list(added))
        new = PassageStore.of(added)
        obj = PassageStore()
        if self._items is not None:
            items = self._items
            obj._items = tuple(items[i] for i in rows.tolist()) + tuple(added)
        else:
            obj._mm, obj._offsets = self._mm, self._offsets[rows[on_file]]
            obj._extra = tuple(self._extra[int(i) - len(self._offsets)] for i in rows[~on_file]) + tuple(added)
        obj.names, obj.source_ix = _joined(self.names, self.source_ix[rows], new.names, new.source_ix)
        obj.langs, obj.lang_ix = _joined(self.langs, self.lang_ix[rows], new.langs, new.lang_ix)
        obj.start = np.concatenate([self.start[rows], new.start])
        obj.end = np.concatenate([self.end[rows], new.end])
        return obj

    def lines(self) -> Iterator[bytes]:
        """Each passage as its ``passages.jsonl`` line (a file-backed one: its bytes as read)."""
        for i in range(len(self)):
            if self._items is None and i < len(self._offsets):
                a, b = self._offsets[i]
                line = self._mm[a:b]
                yield line if line.endswith(b"\n") else line + b"\n"
            else:
                yield (json.dumps(self[i].to_dict(), ensure_ascii=False) + "\n").encode("utf-8")

    def __iter__(self) -> Iterator[Passage]:
        for i in range(len(self)):
            yield self[i]

    def lang_of(self, i: int) -> str:
        return self.langs[self.lang_ix[i]]

    def rows_of_sources(self, sources: set[str]) -> np.ndarray:
        """The rows whose passages belong to ``sources``."""
        wanted = [i for i, n in enumerate(self.names) if n in sources]
        return np.flatnonzero(np.isin(self.source_ix, wanted)) if wanted else np.zeros(0, np.int64)


def _joined(names: tuple[str, ...], ix: np.ndarray, more: tuple[str, ...], more_ix: np.ndarray
            ) -> tuple[tuple[str, ...], np.ndarray]:
    """Two (distinct values, per-row index) columns as one: only the values still used, in order
    of first row."""
    values = list(names) + [m for m in more if m not in names]
    at = {v: i for i, v in enumerate(values)}
    remap = np.array([at[m] for m in more], dtype=np.int64)
    joined = np.concatenate([ix.astype(np.int64), remap[more_ix] if len(more_ix) else np.zeros(0, np.int64)])
    used, first = np.unique(joined, return_index=True)
    order = used[np.argsort(first)]
    compact = np.zeros(len(values), dtype=np.int64)
    compact[order] = np.arange(len(order))
    return tuple(values[int(v)] for v in order), compact[joined].astype(ix.dtype)

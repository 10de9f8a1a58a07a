"""Shards: an index's passages in groups of whole documents, each with its own dense and BM25 index.

A shard holds at most ``IndexConfig.shard_passages`` passages (a document is never split; one
larger than that fills a shard alone). Global rows run shard after shard. Adding a document fills
the last shard (or opens a new one); replacing or removing one rebuilds only the shard that holds
it, and a save writes only changed shards — an unchanged shard's files are hard-linked from the
previous save, after checking they are still the very files it wrote (device, inode, size, mtime).

Searching asks every shard (in parallel threads) and merges: dense scores are cosines of one
embedder, so they compare across shards as they are (IVF shards' ``nprobe`` is chosen for the merged
result, ``index.tuning``); BM25 scores with the statistics of the whole index (``sparse.Stats``),
so a passage scores the same whichever shard holds it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from index.dense import DenseIndex, IndexKind, resolve_kind
from index.passage_store import PassageStore
from index.sparse import SparseIndex, Stats
from sources.types import Passage

DENSE = "dense.faiss"
BM25 = "bm25"
PASSAGES = "passages.jsonl"
FOLDER = "shards"


@dataclass(frozen=True)
class SavedFiles:
    """Where a shard's files were last written, with each file's checksum and identity."""

    folder: Path
    checksums: dict[str, str]                          # relative to the shard folder
    identity: dict[str, tuple[int, int, int, int]]     # (device, inode, size, mtime_ns)

    def still_there(self) -> bool:
        for rel, ident in self.identity.items():
            try:
                st = os.stat(self.folder / rel)
            except OSError:
                return False
            if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != ident:
                return False
        return bool(self.identity)


@dataclass(frozen=True, eq=False)
class Shard:
    """One shard: its passages (row order), dense and BM25 indexes, and where it was saved (``None``
    when it changed since)."""

    name: str
    passages: PassageStore
    dense: DenseIndex
    sparse: SparseIndex
    saved: SavedFiles | None = field(default=None, compare=False)

    @property
    def size(self) -> int:
        return len(self.passages)

    def rebuilt(self, drop: set[str], passages: Sequence[Passage], vectors: np.ndarray, kind: IndexKind,
                total: int = 0) -> Shard:
        """A new shard without ``drop``'s passages and with ``passages`` (embedded as ``vectors``)
        added at the end; an IVF keeps its trained cells, and the kind follows the new size (and
        the index's ``total``). BM25 keeps the kept passages' term counts: only new text is tokenised."""
        kept = np.ones(self.size, bool)
        kept[self.passages.rows_of_sources(drop)] = False
        keep = np.flatnonzero(kept)
        dense = self.dense.keep(keep)          # a copy: this shard (maybe memory-mapped) stays as it is
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
        kept = self.passages.taken(keep, passages)
        sparse = self.sparse.rebuilt(keep, [p.text for p in passages])
        return Shard(self.name, kept, _of_kind(dense, kind, len(kept), total), sparse)

    @classmethod
    def new(cls, name: str, passages: Sequence[Passage], vectors: np.ndarray, dim: int, kind: IndexKind,
            total: int = 0) -> Shard:
        dense = DenseIndex(dim, resolve_kind(kind, len(passages), total))
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return Shard(name, PassageStore.of(passages), dense, SparseIndex.build([p.text for p in passages]))

    def entry(self) -> dict:
        """This shard in the manifest."""
        return {"name": self.name, "passages": self.size, "dense_kind": self.dense.kind,
                "nlist": self.dense.nlist, "nprobe": self.dense.nprobe, "rerank": self.dense.rerank,
                "recall_at_10": self.dense.recall}

    def write(self, folder: Path) -> dict[str, str] | None:
        """Write the shard into ``folder`` (new): hard links to its last save when those files are
        unchanged (return their checksums), else its files from memory (return ``None``)."""
        folder.mkdir(parents=True)
        if self.saved is not None and self.saved.still_there():
            try:
                for rel in self.saved.identity:
                    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.link(self.saved.folder / rel, folder / rel)
                return dict(self.saved.checksums)
            except OSError:      # another file system, or links not allowed: write them
                shutil.rmtree(folder)
                folder.mkdir(parents=True)
        self.dense.save(folder / DENSE)
        self.sparse.save(folder / BM25)
        with open(folder / PASSAGES, "wb") as fh:
            fh.writelines(self.passages.lines())
        return None

    def saved_at(self, now: Path, final: Path, checksums: dict[str, str]) -> Shard:
        """This shard, recorded as saved with ``checksums`` (shard-relative) in the folder ``now``
        that is to be renamed ``final`` (a rename keeps each file's identity)."""
        identity = {}
        for rel in checksums:
            st = os.stat(now / rel)
            identity[rel] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        return Shard(self.name, self.passages, self.dense, self.sparse, SavedFiles(final, dict(checksums), identity))


def _of_kind(dense: DenseIndex, kind: IndexKind, n: int, total: int) -> DenseIndex:
    """``dense``, or its vectors in a new index of the kind its size now calls for."""
    wanted = resolve_kind(kind, n, total)
    if wanted == dense.kind:
        return dense
    rebuilt = DenseIndex(dense.dim, wanted)
    rebuilt.add(dense.vectors())
    return rebuilt


def tuning_queries(embedder, passages: Sequence[Passage], n: int = 500, words: int = 10,
                   seed: int = 0) -> np.ndarray:
    """Question-like vectors for choosing IVF shards' ``nprobe``: ``words``-word pieces of ``n``
    sampled ``passages`` (the whole index's), embedded as queries (with the query prompt), as questions are."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(passages), size=min(n, len(passages)), replace=False)
    pieces = []
    for row in rows:
        toks = passages[int(row)].text.split()
        at = int(rng.integers(0, max(1, len(toks) - words + 1)))
        pieces.append(" ".join(toks[at:at + words]) or passages[int(row)].text)
    return embedder.embed_queries(pieces)


def plan(items: Sequence, cap: int, sizes: dict[str, int], shard_of: dict[str, str], *,
         count: Callable[[object], int] = lambda item: len(item.passages)) -> dict[str, list]:
    """Which shard each new item (anything with a ``source``; ``count`` says its passages) goes
    to: a replaced document back into its own shard (``shard_of``), a new one into the last shard
    while it stays within ``cap`` passages, else into a new shard. ``sizes``: the existing shards in order."""
    fill = dict(sizes)
    last = next(reversed(fill)) if fill else None
    out: dict[str, list] = {}
    for item in items:
        target = shard_of.get(item.source) or None     # "": a document with no passages
        if target is None:
            if last is None or (fill[last] and fill[last] + count(item) > cap):
                last = shard_name(max([int(n[1:]) for n in fill] + [-1]) + 1)
                fill[last] = 0
            target = last
        fill[target] += count(item)
        out.setdefault(target, []).append(item)
    return out


def shard_name(number: int) -> str:
    return f"s{number:05d}"


def offsets(shards: Sequence[Shard]) -> np.ndarray:
    """The global row each shard starts at, and the total at the end."""
    return np.concatenate([[0], np.cumsum([s.size for s in shards], dtype=np.int64)]).astype(np.int64)


def _merge(parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` of several (scores, global rows), highest score first, ties by row."""
    if not parts:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    scores = np.concatenate([s for s, _ in parts]).astype(np.float32, copy=False)
    rows = np.concatenate([r for _, r in parts]).astype(np.int64, copy=False)
    order = np.lexsort((rows, -scores))[:k]
    return scores[order], rows[order]


def dense_search(shards: Sequence[Shard], query: np.ndarray, k: int, rows: np.ndarray | None = None, *,
                 pool: ThreadPoolExecutor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` (cosines, global rows) over every shard, optionally only among global ``rows``;
    with ``pool``, the shards are searched in its threads (FAISS releases the GIL). The pool must
    live as long as its index: a thread new to FAISS first builds its OpenMP team, which costs
    more than searching a small shard."""
    starts = offsets(shards)
    asks = []
    for i in range(len(shards)):
        local = None
        if rows is not None:
            mine = rows[(rows >= starts[i]) & (rows < starts[i + 1])]
            if not len(mine):
                continue
            local = mine - starts[i]
        asks.append((i, local))

    def one(ask: tuple[int, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
        i, local = ask
        s, r = shards[i].dense.search(query, k, rows=local)
        return s, r + starts[i]

    if pool is None or len(asks) < 2:
        return _merge([one(a) for a in asks], k)
    return _merge(list(pool.map(one, asks)), k)


def bm25_search(shards: Sequence[Shard], query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` (BM25 scores under the whole index's statistics, global rows), positive only."""
    if not shards:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    stats = Stats(0, 0, (0,) * len(query_tokens))
    for shard in shards:
        stats = stats + shard.sparse.stats(query_tokens)
    starts = offsets(shards)
    parts = []
    for i, shard in enumerate(shards):
        s, r = shard.sparse.search_with(query_tokens, stats, k)
        parts.append((s, r + starts[i]))
    return _merge(parts, k)


def summary_kind(shards: Sequence[Shard], fallback: str) -> str:
    """The dense kind of every shard, or ``a+b`` when they differ (small last shards stay exact)."""
    kinds = sorted({s.dense.kind for s in shards})
    return "+".join(kinds) if kinds else fallback


class Rows:
    """Every shard's passages as one sequence of global rows (shard after shard), read on demand."""

    def __init__(self, shards: Sequence[Shard]) -> None:
        self._shards = tuple(shards)
        self._starts = offsets(self._shards)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, row: int) -> tuple[PassageStore, int]:
        if not 0 <= row < len(self):
            raise IndexError(row)
        i = int(np.searchsorted(self._starts, row, side="right")) - 1
        return self._shards[i].passages, row - int(self._starts[i])

    def __getitem__(self, row: int) -> Passage:
        store, local = self._locate(int(row))
        return store[local]

    def __iter__(self):
        for shard in self._shards:
            yield from shard.passages

    def lang(self, row: int) -> str:
        store, local = self._locate(int(row))
        return store.lang_of(local)

    def spans(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of the passages at ``rows``, all in one shard (one document's rows are)."""
        if not len(rows):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        store, first = self._locate(int(rows[0]))
        local = rows - (int(rows[0]) - first)
        return store.start[local], store.end[local]

    def lang_rows(self) -> dict[str, np.ndarray]:
        """Global rows of each language's passages."""
        parts: dict[str, list[np.ndarray]] = {}
        for shard, at in zip(self._shards, self._starts):
            store = shard.passages
            for code, lang in enumerate(store.langs):
                parts.setdefault(lang, []).append(np.flatnonzero(store.lang_ix == code) + at)
        return {lang: np.concatenate(p).astype(np.int64) for lang, p in parts.items()}

    def doc_rows(self) -> dict[str, np.ndarray]:
        """Each source's global rows in document order (by start, then end)."""
        out: dict[str, np.ndarray] = {}
        for shard, at in zip(self._shards, self._starts):
            store = shard.passages
            order = np.lexsort((store.end, store.start, store.source_ix))
            cuts = np.flatnonzero(np.diff(store.source_ix[order])) + 1
            for group in np.split(order, cuts):
                if len(group):
                    out[store.names[store.source_ix[group[0]]]] = (group + at).astype(np.int64)
        return out

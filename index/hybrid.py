"""``Index``: passages, their FAISS vectors and BM25, searched together and fused.

Build, add, remove, search, save and load. Adding a source whose content hash is unchanged is a
no-op; adding a changed one replaces it; the result equals a full rebuild of the same sources.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from collections.abc import Iterable, Sequence

import numpy as np

from index import persist, search, shards, store, tuning
from index.config import IndexConfig
from index.dense import resolve_kind
from index.embed import Embedder
from index.shards import Shard
from index.types import AddReport, EmbeddedDocument, Hit, IndexInfo, SearchMode, ShardInfo, SourceInfo
from sources.chunking import chunk
from sources.errors import BayyinaError
from sources.loaders import load_paths
from sources.text import NORMALISER_VERSION
from sources.types import Document, Passage

logger = logging.getLogger(__name__)

_QUOTA_LANGS = ("ar", "en")


class Index:
    """A hybrid dense + BM25 index over passages. Construct empty with ``Index(embedder)`` or
    ``Index.load(folder, embedder)``."""

    def __init__(self, embedder: Embedder, config: IndexConfig | None = None) -> None:
        self.embedder = embedder
        self.config = config or IndexConfig()
        self._passages = shards.Rows(())       # every passage by global row, read on demand
        self._sources: dict[str, SourceInfo] = {}
        self._shards: list[Shard] = []
        self._shard_of: dict[str, str] = {}     # source → the name of the shard holding it
        self._lang_rows: dict[str, np.ndarray] = {}
        self._doc_order: dict[str, np.ndarray] = {}
        self._pool: ThreadPoolExecutor | None = None     # searches several shards at once (made when needed)
        self._pool_size = 0

    # ------------------------------------------------------------------ reading

    @property
    def passages(self) -> tuple[Passage, ...]:
        """Every passage in row order (all read into memory: for large indexes, prefer ``search``)."""
        return tuple(self._passages)

    @property
    def sources(self) -> tuple[SourceInfo, ...]:
        return tuple(self._sources.values())

    def __len__(self) -> int:
        return len(self._passages)

    def info(self) -> IndexInfo:
        langs = {lang: len(rows) for lang, rows in self._passages.lang_rows().items()}
        parts = tuple(ShardInfo(s.name, s.size, s.dense.kind, s.dense.nlist, s.dense.nprobe, s.dense.recall,
                                s.dense.rerank, s.dense.bytes_per_vector) for s in self._shards)
        largest = max(self._shards, key=lambda s: s.size).dense if self._shards else None
        return IndexInfo(
            embedder=self.embedder.name, dim=self.embedder.dim,
            dense_kind=shards.summary_kind(self._shards, resolve_kind(self.config.dense_kind, 0)),
            dense_nlist=largest.nlist if largest else 0, dense_nprobe=largest.nprobe if largest else 0,
            dense_recall=min((p.recall for p in parts), default=1.0), shards=parts,
            passages=len(self._passages), sources=self.sources, languages=dict(sorted(langs.items())),
            format_version=store.FORMAT_VERSION, normaliser_version=NORMALISER_VERSION,
            max_tokens=self.config.chunk.max_tokens, overlap_tokens=self.config.chunk.overlap_tokens)

    # ------------------------------------------------------------------ changing

    def add_documents(self, documents: Iterable[Document], *, progress: bool = False) -> AddReport:
        """Chunk, embed and index documents. Unchanged sources are skipped, changed ones replaced."""
        docs = _once_each(documents)
        new_docs = [d for d in docs if not self._unchanged(d.source, d.content_hash)]
        count = self.embedder.count_tokens
        chunks: list[tuple[Document, list[Passage]]] = [(d, chunk(d, self.config.chunk, count)) for d in new_docs]
        new_passages = [p for _, ps in chunks for p in ps]
        vectors = (self.embedder.embed_passages([p.text for p in new_passages], progress=progress) if new_passages
                   else np.zeros((0, self.embedder.dim), dtype=np.float32))
        items, at = [], 0
        by_source = {d.source: (d, ps) for d, ps in chunks}
        for d in docs:
            if d.source in by_source:
                ps = by_source[d.source][1]
                items.append(EmbeddedDocument(d.source, d.kind, d.content_hash, tuple(ps), vectors[at:at + len(ps)]))
                at += len(ps)
            else:
                items.append(EmbeddedDocument(d.source, d.kind, d.content_hash, (), vectors[:0]))
        return self.add_embedded(items)

    def _unchanged(self, source: str, content_hash: str) -> bool:
        old = self._sources.get(source)
        return old is not None and old.content_hash == content_hash

    def add_embedded(self, items: Sequence[EmbeddedDocument]) -> AddReport:
        """Index documents already chunked and embedded elsewhere (a distributed build: each
        item's ``vectors`` row ``i`` embeds its ``passages[i]``, by this index's embedder). Unchanged
        sources are skipped, changed ones replaced; passages keep the items' order."""
        added: list[str] = []
        replaced: list[str] = []
        unchanged: list[str] = []
        new: list[EmbeddedDocument] = []
        for item in _once_each(items):
            if self._unchanged(item.source, item.content_hash):
                unchanged.append(item.source)
                continue
            if len(item.passages) != len(item.vectors) or (len(item.vectors) and item.vectors.shape[1] != self.embedder.dim):
                raise BayyinaError(f"{item.source!r}: {len(item.passages)} passages but vectors of shape "
                                   f"{item.vectors.shape}; embed each passage with {self.embedder.name!r} "
                                   f"({self.embedder.dim} dimensions).")
            (replaced if item.source in self._sources else added).append(item.source)
            new.append(item)
        if not new:
            return AddReport(unchanged=tuple(unchanged))
        # A replaced document goes back into its own shard; a new one fills the last shard, then new ones.
        plan = shards.plan(new, self.config.shard_passages, {s.name: s.size for s in self._shards}, self._shard_of)
        by_name = {s.name: s for s in self._shards}
        total = len(self._passages) + sum(len(item.passages) for item in new)
        changed: dict[str, Shard] = {}
        for name, items in plan.items():      # the work; the index itself changes only after it all succeeded
            passages = [p for item in items for p in item.passages]
            vectors = (np.concatenate([item.vectors for item in items]) if passages
                       else np.zeros((0, self.embedder.dim), np.float32))
            if name in by_name:
                drop = {item.source for item in items if item.source in self._sources}
                changed[name] = by_name[name].rebuilt(drop, passages, vectors, self.config.dense_kind, total)
            else:
                changed[name] = Shard.new(name, passages, vectors, self.embedder.dim, self.config.dense_kind, total)
        for item in new:
            self._sources[item.source] = SourceInfo(item.source, item.kind, item.content_hash, len(item.passages))
        self._put_shards(changed)
        return AddReport(added=tuple(added), replaced=tuple(replaced), unchanged=tuple(unchanged),
                         passages_added=sum(len(item.passages) for item in new))

    @classmethod
    def _of_shards(cls, embedder: Embedder, config: IndexConfig, built: Sequence[Shard],
                   sources: Sequence[SourceInfo], *, tune: bool = False) -> Index:
        """An index of shards built elsewhere (a distributed build), for ``sources``; ``tune``: choose
        the IVF shards' nprobe for the merged result (shards opened from files count as tuned)."""
        obj = cls(embedder, config)
        obj._sources = {s.source: s for s in sources}
        obj._put_shards({s.name: s for s in built}, tune=tune)
        return obj

    def _put_shards(self, changed: dict[str, Shard], *, tune: bool = False) -> None:
        """Swap in changed shards (an empty one is dropped) and re-derive the rows."""
        names = [s.name for s in self._shards] + sorted(set(changed) - {s.name for s in self._shards})
        current = {s.name: s for s in self._shards} | changed
        self._shards = [current[n] for n in names if current[n].size]
        self._shard_of = {source: s.name for s in self._shards for source in s.passages.names}
        for name in [n for n in self._sources if n not in self._shard_of]:   # a document of no passages
            self._shard_of[name] = ""
        self._index_rows()
        if any(s.dense.needs_tuning or (tune and s.dense.nlist) for s in self._shards):
            # nprobe for the merged result of every shard, on question-like pieces of the whole index
            tuning.tune([s.dense for s in self._shards], shards.tuning_queries(self.embedder, self._passages))

    def add_paths(self, paths: Iterable[str | Path], *, progress: bool = False) -> AddReport:
        """Load files and folders and add them; unreadable files are reported, not raised."""
        report = load_paths(paths)
        result = self.add_documents(report.documents, progress=progress)
        return replace(result, skipped=result.skipped + report.skipped)

    def document_text(self, source: str) -> str:
        """The text of an indexed document, rebuilt from its passages with every offset in place
        (only whitespace ever falls between passages, and it comes back as spaces)."""
        passages = [self._passages[r] for r in self._doc_order.get(source, ())]
        if not passages:
            raise BayyinaError(f"Source {source!r} is not in the index.")
        chars = [" "] * max(p.end for p in passages)
        for p in passages:
            chars[p.start:p.end] = p.text
        return "".join(chars)

    def remove_source(self, source: str) -> int:
        """Remove every passage of ``source``; return how many were removed."""
        if source not in self._sources:
            known = ", ".join(sorted(self._sources)[:10]) or "(none)"
            raise BayyinaError(f"Source {source!r} is not in the index; indexed sources: {known}.")
        name = self._shard_of[source]
        before = len(self._passages)
        changed = {}
        if name:
            shard = next(s for s in self._shards if s.name == name)
            changed[name] = shard.rebuilt({source}, (), np.zeros((0, self.embedder.dim), np.float32),
                                          self.config.dense_kind, before - self._sources[source].passages)
        del self._sources[source]
        self._put_shards(changed)
        return before - len(self._passages)

    def _vectors(self) -> np.ndarray:
        """Every passage's vector, in row order (for checks and rebuilds)."""
        parts = [s.dense.vectors() for s in self._shards]
        return np.concatenate(parts) if parts else np.zeros((0, self.embedder.dim), np.float32)

    def _index_rows(self) -> None:
        self._passages = shards.Rows(self._shards)
        self._lang_rows = {lang: rows for lang, rows in self._passages.lang_rows().items() if lang in _QUOTA_LANGS}
        self._doc_order = self._passages.doc_rows()

    def neighbours(self, passage: Passage, *, before: int = 1, after: int = 1) -> tuple[Passage, ...]:
        """The passages just before and after ``passage`` in its document (document order)."""
        order = self._doc_order.get(passage.source)
        if order is None:
            return ()
        starts, ends = self._passages.spans(order)
        at = next((int(i) for i in np.flatnonzero((starts == passage.start) & (ends == passage.end))
                   if self._passages[int(order[i])].id == passage.id), None)
        if at is None:
            return ()
        rows = order[max(at - before, 0):at].tolist() + order[at + 1:at + 1 + after].tolist()
        return tuple(self._passages[r] for r in rows)

    def with_context(self, hits: Sequence[Hit], *, before: int = 1, after: int = 1) -> tuple[Hit, ...]:
        """``hits`` followed by their not-yet-included neighbours (``via="context"``, carrying the
        rank and score of the hit they surround), so a reader sees an answer that sits just
        outside the retrieved passage."""
        seen = {h.passage.id for h in hits}
        extra: list[Hit] = []
        for h in hits:
            for p in self.neighbours(h.passage, before=before, after=after):
                if p.id not in seen:
                    seen.add(p.id)
                    extra.append(Hit(passage=p, score=h.score, rank=h.rank, via="context"))
        return tuple(hits) + tuple(extra)

    # ------------------------------------------------------------------ searching

    def search(self, query: str, k: int = 5, *, mode: SearchMode = "hybrid",
               exclude_sources: Iterable[str] = ()) -> tuple[Hit, ...]:
        """The ``k`` best passages for ``query``, ignoring passages of ``exclude_sources``."""
        if not isinstance(query, str):
            raise BayyinaError(f"The search query must be text, not {type(query).__name__}.")
        if not query.strip():
            raise BayyinaError("The search query is empty: give a question or some keywords.")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise BayyinaError(f"k={k!r} must be a whole number of at least 1.")
        if isinstance(exclude_sources, (str, bytes)):
            raise BayyinaError(f"exclude_sources must be a list of source names, not one string "
                               f"({exclude_sources[:60]!r}): wrap it in a list.")
        if not len(self._passages):
            return ()
        if mode not in ("hybrid", "dense", "bm25"):
            raise BayyinaError(f"Search mode {mode!r} is unknown: use 'hybrid', 'dense' or 'bm25'.")
        scope = search.Scope(tuple(self._shards), self._passages, self._lang_rows, self._doc_order, self.config,
                             self._search_pool())
        return search.run(scope, self.embedder, query, k, mode, frozenset(exclude_sources))

    def _search_pool(self) -> ThreadPoolExecutor | None:
        """Threads for searching the shards in parallel: one per shard up to the cores, kept for the
        index's life (``None`` for one shard)."""
        wanted = min(len(self._shards), os.cpu_count() or 1)
        if wanted < 2:
            return None
        if self._pool is None or self._pool_size < wanted:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
            self._pool = ThreadPoolExecutor(max_workers=wanted, thread_name_prefix="bayyina-shards")
            self._pool_size = wanted
        return self._pool

    # ------------------------------------------------------------------ persistence

    def save(self, folder: str | Path) -> None:
        """Write the index to ``folder`` atomically (see ``index.store``); a shard unchanged since
        its last save is hard-linked, not rewritten."""
        persist.save(self, folder)

    @staticmethod
    def writer(folder: str | Path):
        """A context manager holding ``folder``'s writer lock: wrap a whole load → change → save in
        it so that concurrent writers wait for each other instead of losing an update."""
        return store.writer_lock(Path(folder))

    @staticmethod
    def saved_embedder(folder: str | Path) -> str:
        """The embedder name a saved index was built with."""
        folder = store.resolve(Path(folder))
        return str(store.read_manifest(folder).get("embedder", {}).get("name", ""))

    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder, *, memory_map: bool = True) -> Index:
        """Load a saved index, refusing one built with another format version or embedder.
        IVF shards are memory-mapped (little memory, slower scans: the pages are the page cache's);
        ``memory_map=False`` reads them into memory (their whole size, searched 2–3× faster)."""
        return persist.load(folder, embedder, memory_map=memory_map)


def _once_each(items: Iterable) -> list:
    """``items`` (documents or embedded documents) as a list, refused when a source comes twice."""
    out, seen = [], set()
    for item in items:
        if item.source in seen:
            raise BayyinaError(f"Source {item.source!r} is given twice in one add; give each source once.")
        seen.add(item.source)
        out.append(item)
    return out



def build(documents: Sequence[Document], embedder: Embedder, config: IndexConfig | None = None, *,
          progress: bool = False) -> Index:
    """A new index over ``documents``."""
    index = Index(embedder, config)
    index.add_documents(documents, progress=progress)
    return index


__all__ = ["Index", "IndexConfig", "build"]

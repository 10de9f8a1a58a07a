"""The dense side: a FAISS inner-product index over L2-normalised passage embeddings.

Rows are passage positions (0…n-1, the order of ``passages.jsonl``). ``flat`` is exact. ``ivf``
(what ``auto`` picks from ``IVF_THRESHOLD`` passages) is approximate: an inverted file of
``nlist ≈ √n`` k-means cells trained once on a sample, searched in ``nprobe`` cells, with
``nprobe`` chosen at build time as the smallest that keeps recall@10 ≥ ``TARGET_RECALL`` against
exact search on sampled queries (both are saved and shown by ``index info``); it loads
memory-mapped (``IO_FLAG_MMAP``), so opening a large index reads almost nothing into memory.
``hnsw`` stays available by name. Removal rebuilds from the stored vectors (IVF keeps its trained
cells), so positions stay dense.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from collections.abc import Sequence

import numpy as np

from sources.errors import MissingDependencyError

IndexKind = Literal["auto", "flat", "hnsw", "ivf"]
Kind = Literal["flat", "hnsw", "ivf"]
IVF_THRESHOLD = 200_000       # bench/scale.py: where exact search passes ~20 ms a query on 2 cores
TARGET_RECALL = 0.95
_HNSW_M = 32
_TUNE_QUERIES = 500
_TUNE_MARGIN = 0.01   # tuned a point above the target, so questions the tuning never saw stay above it


def _faiss():
    try:
        import faiss
    except ImportError:
        raise MissingDependencyError("The dense index needs FAISS.", "pip install faiss-cpu") from None
    return faiss


def resolve_kind(kind: IndexKind, n: int) -> Kind:
    if kind == "auto":
        return "ivf" if n >= IVF_THRESHOLD else "flat"
    if kind not in ("flat", "hnsw", "ivf"):
        raise ValueError(f"dense index kind {kind!r} is unknown: use 'auto', 'flat', 'ivf' or 'hnsw'.")
    return kind


def nlist_for(n: int) -> int:
    """Cells of an IVF index over ``n`` vectors: about √n (at least 16)."""
    return max(16, int(round(np.sqrt(max(n, 1)))))


class DenseIndex:
    def __init__(self, dim: int, kind: Kind = "flat") -> None:
        faiss = _faiss()
        self.dim = dim
        self.kind = kind
        self.nprobe = 0
        self.recall = 1.0          # recall@10 against exact search (measured for ivf)
        self._tuned_at = 0         # the size nprobe was chosen at
        self._mmapped = False
        if kind == "hnsw":
            self._index = faiss.IndexHNSWFlat(dim, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = 80
            self._index.hnsw.efSearch = 128
        else:   # ivf starts as exact storage and becomes an inverted file on its first add (it needs data to train)
            self._index = faiss.IndexFlatIP(dim)

    @property
    def nlist(self) -> int:
        return int(self._index.nlist) if self.kind == "ivf" and hasattr(self._index, "nlist") else 0

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of shape {vectors.shape} do not match the index dimension {self.dim}.")
        if not len(vectors):
            return
        if self.kind != "ivf":
            self._index.add(vectors)
            return
        faiss = _faiss()
        if not isinstance(self._index, faiss.IndexIVFFlat):      # the first add: train the cells on a sample
            self._index = _trained_ivf(vectors, self.dim)
            self._index.add(vectors)
        else:
            self._in_memory()
            self._index.add(vectors)
        self._index.make_direct_map()
        if not self.nprobe:          # a first guess; ``tune`` measures it
            self.nprobe = self._index.nprobe = max(1, self.nlist // 16)

    @property
    def needs_tuning(self) -> bool:
        """An IVF whose ``nprobe`` was never measured, or measured when it was a tenth smaller or larger."""
        return self.kind == "ivf" and bool(self.nlist) and not (0.9 * self._tuned_at <= self.size <= 1.1 * self._tuned_at)

    def tune(self, target: float = TARGET_RECALL, queries: np.ndarray | None = None, sample: int = _TUNE_QUERIES,
             seed: int = 0) -> None:
        """Choose the smallest ``nprobe`` whose recall@10 against exact search reaches ``target``
        (aiming a point higher). ``queries``: query vectors like the real ones (``Index`` embeds
        pieces of sampled passages as questions); without them, ``sample`` stored vectors are asked
        for leave-one-out (each without itself), which is easier than real questions."""
        if self.kind != "ivf" or self.size == 0 or not self.nlist:
            return
        faiss = _faiss()
        data = self.vectors()
        rng = np.random.default_rng(seed)
        if queries is None:
            pick = rng.choice(len(data), size=min(sample, len(data)), replace=False)
            q, skip = np.ascontiguousarray(data[pick]), pick
        else:
            q, skip = np.ascontiguousarray(queries, dtype=np.float32), np.full(len(queries), -1)
        k = min(10, len(data) - (1 if queries is None else 0))
        if k <= 0:
            self.nprobe, self.recall, self._tuned_at = 1, 1.0, self.size
            self._index.nprobe = 1
            return
        exact = [[r for r in row if r != s_][:k] for row, s_ in zip(_exact_topk(data, q, k + 1), skip)]

        def recall_at(nprobe: int) -> float:
            _, found = self._index.search(q, k + 1, params=faiss.SearchParametersIVF(nprobe=nprobe))
            got = [[r for r in row if r != s_ and r >= 0][:k] for row, s_ in zip(found, skip)]
            return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(got, exact)]))

        aim = min(1.0, target + _TUNE_MARGIN)
        nprobe, recall = 1, recall_at(1)
        while recall < aim and nprobe < self.nlist:
            nprobe = min(self.nlist, nprobe * 2)
            recall = recall_at(nprobe)
        low = nprobe // 2 + 1
        while low < nprobe:      # the smallest between the last two powers of two that still reaches it
            mid = (low + nprobe) // 2
            r = recall_at(mid)
            if r >= aim:
                nprobe, recall = mid, r
            else:
                low = mid + 1
        self.nprobe, self.recall, self._tuned_at = nprobe, recall, self.size
        self._index.nprobe = nprobe

    def _restricted_nprobe(self) -> int:
        """Cells searched when only some rows may be returned (a language's passages): the rows
        wanted may lie away from the query's cells (another language's passages do), so four
        times as many as usual, at most all."""
        return min(self.nlist, 4 * max(1, self.nprobe))

    def _in_memory(self) -> None:
        """A memory-mapped IVF is read-only: copy it into memory (same cells) before changing it."""
        if self._mmapped:
            self._index = _ivf_like(self._index, self.vectors(), self.dim)
            self._mmapped = False

    def vectors(self) -> np.ndarray:
        if self.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_n(0, self.size)

    def keep(self, rows: Sequence[int]) -> DenseIndex:
        """A new index holding only ``rows`` (in that order); an IVF keeps its trained cells."""
        kept_vectors = (self.vectors()[np.asarray(rows, dtype=np.int64)] if len(rows) else
                        np.zeros((0, self.dim), np.float32))
        kept = DenseIndex(self.dim, self.kind)
        if self.kind == "ivf" and self.nlist and len(kept_vectors):
            kept._index = _ivf_like(self._index, kept_vectors, self.dim)
            kept.nprobe, kept.recall, kept._tuned_at = self.nprobe, self.recall, self._tuned_at
            kept._index.nprobe = max(1, self.nprobe)
        else:
            kept.add(kept_vectors)
        return kept

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, rows) for one query vector, best first, optionally restricted to ``rows``."""
        faiss = _faiss()
        n = self.size if rows is None else len(rows)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if rows is not None:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=max(128, k)) if self.kind == "hnsw" else
                      faiss.SearchParametersIVF(sel=selector, nprobe=self._restricted_nprobe()) if self.nlist else
                      faiss.SearchParameters(sel=selector))
        elif self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(128, k))
        elif self.nlist:
            params = faiss.SearchParametersIVF(nprobe=max(1, self.nprobe))
        scores, ids = self._index.search(q, k, params=params) if params is not None else self._index.search(q, k)
        found = ids[0] >= 0
        return scores[0][found], ids[0][found].astype(np.int64)

    def save(self, path: Path) -> None:
        # A memory-mapped IVF would be written as a reference to its mapped file, not as its cells and
        # vectors: write an in-memory copy (same cells) instead.
        index = _ivf_like(self._index, self.vectors(), self.dim) if self._mmapped else self._index
        _faiss().write_index(index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int, *, expected_kind: str | None = None, nprobe: int = 0,
             recall: float = 1.0) -> DenseIndex:
        """Read ``path``; an IVF index is memory-mapped (its inverted lists stay on disk)."""
        from sources.errors import IndexStoreError, IndexMismatchError

        faiss = _faiss()
        raw = faiss.read_index(str(path)) if expected_kind != "ivf" else faiss.read_index(str(path), faiss.IO_FLAG_MMAP)
        if expected_kind == "ivf" and not isinstance(raw, faiss.IndexIVFFlat):
            raw = faiss.read_index(str(path))   # an IVF with no vectors yet is stored flat: read it into memory
        if raw.d != dim:
            raise IndexMismatchError(f"{path} holds {raw.d}-dimensional vectors but the embedder gives {dim}; "
                                     "rebuild the index with `bayyina index build`.")
        allowed = (faiss.IndexFlatIP, faiss.IndexHNSWFlat, faiss.IndexIVFFlat)
        if type(raw) not in allowed or raw.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexStoreError(f"{path} is a FAISS {type(raw).__name__}, not an index Bayyina writes; rebuild it "
                              "with `bayyina index build`.")
        kind: Kind = ("hnsw" if isinstance(raw, faiss.IndexHNSWFlat) else
                      "ivf" if isinstance(raw, faiss.IndexIVFFlat) else "flat")
        if expected_kind is not None and kind != expected_kind and not (expected_kind == "ivf" and kind == "flat"):
            raise IndexStoreError(f"{path} is a {kind} index but the manifest says {expected_kind}; rebuild it.")
        if kind == "ivf":
            raw.make_direct_map()
        if raw.ntotal and kind != "ivf" and not np.isfinite(raw.reconstruct_n(0, raw.ntotal)).all():
            raise IndexStoreError(f"{path} holds vectors that are not finite numbers (NaN or infinity); rebuild it "
                              "with `bayyina index build`.")
        obj = cls.__new__(cls)
        obj.dim, obj.kind, obj._index = dim, (expected_kind or kind) if kind != "hnsw" else kind, raw
        obj.nprobe, obj.recall, obj._tuned_at, obj._mmapped = nprobe, recall, int(raw.ntotal), kind == "ivf"
        if kind == "ivf":
            raw.nprobe = max(1, nprobe)
        return obj


def _trained_ivf(sample_from: np.ndarray, dim: int):
    """An empty IVF whose cells are trained on (a sample of) ``sample_from``."""
    faiss = _faiss()
    nlist = nlist_for(len(sample_from))
    if len(sample_from) < nlist:
        nlist = max(1, len(sample_from))
    rng = np.random.default_rng(0)
    size = min(len(sample_from), 40 * nlist)
    sample = sample_from[rng.choice(len(sample_from), size=size, replace=False)] if size < len(sample_from) \
        else sample_from
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.min_points_per_centroid = 1
    ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
    return ivf


def _ivf_like(trained, vectors: np.ndarray, dim: int):
    """A new in-memory IVF with ``trained``'s cells, holding ``vectors``."""
    faiss = _faiss()
    nlist = int(trained.nlist)
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(trained.quantizer.reconstruct_n(0, nlist))
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.is_trained = True
    if len(vectors):
        ivf.add(np.ascontiguousarray(vectors, dtype=np.float32))
    ivf.make_direct_map()
    ivf.nprobe = trained.nprobe
    return ivf


def _exact_topk(data: np.ndarray, queries: np.ndarray, k: int, block: int = 65_536) -> np.ndarray:
    """Exact top-k rows by inner product, a block of ``data`` at a time (bounded memory)."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(data), block):
        s = queries @ data[start:start + block].T
        i = np.arange(start, start + s.shape[1])[None, :].repeat(len(queries), 0)
        cs, ci = np.concatenate([best_s, s], 1), np.concatenate([best_i, i], 1)
        top = np.argsort(-cs, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(cs, top, 1), np.take_along_axis(ci, top, 1)
    return best_i

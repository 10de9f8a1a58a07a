"""The dense side: a FAISS inner-product index over L2-normalised passage embeddings.

Rows are passage positions (0…n-1, the order of ``passages.jsonl``). ``flat`` is exact. ``ivf``
(what ``auto`` picks from ``IVF_THRESHOLD`` passages) is approximate: an inverted file of
``nlist ≈ √n`` k-means cells trained once on a sample, searched in ``nprobe`` cells, with
``nprobe`` chosen at build time as the smallest that keeps recall@10 ≥ ``TARGET_RECALL`` against
exact search on sampled queries (both are saved and shown by ``index info``); it loads
memory-mapped (``IO_FLAG_MMAP``), so opening a large index reads almost nothing into memory.
``ivfpq`` (what ``auto`` picks for an index of ``COMPRESS_THRESHOLD`` passages or more) is an
IVF over product-quantisation codes whose candidates are re-ranked from one byte per dimension
(``index.compressed``): ~40 bytes per vector in memory instead of 1,536. ``hnsw`` stays available
by name. Removal rebuilds from the stored vectors (IVF keeps its trained cells), so positions stay
dense. In a sharded index ``nprobe`` (and the re-rank depth) is chosen for the merged result of
every shard together (``index.tuning``), not for each shard's own top ten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from collections.abc import Sequence

import numpy as np

from index.compressed import RERANK_DEPTH, Int8Vectors, empty_like, trained_ivfpq
from sources.errors import MissingDependencyError

IndexKind = Literal["auto", "flat", "hnsw", "ivf", "ivfpq"]
Kind = Literal["flat", "hnsw", "ivf", "ivfpq"]
KINDS: tuple[Kind, ...] = ("flat", "hnsw", "ivf", "ivfpq")
IVF_THRESHOLD = 200_000       # bench/scale.py: where exact search passes ~20 ms a query on 2 cores
COMPRESS_THRESHOLD = 2_000_000   # an index this large (3 GB of float vectors) compresses its IVF shards
TARGET_RECALL = 0.95
_HNSW_M = 32
_TUNE_QUERIES = 500
_ID_BYTES = 8


def _faiss():
    try:
        import faiss
    except ImportError:
        raise MissingDependencyError("The dense index needs FAISS.", "pip install faiss-cpu") from None
    return faiss


def resolve_kind(kind: IndexKind, n: int, total: int = 0) -> Kind:
    """The kind of a shard of ``n`` passages in an index of ``total``: ``auto`` is exact below
    ``IVF_THRESHOLD``, then IVF, compressed (``ivfpq``) once the whole index reaches ``COMPRESS_THRESHOLD``."""
    if kind == "auto":
        return "flat" if n < IVF_THRESHOLD else "ivfpq" if max(n, total) >= COMPRESS_THRESHOLD else "ivf"
    if kind not in KINDS:
        raise ValueError(f"dense index kind {kind!r} is unknown: use 'auto', 'flat', 'ivf', 'ivfpq' or 'hnsw'.")
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
        self.rerank = 0            # ivfpq: candidates re-ranked from the int8 vectors
        self.recall = 1.0          # recall@10 against exact search (measured for ivf and ivfpq)
        self._tuned_at = 0         # the size nprobe was chosen at
        self._mmapped = False
        self._int8: Int8Vectors | None = None
        if kind == "hnsw":
            self._index = faiss.IndexHNSWFlat(dim, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = 80
            self._index.hnsw.efSearch = 128
        else:   # ivf/ivfpq start as exact storage and become inverted files on their first add (they train on it)
            self._index = faiss.IndexFlatIP(dim)

    @property
    def nlist(self) -> int:
        return int(self._index.nlist) if self.kind in ("ivf", "ivfpq") and hasattr(self._index, "nlist") else 0

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def bytes_per_vector(self) -> int:
        """What the search holds per vector: codes and ids for ``ivfpq``, floats (and ids, links) otherwise."""
        if self.kind == "ivfpq" and self._int8 is not None:
            return int(self._index.code_size) + _ID_BYTES
        extra = _ID_BYTES if self.nlist else 2 * _HNSW_M * 4 if self.kind == "hnsw" else 0
        return 4 * self.dim + extra

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of shape {vectors.shape} do not match the index dimension {self.dim}.")
        if not len(vectors):
            return
        if self.kind not in ("ivf", "ivfpq"):
            self._index.add(vectors)
            return
        if not self.nlist:           # the first add: train the cells (and codebooks) on a sample
            if self.kind == "ivf":
                self._index = _trained_ivf(vectors, self.dim)
            else:
                self._index = trained_ivfpq(vectors, self.dim, nlist_for(len(vectors)))
                self._int8 = Int8Vectors.fitted(vectors)
        else:
            self._in_memory()
        self._index.add(vectors)
        if self.kind == "ivf":
            self._index.make_direct_map()
        else:
            self._int8 = self._int8.with_added(vectors)
        if not self.nprobe:          # a first guess; ``tune`` measures it
            self.nprobe = self._index.nprobe = max(1, self.nlist // 16)
            self.rerank = RERANK_DEPTH if self.kind == "ivfpq" else 0

    @property
    def needs_tuning(self) -> bool:
        """An IVF whose ``nprobe`` was never measured, or measured when it was a tenth smaller or larger."""
        return bool(self.nlist) and not (0.9 * self._tuned_at <= self.size <= 1.1 * self._tuned_at)

    def tune(self, target: float = TARGET_RECALL, queries: np.ndarray | None = None, sample: int = _TUNE_QUERIES,
             seed: int = 0) -> None:
        """Choose the smallest ``nprobe`` (and re-rank depth) whose recall@10 against exact search
        reaches ``target`` (aiming a point higher). ``queries``: query vectors like the real ones
        (``Index`` embeds pieces of sampled passages as questions); without them, ``sample`` stored
        vectors are asked for leave-one-out (each without itself), which is easier than real questions."""
        from index.tuning import tune

        if not self.nlist or self.size == 0:
            return
        skip = None
        if queries is None:
            rng = np.random.default_rng(seed)
            skip = rng.choice(self.size, size=min(sample, self.size), replace=False)
            queries = self.vectors()[skip]
        tune([self], queries, target=target, skip=skip)

    def settings(self, nprobe: int, rerank: int, recall: float) -> None:
        """Use ``nprobe`` cells (and ``rerank`` candidates) from now on, measured at ``recall``."""
        self.nprobe, self.rerank, self.recall, self._tuned_at = nprobe, rerank, recall, self.size
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
        """Every stored vector in row order (``ivfpq``: as its int8 copy decodes)."""
        if self.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._int8 is not None:
            return self._int8.decode()
        return self._index.reconstruct_n(0, self.size)

    def vector_block(self, lo: int, hi: int) -> np.ndarray:
        """Stored vectors ``lo``…``hi - 1`` (a block at a time keeps memory bounded)."""
        hi = min(hi, self.size)
        if hi <= lo:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._int8 is not None:
            return self._int8.decode(np.arange(lo, hi))
        return self._index.reconstruct_n(lo, hi - lo)

    def keep(self, rows: Sequence[int]) -> DenseIndex:
        """A new index holding only ``rows`` (in that order); an IVF keeps its trained cells."""
        rows = np.asarray(rows, dtype=np.int64)
        kept = DenseIndex(self.dim, self.kind)
        if self.nlist and len(rows):
            if self.kind == "ivfpq":
                kept._index = empty_like(self._index)
                kept._int8 = self._int8.taken(rows)
                kept._index.add(kept._int8.decode())
            else:
                kept._index = _ivf_kept(self._index, rows, self.dim)
            kept.settings(self.nprobe, self.rerank, self.recall)
            kept._tuned_at = self._tuned_at
        else:
            kept.add(self.vectors()[rows] if len(rows) else np.zeros((0, self.dim), np.float32))
        return kept

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, rows) for one query vector, best first, optionally restricted to ``rows``."""
        n = self.size if rows is None else len(rows)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, ids = self.search_many(np.asarray(query).reshape(1, -1), k, rows=rows)
        found = ids[0] >= 0
        return scores[0][found], ids[0][found]

    def search_many(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None, *, nprobe: int = 0,
                    rerank: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, rows) of each query (rows of -1 where fewer exist), with this index's
        ``nprobe`` and re-rank depth unless given."""
        faiss = _faiss()
        q = np.ascontiguousarray(queries, dtype=np.float32)
        nprobe = nprobe or max(1, self.nprobe)
        only = {} if rows is None else {"sel": faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))}
        params = (faiss.SearchParametersHNSW(efSearch=max(128, k), **only) if self.kind == "hnsw" else
                  faiss.SearchParametersIVF(nprobe=self._restricted_nprobe() if only else nprobe, **only)
                  if self.nlist else faiss.SearchParameters(**only) if only else None)
        if self._int8 is None:
            scores, ids = self._index.search(q, k, params=params) if params is not None else self._index.search(q, k)
            return scores, ids.astype(np.int64)
        depth = max(k, rerank or self.rerank or RERANK_DEPTH)
        _, cand = self._index.search(q, depth, params=params)
        scores = np.full((len(q), k), -np.inf, np.float32)
        ids = np.full((len(q), k), -1, np.int64)
        for i, row in enumerate(cand):
            row = row[row >= 0]
            exact = self._int8.cosines(q[i], row)
            top = np.lexsort((row, -exact))[:k]
            scores[i, :len(top)], ids[i, :len(top)] = exact[top], row[top]
        return scores, ids

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (``ivfpq``: its int8 vectors beside it, see ``Int8Vectors``)."""
        # A memory-mapped IVF would be written as a reference to its mapped file, not as its cells and
        # vectors: write an in-memory copy (same cells) instead.
        index = _ivf_like(self._index, self.vectors(), self.dim) if self._mmapped else self._index
        _faiss().write_index(index, str(path))
        if self._int8 is not None:
            self._int8.save(path.parent)

    @classmethod
    def load(cls, path: Path, dim: int, *, expected_kind: str | None = None, nprobe: int = 0,
             recall: float = 1.0, rerank: int = 0, memory_map: bool = True) -> DenseIndex:
        """Read ``path``; an IVF index is memory-mapped (its inverted lists stay on disk) unless
        ``memory_map`` is false, an ``ivfpq`` one reads its codes into memory and maps its int8 vectors."""
        from sources.errors import IndexStoreError, IndexMismatchError

        faiss = _faiss()
        mapped = expected_kind == "ivf" and memory_map
        raw = faiss.read_index(str(path), faiss.IO_FLAG_MMAP) if mapped else faiss.read_index(str(path))
        if expected_kind == "ivf" and not isinstance(raw, faiss.IndexIVFFlat):
            raw = faiss.read_index(str(path))   # an IVF with no vectors yet is stored flat: read it into memory
        if raw.d != dim:
            raise IndexMismatchError(f"{path} holds {raw.d}-dimensional vectors but the embedder gives {dim}; "
                                     "rebuild the index with `bayyina index build`.")
        kinds = {faiss.IndexFlatIP: "flat", faiss.IndexHNSWFlat: "hnsw", faiss.IndexIVFFlat: "ivf",
                 faiss.IndexIVFPQFastScan: "ivfpq"}
        metric = faiss.METRIC_L2 if type(raw) is faiss.IndexIVFPQFastScan else faiss.METRIC_INNER_PRODUCT
        if type(raw) not in kinds or raw.metric_type != metric:
            raise IndexStoreError(f"{path} is a FAISS {type(raw).__name__}, not an index Bayyina writes; rebuild it "
                              "with `bayyina index build`.")
        kind: Kind = kinds[type(raw)]
        if expected_kind is not None and kind != expected_kind and not (expected_kind in ("ivf", "ivfpq")
                                                                         and kind == "flat"):
            raise IndexStoreError(f"{path} is a {kind} index but the manifest says {expected_kind}; rebuild it.")
        if kind == "ivf":
            raw.make_direct_map()
        if raw.ntotal and kind in ("flat", "hnsw") and not np.isfinite(raw.reconstruct_n(0, raw.ntotal)).all():
            raise IndexStoreError(f"{path} holds vectors that are not finite numbers (NaN or infinity); rebuild it "
                              "with `bayyina index build`.")
        obj = cls.__new__(cls)
        obj.dim, obj.kind, obj._index = dim, (expected_kind or kind) if kind != "hnsw" else kind, raw
        obj.nprobe, obj.recall, obj._tuned_at, obj._mmapped = nprobe, recall, int(raw.ntotal), kind == "ivf" and mapped
        obj.rerank, obj._int8 = rerank, None
        if kind == "ivfpq":
            obj._int8 = Int8Vectors.load(path.parent, int(raw.ntotal), dim)
            obj.rerank = rerank or RERANK_DEPTH
        if kind in ("ivf", "ivfpq"):
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


def _ivf_kept(trained, rows: np.ndarray, dim: int):
    """A new in-memory IVF holding ``trained``'s vectors at ``rows`` (new row ``i`` is old
    ``rows[i]``), each left in its cell: the inverted lists are copied with their ids renumbered,
    so nothing is assigned to cells again (a shard of 500,000 changes in a fraction of a second)."""
    faiss = _faiss()
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) > 1 and (np.diff(rows) <= 0).any():        # not in order: add them again, in the new order
        return _ivf_like(trained, trained.reconstruct_batch(rows), dim)
    renumber = np.full(int(trained.ntotal), -1, np.int64)
    renumber[rows] = np.arange(len(rows))
    kept = _ivf_like(trained, np.zeros((0, dim), np.float32), dim)
    source, target, width = trained.invlists, kept.invlists, trained.invlists.code_size
    for cell in range(int(trained.nlist)):
        size = source.list_size(cell)
        if not size:
            continue
        ids = renumber[faiss.rev_swig_ptr(source.get_ids(cell), size)]
        keep = ids >= 0
        if keep.any():      # the arrays are held by names while FAISS reads them through bare pointers
            new_ids = np.ascontiguousarray(ids[keep])
            codes = np.ascontiguousarray(
                faiss.rev_swig_ptr(source.get_codes(cell), size * width).reshape(size, width)[keep])
            target.add_entries(cell, len(new_ids), faiss.swig_ptr(new_ids), faiss.swig_ptr(codes))
    kept.ntotal = len(rows)
    kept.make_direct_map()
    return kept


def exact_top(blocks, queries: np.ndarray, k: int, skip: np.ndarray | None = None) -> np.ndarray:
    """Exact top-``k`` rows by inner product over ``blocks`` — (first row, vectors) pairs read one
    at a time, so memory stays bounded — each query without its ``skip`` row; -1 pads a short row."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(queries), k), -1, dtype=np.int64)
    for start, data in blocks:
        s = queries @ data.T
        i = np.arange(start, start + s.shape[1])[None, :].repeat(len(queries), 0)
        if skip is not None:
            s[i == skip[:, None]] = -np.inf
        cs, ci = np.concatenate([best_s, s], 1), np.concatenate([best_i, i], 1)
        top = np.argsort(-cs, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(cs, top, 1), np.take_along_axis(ci, top, 1)
    return np.where(np.isfinite(best_s), best_i, -1)


def _exact_topk(data: np.ndarray, queries: np.ndarray, k: int, block: int = 65_536) -> np.ndarray:
    """Exact top-k rows of one array by inner product, a block at a time."""
    return exact_top(((lo, data[lo:lo + block]) for lo in range(0, len(data), block)), queries, k)

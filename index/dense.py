"""The dense side: a FAISS inner-product index over L2-normalised passage embeddings.

Rows are passage positions (0…n-1, the order of ``passages.jsonl``). ``flat`` is exact;
``hnsw`` is approximate and meant for large corpora (``auto`` picks it above
``HNSW_THRESHOLD`` passages). Removal rebuilds from the stored vectors, so positions stay dense.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from sources.errors import MissingDependencyError

IndexKind = Literal["auto", "flat", "hnsw"]
HNSW_THRESHOLD = 200_000
_HNSW_M = 32


def _faiss():
    try:
        import faiss
    except ImportError:
        raise MissingDependencyError("The dense index needs FAISS.", "pip install faiss-cpu") from None
    return faiss


def resolve_kind(kind: IndexKind, n: int) -> Literal["flat", "hnsw"]:
    if kind == "auto":
        return "hnsw" if n >= HNSW_THRESHOLD else "flat"
    if kind not in ("flat", "hnsw"):
        raise ValueError(f"dense index kind {kind!r} is unknown: use 'auto', 'flat' or 'hnsw'.")
    return kind


class DenseIndex:
    def __init__(self, dim: int, kind: Literal["flat", "hnsw"] = "flat") -> None:
        faiss = _faiss()
        self.dim = dim
        self.kind = kind
        if kind == "hnsw":
            self._index = faiss.IndexHNSWFlat(dim, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = 80
            self._index.hnsw.efSearch = 128
        else:
            self._index = faiss.IndexFlatIP(dim)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of shape {vectors.shape} do not match the index dimension {self.dim}.")
        if len(vectors):
            self._index.add(vectors)

    def vectors(self) -> np.ndarray:
        if self.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_n(0, self.size)

    def keep(self, rows: Sequence[int]) -> "DenseIndex":
        """A new index holding only ``rows`` (in that order)."""
        kept = DenseIndex(self.dim, self.kind)
        kept.add(self.vectors()[np.asarray(rows, dtype=np.int64)] if len(rows) else
                 np.zeros((0, self.dim), np.float32))
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
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=max(128, k))
                      if self.kind == "hnsw" else faiss.SearchParameters(sel=selector))
        elif self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(128, k))
        scores, ids = self._index.search(q, k, params=params) if params is not None else self._index.search(q, k)
        found = ids[0] >= 0
        return scores[0][found], ids[0][found].astype(np.int64)

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int, *, expected_kind: str | None = None) -> "DenseIndex":
        from sources.errors import IndexError_, IndexMismatchError

        faiss = _faiss()
        raw = faiss.read_index(str(path))
        if raw.d != dim:
            raise IndexMismatchError(f"{path} holds {raw.d}-dimensional vectors but the embedder gives {dim}; "
                                     "rebuild the index with `bayyina index build`.")
        if type(raw) not in (faiss.IndexFlatIP, faiss.IndexHNSWFlat) or raw.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexError_(f"{path} is a FAISS {type(raw).__name__}, not an index Bayyina writes; rebuild it "
                              "with `bayyina index build`.")
        kind: Literal["flat", "hnsw"] = "hnsw" if isinstance(raw, faiss.IndexHNSWFlat) else "flat"
        if expected_kind is not None and kind != expected_kind:
            raise IndexError_(f"{path} is a {kind} index but the manifest says {expected_kind}; rebuild it.")
        if raw.ntotal and not np.isfinite(raw.reconstruct_n(0, raw.ntotal)).all():
            raise IndexError_(f"{path} holds vectors that are not finite numbers (NaN or infinity); rebuild it "
                              "with `bayyina index build`.")
        obj = cls.__new__(cls)
        obj.dim, obj.kind, obj._index = dim, kind, raw
        return obj

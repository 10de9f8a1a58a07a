"""Compressed dense storage for very large shards: IVF-PQ codes to find candidates, one byte per
dimension to re-rank them.

An ``ivfpq`` shard holds two things. FAISS's ``IndexIVFPQFastScan`` keeps, per vector, a product
quantisation code of 4 bits per sub-vector (``pq_subquantizers``: about six dimensions each, so 32
bytes at dimension 384) plus its 8-byte id, in memory: this is what a search scans. Beside it,
``Int8Vectors`` keeps every vector at one signed byte per dimension (a per-dimension scale), saved
as a plain ``.npy`` and memory-mapped: a search re-ranks the best ``rerank`` candidates of the
codes by their (almost exact) cosine from these bytes, so the scores it returns are cosines that
compare with every other shard's. On disk that is ~0.42 KB per vector at dimension 384 against
1.5 KB of float vectors; in memory ~40 bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PQ_BITS = 4              # FAISS fast-scan codes: 16 centroids per sub-vector, scanned with SIMD lookups
RERANK_DEPTH = 128       # candidates re-ranked per shard until tuning measures what is needed
RERANK_CHOICES = (16, 32, 64, 128, 256)
_SCALE_MARGIN = 1.25     # room above the sample's largest value per dimension before clipping
_MIN_TRAIN = 64


def pq_subquantizers(dim: int) -> int:
    """How many sub-vectors a code has: a divisor of ``dim`` near ``dim / 6`` (64 at 384)."""
    divisors = [m for m in range(1, dim + 1) if dim % m == 0]
    return min(divisors, key=lambda m: (abs(m - dim / 6), m))


def trained_ivfpq(sample_from: np.ndarray, dim: int, nlist: int):
    """An empty IVF-PQ (fast scan, L2 on unit vectors: the same order as cosine) whose cells and
    codebooks are trained on a sample of ``sample_from``."""
    from index.dense import _faiss

    faiss = _faiss()
    n = len(sample_from)
    nlist = max(1, min(nlist, n))
    rng = np.random.default_rng(0)
    size = min(n, max(40 * nlist, 20_000))
    sample = sample_from[rng.choice(n, size=size, replace=False)] if size < n else sample_from
    if len(sample) < _MIN_TRAIN:       # a tiny shard forced to be compressed: k-means needs 16 points a codebook
        sample = np.tile(sample, (-(-_MIN_TRAIN // len(sample)), 1))
    index = faiss.IndexIVFPQFastScan(faiss.IndexFlatL2(dim), dim, nlist, pq_subquantizers(dim), PQ_BITS,
                                     faiss.METRIC_L2)
    index.cp.min_points_per_centroid = 1
    index.pq.cp.min_points_per_centroid = 1
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index


def empty_like(trained):
    """A new, empty IVF-PQ with ``trained``'s cells and codebooks."""
    from index.dense import _faiss

    copy = _faiss().clone_index(trained)
    copy.reset()
    return copy


class Int8Vectors:
    """Vectors at one signed byte per dimension: ``x ≈ code × scale`` (``scale`` per dimension).
    ``codes`` may be a read-only memory map (a loaded shard) or an array in memory."""

    CODES = "dense.int8.npy"
    SCALE = "dense.scale.npy"

    def __init__(self, codes: np.ndarray, scale: np.ndarray) -> None:
        self.codes = codes
        self.scale = np.asarray(scale, dtype=np.float32)

    @classmethod
    def fitted(cls, sample: np.ndarray) -> Int8Vectors:
        """No vectors yet, with a scale that fits ``sample`` (with room to spare)."""
        top = np.abs(np.asarray(sample, dtype=np.float32)).max(axis=0) if len(sample) else np.ones(sample.shape[1])
        scale = np.maximum(top * _SCALE_MARGIN, 1e-6) / 127.0
        return cls(np.zeros((0, sample.shape[1]), np.int8), scale)

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(vectors / self.scale), -127, 127).astype(np.int8)

    def with_added(self, vectors: np.ndarray) -> Int8Vectors:
        return Int8Vectors(np.concatenate([np.asarray(self.codes), self.encode(vectors)]), self.scale)

    def taken(self, rows: np.ndarray) -> Int8Vectors:
        return Int8Vectors(np.ascontiguousarray(self.codes[np.asarray(rows, dtype=np.int64)]), self.scale)

    def decode(self, rows: np.ndarray | None = None) -> np.ndarray:
        codes = self.codes if rows is None else self.codes[rows]
        return np.asarray(codes, dtype=np.float32) * self.scale

    def cosines(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``query`` · each of ``rows``' vectors (read in row order: near rows share disk pages)."""
        order = np.argsort(rows, kind="stable")
        out = np.empty(len(rows), np.float32)
        out[order] = self.decode(rows[order]) @ np.asarray(query, dtype=np.float32)
        return out

    def save(self, folder: Path) -> None:
        np.save(folder / self.CODES, np.ascontiguousarray(self.codes, dtype=np.int8), allow_pickle=False)
        np.save(folder / self.SCALE, self.scale, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, n: int, dim: int) -> Int8Vectors:
        codes = np.load(folder / cls.CODES, mmap_mode="r", allow_pickle=False)
        scale = np.load(folder / cls.SCALE, allow_pickle=False)
        if codes.dtype != np.int8 or codes.shape != (n, dim):
            raise ValueError(f"{cls.CODES} holds {codes.shape} {codes.dtype}, not {n}×{dim} int8")
        if scale.shape != (dim,) or scale.dtype != np.float32 or not (np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError(f"{cls.SCALE} is not {dim} positive scales")
        return cls(codes, scale)

"""Choosing how much of each IVF shard a search reads, for the recall of the merged result.

A sharded search keeps the best ten of every shard's best ten. Tuning each shard for recall@10 of
its *own* top ten overshoots: at 10 M vectors a query's true neighbours are spread over the shards,
so within one shard its top ten are mostly near-random vectors that no coarse cell predicts, and
the tuning probed 82 % of the cells to find them. What matters is the merged top ten against exact
search over every vector, so ``tune`` measures that: one probe level for all IVF shards
(``nprobe`` in proportion to each shard's cells), chosen as the smallest whose merged recall@10
reaches the target (aiming a point higher), then the smallest re-rank depth of the compressed
(``ivfpq``) shards that keeps it. Exact shards take part as they are. The reference is exact
search over each shard's stored vectors (for ``ivfpq``, their int8 copy), read a shard at a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from index.compressed import RERANK_CHOICES
from index.dense import TARGET_RECALL, DenseIndex, exact_top

K = 10
_MARGIN = 0.01      # tuned a point above the target, so questions the tuning never saw stay above it
# With compressed shards the reference is their int8 copy, which itself orders near-ties a little
# differently from the float vectors (bench/scale.py's hard case: recall@10 0.983 of a full int8 scan):
# aim three points above the target instead of one.
_MARGIN_COMPRESSED = 0.03
_BLOCK_BYTES = 64 << 20     # the exact reference reads this much of the vectors at a time


def tune(denses: Sequence[DenseIndex], queries: np.ndarray, *, target: float = TARGET_RECALL,
         skip: np.ndarray | None = None) -> float:
    """Set ``nprobe`` (and re-rank depth) of every IVF index in ``denses`` — the shards of one
    index, in row order — for merged recall@10 ≥ ``target`` on ``queries``; return that recall.
    ``skip``: per query, a global row it must not find (itself, when stored vectors are the
    queries), or ``None``."""
    approx = [d for d in denses if d.nlist and d.size]
    if not approx:
        return 1.0
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    skip = np.full(len(queries), -1, np.int64) if skip is None else np.asarray(skip, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum([d.size for d in denses])]).astype(np.int64)
    total = int(starts[-1])
    k = min(K, total - (1 if (skip >= 0).any() else 0))
    if k <= 0 or not len(queries):
        for d in approx:
            d.settings(1, min(RERANK_CHOICES), 1.0)
        return 1.0
    exact = _exact(denses, starts, queries, k, skip)
    top_level = max(d.nlist for d in approx)
    compressed = any(d.kind == "ivfpq" for d in approx)
    exact_parts = [(i, d.search_many(queries, k + 1)) for i, d in enumerate(denses) if not (d.nlist and d.size)]

    def nprobe_of(d: DenseIndex, level: int) -> int:
        return max(1, min(d.nlist, math.ceil(level * d.nlist / top_level)))

    def recall(level: int, rerank: int) -> float:
        parts = list(exact_parts)
        for i, d in enumerate(denses):
            if d.nlist and d.size:
                parts.append((i, d.search_many(queries, k + 1, nprobe=nprobe_of(d, level), rerank=rerank)))
        found = _merge(parts, starts, k, skip)
        return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, exact)]))

    aim = min(1.0, target + (_MARGIN_COMPRESSED if compressed else _MARGIN))
    deepest = max(RERANK_CHOICES) if compressed else 0
    level, got = 1, recall(1, deepest)
    while got < aim and level < top_level:
        level = min(top_level, level * 2)
        got = recall(level, deepest)
    low = level // 2 + 1
    while low < level:      # the smallest between the last two powers of two that still reaches it
        mid = (low + level) // 2
        r = recall(mid, deepest)
        if r >= aim:
            level, got = mid, r
        else:
            low = mid + 1
    rerank = deepest
    if compressed:
        for depth in sorted(RERANK_CHOICES)[:-1]:
            r = recall(level, depth)
            if r >= min(aim, got):
                rerank, got = depth, r
                break
    for d in approx:
        d.settings(nprobe_of(d, level), rerank if d.kind == "ivfpq" else 0, got)
    return got


def _exact(denses: Sequence[DenseIndex], starts: np.ndarray, queries: np.ndarray, k: int,
           skip: np.ndarray) -> list[list[int]]:
    """Each query's exact top ``k`` global rows (without its ``skip`` row), 64 MB of vectors at a time."""
    block = max(1024, _BLOCK_BYTES // (4 * queries.shape[1]))
    blocks = ((at + lo, d.vector_block(lo, lo + block)) for d, at in zip(denses, starts[:-1])
              for lo in range(0, d.size, block))
    return [[r for r in row if r >= 0] for row in exact_top(blocks, queries, k, skip).tolist()]


def _merge(parts: list[tuple[int, tuple[np.ndarray, np.ndarray]]], starts: np.ndarray, k: int,
           skip: np.ndarray) -> list[list[int]]:
    """Each query's best ``k`` global rows over every shard's (scores, local rows)."""
    scores = np.concatenate([s for _, (s, _) in parts], axis=1)
    rows = np.concatenate([np.where(r >= 0, r + starts[i], -1) for i, (_, r) in parts], axis=1)
    scores = np.where((rows < 0) | (rows == skip[:, None]), -np.inf, scores)
    order = np.argsort(-scores, axis=1, kind="stable")
    picked = np.take_along_axis(rows, order, 1)
    ok = np.take_along_axis(scores, order, 1) > -np.inf
    return [[r for r, good in zip(row, g) if good][:k] for row, g in zip(picked.tolist(), ok.tolist())]

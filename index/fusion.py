"""Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009) — a pure function."""

from __future__ import annotations

from typing import TypeVar
from collections.abc import Hashable, Sequence

T = TypeVar("T", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(rankings: Sequence[Sequence[T]], *, k: int = RRF_K,
                           weights: Sequence[float] | None = None) -> list[tuple[T, float]]:
    """Fuse ranked lists (best first) into one: each item scores ``sum(w / (k + rank))`` over the
    lists it appears in (rank from 1; duplicates inside one list count once, at their best rank).
    Ties break by the best rank reached in any list, then by first appearance."""
    if k < 0:
        raise ValueError(f"RRF k={k} must be ≥ 0.")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights given for {len(rankings)} rankings.")
    scores: dict[T, float] = {}
    best: dict[T, int] = {}
    order: dict[T, int] = {}
    for ranking, weight in zip(rankings, weights):
        seen: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            best[item] = min(best.get(item, rank), rank)
            order.setdefault(item, len(order))
    return sorted(scores.items(), key=lambda kv: (-kv[1], best[kv[0]], order[kv[0]]))

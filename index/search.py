"""One search over an index's shards: dense and BM25 candidates, fusion, the language quota.

``Index.search`` checks its arguments and hands a ``Scope`` — what a search reads of the index —
to ``run``. Dense candidates come from every shard (``shards.dense_search``, in the index's thread
pool), BM25 candidates scored with the whole index's statistics (``shards.bm25_search``); hybrid
fuses them by reciprocal rank. In a corpus of several languages every language then holds
``lang_quota`` places in the first ``quota_window`` hits (its best dense passages), so a question
also finds passages written in the other language.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from index import shards
from index.config import IndexConfig
from index.embed import Embedder
from index.fusion import reciprocal_rank_fusion
from index.sparse import bm25_tokens
from index.types import Hit, SearchMode


@dataclass(frozen=True)
class Scope:
    """What a search reads of an index: its shards, every passage by global row, each quota
    language's rows, each source's rows, the settings and the thread pool (``None``: one shard)."""

    shards: tuple[shards.Shard, ...]
    passages: shards.Rows
    lang_rows: dict[str, np.ndarray]
    doc_order: dict[str, np.ndarray]
    config: IndexConfig
    pool: ThreadPoolExecutor | None


def run(scope: Scope, embedder: Embedder, query: str, k: int, mode: SearchMode,
        excluded: frozenset[str]) -> tuple[Hit, ...]:
    """The ``k`` best passages for ``query`` (arguments already checked), ignoring ``excluded`` sources."""
    config = scope.config
    banned = {int(r) for s in excluded for r in scope.doc_order.get(s, ())}
    depth = max(config.candidates, k) + len(banned)
    dense_scores: dict[int, float] = {}
    bm25_scores: dict[int, float] = {}
    qvec = None
    if mode in ("hybrid", "dense"):
        qvec = embedder.embed_queries([query])[0]
        ds, dr = shards.dense_search(scope.shards, qvec, depth, pool=scope.pool)
        dense_scores = {r: s for r, s in zip(dr.tolist(), ds.tolist()) if r not in banned}
    if mode in ("hybrid", "bm25"):
        bs, br = shards.bm25_search(scope.shards, bm25_tokens(query), depth)
        bm25_scores = {r: s for r, s in zip(br.tolist(), bs.tolist()) if r not in banned}
    if mode == "dense":
        ranked = list(dense_scores.items())
    elif mode == "bm25":
        ranked = list(bm25_scores.items())
    else:
        ranked = reciprocal_rank_fusion([list(dense_scores), list(bm25_scores)], k=config.rrf_k,
                                        weights=[config.dense_weight, config.bm25_weight])
    top = [row for row, _ in ranked[:k]]
    score_of = dict(ranked)
    if mode != "bm25" and qvec is not None and config.lang_quota > 0 and len(scope.lang_rows) > 1:
        top = _lang_quota(scope, qvec, top, k, score_of, dense_scores, banned)
    return tuple(
        Hit(passage=scope.passages[row], score=float(score_of[row]), rank=rank, via=mode,
            dense_score=dense_scores.get(row), bm25_score=bm25_scores.get(row))
        for rank, row in enumerate(top, start=1))


def _lang_quota(scope: Scope, qvec: np.ndarray, top: list[int], k: int, score_of: dict[int, float],
                dense_scores: dict[int, float], banned: set[int]) -> list[int]:
    """Make every corpus language hold ``lang_quota`` places in the first ``quota_window`` hits:
    a missing language's best dense passages are inserted at the end of the window, pushing the
    others down (the last ones fall off the end of ``k``)."""
    window = min(k, scope.config.quota_window)
    quota = min(scope.config.lang_quota, max(window // len(scope.lang_rows), 1))
    top = list(top)
    for lang, rows in scope.lang_rows.items():
        have = sum(1 for r in top[:window] if scope.passages.lang(r) == lang)
        if have >= quota:
            continue
        if banned:
            rows = np.setdiff1d(rows, np.fromiter(banned, dtype=np.int64))
        ls, lr = shards.dense_search(scope.shards, qvec, quota + window, rows=rows, pool=scope.pool)
        extra = [(r, s) for r, s in zip(lr.tolist(), ls.tolist()) if r not in top[:window]][: quota - have]
        for row, sim in extra:
            if row in top:
                top.remove(row)
            at = min(window, len(top) + 1) - 1
            floor = score_of.get(top[at], 0.0) if at < len(top) else 0.0
            top.insert(at, row)
            score_of[row] = max(score_of.get(row, 0.0), floor)
            dense_scores.setdefault(row, sim)
    return top[:k]

"""The sparse side: BM25 (bm25s) over the shared Arabic/English tokeniser.

bm25s has no incremental update, so a shard's BM25 matrix is rebuilt from its passages' tokens
after a change to that shard (fast: tokens, not embeddings). Persistence uses bm25s' own files
(numpy arrays saved without pickle, JSON vocabulary and parameters) plus ``lengths.npy`` (tokens
per passage); loading memory-maps them.

Scores comparable across shards: bm25s bakes its own collection's statistics (passages, document
frequencies, average length) into the stored scores. A sharded index scores with **global**
statistics instead: ``Stats`` sums them over every shard, and ``scores_with`` recovers each stored
entry's term frequency exactly (it is a whole number: ``tf = x·K/(1−x)`` with ``x`` the entry over
its idf, rounded) and rescores it with the global idf and average length. A passage therefore
scores the same whichever shard holds it, and a one-shard index scores exactly as bm25s does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from sources.errors import MissingDependencyError
from sources.text import tokenize

logger = logging.getLogger(__name__)

K1 = 1.2
B = 0.75
_LENGTHS = "lengths.npy"


def bm25_tokens(text: str) -> list[str]:
    """The tokens BM25 sees: shared normalisation, Arabic prefixes stripped, English stemmed,
    stop words dropped."""
    return tokenize(text, stem=True, stopwords=True)


def _bm25s():
    try:
        import bm25s
    except ImportError:
        raise MissingDependencyError("The BM25 index needs bm25s.", "pip install bm25s") from None
    # bm25s pins its own logger to DEBUG when imported, so "Building index from tokens" reaches any
    # handler the application has; hand the level back to the application (unless it set one).
    bm25s_log = logging.getLogger("bm25s")
    if bm25s_log.level == logging.DEBUG and not getattr(bm25s_log, "_bayyina_checked", False):
        bm25s_log.setLevel(logging.NOTSET)
    bm25s_log._bayyina_checked = True  # type: ignore[attr-defined]
    return bm25s


def idf(df: np.ndarray | int, n: int) -> np.ndarray | float:
    """Lucene's idf, as bm25s computes it: ``log(1 + (N − df + 0.5) / (df + 0.5))``."""
    return np.log1p((n - np.asarray(df, dtype=np.float64) + 0.5) / (np.asarray(df, dtype=np.float64) + 0.5))


def _norm(lengths: np.ndarray, avg: float) -> np.ndarray:
    """BM25's length normalisation ``K = k1·(1 − b + b·dl/avgdl)``."""
    return K1 * (1 - B + B * lengths / avg) if avg > 0 else np.full(len(lengths), K1 * (1 - B))


@dataclass(frozen=True)
class Stats:
    """Collection statistics for one query: passages, total tokens, and each query token's
    document frequency — summed over every shard of an index."""

    passages: int
    tokens: int
    df: tuple[int, ...]

    @property
    def avg_len(self) -> float:
        return self.tokens / self.passages if self.passages else 0.0

    def __add__(self, other: Stats) -> Stats:
        return Stats(self.passages + other.passages, self.tokens + other.tokens,
                     tuple(a + b for a, b in zip(self.df, other.df)))


def _from_counts(kept: tuple[np.ndarray, np.ndarray, np.ndarray], added: list[np.ndarray], lengths: np.ndarray,
                 vocab: dict[str, int]):
    """A bm25s model over term counts — ``kept`` (rows, entries per column, counts) in column
    order and a few ``added`` ones (rows, token ids, counts) — scored as bm25s' ``index`` scores
    them (Lucene idf): the matrix bm25s would build from the same passages' tokens. The column
    layout is kept: added entries are inserted at the end of their columns."""
    bm25s = _bm25s()
    (rows, kept_count, tf), (new_rows, new_cols, new_tf) = kept, added
    n, width = len(lengths), len(vocab)
    kept_count = np.concatenate([kept_count, np.zeros(width - len(kept_count), np.int64)])
    new_count = np.bincount(new_cols, minlength=width)
    if len(new_cols):
        order = np.lexsort((new_rows, new_cols))
        ends = np.cumsum(kept_count)            # where each column's kept entries end
        at = ends[new_cols[order]]
        rows = np.insert(rows, at, new_rows[order])
        tf = np.insert(tf, at, new_tf[order].astype(np.float32))
    df = kept_count + new_count
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    avg = np.float32(lengths.astype(np.float64).mean())
    k = np.float32(K1) * (np.float32(1 - B) + np.float32(B) * lengths.astype(np.float32)[rows] / avg)
    data = np.repeat(idf(df, n).astype(np.float32), df) * (tf / (k + tf))
    model = bm25s.BM25(k1=K1, b=B, method="lucene")
    model.scores = {"data": data.astype(np.float32, copy=False), "indices": rows.astype(np.int32),
                    "indptr": indptr, "num_docs": n}
    model.vocab_dict = dict(vocab) | {"": width}
    model.unique_token_ids_set = set(model.vocab_dict.values())
    model.nonoccurrence_array = None     # what `index` sets for the lucene method
    return model


class SparseIndex:
    def __init__(self) -> None:
        self._bm25 = None
        self.size = 0
        self._lengths = np.zeros(0, np.int32)
        self.tokens = 0            # the sum of ``_lengths``, counted once (it is asked for every query)

    @classmethod
    def build(cls, texts: Sequence[str]) -> SparseIndex:
        obj = cls()
        obj.size = len(texts)
        # An empty passage (all stop words) still needs a token list; bm25s adds "" for it.
        corpus = [bm25_tokens(t) for t in texts]
        obj._lengths = np.fromiter((len(c) for c in corpus), dtype=np.int32, count=len(corpus))
        obj.tokens = int(obj._lengths.sum(dtype=np.int64))
        if obj.tokens:     # bm25s cannot index passages without a single token: nothing to match
            bm25s = _bm25s()
            obj._bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
            obj._bm25.index(corpus, show_progress=False)
        return obj

    def rebuilt(self, keep: np.ndarray, texts: Sequence[str]) -> SparseIndex:
        """This index with only the rows ``keep`` (in that order) and ``texts`` appended, scoring
        as ``build`` of those passages' texts would, without tokenising the kept ones again: their
        term counts are read back from the stored matrix (``tf = x·K/(1−x)`` with ``x`` an entry
        over its idf — a whole number, exactly), the matrix keeps its column layout, and every
        entry is rescored with the new statistics; only ``texts`` are tokenised."""
        keep = np.asarray(keep, dtype=np.int64)
        vocab = {t: i for t, i in (self._bm25.vocab_dict.items() if self._bm25 is not None else ()) if t != ""}
        renumber = np.full(self.size, -1, np.int64)
        renumber[keep] = np.arange(len(keep))
        kept_rows, kept_count, kept_tf = self._kept_counts(renumber)
        new_rows, new_cols, new_tf, lengths = [], [], [], [np.asarray(self._lengths, dtype=np.int32)[keep]]
        for j, text in enumerate(texts):
            counts: dict[int, int] = {}
            tokens = bm25_tokens(text)
            for t in tokens:
                tid = vocab.setdefault(t, len(vocab))
                counts[tid] = counts.get(tid, 0) + 1
            lengths.append(np.array([len(tokens)], np.int32))
            new_rows.append(np.full(len(counts), len(keep) + j, np.int64))
            new_cols.append(np.fromiter(counts.keys(), np.int64, len(counts)))
            new_tf.append(np.fromiter(counts.values(), np.float64, len(counts)))
        obj = SparseIndex()
        obj._lengths = np.concatenate(lengths).astype(np.int32)
        obj.size, obj.tokens = len(obj._lengths), int(obj._lengths.sum(dtype=np.int64))
        if obj.tokens:
            added = [np.concatenate(x) if x else np.zeros(0, dtype) for x, dtype in
                     ((new_rows, np.int64), (new_cols, np.int64), (new_tf, np.float64))]
            obj._bm25 = _from_counts((kept_rows, kept_count, kept_tf), added, obj._lengths, vocab)
        return obj

    def _kept_counts(self, renumber: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(new row, per-column count, term frequency) of every stored entry whose row is kept
        (``renumber[row] ≥ 0``), in the stored column order (float32 is exact for whole counts
        recovered from float32 scores)."""
        if self._bm25 is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        data, indices, indptr = (np.asarray(self._bm25.scores[k]) for k in ("data", "indices", "indptr"))
        df = np.diff(indptr).astype(np.int64)
        x = data / np.repeat(idf(df, self.size).astype(np.float32), df)
        lengths = np.asarray(self._lengths, dtype=np.float32)[indices]
        k = np.float32(K1) * (np.float32(1 - B) + np.float32(B / (self.tokens / self.size)) * lengths)
        tf = np.rint(x * k / np.maximum(np.float32(1) - x, np.float32(1e-7)))
        rows = renumber[indices]
        held = rows >= 0
        if held.all():
            return rows, df, tf
        running = np.concatenate([[0], np.cumsum(held, dtype=np.int64)])
        return rows[held], running[indptr[1:]] - running[indptr[:-1]], tf[held]

    def stats(self, query_tokens: Sequence[str]) -> Stats:
        """This shard's share of the statistics ``query_tokens`` are scored with."""
        return Stats(self.size, self.tokens, tuple(self._df(t) for t in query_tokens))

    def _df(self, token: str) -> int:
        if self._bm25 is None or token not in self._bm25.vocab_dict:
            return 0
        col = self._bm25.vocab_dict[token]
        indptr = self._bm25.scores["indptr"]
        return int(indptr[col + 1] - indptr[col])

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` with this index's own statistics (zeros when
        no query token is known)."""
        tokens = bm25_tokens(query)
        return self.scores_with(tokens, self.stats(tokens))

    def scores_with(self, query_tokens: Sequence[str], stats: Stats) -> np.ndarray:
        """BM25 score of every passage for ``query_tokens`` under ``stats`` (the whole index's,
        when this is one shard of several)."""
        if self._bm25 is None:
            return np.zeros(self.size, np.float32)
        own = self.stats(query_tokens)
        if stats == own:     # the statistics bm25s scored with: its own scores, exactly
            ids = self._bm25.get_tokens_ids(list(query_tokens))
            return (np.asarray(self._bm25.get_scores(ids), dtype=np.float32) if ids
                    else np.zeros(self.size, np.float32))
        data, indices, indptr = (self._bm25.scores[k] for k in ("data", "indices", "indptr"))
        out = np.zeros(self.size, np.float64)
        for token, df_own, df_all in zip(query_tokens, own.df, stats.df):
            if not df_own:
                continue
            col = self._bm25.vocab_dict[token]
            rows = np.asarray(indices[indptr[col]:indptr[col + 1]], dtype=np.int64)
            x = np.asarray(data[indptr[col]:indptr[col + 1]], dtype=np.float64) / idf(df_own, own.passages)
            lengths = np.asarray(self._lengths[rows], dtype=np.float64)    # only the rows holding the word
            tf = np.rint(x * _norm(lengths, own.avg_len) / np.maximum(1 - x, 1e-12))
            out[rows] += idf(df_all, stats.passages) * tf / (tf + _norm(lengths, stats.avg_len))
        return out.astype(np.float32)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, rows) with a positive score, best first (own statistics)."""
        tokens = bm25_tokens(query)
        return self.search_with(tokens, self.stats(tokens), k)

    def search_with(self, query_tokens: Sequence[str], stats: Stats, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, rows) with a positive score under ``stats``, best first."""
        scores = self.scores_with(query_tokens, stats)
        if not len(scores):
            return scores, np.zeros(0, np.int64)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        top = top[scores[top] > 0]
        return scores[top], top.astype(np.int64)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), allow_pickle=False, show_progress=False)
        np.save(folder / _LENGTHS, np.asarray(self._lengths, dtype=np.int32), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> SparseIndex:
        obj = cls()
        obj.size = size
        lengths = np.load(folder / _LENGTHS, mmap_mode="r", allow_pickle=False)
        if lengths.shape != (size,) or lengths.dtype != np.int32:
            raise ValueError(f"{_LENGTHS} holds {lengths.shape} {lengths.dtype}, not {size} passage lengths")
        obj._lengths = lengths
        obj.tokens = int(lengths.sum(dtype=np.int64))
        if obj.tokens:
            # Memory-mapped: the score matrix stays on disk until a query touches it.
            obj._bm25 = _bm25s().BM25.load(str(folder), allow_pickle=False, show_progress=False, mmap=True)
            if int(obj._bm25.scores["num_docs"]) != size:
                raise ValueError(f"the BM25 matrix holds {obj._bm25.scores['num_docs']} passages, not {size}")
        return obj

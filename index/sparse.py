"""The sparse side: BM25 (bm25s) over the shared Arabic/English tokeniser.

bm25s has no incremental update, so the BM25 matrix is rebuilt from the passages' tokens after
every change (fast: tokens, not embeddings). Persistence uses bm25s' own files (numpy arrays
saved without pickle, JSON vocabulary and parameters).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from sources.errors import MissingDependencyError
from sources.text import tokenize

logger = logging.getLogger(__name__)

K1 = 1.2
B = 0.75


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


class SparseIndex:
    def __init__(self) -> None:
        self._bm25 = None
        self.size = 0

    @classmethod
    def build(cls, texts: Sequence[str]) -> "SparseIndex":
        obj = cls()
        obj.size = len(texts)
        if texts:
            bm25s = _bm25s()
            # An empty passage (all stop words) still needs a token list; bm25s adds "" for it.
            corpus = [bm25_tokens(t) for t in texts]
            obj._bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
            obj._bm25.index(corpus, show_progress=False)
        return obj

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no query token is known)."""
        if self._bm25 is None:
            return np.zeros(0, np.float32)
        ids = self._bm25.get_tokens_ids(bm25_tokens(query))
        if not ids:
            return np.zeros(self.size, np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, rows) with a positive score, best first."""
        scores = self.scores(query)
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

    @classmethod
    def load(cls, folder: Path, size: int) -> "SparseIndex":
        obj = cls()
        obj.size = size
        if size:
            # Memory-mapped: the score matrix stays on disk until a query touches it.
            obj._bm25 = _bm25s().BM25.load(str(folder), allow_pickle=False, show_progress=False, mmap=True)
        return obj

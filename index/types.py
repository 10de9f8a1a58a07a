"""The values that leave ``index``: search ``Hit``s and reports about the index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sources.loaders import Skipped
from sources.types import Passage

if TYPE_CHECKING:
    import numpy as np

Via = Literal["dense", "bm25", "hybrid", "context"]
SearchMode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class Hit:
    """One retrieved passage. ``score`` is the fused RRF score for ``hybrid``, cosine similarity
    for ``dense`` and the BM25 score for ``bm25``; ``dense_score``/``bm25_score`` are the
    component scores where the passage was found by that side (else ``None``). A ``context``
    hit is a neighbour of a retrieved passage in its document, with that passage's rank and score."""

    passage: Passage
    score: float
    rank: int
    via: Via
    dense_score: float | None = None
    bm25_score: float | None = None


@dataclass(frozen=True)
class SourceInfo:
    source: str
    kind: str
    content_hash: str
    passages: int


@dataclass(frozen=True, eq=False)
class EmbeddedDocument:
    """A document chunked and embedded, ready for ``Index.add_embedded``: its ``passages`` in
    document order and ``vectors`` (float32, one L2-normalised row per passage)."""

    source: str
    kind: str
    content_hash: str
    passages: tuple[Passage, ...]
    vectors: np.ndarray


@dataclass(frozen=True)
class AddReport:
    """What ``Index.add_*`` did: sources added, replaced (content changed), unchanged (skipped by
    content hash), files skipped with their reason, and passages added."""

    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    passages_added: int = 0


@dataclass(frozen=True)
class ShardInfo:
    """One shard of an index: its passages and dense index (``nlist``/``nprobe`` for IVF, and its
    recall@10 against exact search, measured when ``nprobe`` was chosen)."""

    name: str
    passages: int
    dense_kind: str
    nlist: int
    nprobe: int
    recall: float
    rerank: int = 0               # ivfpq: candidates re-ranked from the int8 vectors
    bytes_per_vector: int = 0     # what the search holds in memory per vector


@dataclass(frozen=True)
class IndexInfo:
    embedder: str
    dim: int
    dense_kind: str
    passages: int
    sources: tuple[SourceInfo, ...]
    languages: dict[str, int]
    format_version: int
    normaliser_version: int
    max_tokens: int
    overlap_tokens: int
    dense_nlist: int = 0          # ivf: cells (of the largest shard)
    dense_nprobe: int = 0         # ivf: cells searched per query (of the largest shard)
    dense_recall: float = 1.0     # recall@10 against exact search, the lowest of any shard
    shards: tuple[ShardInfo, ...] = ()

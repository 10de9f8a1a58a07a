"""``IndexConfig``: how passages are cut and searched, checked when made, stored in the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.dense import KINDS, IndexKind
from index.fusion import RRF_K
from sources.chunking import ChunkConfig
from sources.errors import BayyinaError

SHARD_PASSAGES = 500_000    # per shard: ~770 MB of 384-dimensional vectors, an IVF of ~700 cells


@dataclass(frozen=True)
class IndexConfig:
    """How passages are cut and searched.

    ``candidates``: how deep each side (dense, BM25) is read before fusion.
    ``lang_quota``: in a corpus with passages in several languages, at least this many of the
    first ``quota_window`` hits are in each language (its best dense passages), so a question
    also finds passages written in the other language. 0 turns it off.
    ``shard_passages``: the most passages a shard holds (see ``index.shards``); each shard has its
    own dense index (IVF from ``IVF_THRESHOLD`` passages) and BM25, and a change rebuilds one shard.
    """

    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    dense_kind: IndexKind = "auto"
    rrf_k: int = RRF_K
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 50
    lang_quota: int = 1
    quota_window: int = 5
    shard_passages: int = SHARD_PASSAGES

    def __post_init__(self) -> None:
        for name, low in (("rrf_k", 0), ("candidates", 1), ("lang_quota", 0), ("quota_window", 1),
                          ("shard_passages", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise BayyinaError(f"IndexConfig.{name}={value!r} must be a whole number ≥ {low}.")
        for name in ("dense_weight", "bm25_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < float("inf"):
                raise BayyinaError(f"IndexConfig.{name}={value!r} must be a number ≥ 0.")
        if self.dense_kind not in ("auto", *KINDS):
            raise BayyinaError(f"IndexConfig.dense_kind={self.dense_kind!r} is unknown: use auto, flat, ivf, ivfpq "
                               "or hnsw.")

    def to_dict(self) -> dict:
        return {"max_tokens": self.chunk.max_tokens, "overlap_tokens": self.chunk.overlap_tokens,
                "dense_kind": self.dense_kind, "rrf_k": self.rrf_k, "dense_weight": self.dense_weight,
                "bm25_weight": self.bm25_weight, "candidates": self.candidates, "lang_quota": self.lang_quota,
                "quota_window": self.quota_window, "shard_passages": self.shard_passages}

    @classmethod
    def from_dict(cls, d: dict) -> IndexConfig:
        return cls(chunk=ChunkConfig(int(d["max_tokens"]), int(d["overlap_tokens"])),
                   dense_kind=d.get("dense_kind", "auto"), rrf_k=int(d.get("rrf_k", RRF_K)),
                   dense_weight=float(d.get("dense_weight", 1.0)), bm25_weight=float(d.get("bm25_weight", 1.0)),
                   candidates=int(d.get("candidates", 50)), lang_quota=int(d.get("lang_quota", 1)),
                   quota_window=int(d.get("quota_window", 5)),
                   shard_passages=int(d.get("shard_passages", SHARD_PASSAGES)))

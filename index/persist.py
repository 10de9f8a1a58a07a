"""Saving and loading an ``Index`` (the folder layout, atomic writes and locks are ``index.store``'s;
the checks on what is read, ``index.integrity``'s): a manifest with format version, embedder,
normaliser version, config, shards and checksums; one folder per shard."""

from __future__ import annotations

import json
from datetime import datetime, UTC
from pathlib import Path
from typing import TYPE_CHECKING

from index import integrity, shards, store
from index.config import IndexConfig
from index.dense import DenseIndex
from index.embed import Embedder
from index.passage_store import PassageStore
from index.shards import Shard
from index.sparse import SparseIndex
from index.types import SourceInfo
from sources.errors import BayyinaError, IndexStoreError
from sources.text import NORMALISER_VERSION
from sources.types import Passage

if TYPE_CHECKING:
    from index.hybrid import Index


def save(index: Index, folder: str | Path) -> None:
    """Write the index to ``folder`` atomically (see ``index.store``); a shard unchanged since
    its last save is hard-linked, not rewritten."""
    folder = Path(folder)
    manifest = {
        "format": store.FORMAT,
        "format_version": store.FORMAT_VERSION,
        "embedder": {"name": index.embedder.name, "dim": index.embedder.dim,
                     "query_prompt": getattr(index.embedder, "query_prompt", ""),
                     "passage_prompt": getattr(index.embedder, "passage_prompt", "")},
        "normaliser_version": NORMALISER_VERSION,
        "config": index.config.to_dict(),
        "shards": [s.entry() for s in index._shards],
        "counts": {"passages": len(index._passages), "sources": len(index._sources)},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    written: list[Shard] = []

    def fill(tmp: Path) -> None:
        checksums: dict[str, str] = {}
        for shard in index._shards:
            rel = f"{shards.FOLDER}/{shard.name}"
            linked = shard.write(tmp / rel)
            own = linked if linked is not None else integrity.file_checksums(tmp / rel)
            checksums.update({f"{rel}/{k}": v for k, v in own.items()})
            written.append(shard.saved_at(tmp / rel, folder / rel, own))
        store.write_json(tmp / store.SOURCES, {
            s.source: {"kind": s.kind, "content_hash": s.content_hash, "passages": s.passages,
                       "shard": index._shard_of.get(s.source, "")}
            for s in index._sources.values()})
        checksums[store.SOURCES] = integrity.file_checksums(tmp, only=(store.SOURCES,))[store.SOURCES]
        manifest["checksums"] = dict(sorted(checksums.items()))
        store.write_json(tmp / store.MANIFEST, manifest)  # after every file it vouches for

    store.write_atomically(folder, fill)
    index._shards = written      # the same shards, now known to be on disk (renames keep the files)


def load(folder: str | Path, embedder: Embedder, *, memory_map: bool = True) -> Index:
    """Load a saved index, refusing one built with another format version or embedder."""
    folder = store.resolve(Path(folder))
    manifest = store.read_manifest(folder)
    integrity.validate_manifest(folder, manifest)
    integrity.verify_files(folder, manifest["checksums"])
    store.check_embedder(folder, manifest, embedder.name, embedder.dim,
                         (getattr(embedder, "query_prompt", ""), getattr(embedder, "passage_prompt", "")))
    if manifest.get("normaliser_version") != NORMALISER_VERSION:
        raise IndexStoreError(
            f"{folder} was built with text normaliser version {manifest.get('normaliser_version')}, this "
            f"Bayyina uses {NORMALISER_VERSION}: rebuild it with `bayyina index build`.")
    try:
        config = IndexConfig.from_dict(manifest["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexStoreError(f"{folder}: the manifest's config is invalid ({exc}); rebuild it with "
                          "`bayyina index build`.") from None
    from index.hybrid import Index

    obj = Index(embedder, config)
    try:
        sources = integrity.validate_sources(folder, json.loads((folder / store.SOURCES).read_text(encoding="utf-8")),
                                             {e["name"] for e in manifest["shards"]})
        obj._sources = {name: SourceInfo(name, v["kind"], v["content_hash"], int(v["passages"]))
                        for name, v in sources.items()}
        obj._shards = [load_shard(folder, entry, embedder.dim, manifest["checksums"], memory_map=memory_map)
                       for entry in manifest["shards"]]
    except BayyinaError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexStoreError(f"{folder} is damaged ({type(exc).__name__}: {exc}); rebuild it with "
                          "`bayyina index build`.") from None
    obj._shard_of = {name: v["shard"] for name, v in sources.items()}
    obj._index_rows()
    held = {(source, s.name) for s in obj._shards for source in s.passages.names}
    per_source = {source: len(rows) for source, rows in obj._doc_order.items()}
    if ({(src, name) for src, name in obj._shard_of.items() if name} != held
            or any(per_source.get(n, 0) != s.passages for n, s in obj._sources.items())
            or len(per_source) > len(obj._sources) or manifest["counts"]["passages"] != len(obj._passages)):
        raise IndexStoreError(f"{folder} is inconsistent (sources.json does not match the shards' "
                          f"{len(obj._passages)} passages); rebuild it with `bayyina index build`.")
    return obj


def load_shard(folder: Path, entry: dict, dim: int, checksums: dict[str, str], *, memory_map: bool = True) -> Shard:
    """One shard of a saved index (its files already verified against ``checksums``)."""
    rel = f"{shards.FOLDER}/{entry['name']}"
    passages = PassageStore.open(folder / rel / shards.PASSAGES, _checked_passage)
    dense = DenseIndex.load(folder / rel / shards.DENSE, dim, expected_kind=entry["dense_kind"],
                            nprobe=entry["nprobe"], recall=float(entry["recall_at_10"]),
                            rerank=entry.get("rerank", 0), memory_map=memory_map)
    sparse = SparseIndex.load(folder / rel / shards.BM25, len(passages))
    if not (dense.size == len(passages) == entry["passages"]) or not passages:
        raise IndexStoreError(f"{folder} is inconsistent (shard {entry['name']}: {dense.size} vectors, "
                          f"{len(passages)} passages, manifest {entry['passages']}); rebuild it with "
                          "`bayyina index build`.")
    own = {k[len(rel) + 1:]: v for k, v in checksums.items() if k.startswith(rel + "/")}
    return Shard(entry["name"], passages, dense, sparse).saved_at(folder / rel, folder / rel, own)


def _checked_passage(d: object) -> Passage:
    """A passage from ``passages.jsonl``, refused unless its fields make sense."""
    if not isinstance(d, dict):
        raise ValueError("a passages.jsonl line is not an object")
    p = Passage.from_dict(d)
    if not (0 <= p.start <= p.end and p.end - p.start == len(p.text)) or (p.page is not None and (
            not isinstance(p.page, int) or p.page < 1)):
        raise ValueError(f"passage {p.id[:20]!r} has inconsistent offsets or page")
    return p

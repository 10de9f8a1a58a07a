"""What a saved index must look like before anything in it is trusted.

``validate_manifest`` checks every manifest field's type and bounds; ``file_checksums`` are the
SHA-256 of every index file, written into the manifest at save; ``verify_files`` refuses a folder
holding a symlink, a missing or extra file, or a file whose checksum changed — naming it, and never
quoting its bytes. A changed file is refused before it is parsed.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

from sources.errors import IndexStoreError

_NOT_HASHED = ("manifest.json", "COMPLETE")
_DENSE_KINDS = ("flat", "hnsw", "ivf", "ivfpq")
_MAX_DIM = 16384
_SHARD_NAME = re.compile(r"s[0-9]{5}")


def _refuse(folder: Path, what: str) -> IndexStoreError:
    return IndexStoreError(f"{folder} is damaged or was changed by hand: {what}; rebuild it with `bayyina index build`.")


def _files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by relative path; a symlink anywhere is refused."""
    out: dict[str, Path] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                raise _refuse(folder, f"{rel!r} is a symbolic link (an index holds only its own files)")
        for name in files:
            path = Path(root) / name
            out[path.relative_to(folder).as_posix()] = path
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_checksums(folder: Path, only: tuple[str, ...] | None = None) -> dict[str, str]:
    """SHA-256 of every file of a freshly written folder (the manifest and marker excluded), or
    of the files named in ``only``."""
    return {rel: _sha256(path) for rel, path in sorted(_files(folder).items())
            if rel not in _NOT_HASHED and (only is None or rel in only)}


def verify_files(folder: Path, expected: dict[str, str]) -> None:
    found = {rel: path for rel, path in _files(folder).items() if rel not in _NOT_HASHED}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        raise _refuse(folder, f"{missing[0]!r} is missing")
    if extra:
        raise _refuse(folder, f"{extra[0]!r} does not belong to it")
    for rel in sorted(expected):
        if _sha256(found[rel]) != expected[rel]:
            raise _refuse(folder, f"{rel!r} changed since it was saved (checksum mismatch)")


def _typed(folder: Path, where: str, value: object, kind: type | tuple, *, low: float | None = None,
           high: float | None = None) -> None:
    ok = isinstance(value, kind) and not (isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple)
                                                                                     else (kind,)))
    if ok and isinstance(value, float) and not math.isfinite(value):
        ok = False
    if ok and low is not None and value < low:  # type: ignore[operator]
        ok = False
    if ok and high is not None and value > high:  # type: ignore[operator]
        ok = False
    if not ok:
        names = "/".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        bounds = "" if low is None and high is None else f" in [{low}, {high}]"
        raise _refuse(folder, f"manifest field {where} must be {names}{bounds}, not "
                              f"{type(value).__name__} {str(value)[:40]!r}")


def validate_manifest(folder: Path, manifest: dict) -> None:
    """Every field the loader uses: present, of its type, within its bounds."""
    emb = manifest.get("embedder")
    _typed(folder, "embedder", emb, dict)
    _typed(folder, "embedder.name", emb.get("name"), str)
    _typed(folder, "embedder.dim", emb.get("dim"), int, low=1, high=_MAX_DIM)
    for key in ("query_prompt", "passage_prompt"):
        _typed(folder, f"embedder.{key}", emb.get(key, ""), str)
    _typed(folder, "normaliser_version", manifest.get("normaliser_version"), int, low=1)
    config = manifest.get("config")
    _typed(folder, "config", config, dict)
    # Every setting is written at save: a missing one is a changed file, not a default.
    for key, low, high in (("max_tokens", 8, 100_000), ("overlap_tokens", 0, 100_000), ("rrf_k", 0, 1_000_000),
                           ("candidates", 1, 100_000), ("lang_quota", 0, 1000), ("quota_window", 1, 100_000),
                           ("shard_passages", 1, 10**10)):
        _typed(folder, f"config.{key}", config.get(key), int, low=low, high=high)
    for key in ("dense_weight", "bm25_weight"):
        _typed(folder, f"config.{key}", config.get(key), (int, float), low=0, high=1000)
    if config.get("dense_kind") not in ("auto",) + _DENSE_KINDS:
        raise _refuse(folder, f"manifest field config.dense_kind is {str(config.get('dense_kind'))[:40]!r}")
    shards = manifest.get("shards")
    _typed(folder, "shards", shards, list)
    names = set()
    for i, entry in enumerate(shards):
        _typed(folder, f"shards[{i}]", entry, dict)
        name = entry.get("name")
        if not isinstance(name, str) or not _SHARD_NAME.fullmatch(name) or name in names:
            raise _refuse(folder, f"manifest field shards[{i}].name is {str(name)[:40]!r}")
        names.add(name)
        if entry.get("dense_kind") not in _DENSE_KINDS:
            raise _refuse(folder, f"manifest field shards[{i}].dense_kind is {str(entry.get('dense_kind'))[:40]!r}")
        _typed(folder, f"shards[{i}].passages", entry.get("passages"), int, low=1, high=10**10)
        for key in ("nlist", "nprobe"):
            _typed(folder, f"shards[{i}].{key}", entry.get(key), int, low=0, high=10**8)
        _typed(folder, f"shards[{i}].rerank", entry.get("rerank", 0), int, low=0, high=10**6)
        _typed(folder, f"shards[{i}].recall_at_10", entry.get("recall_at_10"), (int, float), low=0, high=1)
    counts = manifest.get("counts")
    _typed(folder, "counts", counts, dict)
    for key in ("passages", "sources"):
        _typed(folder, f"counts.{key}", counts.get(key), int, low=0, high=10**10)
    checksums = manifest.get("checksums")
    _typed(folder, "checksums", checksums, dict)
    for rel, digest in checksums.items():
        if not isinstance(rel, str) or not isinstance(digest, str) or len(digest) != 64 or ".." in rel.split("/"):
            raise _refuse(folder, f"manifest field checksums[{str(rel)[:40]!r}] is malformed")


def validate_sources(folder: Path, sources: object, shard_names: set[str]) -> dict:
    """``sources.json``: every entry well-formed, in one of ``shard_names`` ("" when it has no passages)."""
    if not isinstance(sources, dict):
        raise _refuse(folder, f"sources.json must hold an object, not {type(sources).__name__}")
    for name, v in sources.items():
        if not isinstance(v, dict) or not isinstance(v.get("kind"), str) or not isinstance(v.get("content_hash"), str) \
                or not isinstance(v.get("passages"), int) or isinstance(v.get("passages"), bool) or v["passages"] < 0 \
                or v.get("shard") not in shard_names | {""} or (v["shard"] == "") != (v["passages"] == 0):
            raise _refuse(folder, f"sources.json entry {str(name)[:60]!r} is malformed")
    return sources

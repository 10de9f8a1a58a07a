"""The saved index directory: plain files, atomic replacement, checked loading.

```
DIR/manifest.json     format version, embedder name/dim/prompts, normaliser version, chunking, counts
DIR/dense.faiss       faiss.write_index
DIR/bm25/             bm25s' own files (numpy without pickle, JSON)
DIR/passages.jsonl    one Passage per line, in row order
DIR/sources.json      source → kind, content hash, passage count
```
A save writes everything to ``DIR.tmp-…`` and renames it over ``DIR`` (the old directory is
moved aside first and removed last), so a crash at any point leaves a loadable index: either
the old ``DIR`` or, in the instant between the two renames, ``DIR.old-…``, which ``resolve``
recovers.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable

from sources.errors import IndexError_, IndexMismatchError

FORMAT = "bayyina-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
SOURCES = "sources.json"
DENSE = "dense.faiss"
BM25 = "bm25"


def write_atomically(folder: Path, fill: Callable[[Path], None]) -> None:
    """Call ``fill(tmp)`` to write a complete directory, then swap it in for ``folder``."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    try:
        fill(tmp)
        _fsync_dir(tmp)
        old = None
        if folder.exists():
            if not (folder / MANIFEST).is_file() and any(folder.iterdir()):
                raise IndexError_(f"{folder} exists and is not a Bayyina index (no {MANIFEST}); "
                                  "choose an empty or new folder for the index.")
            old = folder.with_name(f"{folder.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_dir(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())


def resolve(folder: Path) -> Path:
    """The directory to load: ``folder``, or the ``.old-`` copy a crash between renames left."""
    folder = Path(folder)
    if (folder / MANIFEST).is_file():
        return folder
    leftovers = sorted(folder.parent.glob(f"{folder.name}.old-*")) if folder.parent.is_dir() else []
    for old in leftovers:
        if (old / MANIFEST).is_file():
            os.replace(old, folder)
            return folder
    if not folder.exists():
        raise IndexError_(f"No index at {folder}: build one with `bayyina index build PATH... --index {folder}`.")
    raise IndexError_(f"{folder} is not a Bayyina index ({MANIFEST} is missing): rebuild it with "
                      f"`bayyina index build PATH... --index {folder}`.")


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexError_(f"{path} is unreadable ({exc}); rebuild the index with `bayyina index build`.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexError_(f"{path} is not a Bayyina manifest; rebuild the index with `bayyina index build`.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{folder} has index format version {version}, but this Bayyina reads version {FORMAT_VERSION}; "
            "rebuild it with `bayyina index build`.")
    return manifest


def check_embedder(folder: Path, manifest: dict, name: str, dim: int) -> None:
    saved = manifest.get("embedder", {})
    if saved.get("name") != name:
        raise IndexMismatchError(
            f"{folder} was built with embedder {saved.get('name')!r}, not {name!r}: load it with "
            f"--embedder {saved.get('name')} or rebuild it with the new embedder.")
    if saved.get("dim") != dim:
        raise IndexMismatchError(
            f"{folder} holds {saved.get('dim')}-dimensional vectors but embedder {name!r} gives {dim}; rebuild it.")

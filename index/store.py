"""The saved index directory: plain files, atomic replacement, checked loading.

```
DIR/manifest.json                 format version, embedder name/dim/prompts, normaliser version, chunking,
                                  the shards (passages, dense kind, nlist/nprobe/recall), counts, checksums
DIR/sources.json                  source → kind, content hash, passage count, shard
DIR/shards/sNNNNN/dense.faiss     faiss.write_index
DIR/shards/sNNNNN/bm25/           bm25s' own files (numpy without pickle, JSON) + lengths.npy
DIR/shards/sNNNNN/passages.jsonl  one Passage per line, in the shard's row order
```
A save writes everything to ``DIR.tmp-…``, ends with a ``COMPLETE`` marker (the time it was
written) and renames it over ``DIR`` (the old directory is moved aside first and removed last), so a
crash at any point leaves a loadable index: either the old ``DIR`` or, in the instant between the
two renames, ``DIR.old-…``, which ``resolve`` recovers — the newest one whose marker and files are
all there (a half-deleted or older copy is never picked over it). Leftover ``.tmp-``/``.old-``
folders of interrupted saves are removed by the next save.

One writer at a time: ``writer_lock(DIR)`` holds ``.DIR.lock`` (the holder's pid) for a whole
read-modify-write — ``bayyina index add`` takes it before loading the index and keeps it until the
save, so two concurrent writers wait for each other instead of losing an update. A lock whose
process is gone is stale and taken over. Readers never take it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable, Iterator

from sources.errors import IndexStoreError, IndexMismatchError

FORMAT = "bayyina-index"
FORMAT_VERSION = 3   # 2: file checksums in the manifest, a COMPLETE marker; 3: shards
MANIFEST = "manifest.json"
SOURCES = "sources.json"
COMPLETE = "COMPLETE"
REQUIRED = (MANIFEST, SOURCES, COMPLETE)
LOCK_WAIT_S = 120.0
_UNNAMED_STALE_S = 5.0    # a lock file still without a pid this long after it was created is a dead writer's


def _lock_path(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.lock"


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@contextmanager
def writer_lock(folder: str | Path, *, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the index's writer lock (re-entrant within a process); wait up to ``wait_s`` for
    another writer, then fail naming it."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    path = _lock_path(folder)
    me = os.getpid()
    deadline = time.monotonic() + wait_s
    held_here = False
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = int(path.read_text(encoding="ascii").strip() or "0")
            except (OSError, ValueError):
                holder = 0   # being written this instant, or garbage: look again
            if holder == me:
                held_here = True          # re-entrant: this process already holds it
                break
            if holder and not _alive(holder):
                path.unlink(missing_ok=True)   # stale: its process is gone
                continue
            if not holder and _age_s(path) > _UNNAMED_STALE_S:
                path.unlink(missing_ok=True)   # a writer killed between creating it and writing its pid
                continue
            if time.monotonic() > deadline:
                raise IndexStoreError(f"{folder} is being written by another process (pid {holder or '?'}, lock "
                                  f"{path}); try again when it has finished, or delete the lock file if "
                                  "no Bayyina process is running.") from None
            time.sleep(0.05)
            continue
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(str(me))
        break
    try:
        yield
    finally:
        if not held_here:
            path.unlink(missing_ok=True)


def write_atomically(folder: Path, fill: Callable[[Path], None]) -> None:
    """Call ``fill(tmp)`` to write a complete directory, then swap it in for ``folder`` (under the
    writer lock)."""
    folder = Path(folder)
    with writer_lock(folder):
        _write_atomically(folder, fill)


def _write_atomically(folder: Path, fill: Callable[[Path], None]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(folder)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    try:
        fill(tmp)
        (tmp / COMPLETE).write_text(str(time.time_ns()), encoding="ascii")   # last: the save is complete
        _fsync_dir(tmp)
        old = None
        if folder.exists():
            if not (folder / MANIFEST).is_file() and any(folder.iterdir()):
                raise IndexStoreError(f"{folder} exists and is not a Bayyina index (no {MANIFEST}); "
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


def _completed_at(folder: Path) -> int | None:
    """When a saved copy was completed (its marker), or ``None`` when any of its files — those its
    manifest lists included — is missing."""
    if not all((folder / name).exists() for name in REQUIRED):
        return None
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("checksums", {})
        if not isinstance(listed, dict) or not all((folder / str(rel)).is_file() for rel in listed):
            return None
        return int((folder / COMPLETE).read_text(encoding="ascii").strip())
    except (OSError, ValueError, AttributeError):
        return None


def _clean_leftovers(folder: Path) -> None:
    """Remove the ``.tmp-``/``.old-`` folders of interrupted saves (called under the writer lock,
    once ``folder`` itself is in place)."""
    if not (folder / MANIFEST).is_file() or not folder.parent.is_dir():
        return
    for pattern in (f"{folder.name}.tmp-*", f"{folder.name}.old-*"):
        for leftover in folder.parent.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)


def resolve(folder: Path) -> Path:
    """The directory to load: ``folder``, or the newest complete ``.old-`` copy a crash between
    renames left (never a half-deleted or older one)."""
    folder = Path(folder)
    if (folder / MANIFEST).is_file():
        return folder
    leftovers = list(folder.parent.glob(f"{folder.name}.old-*")) if folder.parent.is_dir() else []
    complete = [(t, old) for old in leftovers if (t := _completed_at(old)) is not None]
    if complete:
        _, newest = max(complete)
        os.replace(newest, folder)
        return folder
    if not folder.exists():
        raise IndexStoreError(f"No index at {folder}: build one with `bayyina index build PATH... --index {folder}`.")
    raise IndexStoreError(f"{folder} is not a Bayyina index ({MANIFEST} is missing): rebuild it with "
                      f"`bayyina index build PATH... --index {folder}`.")


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if path.is_symlink():
        raise IndexStoreError(f"{path} is a symbolic link (an index holds only its own files); rebuild the index "
                          "with `bayyina index build`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexStoreError(f"{path} is unreadable ({exc}); rebuild the index with `bayyina index build`.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexStoreError(f"{path} is not a Bayyina manifest; rebuild the index with `bayyina index build`.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{folder} has index format version {version}, but this Bayyina reads version {FORMAT_VERSION}; "
            "rebuild it with `bayyina index build`.")
    return manifest


def check_embedder(folder: Path, manifest: dict, name: str, dim: int, prompts: tuple[str, str] | None = None) -> None:
    saved = manifest.get("embedder")
    if not isinstance(saved, dict):
        raise IndexStoreError(f"{folder}: the manifest's embedder entry is malformed; rebuild the index.")
    if saved.get("name") != name:
        raise IndexMismatchError(
            f"{folder} was built with embedder {str(saved.get('name'))[:80]!r}, not {name!r}: load it with "
            f"--embedder {str(saved.get('name'))[:80]} or rebuild it with the new embedder.")
    if saved.get("dim") != dim:
        raise IndexMismatchError(
            f"{folder} holds {str(saved.get('dim'))[:20]}-dimensional vectors but embedder {name!r} gives {dim}; "
            "rebuild it.")
    if prompts is not None and (saved.get("query_prompt", ""), saved.get("passage_prompt", "")) != prompts:
        raise IndexMismatchError(
            f"{folder} was embedded with other prompts than embedder {name!r} uses (query/passage prefixes "
            "differ); rebuild it with `bayyina index build`.")

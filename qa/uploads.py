"""Uploaded files, stored safely: one store the chat UI and the HTTP API share.

Each client writes into its own folder under the uploads folder (a chat session's id; a new
random folder per API upload), so two clients uploading ``report.pdf`` never overwrite each
other. One removal rule for both: removing a document deletes its stored copy when, and only when,
that copy lies inside the uploads folder (``stored_copy``); files that were refused are deleted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
from pathlib import Path
from collections.abc import Sequence

from qa.limits import MAX_UPLOAD_MB
from sources.loaders import SUPPORTED_SUFFIXES

_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def document_id(source: str) -> str:
    """The opaque id of a document in URLs and on the chat page (never a server path)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def safe_upload_name(name: str) -> str:
    """A file name that cannot leave the data folder (no folders, no dot-files, no odd characters)."""
    base = Path(name.replace("\\", "/")).name
    base = _SAFE_NAME.sub("_", base).strip(" .") or "upload"
    if len(base) <= 120:
        return base
    suffix = Path(base).suffix if len(Path(base).suffix) <= 10 else ""
    return base[: 120 - len(suffix)].rstrip(" .") + suffix   # shortened, its extension kept


def store_uploads(files: Sequence[str], data_dir: Path, *, max_mb: int = MAX_UPLOAD_MB) -> tuple[list[Path], list[str]]:
    """Copy uploaded temp files into ``data_dir`` under safe names; return (stored, problems)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    root = data_dir.resolve()
    stored, problems = [], []
    for f in files:
        src = Path(f)
        name = safe_upload_name(src.name)
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(f"{src.name}: unsupported type; use {', '.join(SUPPORTED_SUFFIXES)}")
            continue
        size = src.stat().st_size
        if size > max_mb * 1024 * 1024:
            problems.append(f"{src.name}: {size / 1e6:.1f} MB is over the {max_mb} MB limit")
            continue
        dest = (root / name).resolve()
        if dest.parent != root:
            problems.append(f"{src.name}: refused (the name points outside the data folder)")
            continue
        shutil.copyfile(src, dest)
        stored.append(dest)
    return stored, problems


def client_folder(data_dir: Path, client: str | None = None) -> Path:
    """The folder one client's uploads go to: ``data_dir/<client>`` (a chat session), or a new
    unique folder under ``data_dir/api`` for each API upload."""
    name = safe_upload_name(client) if client else "api/" + secrets.token_hex(8)
    return Path(data_dir) / name


def stored_copy(source: str, data_dir: Path) -> Path | None:
    """The uploaded copy of ``source`` when it lies inside the uploads folder (never anything else)."""
    try:
        path = Path(source).resolve()
        return path if path.is_relative_to(Path(data_dir).resolve()) and path.is_file() else None
    except (OSError, ValueError):
        return None


def delete_stored(source: str, data_dir: Path) -> bool:
    """Delete the stored copy of an uploaded ``source`` (and its folder once empty); ``False`` when
    ``source`` is not an upload."""
    path = stored_copy(source, data_dir)
    if path is None:
        return False
    path.unlink(missing_ok=True)
    root = Path(data_dir).resolve()
    parent = path.parent
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True

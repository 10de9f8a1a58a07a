"""Uploaded files, stored safely: one path the chat UI and the HTTP API share."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Sequence

from sources.loaders import SUPPORTED_SUFFIXES

MAX_UPLOAD_MB = 50
_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_upload_name(name: str) -> str:
    """A file name that cannot leave the data folder (no folders, no dot-files, no odd characters)."""
    base = Path(name.replace("\\", "/")).name
    base = _SAFE_NAME.sub("_", base).strip(" .") or "upload"
    return base[:120]


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

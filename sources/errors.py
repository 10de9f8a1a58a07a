"""The error hierarchy. Every error names the value at fault and the fix.

It lives in the lowest layer so that ``sources``, ``index`` and ``qa`` share one root;
``qa`` re-exports it as part of the public API.
"""

from __future__ import annotations


class BayyinaError(Exception):
    """Root of every error Bayyina raises on purpose."""


class SourceError(BayyinaError):
    """A document could not be read (missing, empty, binary, undecodable, corrupt, unsupported)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class MissingDependencyError(BayyinaError):
    """An optional dependency is not installed; the message carries the exact pip line."""

    def __init__(self, what: str, pip_line: str) -> None:
        super().__init__(f"{what} Install it with: {pip_line}")
        self.pip_line = pip_line


class ModelError(BayyinaError):
    """The embedding model could not be prepared or loaded."""


class IndexStoreError(BayyinaError):
    """An index directory is missing, corrupt, or was built with different settings."""


class IndexMismatchError(IndexStoreError):
    """A saved index does not match what the loader was asked for (format version, embedder…)."""


IndexError_ = IndexStoreError   # its name before 0.1.0's clean-up (it shadowed the builtin's); kept for old code

"""Errors raised through the public API (one root: ``BayyinaError``)."""

from sources.errors import (
    BayyinaError,
    IndexError_,
    IndexMismatchError,
    MissingDependencyError,
    ModelError,
    SourceError,
)

__all__ = ["BayyinaError", "IndexError_", "IndexMismatchError", "MissingDependencyError", "ModelError",
           "SourceError"]

"""Errors raised through the public API (one root: ``BayyinaError``)."""

from sources.errors import (
    BayyinaError,
    IndexStoreError,
    IndexMismatchError,
    MissingDependencyError,
    ModelError,
    SourceError,
)



class QuestionError(BayyinaError):
    """The question cannot be asked as given (empty, too long, not Arabic or English)."""


__all__ = ["BayyinaError", "IndexStoreError", "IndexMismatchError", "MissingDependencyError", "ModelError",
           "QuestionError", "SourceError"]

"""Entry points that put the layers together: embedders, the bundled corpus, indexes on disk."""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

from index.embed import DEFAULT_EMBEDDER, DEFAULT_THREADS, Embedder, SentenceTransformerEmbedder, cache_dir
from index.config import IndexConfig
from index.hybrid import Index
from sources.errors import IndexMismatchError
from sources.loaders import load

logger = logging.getLogger(__name__)

BUNDLED_CORPUS = "collective_security.ar.txt"


def load_embedder(name: str | None = None, *, threads: int | None = DEFAULT_THREADS,
                  quiet: bool = False) -> SentenceTransformerEmbedder:
    """The bundled multilingual-e5-small (prepared on first use), or any sentence-transformers
    model name or folder."""
    return SentenceTransformerEmbedder(name or DEFAULT_EMBEDDER, threads=threads, quiet=quiet)


def bundled_corpus_path() -> Path:
    """The demo corpus shipped inside the package: an Arabic chapter on UN collective security."""
    return Path(str(resources.files("sources") / "data" / BUNDLED_CORPUS))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[-80:] or "model"


def default_index_dir(embedder_name: str = DEFAULT_EMBEDDER) -> Path:
    return cache_dir() / "indexes" / f"bundled-{_slug(embedder_name)}"


def default_index(embedder: Embedder | None = None, *, progress: bool = False) -> Index:
    """The index of the bundled corpus, built in the cache directory on first use."""
    embedder = embedder or load_embedder()
    folder = default_index_dir(embedder.name)
    doc = load(bundled_corpus_path(), source=BUNDLED_CORPUS)
    if folder.exists():
        try:
            index = Index.load(folder, embedder)
            # Rebuild when the shipped corpus changed (a new Bayyina version).
            if any(s.content_hash == doc.content_hash for s in index.sources):
                return index
        except Exception as exc:  # a damaged or outdated cache is rebuilt, never fatal
            logger.warning("rebuilding the bundled index at %s: %s", folder, exc)
    index = Index(embedder, IndexConfig())
    index.add_documents([doc], progress=progress)
    index.save(folder)
    return index


def open_index(index_dir: str | Path | None = None, embedder: Embedder | None = None, *,
               progress: bool = False) -> Index:
    """A saved index (checked against the embedder), or the bundled corpus when ``index_dir`` is None."""
    if index_dir is None:
        return default_index(embedder, progress=progress)
    if embedder is None:
        # The index names the embedder it was built with, but a name read from a file must never
        # choose what code and weights load (a tampered manifest could point at any folder or hub
        # model): on its own Bayyina loads only its bundled embedder; any other is the caller's choice.
        saved = Index.saved_embedder(index_dir)
        if saved != DEFAULT_EMBEDDER:
            raise IndexMismatchError(
                f"{index_dir} was built with the embedder {saved!r}; Bayyina loads only its bundled embedder "
                f"({DEFAULT_EMBEDDER!r}) by itself. If you trust that name, pass it: --embedder {saved!r} "
                f"(Python: open_index(dir, load_embedder({saved!r}))).")
        embedder = load_embedder()
    return Index.load(Path(index_dir), embedder)


def build_index_ray(paths, embedder, config=None, *, address=None, workers=2, batch_size=8, embedder_factory=None,
                    staging=None):
    """Index ``paths`` on Ray, each shard built and written by a worker (``index.ray_build.build_with_ray``):
    returns ``(Index, AddReport, RayBuildStats)``; save the index with ``Index.save``. Needs
    ``pip install "bayyina[ray]"``; without ``address`` a local Ray is started and stopped;
    ``staging``: a folder every node can write (shared storage on a real cluster)."""
    from index.ray_build import build_with_ray

    return build_with_ray(paths, embedder, config, address=address, workers=workers, batch_size=batch_size,
                          embedder_factory=embedder_factory, staging=staging)

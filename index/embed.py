"""Embedders: the ``Embedder`` Protocol and its sentence-transformers implementation.

The default model is multilingual-e5-small, converted once from pip packages into a
sentence-transformers folder in the cache (see ``index.convert_e5``). Any other
sentence-transformers model name or path works too (``SentenceTransformerEmbedder("intfloat/…")``)
for users who have it locally or can reach a model hub.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol, runtime_checkable
from collections.abc import Sequence

import numpy as np

from sources.errors import MissingDependencyError, ModelError

logger = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "multilingual-e5-small"
# Measured on an idle 2-core machine (bench/embed_threads.py, README): 2 torch threads embed
# passages 1.5x faster than 1 and answer queries faster too, so the default is torch's own
# (one thread per core). Pass threads=1 when several processes share the cores.
DEFAULT_THREADS: int | None = None


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dim`` dimensions."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def cache_dir() -> Path:
    """Where Bayyina keeps prepared models and default indexes (``$BAYYINA_CACHE`` overrides)."""
    env = os.environ.get("BAYYINA_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bayyina"


def default_model_path(*, quiet: bool = False) -> Path:
    """The converted multilingual-e5-small folder, building it on first use."""
    from index.convert_e5 import convert

    return convert(cache_dir() / "models" / DEFAULT_EMBEDDER, quiet=quiet)


class SentenceTransformerEmbedder:
    """A sentence-transformers model. Queries and passages get the model's ``query`` and
    ``document`` prompts (``query: `` / ``passage: `` for e5)."""

    def __init__(self, model: str | os.PathLike = DEFAULT_EMBEDDER, *, threads: int | None = DEFAULT_THREADS,
                 batch_size: int = 32, max_seq_length: int | None = 512, quiet: bool = False) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingDependencyError("The embedder needs sentence-transformers and torch.",
                                         "pip install torch==2.13.0 sentence-transformers") from None
        self.name = str(model)
        if self.name == DEFAULT_EMBEDDER:
            path: str = str(default_model_path(quiet=quiet))
        else:
            path = self.name
        if threads:
            torch.set_num_threads(int(threads))
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except OSError as exc:
            raise ModelError(
                f"Cannot load the embedding model {self.name!r} ({exc}). Use the bundled default "
                f"{DEFAULT_EMBEDDER!r}, a local sentence-transformers folder, or a hub name with hub access."
            ) from None
        if max_seq_length:
            self._model.max_seq_length = min(max_seq_length, self._model.max_seq_length or max_seq_length)
        self.dim = int(self._model.get_embedding_dimension())
        prompts = self._model.prompts or {}
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = next((prompts[k] for k in ("document", "passage", "corpus") if k in prompts), "")
        self.batch_size = batch_size
        # Recent query vectors: one question is embedded by the retriever, then again by the reader's
        # sentence scoring and the abstention signals; remembered, it is encoded once.
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        self._queries_size = 256

    def _encode(self, texts: Sequence[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(list(texts), prompt=prompt or None, batch_size=self.batch_size,
                                 show_progress_bar=progress, convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(out, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, the last 256 distinct queries remembered (a new array is returned)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._queries_lock:
            known = {t: self._queries[t] for t in texts if t in self._queries}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = self._encode(missing, self.query_prompt, False)
            with self._queries_lock:
                for t, vec in zip(missing, fresh):
                    self._queries[t] = known[t] = vec
                    self._queries.move_to_end(t)
                while len(self._queries) > self._queries_size:
                    self._queries.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def embed_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress)

    def count_tokens(self, text: str) -> int:
        """Subword tokens of ``text`` without special tokens or prompt."""
        return len(self._model.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

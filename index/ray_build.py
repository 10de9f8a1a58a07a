"""Building an index on a Ray cluster (``bayyina index build --engine ray``).

A Ray Data pipeline: the list of files → load and normalise each file (Ray tasks: ``map``) →
chunk and embed (``map_batches`` over an actor pool: each actor loads the embedder once, and
chunks with the embedder's own tokenizer) → rows of passages and vectors back to the driver, which
puts the documents in the order a local build uses and cuts them into shards the way a local build
does → each shard built by a Ray task (FAISS index, IVF training and ``nprobe`` tuning, BM25),
which writes the shard's files and sends them back; the driver opens them as the index's shards.
The index is the same one (same passages, same ids, same search results) and saves and loads as
any other.

Without ``address`` a local Ray is started for the build (no dashboard, no usage statistics) and
stopped after; with one (``auto`` or ``ray://host:10001``) the build joins that cluster. A file
that cannot be read is reported in ``AddReport.skipped`` with its reason and the rest is indexed;
a worker that dies fails the build with ``BayyinaError`` before anything is saved.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Iterable

import numpy as np

from index import integrity, shards
from index.embed import Embedder
from index.config import IndexConfig
from index.hybrid import Index, _once_each
from index.persist import load_shard
from index.shards import Shard
from index.types import AddReport, EmbeddedDocument, SourceInfo
from sources.chunking import ChunkConfig, chunk
from sources.errors import BayyinaError, MissingDependencyError
from sources.loaders import Skipped, iter_files, load
from sources.types import Document, Passage, Span

logger = logging.getLogger(__name__)

RAY_INSTALL = 'pip install "bayyina[ray]"'


def _ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise MissingDependencyError("The ray engine needs Ray Data.", RAY_INSTALL) from None
    return ray


@dataclass(frozen=True)
class NamedEmbedder:
    """Makes the embedder called ``name`` on a worker (what an actor calls once)."""

    name: str
    threads: int = 1

    def __call__(self) -> Embedder:
        from index.embed import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(self.name, threads=self.threads, quiet=True)


@dataclass(frozen=True)
class RayBuildStats:
    """How a distributed build went: passages, seconds, passages per second, workers."""

    passages: int
    seconds: float
    workers: int

    @property
    def passages_per_s(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


def _load_row(row: dict) -> dict:
    """Ray task: read and normalise one file (a failure becomes the row's ``error``)."""
    try:
        doc = load(row["path"])
        return {"order": row["order"], "path": row["path"], "doc": _doc_json(doc), "error": ""}
    except Exception as exc:  # any file problem is that file's, reported with its reason
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        return {"order": row["order"], "path": row["path"], "doc": "", "error": str(reason)[:500]}


class _ChunkEmbed:
    """Ray actor: holds one embedder; chunks a batch of documents and embeds their passages."""

    def __init__(self, factory: Callable[[], Embedder], max_tokens: int, overlap_tokens: int) -> None:
        self.embedder = factory()
        self.config = ChunkConfig(max_tokens, overlap_tokens)

    def __call__(self, batch: dict) -> dict:
        out: dict[str, list] = {"order": [], "path": [], "error": [], "source": [], "kind": [], "hash": [],
                                "passages": [], "vectors": []}
        for order, path, doc_json, error in zip(batch["order"], batch["path"], batch["doc"], batch["error"]):
            passages: list[Passage] = []
            vectors = np.zeros((0, self.embedder.dim), dtype=np.float32)
            doc = None
            if not error:
                doc = _doc_from_json(doc_json)
                passages = chunk(doc, self.config, self.embedder.count_tokens)
                if passages:
                    vectors = self.embedder.embed_passages([p.text for p in passages])
            out["order"].append(int(order))
            out["path"].append(str(path))
            out["error"].append(str(error))
            out["source"].append(doc.source if doc else "")
            out["kind"].append(doc.kind if doc else "")
            out["hash"].append(doc.content_hash if doc else "")
            out["passages"].append(json.dumps([p.to_dict() for p in passages], ensure_ascii=False))
            out["vectors"].append(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        return out


def build_with_ray(paths: Iterable[str | Path], embedder: Embedder, config: IndexConfig | None = None, *,
                   address: str | None = None, workers: int = 2, batch_size: int = 8,
                   embedder_factory: Callable[[], Embedder] | None = None,
                   ) -> tuple[Index, AddReport, RayBuildStats]:
    """Index ``paths`` on Ray with ``workers`` embedding actors; return the index (not saved),
    what was added or skipped, and timings. ``embedder`` is the driver's copy (it answers
    queries later); each actor makes its own with ``embedder_factory`` (default: the same model
    by name, one thread per actor)."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise BayyinaError(f"workers={workers!r} must be a whole number ≥ 1.")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise BayyinaError(f"batch_size={batch_size!r} must be a whole number ≥ 1.")
    config = config or IndexConfig()
    files, skipped = iter_files(paths)
    if not files:
        return Index(embedder, config), AddReport(skipped=tuple(skipped)), RayBuildStats(0, 0.0, workers)
    ray = _ray()
    factory = embedder_factory or NamedEmbedder(embedder.name)
    started = False
    t0 = time.perf_counter()
    if not ray.is_initialized():
        # Offline and quiet: no usage statistics, no dashboard (set before Ray starts, for this build).
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        # "local": a new Ray for this build, never a stale one recorded in /tmp/ray by a crashed run
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False, configure_logging=False)
        started = True
    try:
        rows = _run(ray, files, factory, config.chunk, workers, batch_size)
        items: list[EmbeddedDocument] = []
        for row in sorted(rows, key=lambda r: r["order"]):
            if row["error"]:
                skipped.append(Skipped(row["path"], row["error"]))
                continue
            passages = tuple(Passage.from_dict(d) for d in json.loads(row["passages"]))
            vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(passages), embedder.dim)
            items.append(EmbeddedDocument(row["source"], row["kind"], row["hash"], passages, vectors))
        items = _once_each(items)
        built = _build_shards(ray, shards.plan(items, config.shard_passages, {}, {}), factory, embedder.dim,
                              config.dense_kind)
    except BayyinaError:
        raise
    except Exception as exc:
        raise BayyinaError(f"The Ray build failed ({type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}); "
                           "nothing was saved: fix the cause (a worker that ran out of memory or was stopped) and "
                           "run the build again.") from exc
    finally:
        if started:
            ray.shutdown()
    index = Index._of_shards(embedder, config, built, [SourceInfo(i.source, i.kind, i.content_hash, len(i.passages))
                                                       for i in items])
    seconds = time.perf_counter() - t0
    return index, AddReport(added=tuple(i.source for i in items), skipped=tuple(skipped),
                            passages_added=len(index)), RayBuildStats(len(index), seconds, workers)


def _build_shards(ray, planned: dict[str, list[EmbeddedDocument]], factory, dim: int, kind) -> list[Shard]:
    """Build every planned shard in a Ray task; open what they wrote (memory-mapped) as shards."""
    planned = {name: items for name, items in planned.items() if any(i.passages for i in items)}
    task = ray.remote(num_cpus=0.5, max_retries=0)(_build_shard)
    refs = [task.remote(name, json.dumps([p.to_dict() for i in items for p in i.passages], ensure_ascii=False),
                        np.concatenate([i.vectors for i in items]) if items else np.zeros((0, dim), np.float32),
                        factory, dim, kind)
            for name, items in planned.items()]
    staging = Path(tempfile.mkdtemp(prefix="bayyina-ray-shards-"))
    try:
        built = []
        for name, (entry, files) in zip(planned, ray.get(refs)):
            folder = staging / shards.FOLDER / name
            for rel, data in files.items():
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_bytes(data)
            checksums = {f"{shards.FOLDER}/{name}/{k}": v for k, v in integrity.file_checksums(folder).items()}
            built.append(load_shard(staging, entry, dim, checksums))
        return built
    finally:
        # The shards are open (memory-mapped files stay readable once unlinked); a save writes them anew.
        shutil.rmtree(staging, ignore_errors=True)


def _build_shard(name: str, passages_json: str, vectors: np.ndarray, factory, dim: int, kind) -> tuple[dict, dict]:
    """Ray task: one shard — FAISS (an IVF trained and tuned with the worker's own embedder) and
    BM25 — written to a scratch folder; returns its manifest entry and its files' bytes."""
    passages = [Passage.from_dict(d) for d in json.loads(passages_json)]
    shard = Shard.new(name, passages, vectors, dim, kind)
    with tempfile.TemporaryDirectory() as tmp:
        shard.write(Path(tmp) / name)
        files = {p.relative_to(Path(tmp) / name).as_posix(): p.read_bytes()
                 for p in sorted((Path(tmp) / name).rglob("*")) if p.is_file()}
    return shard.entry(), files


def _run(ray, files: list[Path], factory, chunk_config: ChunkConfig, workers: int, batch_size: int) -> list[dict]:
    # Reading files takes little CPU: a quarter each, so it never waits behind the embedding actors
    # (which together get the rest of the cluster's CPUs, at most one each).
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    per_actor = max(0.05, min(1.0, math.floor((cpus - 0.5) / workers * 100) / 100))
    ds = ray.data.from_items([{"order": i, "path": str(f)} for i, f in enumerate(files)],
                             override_num_blocks=max(1, min(len(files), workers * 4)))
    ds = ds.map(_load_row, num_cpus=0.25)
    # A dead actor is not restarted: the build fails and the previous index stays as it was.
    ds = ds.map_batches(_ChunkEmbed, fn_constructor_args=(factory, chunk_config.max_tokens,
                                                          chunk_config.overlap_tokens),
                        batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=per_actor,
                        batch_format="numpy", max_restarts=0, max_task_retries=0)
    return list(ds.iter_rows())


def _doc_json(doc: Document) -> str:
    return json.dumps({"source": doc.source, "text": doc.text, "kind": doc.kind, "page_starts": list(doc.page_starts),
                       "headings": [[h.start, h.end] for h in doc.headings], "hash": doc.content_hash},
                      ensure_ascii=False)


def _doc_from_json(text: str) -> Document:
    d = json.loads(text)
    return Document(d["source"], d["text"], d["kind"], tuple(d["page_starts"]),
                    tuple(Span(a, b) for a, b in d["headings"]), d["hash"])

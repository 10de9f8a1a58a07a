"""Building an index on a Ray cluster (``bayyina index build --engine ray``): workers write the shards.

Two passes, and the driver never holds a passage's text or vector:

1. **Embed.** A Ray Data pipeline over the list of files: an actor pool (each actor loads the
   embedder once) reads, chunks and embeds each file and writes its passages and vectors into the
   staging folder (``files/N.jsonl``, ``files/N.npy``), sending back one small row per file — its
   source, content hash and passage count, or why it could not be read. The driver cuts the files
   into shards exactly as a local build cuts documents (``shards.plan``, in file order).
2. **Build.** One Ray task per shard reads its own files' passages and vectors, builds the shard
   (FAISS, with IVF training above the threshold; BM25) and writes it into the staging folder,
   then returns a ``ShardManifest``: its manifest entry, its files' checksums, its documents and
   its BM25 token count — no vectors. The driver opens the written shards (memory-mapped), sums
   the BM25 statistics (passages, tokens) and chooses ``nprobe`` for the merged search
   (``index.tuning``, reading the vectors a block at a time).

The index is the same one a local build makes (same passages in the same order, same shards,
same search results) and saves and loads as any other. ``staging`` must be a folder every node can
write and the driver can read (shared storage on a real cluster; the default temporary folder is
fine on one machine); it is removed once the shards are open.

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
from index.hybrid import Index
from index.persist import load_shard
from index.shards import Shard
from index.types import AddReport, SourceInfo
from sources.chunking import ChunkConfig, chunk
from sources.errors import BayyinaError, MissingDependencyError, SourceError
from sources.loaders import Skipped, iter_files, load
from sources.types import Passage

logger = logging.getLogger(__name__)

RAY_INSTALL = 'pip install "bayyina[ray]"'
_SLICES = "files"


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
    """How a distributed build went: passages, seconds, passages per second, workers, shards
    written by workers, and the BM25 tokens summed from their counts."""

    passages: int
    seconds: float
    workers: int
    shards: int = 0
    bm25_tokens: int = 0

    @property
    def passages_per_s(self) -> float:
        return self.passages / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class FileCount:
    """What the plan pass sends back for one file: its passages counted, or why it was skipped."""

    order: int
    path: str
    source: str = ""
    kind: str = ""
    content_hash: str = ""
    passages: int = 0
    error: str = ""


@dataclass(frozen=True)
class ShardManifest:
    """What a shard task sends back: where it wrote the shard, its manifest entry, its files'
    checksums (shard-relative), its documents and its BM25 token count — never vectors or text."""

    name: str
    entry: dict
    checksums: dict[str, str]
    sources: tuple[SourceInfo, ...]
    bm25_tokens: int


class _ChunkEmbed:
    """Ray actor (first pass): holds one embedder; reads, chunks and embeds files, writes each
    file's passages and vectors into the staging folder and sends back their count."""

    def __init__(self, factory: Callable[[], Embedder], max_tokens: int, overlap_tokens: int, staging: str) -> None:
        self.embedder = factory()
        self.config = ChunkConfig(max_tokens, overlap_tokens)
        self.staging = Path(staging)

    def __call__(self, batch: dict) -> dict:
        out: dict[str, list] = {k: [] for k in ("order", "path", "source", "kind", "hash", "passages", "error")}
        for order, path in zip(batch["order"], batch["path"]):
            source = kind = digest = error = ""
            count = 0
            try:
                doc = load(str(path))
                source, kind, digest = doc.source, doc.kind, doc.content_hash
                passages = chunk(doc, self.config, self.embedder.count_tokens)
                vectors = (self.embedder.embed_passages([p.text for p in passages]) if passages else
                           np.zeros((0, self.embedder.dim), np.float32))
                _write_slice(self.staging, int(order), passages, vectors)
                count = len(passages)
            except SourceError as exc:     # a file that cannot be read is that file's problem, reported
                error = str(exc.reason)[:500]
            for key, value in (("order", int(order)), ("path", str(path)), ("source", source), ("kind", kind),
                               ("hash", digest), ("passages", count), ("error", error)):
                out[key].append(value)
        return out


def build_with_ray(paths: Iterable[str | Path], embedder: Embedder, config: IndexConfig | None = None, *,
                   address: str | None = None, workers: int = 2, batch_size: int = 8,
                   embedder_factory: Callable[[], Embedder] | None = None, staging: str | Path | None = None,
                   ) -> tuple[Index, AddReport, RayBuildStats]:
    """Index ``paths`` on Ray: ``workers`` actors embed the files into ``staging``, one task per
    shard builds and writes it there; return the index (not saved), what was added or skipped, and
    timings. ``embedder`` is the driver's copy (it answers queries and tunes IVF shards); workers
    make their own with ``embedder_factory`` (default: the same model by name, one thread each)."""
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
    scratch = Path(tempfile.mkdtemp(prefix="bayyina-ray-shards-", dir=staging))
    try:
        counted = _embed_files(ray, files, factory, config.chunk, workers, batch_size, scratch)
        kept: list[FileCount] = []
        for row in counted:
            if row.error:
                skipped.append(Skipped(row.path, row.error))
            else:
                kept.append(row)
        seen: set[str] = set()
        for row in kept:
            if row.source in seen:
                raise BayyinaError(f"Source {row.source!r} is given twice in one add; give each source once.")
            seen.add(row.source)
        total = sum(row.passages for row in kept)
        planned = shards.plan(kept, config.shard_passages, {}, {}, count=lambda row: row.passages)
        manifests = _write_shards(ray, planned, config, total, scratch, embedder.dim)
        built = [load_shard(scratch, m.entry, embedder.dim, {f"{shards.FOLDER}/{m.name}/{k}": v
                                                             for k, v in m.checksums.items()})
                 for m in manifests]
    except BayyinaError:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    except Exception as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise BayyinaError(f"The Ray build failed ({type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}); "
                           "nothing was saved: fix the cause (a worker that ran out of memory or was stopped) and "
                           "run the build again.") from exc
    finally:
        if started:
            ray.shutdown()
    # The shards are open (memory-mapped files stay readable once unlinked); a save writes them anew.
    shutil.rmtree(scratch, ignore_errors=True)
    by_source = {s.source: s for m in manifests for s in m.sources}
    sources = [by_source.get(row.source) or SourceInfo(row.source, row.kind, row.content_hash, 0) for row in kept]
    index = Index._of_shards(embedder, config, built, sources, tune=True)   # workers leave nprobe to the merged result
    seconds = time.perf_counter() - t0
    return index, AddReport(added=tuple(row.source for row in kept), skipped=tuple(skipped),
                            passages_added=len(index)), \
        RayBuildStats(len(index), seconds, workers, len(manifests), sum(m.bm25_tokens for m in manifests))


def _embed_files(ray, files: list[Path], factory, chunk_config: ChunkConfig, workers: int,
                 batch_size: int, staging: Path) -> list[FileCount]:
    """The first pass: every file embedded into ``staging``; its passage count (or error), in file order."""
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    per_actor = max(0.05, min(1.0, math.floor((cpus - 0.5) / workers * 100) / 100))
    ds = ray.data.from_items([{"order": i, "path": str(f)} for i, f in enumerate(files)],
                             override_num_blocks=max(1, min(len(files), workers * 4)))
    # A dead actor is not restarted: the build fails and the previous index stays as it was.
    ds = ds.map_batches(_ChunkEmbed, fn_constructor_args=(factory, chunk_config.max_tokens,
                                                          chunk_config.overlap_tokens, str(staging)),
                        batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=per_actor,
                        batch_format="numpy", max_restarts=0, max_task_retries=0)
    rows = [FileCount(int(r["order"]), str(r["path"]), str(r["source"]), str(r["kind"]), str(r["hash"]),
                      int(r["passages"]), str(r["error"])) for r in ds.iter_rows()]
    return sorted(rows, key=lambda r: r.order)


def _write_shards(ray, planned: dict[str, list[FileCount]], config: IndexConfig, total: int,
                  scratch: Path, dim: int) -> list[ShardManifest]:
    """The build pass: one task per shard with passages; their manifests in shard order."""
    planned = {name: rows for name, rows in planned.items() if any(r.passages for r in rows)}
    task = ray.remote(num_cpus=1, max_retries=0)(_build_shard)
    refs = [task.remote(name, [(r.order, r.source, r.kind, r.content_hash, r.passages) for r in rows],
                        config.dense_kind, total, str(scratch), dim)
            for name, rows in planned.items()]
    return list(ray.get(refs))


def _build_shard(name: str, files: list[tuple[int, str, str, str, int]], kind, total: int, scratch: str,
                 dim: int) -> ShardManifest:
    """Ray task: one shard from its own files' passages and vectors (written by the first pass) —
    FAISS and BM25 — written into ``scratch``/shards/``name``; returns its ``ShardManifest``."""
    passages, vectors, sources = [], [], []
    for order, source, kind_, digest, expected in files:
        ps, vs = _read_slice(Path(scratch), order, dim)
        if len(ps) != expected or (ps and ps[0].source != source):
            raise BayyinaError(f"the staged passages of {source} do not match the plan ({len(ps)} passages, "
                               f"{expected} planned); build again.")
        passages.extend(ps)
        vectors.append(vs)
        sources.append(SourceInfo(source, kind_, digest, len(ps)))
    shard = Shard.new(name, passages, np.concatenate(vectors), dim, kind, total)
    folder = Path(scratch) / shards.FOLDER / name
    shard.write(folder)
    return ShardManifest(name, shard.entry(), integrity.file_checksums(folder), tuple(sources), shard.sparse.tokens)


def _write_slice(staging: Path, order: int, passages, vectors: np.ndarray) -> None:
    """One file's passages (JSON lines) and vectors (``.npy``) in the staging folder."""
    folder = staging / _SLICES
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{order:08d}.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in passages)
    np.save(folder / f"{order:08d}.npy", np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)


def _read_slice(staging: Path, order: int, dim: int) -> tuple[list[Passage], np.ndarray]:
    folder = staging / _SLICES
    with open(folder / f"{order:08d}.jsonl", encoding="utf-8") as fh:
        passages = [Passage.from_dict(json.loads(line)) for line in fh if line.strip()]
    vectors = np.load(folder / f"{order:08d}.npy", allow_pickle=False)
    if vectors.shape != (len(passages), dim):
        raise BayyinaError(f"staged vectors {vectors.shape} do not match {len(passages)} passages of dimension {dim}")
    return passages, vectors

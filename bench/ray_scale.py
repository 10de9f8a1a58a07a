"""A Ray build larger than its driver's memory: workers write the shards, the driver gets manifests.

SYNTHETIC DATA, clearly: ``--files`` text files of pseudo-words (one passage each at the default
chunking) and a stand-in embedder that turns a text's hash into a random unit vector of ``--dim``
dimensions (fast, deterministic, no model: what is measured is where the vectors live, not their
quality). The cluster is a local 2-node ``ray.cluster_utils.Cluster`` (1 CPU each) started first;
then the driver process — only it — is moved into a memory cgroup limited to ``--driver-mb``
(cgroup v1 or v2, needs root; without it the limit is skipped and said so) and builds the index
with ``dense_kind="ivf"`` (memory-mapped shards). It prints the vectors' total size, the driver's
peak memory as its cgroup counted it (``ru_maxrss`` also counts pages the process mapped before it
was moved into the cgroup), and checks that the index loads and answers like a local build of a sample.

    sudo python bench/ray_scale.py --files 60000 --dim 2048 --driver-mb 700
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class HashEmbedder:
    """A stand-in embedder: each text's hash seeds a random unit vector (no model, no meaning)."""

    name = "hash-stand-in"
    query_prompt = ""
    passage_prompt = ""

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim

    def _vec(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_queries(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts, *, progress=False):
        return self.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class _Factory:
    def __init__(self, dim: int) -> None:
        self.dim = dim

    def __call__(self) -> HashEmbedder:
        return HashEmbedder(self.dim)


def write_files(folder: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n):
        words = rng.integers(0, 50_000, 60)
        (folder / f"doc{i:07d}.txt").write_text(" ".join(f"w{w}" for w in words) + ".", encoding="utf-8")


def limit_me(mb: int) -> str:
    """Put this process in a memory cgroup of ``mb`` MB; return what was done."""
    v1 = Path("/sys/fs/cgroup/memory")
    try:
        if v1.is_dir():
            group = v1 / "bayyina-driver"
            group.mkdir(exist_ok=True)
            (group / "memory.limit_in_bytes").write_text(str(mb * 2**20))
            (group / "memory.max_usage_in_bytes").write_text("0")        # a peak of this run only
            (group / "cgroup.procs").write_text(str(os.getpid()))
            return f"cgroup v1 memory.limit_in_bytes = {mb} MB"
        group = Path("/sys/fs/cgroup/bayyina-driver")
        group.mkdir(exist_ok=True)
        (group / "memory.max").write_text(str(mb * 2**20))
        (group / "cgroup.procs").write_text(str(os.getpid()))
        return f"cgroup v2 memory.max = {mb} MB"
    except OSError as exc:
        return f"no limit ({exc.strerror or exc}): run as root to limit the driver"


def _cgroup_peak_mb() -> float | None:
    """The most memory the driver's cgroup was charged (what the limit counts), or ``None``."""
    for path in (Path("/sys/fs/cgroup/memory/bayyina-driver/memory.max_usage_in_bytes"),
                 Path("/sys/fs/cgroup/bayyina-driver/memory.peak")):
        try:
            return round(int(path.read_text().split()[0]) / 2**20, 1)
        except (OSError, ValueError, IndexError):
            continue
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=60_000)
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--driver-mb", type=int, default=700)
    ap.add_argument("--shard-passages", type=int, default=10_000)
    ap.add_argument("--out")
    args = ap.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray
    from ray.cluster_utils import Cluster

    import qa

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        write_files(docs, args.files)
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        limited = limit_me(args.driver_mb)      # after the nodes started: only the driver is limited
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        try:
            config = qa.IndexConfig(dense_kind="ivf", shard_passages=args.shard_passages)
            t0 = time.perf_counter()
            index, report, stats = qa.build_index_ray([docs], HashEmbedder(args.dim), config, workers=2,
                                                      embedder_factory=_Factory(args.dim), staging=tmp)
            build_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            index.save(Path(tmp) / "idx")
            save_s = time.perf_counter() - t0
        finally:
            ray.shutdown()
            cluster.shutdown()
        vectors_mb = len(index) * args.dim * 4 / 2**20
        loaded = qa.Index.load(Path(tmp) / "idx", HashEmbedder(args.dim))
        sample = sorted(docs.iterdir())[:200]
        local = qa.Index(HashEmbedder(args.dim), qa.IndexConfig(dense_kind="flat"))
        local.add_paths(sample)
        text = sample[7].read_text(encoding="utf-8")
        same = loaded.search(text, 1, mode="dense")[0].passage.source == local.search(text, 1, mode="dense")[0].passage.source
        results.append({"what": "ray build, workers write shards", "files": args.files, "passages": len(index),
                        "dim": args.dim, "shards": stats.shards, "vectors_mb": round(vectors_mb, 1),
                        "driver_limit": limited, "driver_peak_charged_mb": _cgroup_peak_mb(),
                        "driver_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                        "build_s": round(build_s, 1), "save_s": round(save_s, 1),
                        "skipped": len(report.skipped), "own_text_found_first": same})
        print(json.dumps(results[-1]), flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

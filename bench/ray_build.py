"""The Ray engine on real text: passages per second of the local build and of the Ray Data
pipeline with 1 and 2 embedding actors on a local 2-node Ray cluster (``ray.cluster_utils``),
over the XQuAD contexts (Arabic and English, from ``../shared/bench``) and the bundled corpus.

On one 2-core machine a cluster cannot be faster than one process (both nodes share the cores);
what this shows is the pipeline's overhead (Ray start-up, moving rows) as a ratio to the local
build, and how throughput moves from 1 to 2 actors. It also checks that every Ray build holds the
same passages as the local one.

    RAY_USAGE_STATS_ENABLED=0 python bench/ray_build.py [--shared ../shared] [--limit 240]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def write_corpus(shared: Path, folder: Path, limit: int) -> int:
    """One text file per XQuAD context (each language), plus the bundled corpus."""
    import qa

    count = 0
    for lang in ("ar", "en"):
        data = json.loads((shared / "bench" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        contexts = [p["context"] for article in data["data"] for p in article["paragraphs"]][:limit]
        for i, text in enumerate(contexts):
            (folder / f"xquad-{lang}-{i:04d}.txt").write_text(text, encoding="utf-8")
            count += 1
    (folder / "collective_security.ar.txt").write_text(qa.bundled_corpus_path().read_text(encoding="utf-8"),
                                                       encoding="utf-8")
    return count + 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--limit", type=int, default=240, help="contexts per language (XQuAD has 240)")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    from ray.cluster_utils import Cluster

    import qa

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_corpus(Path(args.shared), folder, args.limit)
        embedder = qa.load_embedder(threads=1)
        t0 = time.perf_counter()
        local = qa.Index(embedder)
        local.add_paths([folder])
        local_s = time.perf_counter() - t0
        results.append({"engine": "local (1 thread)", "files": files, "passages": len(local),
                        "seconds": round(local_s, 1), "passages_per_s": round(len(local) / local_s, 1)})
        print(json.dumps(results[-1]), flush=True)
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        try:
            for workers in (1, 2):
                t0 = time.perf_counter()
                index, report, stats = qa.build_index_ray([folder], embedder, workers=workers)
                seconds = time.perf_counter() - t0
                same = [p.id for p in index.passages] == [p.id for p in local.passages]
                results.append({"engine": f"ray, 2 nodes, {workers} actor(s)", "files": files,
                                "passages": len(index), "seconds": round(seconds, 1),
                                "passages_per_s": round(len(index) / seconds, 1),
                                "overhead_vs_local": round(seconds / local_s, 2), "same_passages_as_local": same,
                                "skipped": len(report.skipped)})
                print(json.dumps(results[-1]), flush=True)
        finally:
            ray.shutdown()
            cluster.shutdown()
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""Synthetic scale benchmark for the index's dense (FAISS) and sparse (BM25) sides.

SYNTHETIC DATA, clearly: dense vectors at dimension 384 drawn around random centres, one per ~20
vectors (many small topics, so a vector's neighbours often straddle IVF cells — the hard case; with
a few large clusters IVF is trivially exact), and BM25 documents of 40–80 tokens
drawn from a Zipfian vocabulary of 200,000 pseudo-words. Nothing here measures answer quality;
it measures what size does: build time, disk size, load time and memory after a memory-mapped
load (measured in a fresh process), search p50/p95, and the IVF index's recall@10 against exact
search on held-out queries.

    python bench/scale.py --n 1000000            # about 10 minutes and 3 GB of disk on 2 cores
    python bench/scale.py --n 200000 --flat      # also time exact search at that size
    python bench/scale.py --n 10000000 --sharded 500000 --no-bm25
        # 10 M vectors as 20 IVF shards of 500,000, built one at a time (never more than one in
        # memory), memory-mapped and searched together as ``Index`` does (~30 minutes, 15 GB of disk)
    python bench/scale.py --n 10000000 --sharded 500000 --compressed --no-bm25
        # the same as compressed IVF-PQ shards with an int8 re-rank (~4.3 GB of disk)

With ``--sharded`` the JSON has ``recall@10`` (merged search against exact search over every float
vector, held-out queries) and ``bytes_per_vector`` (what the search holds in memory per vector).

Prints one JSON object per measurement; ``--out FILE`` writes them all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DIM = 384


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def synthetic_vectors(n: int, seed: int = 0, per_centre: int = 20, block: int = 100_000):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(max(1, n // per_centre), DIM)).astype(np.float32)
    centres = len(c)
    for start in range(0, n, block):
        m = min(block, n - start)
        x = c[rng.integers(0, centres, m)] + rng.normal(scale=0.7, size=(m, DIM)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        yield x.astype(np.float32)


def build_dense(n: int, folder: Path, kind: str) -> dict:
    from index.dense import DenseIndex

    t0 = time.perf_counter()
    data = np.concatenate(list(synthetic_vectors(n + 1000)))
    queries, data = data[n:], data[:n]
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    dense = DenseIndex(DIM, kind)
    dense.add(data)
    dense.tune()          # no text here: nprobe from stored vectors asked for leave-one-out
    build_s = time.perf_counter() - t0
    dense.save(folder / f"dense-{kind}.faiss")
    np.save(folder / "queries.npy", queries)
    return {"what": f"dense {kind} build", "passages": n, "generate_s": round(gen_s, 1), "build_s": round(build_s, 1),
            "nlist": dense.nlist, "nprobe": dense.nprobe, "tuned_recall_at_10": round(dense.recall, 3),
            "disk_mb": round((folder / f"dense-{kind}.faiss").stat().st_size / 2**20, 1)}


def probe_dense(n: int, folder: Path, kind: str, nprobe: int, exact_kind: str | None) -> dict:
    """In a fresh process: load (memory-mapped for ivf), RSS, search latency, recall vs exact."""
    from index.dense import DenseIndex, _exact_topk

    before = _rss_mb()
    t0 = time.perf_counter()
    dense = DenseIndex.load(folder / f"dense-{kind}.faiss", DIM, expected_kind=kind, nprobe=nprobe)
    load_s = time.perf_counter() - t0
    rss = _rss_mb() - before
    queries = np.load(folder / "queries.npy")
    times = []
    for q in queries:
        t = time.perf_counter()
        dense.search(q, 10)
        times.append((time.perf_counter() - t) * 1000)
    out = {"what": f"dense {kind} load+search", "passages": n, "load_s": round(load_s, 2),
           "rss_after_load_mb": round(rss, 1), "search_p50_ms": round(float(np.percentile(times, 50)), 2),
           "search_p95_ms": round(float(np.percentile(times, 95)), 2), "queries": len(queries)}
    if kind == "ivf":
        data = dense.vectors()
        sample = queries[:200]
        exact = _exact_topk(data, sample, 10)
        found = [dense.search(q, 10)[1] for q in sample]
        out["recall_at_10_heldout"] = round(float(np.mean([len(set(a) & set(b.tolist())) / 10
                                                            for a, b in zip(exact, found)])), 3)
        out["rss_after_recall_check_mb"] = round(_rss_mb() - before, 1)
    return out


@dataclass
class _DenseShard:          # what ``index.shards.dense_search`` needs of a shard
    dense: object
    size: int


def build_sharded_dense(n: int, folder: Path, per_shard: int, per_centre: int = 20, kind: str = "ivf",
                        tune_queries: int = 500) -> dict:
    """``n`` vectors in shards of ``per_shard`` (``kind``: ivf or ivfpq), each trained and saved on
    its own (one in memory at a time); then every shard memory-mapped and ``nprobe`` (and the
    re-rank depth) chosen for the merged search's recall@10 (``index.tuning``), on held-out draws
    that the measurement never uses."""
    from index.dense import DenseIndex
    from index.tuning import tune

    t0 = time.perf_counter()
    shards, at, held = [], 0, 1000 + tune_queries
    gen = synthetic_vectors(n + held, per_centre=per_centre, block=per_shard)
    queries = None
    while at < n:
        block = next(gen)
        if at + len(block) > n:              # the last block also holds the held-out queries
            queries, block = block[n - at:], block[:n - at]
        dense = DenseIndex(DIM, kind)
        dense.add(block)
        (folder / f"shard-{len(shards):03d}").mkdir()
        dense.save(folder / f"shard-{len(shards):03d}" / "dense.faiss")
        shards.append({"passages": len(block), "nlist": dense.nlist})
        at += len(block)
        del dense, block
    if queries is None or len(queries) < held:
        queries = np.concatenate([q for q in [queries] if q is not None] + [next(gen)])[:held]
    np.save(folder / "queries.npy", queries[:1000])
    (folder / "held.txt").write_text(str(held))      # the generator's size decides its centres
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loaded = [DenseIndex.load(folder / f"shard-{i:03d}" / "dense.faiss", DIM, expected_kind=kind, nprobe=1)
              for i in range(len(shards))]
    recall = tune(loaded, queries[1000:])
    for entry, dense in zip(shards, loaded):
        entry.update(nprobe=dense.nprobe, rerank=dense.rerank, tuned_recall_at_10=round(recall, 3))
    tune_s = time.perf_counter() - t0
    (folder / "shards.json").write_text(json.dumps(shards))
    disk = sum(f.stat().st_size for f in folder.glob("shard-*/*"))
    return {"what": f"dense sharded {kind} build", "passages": n, "shards": len(shards), "per_shard": per_shard,
            "vectors_per_centre": per_centre, "build_s": round(build_s, 1), "tune_s": round(tune_s, 1),
            "disk_mb": round(disk / 2**20, 1), "nprobe": sorted({s["nprobe"] for s in shards}),
            "nlist": sorted({s["nlist"] for s in shards}), "rerank": sorted({s["rerank"] for s in shards}),
            "bytes_per_vector": loaded[0].bytes_per_vector, "tuned_recall_at_10": round(recall, 3)}


def probe_sharded_dense(n: int, folder: Path, per_shard: int, per_centre: int = 20, kind: str = "ivf") -> dict:
    """In a fresh process: every shard loaded (``ivf`` memory-mapped; ``ivfpq`` codes in memory, int8
    vectors mapped), searched together (``index.shards``: in parallel threads), recall against exact
    search over all ``n`` float vectors (regenerated block by block) on 100 held-out queries."""
    from index.dense import DenseIndex, exact_top
    from index.shards import dense_search

    entries = json.loads((folder / "shards.json").read_text())
    before = _rss_mb()
    t0 = time.perf_counter()
    shards = [_DenseShard(DenseIndex.load(folder / f"shard-{i:03d}" / "dense.faiss", DIM, expected_kind=kind,
                                          nprobe=e["nprobe"], recall=e["tuned_recall_at_10"], rerank=e["rerank"]),
                          e["passages"])
              for i, e in enumerate(entries)]
    load_s = time.perf_counter() - t0
    rss = _rss_mb() - before
    queries = np.load(folder / "queries.npy")
    pool = ThreadPoolExecutor(max_workers=min(len(shards), os.cpu_count() or 1))   # kept, as ``Index`` keeps it
    times = []
    for q in queries[:300]:
        t = time.perf_counter()
        dense_search(shards, q, 10, pool=pool)
        times.append((time.perf_counter() - t) * 1000)
    rss_searched = _rss_mb() - before
    sample = queries[:100]
    held = int((folder / "held.txt").read_text())

    def blocks():        # the same draws as the build, regenerated block by block
        at = 0
        for block in synthetic_vectors(n + held, per_centre=per_centre, block=per_shard):
            block = block[:max(0, n - at)]
            if not len(block):
                return
            yield at, block
            at += len(block)

    best_rows = exact_top(blocks(), sample, 10)
    found = [dense_search(shards, q, 10, pool=pool)[1] for q in sample]
    recall = float(np.mean([len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(best_rows, found)]))
    return {"what": f"dense sharded {kind} load+search", "passages": n, "shards": len(shards),
            "load_s": round(load_s, 2), "rss_after_load_mb": round(rss, 1),
            "search_p50_ms": round(float(np.percentile(times, 50)), 1),
            "search_p95_ms": round(float(np.percentile(times, 95)), 1), "recall@10": round(recall, 3),
            "bytes_per_vector": shards[0].dense.bytes_per_vector,
            "rss_after_searches_mb": round(rss_searched, 1)}


def build_sparse(n: int, folder: Path, seed: int = 0) -> dict:
    """BM25 over Zipfian pseudo-words, built with bm25s from token ids (our tokeniser is not the
    subject here), saved the way ``SparseIndex.save`` saves."""
    import bm25s

    from index.sparse import B, K1

    rng = np.random.default_rng(seed)
    vocab = 200_000
    t0 = time.perf_counter()
    ranks = np.arange(1, vocab + 1)
    p = 1.0 / ranks ** 1.07
    p /= p.sum()
    lengths = rng.integers(40, 81, n)
    words = [f"w{i}" for i in range(vocab)]
    corpus_ids = []
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        draws = rng.choice(vocab, size=int(lengths[start:start + m].sum()), p=p)
        at = 0
        for length in lengths[start:start + m]:
            corpus_ids.append(draws[at:at + length].tolist())
            at += length
    tokenized = bm25s.tokenization.Tokenized(ids=corpus_ids, vocab={w: i for i, w in enumerate(words)})
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = bm25s.BM25(k1=K1, b=B, method="lucene")
    model.index(tokenized, show_progress=False)
    build_s = time.perf_counter() - t0
    model.save(str(folder / "bm25"), allow_pickle=False, show_progress=False)
    size = sum(f.stat().st_size for f in (folder / "bm25").rglob("*") if f.is_file())
    return {"what": "bm25 build", "passages": n, "generate_s": round(gen_s, 1), "build_s": round(build_s, 1),
            "disk_mb": round(size / 2**20, 1)}


def probe_sparse(n: int, folder: Path) -> dict:
    from index.sparse import SparseIndex

    before = _rss_mb()
    t0 = time.perf_counter()
    sparse = SparseIndex.load(folder / "bm25", n)
    load_s = time.perf_counter() - t0
    rss = _rss_mb() - before
    rng = np.random.default_rng(1)
    times, found = [], []
    for _ in range(300):
        q = " ".join(f"w{int(w)}" for w in rng.integers(50, 20_000, 4))   # mid-frequency words, as questions have
        t = time.perf_counter()
        found.append(len(sparse.search(q, 50)[1]))
        times.append((time.perf_counter() - t) * 1000)
    return {"what": "bm25 load+search", "passages": n, "load_s": round(load_s, 2), "rss_after_load_mb": round(rss, 1),
            "search_p50_ms": round(float(np.percentile(times, 50)), 2),
            "search_p95_ms": round(float(np.percentile(times, 95)), 2), "mean_hits": float(np.mean(found)),
            "rss_after_searches_mb": round(_rss_mb() - before, 1)}


def _in_fresh_process(fn: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--probe", fn, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--flat", action="store_true", help="also build and time exact (flat) search")
    ap.add_argument("--no-bm25", action="store_true")
    ap.add_argument("--sharded", type=int, default=0, metavar="PER_SHARD",
                    help="the dense side as IVF shards of this many vectors (instead of one index)")
    ap.add_argument("--compressed", action="store_true",
                    help="with --sharded: IVF-PQ shards (4-bit fast-scan codes, int8 vectors for the re-rank)")
    ap.add_argument("--per-centre", type=int, default=20,
                    help="with --sharded: vectors per random centre (20: many small topics, the hard case)")
    ap.add_argument("--dir", help="where to write the indexes (default: a temporary folder)")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--probe", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        name, n, folder, *rest = args.probe
        if name == "dense":
            print(json.dumps(probe_dense(int(n), Path(folder), rest[0], int(rest[1]), None)))
        elif name == "sharded":
            print(json.dumps(probe_sharded_dense(int(n), Path(folder), int(rest[0]), int(rest[1]), rest[2])))
        else:
            print(json.dumps(probe_sparse(int(n), Path(folder))))
        return
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        kinds = ["ivf"] + (["flat"] if args.flat else [])
        if args.sharded:
            kinds = []
            kind = "ivfpq" if args.compressed else "ivf"
            r = build_sharded_dense(args.n, folder, args.sharded, args.per_centre, kind)
            print(json.dumps(r), flush=True)
            results.append(r)
            r = _in_fresh_process("sharded", str(args.n), str(folder), str(args.sharded), str(args.per_centre), kind)
            print(json.dumps(r), flush=True)
            results.append(r)
        for kind in kinds:
            r = build_dense(args.n, folder, kind)
            print(json.dumps(r), flush=True)
            results.append(r)
            r = _in_fresh_process("dense", str(args.n), str(folder), kind, str(r["nprobe"]))
            print(json.dumps(r), flush=True)
            results.append(r)
        if not args.no_bm25:
            r = build_sparse(args.n, folder)
            print(json.dumps(r), flush=True)
            results.append(r)
            r = _in_fresh_process("sparse", str(args.n), str(folder))
            print(json.dumps(r), flush=True)
            results.append(r)
    finish(results, args.out)


def finish(results: list[dict], out: str | None) -> None:
    """Add the machine and this process's peak memory to ``results``; write them to ``out``."""
    results.append({"what": "machine", "cpus": os.cpu_count(),
                    "peak_rss_driver_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    print(json.dumps(results[-1]), flush=True)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""A whole sharded ``Index`` at synthetic scale: build, save, load, search, one incremental change.

SYNTHETIC DATA, clearly: passages of 40–80 pseudo-words drawn from a Zipfian vocabulary of 200,000
("w17 w3 w2054 …"), ten passages a document, and their vectors drawn around random centres at
dimension 384 (as ``bench/scale.py``: one centre per ~20 vectors, many small topics, the hard case
for IVF). The "embedder" is a stand-in: a query ``"q12 w40 w77"`` gets held-out query vector 12
(drawn like the passages), and any other text — the pieces of passages ``Index`` embeds to tune an
IVF's ``nprobe`` — gets a fresh draw around a centre chosen by its hash: the same distribution as
the held-out queries. Nothing here measures answer quality; it measures what the shards, global-statistics
BM25, fusion and memory-mapped loading cost at size, through the ``Index`` API:

- build (``add_embedded``: shard planning, IVF training and tuning, BM25 per shard) and save time;
- in a fresh process: ``Index.load`` time (checksums of every file verified) and RSS after load;
- hybrid / dense / BM25 search p50 and p95 (``Index.search``, k=5, 50 candidates a side), and
  dense recall@10 of the whole sharded index against exact search over every vector;
- replacing one document: time to change one shard and to save (the other shards are re-linked).

    python bench/index_scale.py --n 1000000 --shard-passages 500000    # ~20 minutes on 2 cores

Prints one JSON object per measurement; ``--out FILE`` writes them all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale import DIM, finish


def clustered(n: int, seed: int = 0, per_centre: int = 20, block: int = 100_000):
    """``n`` unit vectors around ``n / per_centre`` random centres: (vectors, their centre, centres)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // per_centre), DIM)).astype(np.float32)
    labels = rng.integers(0, len(centres), n)
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, block):
        x = centres[labels[start:start + block]] + rng.normal(scale=NOISE, size=(min(block, n - start), DIM))
        out[start:start + block] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out, labels, centres

PER_DOC = 10
NOISE = 0.7        # bench/scale.py's spread around a centre
VOCAB = 200_000
QUERIES = 300


def _rss_mb(kind: str = "VmRSS") -> float:
    """Resident memory (``VmRSS``), or only its anonymous part (``RssAnon``: not file pages mapped in)."""
    with open("/proc/self/status") as fh:
        return int(fh.read().split(f"{kind}:")[1].split()[0]) / 1024


class StandIn:
    """The benchmark's embedder (see the module text): no model, vectors looked up."""

    name = "synthetic-384"
    dim = DIM
    query_prompt = ""
    passage_prompt = ""

    def __init__(self, queries: np.ndarray, centres: np.ndarray | None = None, labels: np.ndarray | None = None):
        self.queries, self.centres, self.labels = queries, centres, labels

    def embed_queries(self, texts):
        out = np.zeros((len(texts), DIM), np.float32)
        for i, t in enumerate(texts):
            head = t.split(" ", 1)[0]
            if head.startswith("q") and head[1:].isdigit():
                out[i] = self.queries[int(head[1:]) % len(self.queries)]
                continue
            h = int(hashlib.blake2b(t.encode(), digest_size=8).hexdigest(), 16)
            v = self.centres[self.labels[h % len(self.labels)]] + np.random.default_rng(h).normal(scale=NOISE, size=DIM)
            out[i] = v / np.linalg.norm(v)
        return out

    def embed_passages(self, texts, *, progress=False):
        raise NotImplementedError("the benchmark adds passages already embedded")

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def _zipf_texts(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, VOCAB + 1) ** 1.07
    p /= p.sum()
    lengths = rng.integers(40, 81, n)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        draws = rng.choice(VOCAB, size=int(lengths[start:start + m].sum()), p=p)
        at = 0
        for length in lengths[start:start + m]:
            yield " ".join(f"w{w}" for w in draws[at:at + length])
            at += length


def _documents(n: int, vectors: np.ndarray, seed: int = 0):
    from index.types import EmbeddedDocument
    from sources.types import Passage

    texts = _zipf_texts(n, seed)
    for d in range(0, n, PER_DOC):
        passages, at = [], 0
        for row in range(d, min(d + PER_DOC, n)):
            text = next(texts)
            passages.append(Passage(id=f"p{row}", text=text, source=f"doc{d // PER_DOC}.txt", start=at,
                                    end=at + len(text), lang="en"))
            at += len(text) + 1
        yield EmbeddedDocument(f"doc{d // PER_DOC}.txt", "txt", f"h{d}-{seed}", tuple(passages),
                               vectors[d:d + len(passages)])


def build(n: int, folder: Path, shard_passages: int) -> list[dict]:
    from index.hybrid import Index, IndexConfig

    t0 = time.perf_counter()
    data, labels, centres = clustered(n + QUERIES)
    queries, data = data[n:], data[:n]
    np.save(folder / "queries.npy", queries)
    docs = list(_documents(n, data))
    gen_s = time.perf_counter() - t0
    index = Index(StandIn(queries, centres, labels), IndexConfig(shard_passages=shard_passages))
    t0 = time.perf_counter()
    index.add_embedded(docs)
    build_s = time.perf_counter() - t0
    del docs
    t0 = time.perf_counter()
    index.save(folder / "idx")
    save_s = time.perf_counter() - t0
    info = index.info()
    disk = sum(f.stat().st_size for f in (folder / "idx").rglob("*") if f.is_file())
    out = [{"what": "index build+save", "passages": n, "generate_s": round(gen_s, 1), "build_s": round(build_s, 1),
            "save_s": round(save_s, 1), "disk_mb": round(disk / 2**20, 1), "dense_kind": info.dense_kind,
            "shards": [{"passages": s.passages, "kind": s.dense_kind, "nlist": s.nlist, "nprobe": s.nprobe,
                        "tuned_recall_at_10": round(s.recall, 3)} for s in info.shards]}]
    # One document changed: one shard rebuilt, the others re-linked at save.
    from sources.types import Passage
    from index.types import EmbeddedDocument

    text = "w1 w2 w3 a changed document"
    doc = EmbeddedDocument("doc0.txt", "txt", "changed", (Passage("changed0", text, "doc0.txt", 0, len(text), "en"),),
                           data[:1])
    t0 = time.perf_counter()
    index.add_embedded([doc])
    change_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.save(folder / "idx")
    resave_s = time.perf_counter() - t0
    out.append({"what": "replace one document", "change_s": round(change_s, 1), "save_s": round(resave_s, 1)})
    return out


def probe(folder: Path, memory_map: bool = True) -> dict:
    """In a fresh process: load (memory-mapped, or IVF shards read into memory), RSS, search
    latency by mode; memory-mapped, also a document replaced and saved."""
    from index.hybrid import Index

    queries = np.load(folder / "queries.npy")
    embedder = StandIn(queries)
    import bm25s  # noqa: F401  (loaded first: the libraries' own memory is not the index's)
    import faiss  # noqa: F401
    import scipy.sparse  # noqa: F401

    before, anon_before = _rss_mb(), _rss_mb("RssAnon")
    t0 = time.perf_counter()
    index = Index.load(folder / "idx", embedder, memory_map=memory_map)
    load_s = time.perf_counter() - t0
    rss, anon = _rss_mb() - before, _rss_mb("RssAnon") - anon_before
    rng = np.random.default_rng(1)
    out = {"what": "index load+search" + ("" if memory_map else ", IVF in memory"), "passages": len(index),
           "load_s": round(load_s, 2),
           "rss_after_load_mb": round(rss, 1), "anon_rss_after_load_mb": round(anon, 1)}
    for mode in ("hybrid", "dense", "bm25"):
        times = []
        for i in range(len(queries)):
            words = " ".join(f"w{int(w)}" for w in rng.integers(50, 20_000, 4))   # mid-frequency words
            t = time.perf_counter()
            index.search(f"q{i} {words}", 5, mode=mode)
            times.append((time.perf_counter() - t) * 1000)
        out[f"{mode}_p50_ms"] = round(float(np.percentile(times, 50)), 1)
        out[f"{mode}_p95_ms"] = round(float(np.percentile(times, 95)), 1)
    out["rss_after_searches_mb"] = round(_rss_mb() - before, 1)
    out["dense_recall_at_10_vs_exact"] = _recall(index, queries[:100], len(index))
    out["anon_rss_after_searches_mb"] = round(_rss_mb("RssAnon") - anon_before, 1)
    if not memory_map:
        return out
    # A document replaced in the loaded index (what `bayyina index add` does): its shard keeps the
    # other passages on their file and their BM25 term counts; the save re-links the other shard.
    from index.types import EmbeddedDocument
    from sources.types import Passage

    text = "w1 w2 w3 replaced after load"
    doc = EmbeddedDocument("doc1.txt", "txt", "replaced", (Passage("r0", text, "doc1.txt", 0, len(text), "en"),),
                           queries[:1])
    t0 = time.perf_counter()
    index.add_embedded([doc])
    out["replace_after_load_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    index.save(folder / "idx")
    out["save_after_replace_s"] = round(time.perf_counter() - t0, 1)
    return out


def _recall(index, queries: np.ndarray, n: int) -> float:
    """Dense recall@10 of the sharded index against exact search over the same vectors (regenerated;
    document 0 was replaced by one passage holding row 0's vector)."""
    from index.dense import _exact_topk

    data, _, _ = clustered(n + 9 + QUERIES)     # the build drew n passages + the queries
    data = data[:n + 9]
    data[1:10] = 0                               # rows 1..9 are gone: never among the best
    exact = _exact_topk(data, queries, 10)
    got = []
    for i in range(len(queries)):
        rows = [0 if h.passage.id == "changed0" else int(h.passage.id[1:])
                for h in index.search(f"q{i}", 10, mode="dense")]
        got.append(rows)
    return round(float(np.mean([len(set(a.tolist()) & set(b)) / 10 for a, b in zip(exact, got)])), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--shard-passages", type=int, default=500_000)
    ap.add_argument("--dir", help="where to write the index (default: a temporary folder)")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--probe", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        print(json.dumps(probe(Path(args.probe[0]), memory_map=args.probe[1:] != ["in-memory"])))
        return
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for r in build(args.n, Path(tmp), args.shard_passages):
            print(json.dumps(r), flush=True)
            results.append(r)
        for how in (["in-memory"], []):       # IVF read into memory first; then memory-mapped, with a replace
            done = subprocess.run([sys.executable, __file__, "--probe", tmp, *how], capture_output=True, text=True,
                                  check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(r), flush=True)
            results.append(r)
    finish(results, args.out)


if __name__ == "__main__":
    main()

"""Retrieval benchmark on XQuAD (../shared/bench): dense, BM25 and hybrid in four directions and
on the mixed ar+en corpus. Prints a markdown table (the one in README).

    .venv/bin/python bench/retrieval.py [--bench DIR] [--limit N] [--lang-quota Q] [--dense ivf|ivfpq]
                                        [--shard-passages N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from eval.datasets import load_squad
from eval.retrieval import corpus_index, evaluate_retrieval
from qa import IndexConfig, load_embedder

DEFAULT_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--lang-quota", type=int, default=1)
    ap.add_argument("--modes", default="dense,bm25,hybrid")
    ap.add_argument("--dense", default="auto", choices=("auto", "flat", "ivf", "ivfpq", "hnsw"),
                    help="the dense index (ivf, ivfpq: approximate, to compare with exact)")
    ap.add_argument("--shard-passages", type=int, default=IndexConfig().shard_passages,
                    help="passages per shard (small: many shards searched together, to compare with one)")
    args = ap.parse_args()
    if not (args.bench / "xquad.ar.json").exists():
        print(f"XQuAD not found in {args.bench}; pass --bench DIR", file=sys.stderr)
        return 2
    data = {lang: load_squad(args.bench / f"xquad.{lang}.json") for lang in ("ar", "en")}
    embedder = load_embedder()
    config = IndexConfig(lang_quota=args.lang_quota, dense_kind=args.dense, shard_passages=args.shard_passages)
    directions = [("ar→ar", "ar", ["ar"]), ("en→en", "en", ["en"]), ("ar→en", "ar", ["en"]),
                  ("en→ar", "en", ["ar"]), ("ar→ar+en", "ar", ["ar", "en"]), ("en→ar+en", "en", ["ar", "en"])]
    print(f"embedder: {embedder.name}; lang_quota={args.lang_quota}; dense={args.dense}; "
          f"shard_passages={args.shard_passages}\n")
    print("| direction | mode | R@1 | R@5 | R@10 | MRR@10 | other-lang@5 | n | ms/query |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, qlang, corpus in directions:
        index = corpus_index([data[c] for c in corpus], embedder, config)
        questions = list(data[qlang].questions)
        if args.limit:
            questions = questions[: args.limit]
        for mode in args.modes.split(","):
            t0 = time.perf_counter()
            r = evaluate_retrieval(index, questions, mode=mode)
            ms = (time.perf_counter() - t0) * 1000 / max(r.n, 1)
            other = f"{r.other_language_at5:.3f}" if r.other_language_at5 is not None else "–"
            print(f"| {name} | {mode} | {r.recall[1]:.3f} | {r.recall[5]:.3f} | {r.recall[10]:.3f} | "
                  f"{r.mrr10:.3f} | {other} | {r.n} | {ms:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

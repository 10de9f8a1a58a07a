"""Embedding throughput of the bundled model per torch thread count (each in a fresh process).

    .venv/bin/python bench/embed_threads.py [--threads 1,2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = r"""
import json, sys, time
import qa
from sources.chunking import chunk
threads = int(sys.argv[1]); repeat = int(sys.argv[2])
emb = qa.load_embedder(threads=threads, quiet=True)
doc = qa.load(qa.bundled_corpus_path())
texts = [p.text for p in chunk(doc, qa.ChunkConfig(120, 20), emb.count_tokens)] * 4
queries = ["ما رقم القرار الذي أتاح استخدام القوة؟", "What are the weaknesses of collective security?"] * 10
emb.embed_passages(texts[:4]); emb.embed_queries(queries[:2])  # warm up
best_p = best_q = float("inf")
for _ in range(repeat):
    t = time.perf_counter(); emb.embed_passages(texts); best_p = min(best_p, time.perf_counter() - t)
    t = time.perf_counter()
    for q in queries: emb.embed_queries([q])
    best_q = min(best_q, (time.perf_counter() - t) / len(queries))
tokens = sum(emb.count_tokens(t) for t in texts)
print(json.dumps({"threads": threads, "passages": len(texts), "passages_per_s": len(texts) / best_p,
                  "tokens_per_s": tokens / best_p, "query_ms": best_q * 1000}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| torch threads | passages/s | tokens/s | query latency (ms) |")
    print("|---|---|---|---|")
    for n in args.threads.split(","):
        out = subprocess.run([sys.executable, "-c", _CHILD, n, str(args.repeat)], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {r['threads']} | {r['passages_per_s']:.1f} | {r['tokens_per_s']:.0f} | {r['query_ms']:.1f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the trained span reader costs: load time, added process memory, and answer latency on the
bundled corpus (every single question of the bundled-corpus set, k passages read in one batch),
with the previous heuristic reader beside it.

    .venv/bin/python bench/reader_cost.py [--threads 2] [--out reports/reader_cost.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    """Resident memory now (from /proc; the peak from getrusage where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import qa
    from eval.datasets import load_conversations

    emb = qa.load_embedder(threads=args.threads, quiet=True)
    # Memory before anything else runs (work done first would leave freed memory the reader reuses).
    before = _rss_mb()
    t0 = time.perf_counter()
    reader = qa.make_reader("extractive", emb)
    load_s = time.perf_counter() - t0
    added = _rss_mb() - before
    index = qa.Index(emb)
    index.add_documents([qa.load(qa.bundled_corpus_path(), source="collective_security.ar.txt")])
    items = load_conversations(ROOT / "eval" / "examples" / "conversations.collective_security.jsonl")
    questions = [it.question for it in items if it.kind == "single"]
    out = {"threads": args.threads, "reader_load_s": round(load_s, 2), "reader_added_rss_mb": round(added, 1),
           "questions": len(questions)}
    for name, rd in (("extractive", reader), ("heuristic", qa.make_reader("heuristic", emb))):
        bot = qa.Assistant(index, rd)
        bot.ask(questions[0])  # warm up
        times = []
        for q in questions:
            t = time.perf_counter()
            bot.ask(q)
            times.append((time.perf_counter() - t) * 1000)
        out[name] = {"p50_ms": round(float(np.percentile(times, 50)), 1),
                     "p95_ms": round(float(np.percentile(times, 95)), 1)}
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

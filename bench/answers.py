"""Open-domain answer benchmark on XQuAD (../shared/bench): EM, F1, answer-contains-gold,
citation hit, abstention with the gold paragraph present and removed, latency — four directions.

    .venv/bin/python bench/answers.py [--bench DIR] [--limit 300] [--reader extractive]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eval.answers import evaluate_answers, parallel_golds, sample
from eval.datasets import load_squad
from eval.retrieval import corpus_index
from qa import Assistant, load_embedder

DEFAULT_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--limit", type=int, default=300, help="questions per direction, spread over the dataset")
    ap.add_argument("--reader", default="extractive")
    args = ap.parse_args()
    if not (args.bench / "xquad.ar.json").exists():
        print(f"XQuAD not found in {args.bench}; pass --bench DIR", file=sys.stderr)
        return 2
    data = {lang: load_squad(args.bench / f"xquad.{lang}.json") for lang in ("ar", "en")}
    embedder = load_embedder(quiet=True)
    print(f"reader: {args.reader}; {args.limit} questions per direction; embedder: {embedder.name}\n")
    print("| direction | EM | F1 | contains gold | citation hit | citation contains gold | answered (gold present) | "
          "abstained (gold removed) | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for qlang, clang in (("ar", "ar"), ("en", "en"), ("ar", "en"), ("en", "ar")):
        index = corpus_index([data[clang]], embedder)
        bot = Assistant(index, args.reader)
        questions = sample(data[qlang].questions, args.limit)
        extra = parallel_golds(data[clang]) if clang != qlang else {}
        full = evaluate_answers(bot, questions, corpus_languages=[clang], extra_golds=extra)
        removed = evaluate_answers(bot, questions, corpus_languages=[clang], remove_gold=True)
        print(f"| {qlang}→{clang} | {full.em:.3f} | {full.f1:.3f} | {full.contains_gold:.3f} | "
              f"{full.citation_hit:.3f} | {full.citation_contains_gold:.3f} | {1 - full.abstention_rate:.3f} | "
              f"{removed.abstention_rate:.3f} | "
              f"{full.latency_p50_ms:.0f} | {full.latency_p95_ms:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tune the extractive reader's sentence-scoring weights and abstention threshold on XQuAD.

For sampled questions in each direction it retrieves the top passages (with and without the gold
paragraph), computes every candidate sentence's features once (dense cosine, lexical overlap,
rank), then grid-searches the weights for answer-contains-gold and reports the confidence
threshold that best separates answerable from gold-removed questions.

    .venv/bin/python bench/tune_extractive.py [--bench DIR] [--limit 300]
"""

from __future__ import annotations

import argparse
import sys
from itertools import product
from pathlib import Path

import numpy as np

from eval.answers import sample
from eval.datasets import load_squad
from eval.metrics import contains_gold
from eval.retrieval import corpus_index
from qa import ExtractiveReader, load_embedder
from sources.text import tokenize

DEFAULT_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def features(reader, index, question, exclude):
    hits = index.with_context(index.search(question, k=5, exclude_sources=exclude))
    cands = reader.candidates(hits)
    if not cands:
        return None
    q = reader.embedder.embed_queries([question])[0]
    dense = reader._embed([c.text for c in cands]) @ q
    qt = set(tokenize(question, stem=True, stopwords=True))
    lex = np.array([len(qt & set(tokenize(c.text, stem=True, stopwords=True))) / max(len(qt), 1) for c in cands])
    rank = np.array([1.0 / c.rank for c in cands])
    return cands, dense, lex, rank


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--dump", type=Path, help="also write the computed features to this JSON file")
    args = ap.parse_args()
    data = {lang: load_squad(args.bench / f"xquad.{lang}.json") for lang in ("ar", "en")}
    embedder = load_embedder(quiet=True)
    reader = ExtractiveReader(embedder)
    rows = {"full": [], "removed": []}
    answers = {lang: {q.id: q.answers for q in d.questions} for lang, d in data.items()}
    for qlang, clang in (("ar", "ar"), ("en", "en"), ("ar", "en"), ("en", "ar")):
        index = corpus_index([data[clang]], embedder)
        for q in sample(data[qlang].questions, args.limit):
            for cond, exclude in (("full", ()), ("removed", (f"{clang}:{q.paragraph_id}",))):
                f = features(reader, index, q.question, exclude)
                if f is None:
                    continue
                cands, dense, lex, rank = f
                golds = q.answers + answers[clang].get(q.id, ())  # the source-language gold too (parallel)
                gold = np.array([contains_gold(c.text, golds) for c in cands])
                rows[cond].append((qlang, clang, dense, lex, rank, gold))
        print(f"features {qlang}→{clang} done", file=sys.stderr, flush=True)
    if args.dump:
        import json

        args.dump.write_text(json.dumps({cond: [[ql, cl, d.tolist(), lx.tolist(), r.tolist(), g.tolist()]
                                                for ql, cl, d, lx, r, g in rs] for cond, rs in rows.items()}))

    print("| w_lexical | w_rank | contains-gold (all) | ar→ar | en→en | ar→en | en→ar |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for wl, wr in product((0.0, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0), (0.0, 0.02, 0.05, 0.1)):
        per = {}
        for qlang, clang, dense, lex, rank, gold in rows["full"]:
            s = dense + wl * lex + wr * rank
            per.setdefault(f"{qlang}→{clang}", []).append(gold[int(np.argmax(s))])
        overall = np.mean([v for vs in per.values() for v in vs])
        results.append((overall, wl, wr, per))
    for overall, wl, wr, per in sorted(results, reverse=True)[:8]:
        cells = " | ".join(f"{np.mean(per[d]):.3f}" for d in ("ar→ar", "en→en", "ar→en", "en→ar"))
        print(f"| {wl} | {wr} | {overall:.3f} | {cells} |")
    best = max(results)
    _, wl, wr, _ = best
    print(f"\nbest weights: lexical={wl} rank={wr}\n")

    def conf(row):
        _, _, dense, lex, rank, _ = row
        s = dense + wl * lex + wr * rank
        return float(s.max())

    print("| confidence | threshold | answered (gold present) | abstained (gold removed) | balanced |")
    print("|---|---|---|---|---|")
    for name, fn in (("best score", conf), ("best dense", lambda r: float(r[2].max()))):
        full = np.array([fn(r) for r in rows["full"]])
        removed = np.array([fn(r) for r in rows["removed"]])
        grid = np.quantile(np.concatenate([full, removed]), np.linspace(0.02, 0.98, 97))
        scored = [((full >= t).mean() + (removed < t).mean()) / 2 for t in grid]
        i = int(np.argmax(scored))
        for t in sorted({grid[i], *np.quantile(full, [0.05, 0.10])}):
            print(f"| {name} | {t:.3f} | {(full >= t).mean():.3f} | {(removed < t).mean():.3f} | "
                  f"{((full >= t).mean() + (removed < t).mean()) / 2:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

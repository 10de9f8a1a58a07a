"""Fit the abstention decision (``qa/abstention.py``) on XQuAD, with cross-validation by article.

Every sampled question is asked twice in each direction (ar→ar, en→en, ar→en, en→ar, and with
``--arcd`` ARCD's training split ar→ar): once with
its gold paragraph in the index and once with it removed (in every language). With the gold
paragraph retrieved, the reader should answer; without it, it should abstain. A logistic model
per case (same language, across languages) is fitted on the ``Signals`` of the extractive
reader's chosen evidence (the trained span reader's margin among them), each weight held to the sign
``qa.abstention.SIGNS`` gives it, so more evidence never lowers the probability of answering; its threshold is set on the training folds (the most abstentions on
gold-removed questions while answering ``--answer-rate`` of the answerable ones within a language,
``--cross-answer-rate`` across; ``--sweep`` prints the held-out trade-off). Held-out figures
are those of each article's fold when it was left out, with the reader's one hard rule applied (a
how-many question answered without a quantity is abstained on). Writes ``qa/data/abstention.json``.

    .venv/bin/python bench/fit_abstention.py [--bench DIR] [--limit 400] [--folds 5] [--out FILE]
    .venv/bin/python bench/fit_abstention.py --limit 100 --rows FILE --sweep 0.8 0.85 0.9 0.95   # the trade-off
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from eval.datasets import load_squad
from eval.metrics import f1
from eval.retrieval import corpus_index
from eval.config import load_config
from eval.runner import config_sample, stratified_sample
from qa import ExtractiveReader, IndexConfig, load_embedder
from qa.abstention import FEATURES, AbstentionModel, fit_logistic
from qa.question_form import asks_count

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = ROOT.parent / "shared" / "bench"
DIRECTIONS = (("ar", "ar"), ("en", "en"), ("ar", "en"), ("en", "ar"))


def benchmark_ids(bench: Path, config_path: Path, limit: int | None) -> set[str]:
    """The ids of the XQuAD questions that ``bayyina eval run CONFIG [--limit N]`` asks (the same
    ids in Arabic and English: the files are parallel)."""
    config = load_config(config_path)
    out: set[str] = set()
    for lang in ("ar", "en"):
        out |= {q.id for q in config_sample(load_squad(bench / f"xquad.{lang}.json").questions, config, limit)}
    return out


def collect(bench: Path, limit: int, seed: int, arcd: bool, avoid: frozenset[str] = frozenset()) -> list[dict]:
    embedder = load_embedder(quiet=True)
    data = {lang: load_squad(bench / f"xquad.{lang}.json") for lang in ("ar", "en")}
    config = IndexConfig()
    indexes = {lang: corpus_index([data[lang]], embedder, config) for lang in ("ar", "en")}
    directions = list(DIRECTIONS)
    if arcd and (bench / "arcd-train.ar.json").is_file():
        # ARCD's training split: Arabic questions written by people, on other articles (README of
        # ../shared/bench: for tuning and calibration).
        data["arcd"] = load_squad(bench / "arcd-train.ar.json")
        indexes["arcd"] = corpus_index([data["arcd"]], embedder, config)
        directions.append(("arcd", "arcd"))
    reader = ExtractiveReader(embedder, abstain=False)
    # The gold answers in the evidence's language (the files are parallel: the same ids).
    golds = {lang: {q.id: q.answers for q in d.questions} for lang, d in data.items()}
    rows = []
    for qlang, clang in directions:
        index = indexes[clang]
        pool = [q for q in data[qlang].questions if q.id not in avoid] if qlang != "arcd" else data[qlang].questions
        questions = stratified_sample(pool, limit, seed)
        source_lang = data[clang].language
        t0 = time.perf_counter()
        for q in questions:
            for removed in (False, True):
                exclude = [f"{lang}:{q.paragraph_id}" for lang in ("ar", "en")] if removed else []
                hits = index.with_context(index.search(q.question, k=5, exclude_sources=exclude))
                choice = reader.choose(q.question, hits, search_query=q.question)
                retrieved = any(h.passage.source == f"{source_lang}:{q.paragraph_id}" for h in hits
                                if h.via != "context")
                rows.append({
                    "direction": "ARCD ar→ar" if clang == "arcd" else f"{qlang}→{clang}",
                    "article": ("arcd:" if clang == "arcd" else "xquad:") + q.paragraph_id.rsplit("#", 1)[0], "id": q.id,
                    "removed": removed, "retrieved": retrieved,
                    "x": choice.signals.vector() if choice else None, "cross": bool(choice and choice.signals.cross),
                    # The reader abstains on a how-many question answered without a quantity, whatever p.
                    "uncounted": bool(choice and asks_count(q.question) and choice.signals.type_missing),
                    # How right the answer a learner would read is (the short answer, else the quote).
                    "f1": f1(choice.short or choice.quote, golds[clang][q.id]) if choice else 0.0,
                })
        print(f"{qlang}→{clang}: {len(questions)} questions × 2 in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return [r for r in rows if r["x"] is not None]


RIGHT = 0.5   # F1 at or above which the reader's answer counts as right (``--label right``)


def label(row: dict, on: str = "answerable") -> int:
    """1: the evidence should be answered from (gold paragraph retrieved; with ``on="right"``, also
    the reader's answer right: F1 ≥ ``RIGHT`` against the gold), 0: abstain."""
    answerable = not row["removed"] and row["retrieved"]
    return int(answerable and (on == "answerable" or row["f1"] >= RIGHT))


def calibrate(model, rows: list[dict], answer_rate: float, on: str = "answerable") -> float:
    """The highest threshold that still answers ``answer_rate`` of the questions labelled 1 (``label``:
    gold paragraph retrieved, and with ``on="right"`` answered right), so abstention on the others is
    as high as that allows."""
    p = sorted((model.probability(r["x"]) for r in rows if label(r, on)), reverse=True)
    if not p:
        return 0.5
    k = min(len(p) - 1, int(np.ceil(answer_rate * len(p))) - 1)
    return float(min(max(p[k] - 1e-9, 0.02), 0.98))


def fit(rows: list[dict], answer_rate: float, l2: float, cross_answer_rate: float | None = None,
        on: str = "answerable"):
    """One constrained logistic model per case, its threshold keeping ``answer_rate`` of the
    questions labelled 1 (``label``) answered (``cross_answer_rate`` across languages, default the same)."""
    from dataclasses import replace

    out = {}
    for case, cross in (("same_language", False), ("cross_language", True)):
        part = [r for r in rows if r["cross"] == cross]
        model = fit_logistic([r["x"] for r in part], [label(r, on) for r in part], l2=l2)
        rate = cross_answer_rate if cross and cross_answer_rate is not None else answer_rate
        out[case] = replace(model, threshold=calibrate(model, part, rate, on))
    return AbstentionModel(out["same_language"], out["cross_language"])


def figures(rows: list[dict], answered: dict[int, bool]) -> dict:
    out = {}
    by_dir = defaultdict(list)
    for i, r in enumerate(rows):
        by_dir[r["direction"]].append(i)
    for name, idx in sorted(by_dir.items()):
        present = [i for i in idx if not rows[i]["removed"]]
        removed = [i for i in idx if rows[i]["removed"]]
        abstained = [i for i in idx if not answered[i]]
        tp = sum(1 for i in abstained if rows[i]["removed"])
        out[name] = {
            "answered_with_gold": round(sum(answered[i] for i in present) / max(len(present), 1), 4),
            "answered_with_gold_retrieved": round(
                sum(answered[i] for i in present if rows[i]["retrieved"])
                / max(sum(1 for i in present if rows[i]["retrieved"]), 1), 4),
            "abstained_without_gold": round(sum(not answered[i] for i in removed) / max(len(removed), 1), 4),
            "abstention_precision": round(tp / len(abstained), 4) if abstained else None,
            "abstention_recall": round(tp / max(len(removed), 1), 4),
            "n": len(present),
        }
        if all("f1" in rows[i] for i in idx):
            # What a learner reads: right answers (F1 ≥ RIGHT, gold present) and wrong ones (the rest
            # of the answers, gold-removed questions included), as shares of the questions.
            right = sum(1 for i in present if answered[i] and rows[i]["f1"] >= RIGHT)
            out[name]["answered_right"] = round(right / max(len(present), 1), 4)
            out[name]["answered_wrong"] = round((sum(answered[i] for i in idx) - right) / max(len(idx), 1), 4)
    return out


def cross_validated(rows: list[dict], answer_rate: float, folds: int, seed: int, l2: float,
                    cross_answer_rate: float | None = None, on: str = "answerable") -> dict[int, bool]:
    """Whether each row is answered by the model fitted on the other folds (folds by article), with
    the reader's one hard rule (a how-many question answered without a quantity is abstained on)."""
    articles = sorted({r["article"] for r in rows})
    random.Random(seed).shuffle(articles)
    fold_of = {a: i % folds for i, a in enumerate(articles)}
    answered: dict[int, bool] = {}
    for k in range(folds):
        model = fit([r for r in rows if fold_of[r["article"]] != k], answer_rate, l2, cross_answer_rate, on)
        for i, r in enumerate(rows):
            if fold_of[r["article"]] == k:
                answered[i] = model.decide_vector(r["x"], r["cross"]) and not r.get("uncounted")
    return answered


def frontier(rows: list[dict], rates: list[float], folds: int, seed: int, l2: float, on: str = "answerable") -> str:
    """A markdown table of the held-out trade-off: for each ``--answer-rate``, per direction, the
    abstention precision / recall, the share of answerable questions (gold retrieved) answered and,
    when the rows hold each answer's F1, the shares answered right / wrong."""
    directions = sorted({r["direction"] for r in rows})
    scored = all("f1" in r for r in rows)
    head = "P / R / answered" + (" / right / wrong" if scored else "")
    lines = ["| answer rate | " + " | ".join(f"{d}: {head}" for d in directions) + " |",
             "|---" * (len(directions) + 1) + "|"]
    for rate in rates:
        held = figures(rows, cross_validated(rows, rate, folds, seed, l2, on=on))
        cells = []
        for d in directions:
            h = held[d]
            cell = (f"{h['abstention_precision'] if h['abstention_precision'] is not None else '–'} / "
                    f"{h['abstention_recall']} / {h['answered_with_gold_retrieved']}")
            cells.append(cell + (f" / {h['answered_right']} / {h['answered_wrong']}" if scored else ""))
        lines.append(f"| {rate} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    ap.add_argument("--limit", type=int, default=400, help="questions per direction (0 = all 1,190)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--answer-rate", type=float, default=0.9,
                    help="share of answerable questions (gold retrieved) the threshold keeps answering (README, "
                         "Abstention: why 0.9 and not the higher rate that meets the precision target)")
    ap.add_argument("--cross-answer-rate", type=float, default=None,
                    help="the same across languages (default: --answer-rate)")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--label", choices=("answerable", "right"), default="answerable",
                    help="what the model learns to answer: questions whose gold paragraph was retrieved (default), "
                         "or only those the reader then answers right (F1 ≥ 0.5): abstain where it would be wrong")
    ap.add_argument("--sweep", type=float, nargs="+", metavar="RATE",
                    help="print the held-out precision/recall at each of these answer rates (a markdown table) "
                         "and write nothing: the trade-off the one --answer-rate picks a point of")
    ap.add_argument("--arcd", action="store_true",
                    help="also fit on ARCD's training split (off by default: the trained reader learnt from it, so its "
                         "margins there are not those of unseen text)")
    ap.add_argument("--out", type=Path, default=ROOT / "qa" / "data" / "abstention.json")
    ap.add_argument("--rows", type=Path, help="cache of the collected signals (JSON), reused when present")
    ap.add_argument("--benchmark", type=Path, default=ROOT / "bench" / "configs" / "xquad.toml",
                    help="the benchmark whose questions are left out of the fit, so that its abstention figures "
                         "are not in-sample (default: the README's XQuAD run)")
    ap.add_argument("--benchmark-limit", type=int, default=None,
                    help="questions per task of that run to leave out (default: the config's limit; a smaller "
                         "--limit of the run asks a subset of them)")
    ap.add_argument("--with-benchmark", action="store_true",
                    help="fit on the benchmark's questions too (its abstention figures are then in-sample)")
    args = ap.parse_args()
    if not (args.bench / "xquad.ar.json").is_file():
        print(f"XQuAD not found in {args.bench}: pass --bench DIR (the folder with xquad.ar.json).", file=sys.stderr)
        return 2
    avoid = frozenset() if args.with_benchmark else frozenset(
        benchmark_ids(args.bench, args.benchmark, args.benchmark_limit))
    if args.rows and args.rows.is_file():
        rows = json.loads(args.rows.read_text(encoding="utf-8"))
        seen = {r["id"] for r in rows if r["article"].startswith("xquad:")} & avoid
        if seen:
            print(f"{args.rows} was collected with {len(seen)} of the questions {args.benchmark.name} asks: delete it "
                  "to collect afresh, or pass --with-benchmark.", file=sys.stderr)
            return 2
    else:
        if avoid:
            print(f"left out: the {len(avoid)} questions {args.benchmark.name} asks", file=sys.stderr)
        rows = collect(args.bench, args.limit, args.seed, args.arcd, avoid)
        if args.rows:
            args.rows.write_text(json.dumps(rows), encoding="utf-8")
    if args.label == "right" and not all("f1" in r for r in rows):
        print(f"{args.rows} was collected without each answer's F1: delete it to collect afresh.", file=sys.stderr)
        return 2
    if args.sweep:
        print(frontier(rows, args.sweep, args.folds, args.seed, args.l2, args.label))
        return 0
    held_out = figures(rows, cross_validated(rows, args.answer_rate, args.folds, args.seed, args.l2,
                                             args.cross_answer_rate, args.label))
    final = fit(rows, args.answer_rate, args.l2, args.cross_answer_rate, args.label)
    in_sample = figures(rows, {i: final.decide_vector(r["x"], r["cross"]) and not r.get("uncounted")
                               for i, r in enumerate(rows)})
    meta = {"fitted_on": "XQuAD ar/en" + (" and ARCD train (ar)" if args.arcd else "")
            + " (../shared/bench), gold paragraph present vs removed",
            "command": "python bench/fit_abstention.py " + " ".join(sys.argv[1:]),
            "questions_per_direction": args.limit,
            "left_out": None if args.with_benchmark else
            f"the questions of {args.benchmark.relative_to(ROOT) if args.benchmark.is_relative_to(ROOT) else args.benchmark}"
            f" (limit {args.benchmark_limit or load_config(args.benchmark).limit}): its figures are not in-sample",
            "folds": args.folds, "seed": args.seed,
            "label": args.label, "answer_rate": args.answer_rate,
            "cross_answer_rate": args.answer_rate if args.cross_answer_rate is None else args.cross_answer_rate,
            "held_out": held_out}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(final.to_dict(**meta), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"features": list(FEATURES), "held_out (cross-validated by article)": held_out,
                      "in_sample": in_sample}, ensure_ascii=False, indent=1))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""report.md and plots from a run's results."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

PLOTS = ("recall_at_k.png", "f1_by_type.png", "latency.png", "abstention_threshold.png")


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def markdown(results: dict) -> str:
    lines = [f"# {results['name']}", "",
             f"Created {results['created']} in {results['duration_s']} s · embedder `{results['models']['embedder']}` · "
             f"reader `{results['models']['reader']}`"
             + (f" (`{results['models']['reader_model']}`)" if results["models"].get("reader_model") else "")
             + f" · seed {results['seed']} · commit `{results.get('git_commit')}`", ""]
    retrieval = [t for t in results["tasks"] if "retrieval" in t]
    if retrieval:
        lines += ["## Retrieval", "", "| task | passages | R@1 | R@5 | R@10 | MRR@10 | other-lang@5 | n |",
                  "|---|---|---|---|---|---|---|---|"]
        for t in retrieval:
            r = t["retrieval"]
            lines.append(f"| {t['name']} | {t['passages']} | {_fmt(r['recall@1'])} | {_fmt(r['recall@5'])} | "
                         f"{_fmt(r['recall@10'])} | {_fmt(r['mrr@10'])} | {_fmt(r.get('other_language@5'))} | {r['n']} |")
        lines.append("")
    answers = [t for t in results["tasks"] if "answers" in t]
    if answers:
        lines += ["## Answers", "",
                  "| task | n | EM | F1 | contains gold | citation hit | citation recall | citation precision | "
                  "answered | abstention P | abstention R | total p50 ms | total p95 ms |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for t in answers:
            s = t["answers"]["summary"]
            lines.append(
                f"| {t['name']} | {s['n']} | {_fmt(s['em'])} | {_fmt(s['f1'])} | {_fmt(s['contains_gold'])} | "
                f"{_fmt(s['citation_hit'])} | {_fmt(s['citation_recall'])} | {_fmt(s['citation_precision'])} | "
                f"{_fmt(s['answered_rate'])} | {_fmt(s['abstention_precision'])} | {_fmt(s['abstention_recall'])} | "
                f"{s['total_p50_ms']:.0f} | {s['total_p95_ms']:.0f} |")
        lines += ["", "Latency per stage (ms, p50 / p95), first streamed text, decode speed, flagged answers:", "",
                  "| task | retrieve | read | total | first token | tokens/s | unsupported |", "|---|---|---|---|---|---|---|"]

        def pair(s: dict, stage: str) -> str:
            p50, p95 = s.get(f"{stage}_p50_ms"), s.get(f"{stage}_p95_ms")
            return "–" if p50 is None else f"{p50:.0f} / {p95:.0f}"

        for t in answers:
            s = t["answers"]["summary"]
            lines.append(f"| {t['name']} | {pair(s, 'retrieve')} | {pair(s, 'read')} | {pair(s, 'total')} | "
                         f"{pair(s, 'first_token')} | {_fmt(s.get('tokens_per_s'))} | {_fmt(s.get('unsupported_rate'))} |")
        lines.append("")
    for t in answers:
        if t.get("kind") == "conversation":
            lines += _conversation_section(t)
    lines += ["## Definitions", "",
              "Recall@k/MRR over distinct paragraphs. EM/F1 on the short answer (else the quoted sentence), "
              "Arabic-aware normalisation. Answer quality is over answerable questions (abstentions count as "
              "misses); abstention precision/recall treat gold-removed and SQuAD v2 unanswerable questions as "
              "the ones to abstain on. Citation recall/precision in the ALCE sense with the "
              f"`{results['models']['support_judge']}` support judge (eval/citations.py).", "",
              "Plots: " + ", ".join(f"[{p}]({p})" for p in PLOTS), ""]
    return "\n".join(lines)


def _cell(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _conversation_section(t: dict) -> list[str]:
    """By kind of turn and language, then every prediction (to be read, not only scored)."""
    s, preds = t["answers"]["summary"], t["answers"]["predictions"]
    lines = [f"## {t['name']}: by kind of turn", "",
             "| kind | n | contains gold | citation hit | answered | abstained |", "|---|---|---|---|---|---|"]
    kinds: dict[str, list[dict]] = defaultdict(list)
    for r in preds:
        kinds[r.get("kind", "")].append(r)
    for kind, rs in sorted(kinds.items()):
        answerable = [r for r in rs if not r["should_abstain"]]
        hit = [r["citation_hit"] for r in answerable if r["citation_hit"] is not None]
        lines.append(f"| {kind} | {len(rs)} | {_fmt(_mean([r['contains_gold'] for r in answerable]))} | "
                     f"{_fmt(_mean(hit))} | {sum(not r['abstained'] for r in rs)} | {sum(r['abstained'] for r in rs)} |")
    lines += ["", f"Arabic questions contain gold {_fmt(s.get('contains_gold_ar'))}, English "
              f"{_fmt(s.get('contains_gold_en'))}; self-contained questions after an unrelated turn condensed: "
              f"{_fmt(s.get('standalone_condensed'))}; answered questions with a short answer: "
              f"{_fmt(s.get('short_answer_rate'))}, in the asker's language (or digits only): "
              f"{_fmt(s.get('short_in_asker_language'))}; follow-ups contain gold "
              f"{_fmt(s.get('follow_up_contains_gold'))}.", "",
              "<details><summary>Every prediction</summary>", "",
              "| id | question | answer | gold | ✓ |", "|---|---|---|---|---|"]
    for r in preds:
        ok = (r["abstained"] if r["should_abstain"] else bool(r["contains_gold"]))
        gold = "(abstain)" if r["should_abstain"] else " / ".join(r["golds"][:2])
        lines.append(f"| {r['id']} | {_cell(r['question'], 70)} | {_cell(r['answer'], 110)} | {_cell(gold, 40)} | "
                     f"{'✓' if ok else '✗'} |")
    lines += ["", "</details>", ""]
    return lines


def _mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _save(fig, ax, path: Path, *, title: str, xlabel: str | None, ylabel: str, grid: bool = False,
          legend: dict | None = None) -> None:
    import matplotlib.pyplot as plt

    ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if grid:
        ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**(legend or {}))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plots(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = results["tasks"]
    # recall@k curves
    fig, ax = plt.subplots(figsize=(6, 4))
    for t in tasks:
        if "retrieval" in t:
            curve = t["retrieval"]["recall_curve"]
            ks = sorted(int(k) for k in curve)
            ax.plot(ks, [curve[str(k)] if str(k) in curve else curve[k] for k in ks], marker="o", label=t["name"])
    _save(fig, ax, out / "recall_at_k.png", title="Retrieval recall@k", xlabel="k", ylabel="recall@k", grid=True)

    # F1 by question type per task
    fig, ax = plt.subplots(figsize=(7, 4))
    answer_tasks = [t for t in tasks if "answers" in t]
    types = ["number", "date", "person", "other"]
    width = 0.8 / max(len(answer_tasks), 1)
    for i, t in enumerate(answer_tasks):
        by = defaultdict(list)
        for r in t["answers"]["predictions"]:
            if not r["should_abstain"]:
                by[r["type"]].append(r["f1"])
        ax.bar(np.arange(len(types)) + i * width, [np.mean(by[ty]) if by[ty] else 0 for ty in types], width,
               label=t["name"])
    ax.set_xticks(np.arange(len(types)) + width * (len(answer_tasks) - 1) / 2, types)
    _save(fig, ax, out / "f1_by_type.png", title="F1 by question type", xlabel=None, ylabel="F1")

    # latency histogram
    fig, ax = plt.subplots(figsize=(6, 4))
    for t in answer_tasks:
        ax.hist([r["timings_ms"]["total"] for r in t["answers"]["predictions"]], bins=30, alpha=0.5, label=t["name"])
    _save(fig, ax, out / "latency.png", title="Latency", xlabel="answer latency (ms)", ylabel="questions")

    # abstention vs threshold on the reader's confidence
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for t in answer_tasks:
        preds = t["answers"]["predictions"]
        pos = np.array([r["confidence"] for r in preds if not r["should_abstain"]])
        neg = np.array([r["confidence"] for r in preds if r["should_abstain"]])
        if not len(pos):
            continue
        allc = np.concatenate([pos, neg]) if len(neg) else pos
        grid = np.linspace(allc.min(), allc.max(), 60)
        line, = ax.plot(grid, [(pos >= g).mean() for g in grid], label=f"{t['name']}: answered (answerable)")
        if len(neg):
            ax.plot(grid, [(neg < g).mean() for g in grid], linestyle="--", color=line.get_color(),
                    label=f"{t['name']}: abstained (unanswerable)")
    _save(fig, ax, out / "abstention_threshold.png", title="Abstention vs threshold", xlabel="confidence threshold",
          ylabel="rate", grid=True, legend={"fontsize": 7, "loc": "center left", "bbox_to_anchor": (1.01, 0.5)})


def write_report(results: dict, out: Path) -> None:
    (out / "report.md").write_text(markdown(results), encoding="utf-8")
    _plots(results, out)

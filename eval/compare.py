"""Compare two runs: per-task metric differences, flagged where a paired bootstrap says they are
significant (questions matched by id and condition; 2,000 resamples; two-sided p < 0.05)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.datasets import DatasetError

ANSWER_METRICS = ("f1", "em", "contains_gold", "citation_hit")


@dataclass(frozen=True)
class Difference:
    task: str
    metric: str
    a: float
    b: float
    n: int
    p_value: float

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, resamples: int = 2000, seed: int = 0) -> float:
    """Two-sided p-value that the mean of ``b - a`` differs from 0."""
    d = np.asarray(b, float) - np.asarray(a, float)
    if len(d) == 0 or np.allclose(d, 0):
        return 1.0
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(axis=1)
    p = 2 * min((means <= 0).mean(), (means >= 0).mean())
    return float(min(1.0, p))


def _load(run: str | Path) -> dict:
    p = Path(run)
    p = p / "results.json" if p.is_dir() else p
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except OSError:
        raise DatasetError(f"{p}: no results here; give a report folder written by `bayyina eval run`.") from None
    except ValueError as exc:
        raise DatasetError(f"{p}: not valid JSON ({exc}).") from None


def _per_question(task: dict) -> dict[str, dict[tuple[str, str], float]]:
    out: dict[str, dict[tuple[str, str], float]] = {}
    if "retrieval" in task:
        for k in (1, 5, 10):
            out[f"recall@{k}"] = {(r["id"], "retrieval"): float(r["rank"] is not None and r["rank"] <= k)
                                 for r in task["retrieval"]["per_question"]}
    if "answers" in task:
        for m in ANSWER_METRICS:
            out[m] = {(r["id"], r.get("condition", "")): float(r[m] or 0.0)
                      for r in task["answers"]["predictions"] if not r["should_abstain"]}
        out["abstention_correct"] = {(r["id"], r.get("condition", "")): float(r["abstained"] == r["should_abstain"])
                                     for r in task["answers"]["predictions"]}
    return out


def compare(run_a: str | Path, run_b: str | Path, *, seed: int = 0) -> list[Difference]:
    a, b = _load(run_a), _load(run_b)
    tasks_b = {t["name"]: t for t in b["tasks"]}
    diffs = []
    for ta in a["tasks"]:
        tb = tasks_b.get(ta["name"])
        if tb is None:
            continue
        qa_, qb = _per_question(ta), _per_question(tb)
        for metric in qa_:
            if metric not in qb:
                continue
            shared = sorted(set(qa_[metric]) & set(qb[metric]))
            if not shared:
                continue
            va = np.array([qa_[metric][k] for k in shared])
            vb = np.array([qb[metric][k] for k in shared])
            diffs.append(Difference(ta["name"], metric, float(va.mean()), float(vb.mean()), len(shared),
                                    paired_bootstrap(va, vb, seed=seed)))
    return diffs


def format_differences(diffs: list[Difference], name_a: str, name_b: str) -> str:
    lines = [f"A = {name_a}", f"B = {name_b}", "",
             f"{'task':14} {'metric':20} {'A':>7} {'B':>7} {'B-A':>8} {'n':>5} {'p':>7}"]
    for d in diffs:
        flag = "  *" if d.significant else ""
        lines.append(f"{d.task:14} {d.metric:20} {d.a:7.3f} {d.b:7.3f} {d.delta:+8.3f} {d.n:5d} {d.p_value:7.3f}{flag}")
    lines += ["", "* significant (paired bootstrap, two-sided p < 0.05)"]
    return "\n".join(lines)

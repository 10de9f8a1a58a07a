"""Abstention decided on evidence: a small calibrated model over several signals.

One cosine cannot tell "the answer is in this long sentence" from "this sentence is merely on the
same topic". The decision combines what a careful reader would check (``Signals``): how similar
the best sentence is to the question (and how far it stands above the other sentences), how many of
the question's content words the evidence passage and sentence hold (close Arabic derivations
count) — and whether its key terms (numbers, names) are there at all —, how the evidence passage
ranks for BM25, whether the dense and BM25 rankings agree on
the top passage, and whether an answer of the question's type (a date for "when", a number for
"how many") is present. A logistic model per case (question and evidence in the same language, or
across languages) turns them into the probability that the evidence answers the question.

The parameters are fitted on XQuAD with cross-validation by article — each question asked once
with its gold paragraph and once with it removed — by ``python bench/fit_abstention.py``, which
writes ``qa/data/abstention.json`` and prints the held-out figures (README, Benchmarks).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from collections.abc import Sequence

from index.types import Hit
from qa.errors import BayyinaError
from qa.terms import key_terms, term_keys
from sources.text import soft_overlap, tokenize

FORMAT_VERSION = 2   # 2: the trained reader's margin; weights constrained to the signs below
FEATURES = ("dense", "dense_gap", "coverage", "sentence_coverage", "key_missing", "bm25", "agree", "top_dense",
            "type_missing", "margin")
# The direction each signal may move the probability of answering: more evidence never lowers it,
# missing key terms or a missing date/number never raise it. ``fit_logistic`` enforces these signs.
SIGNS = {"dense": 1, "dense_gap": 1, "coverage": 1, "sentence_coverage": 1, "key_missing": -1, "bm25": 1,
         "agree": 1, "top_dense": 1, "type_missing": -1, "margin": 1}


@dataclass(frozen=True)
class Signals:
    """What the decision looks at (each documented in the module docstring)."""

    dense: float = 0.0          # cosine of the best evidence sentence and the search query
    dense_gap: float = 0.0      # that cosine minus the mean over every candidate sentence
    coverage: float = 0.0       # share of the question's content words in the evidence passage
    sentence_coverage: float = 0.0  # … and in the evidence sentence itself
    key_missing: float = 0.0    # share of the question's numbers and names missing from it
    bm25: float = 0.0           # the evidence passage's BM25 score over the best retrieved one's
    agree: float = 0.0          # 1 when dense and BM25 rank the same passage first
    top_dense: float = 0.0      # the best passage-level cosine among the retrieved passages
    type_missing: float = 0.0   # 1 when a date/number question finds no date/number in the evidence
    margin: float = 0.0         # the trained reader's span score over its no-answer score
    cross: bool = False         # question and evidence in different languages

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in FEATURES]

    def to_dict(self) -> dict:
        return {f.name: (round(v, 4) if isinstance(v := getattr(self, f.name), float) else v) for f in fields(self)}


def signals(question: str, search_query: str, hits: Sequence[Hit], evidence_passage: str, *, dense: float,
            dense_mean: float, typed: bool, typed_found: bool, cross: bool, evidence_sentence: str = "", margin: float = 0.0) -> Signals:
    """Compute the ``Signals`` of an answer drawn from ``evidence_sentence`` in ``evidence_passage``
    among ``hits``."""
    q = set(tokenize(search_query or question, stem=True, stopwords=True))
    passage_tokens = set(tokenize(evidence_passage, stem=True, stopwords=True))
    coverage = soft_overlap(q, passage_tokens) / len(q) if q else 0.0
    sentence_tokens = set(tokenize(evidence_sentence or evidence_passage, stem=True, stopwords=True))
    sentence_coverage = soft_overlap(q, sentence_tokens) / len(q) if q else 0.0
    # Across languages only digits can be looked for (a name is spelt in the other script).
    keys = {k for k in key_terms(question) if not cross or k.isdigit()}
    missing = len(keys - term_keys(evidence_passage)) / len(keys) if keys else 0.0
    retrieved = [h for h in hits if h.via != "context"]
    # BM25 scores grow with the corpus (IDF): only the evidence passage's share of the best one
    # is comparable between a 20-passage chapter and a million-passage library.
    best_bm25 = max((h.bm25_score or 0.0 for h in retrieved), default=0.0)
    own = max((h.bm25_score or 0.0 for h in hits if h.passage.text == evidence_passage), default=0.0)
    bm25 = own / best_bm25 if best_bm25 > 0 else 0.0
    with_dense = [h for h in retrieved if h.dense_score is not None]
    with_bm25 = [h for h in retrieved if h.bm25_score is not None]
    agree = float(bool(with_dense and with_bm25) and
                  max(with_dense, key=lambda h: h.dense_score).passage.id
                  == max(with_bm25, key=lambda h: h.bm25_score).passage.id)
    top_dense = max((h.dense_score for h in with_dense), default=0.0)
    return Signals(dense=dense, dense_gap=dense - dense_mean, coverage=coverage, sentence_coverage=sentence_coverage,
                   key_missing=missing, bm25=bm25, agree=agree, top_dense=top_dense,
                   type_missing=float(typed and not typed_found), margin=margin, cross=cross)


@dataclass(frozen=True)
class Logistic:
    """``p = sigmoid(bias + Σ weight·(x − mean)/scale)``; answer when ``p ≥ threshold``."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    def probability(self, x: Sequence[float]) -> float:
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def to_dict(self) -> dict:
        return {"weights": [round(w, 6) for w in self.weights], "bias": round(self.bias, 6),
                "mean": [round(m, 6) for m in self.mean], "scale": [round(s, 6) for s in self.scale],
                "threshold": round(self.threshold, 6)}

    @classmethod
    def from_dict(cls, d: dict, where: str) -> Logistic:
        try:
            out = cls(tuple(float(w) for w in d["weights"]), float(d["bias"]), tuple(float(m) for m in d["mean"]),
                      tuple(float(s) for s in d["scale"]), float(d["threshold"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BayyinaError(f"{where}: malformed abstention model ({exc!r}); refit it with "
                               "python bench/fit_abstention.py.") from None
        n = len(FEATURES)
        if not (len(out.weights) == len(out.mean) == len(out.scale) == n) or any(s <= 0 for s in out.scale) \
                or not 0.0 < out.threshold < 1.0:
            raise BayyinaError(f"{where}: the abstention model needs {n} weights, means and positive scales "
                               "and a threshold in (0, 1); refit it with python bench/fit_abstention.py.")
        return out


@dataclass(frozen=True)
class Decision:
    """``answer``: whether the evidence answers the question; ``p``: its probability;
    ``strength``: ``strong``, ``partial`` or ``weak`` — a label a person can read."""

    answer: bool
    p: float
    strength: str
    signals: Signals


@dataclass(frozen=True)
class AbstentionModel:
    same_language: Logistic
    cross_language: Logistic
    # p at or above which evidence is called strong (below the threshold it is weak).
    strong: float = 0.8

    def decide(self, s: Signals) -> Decision:
        model = self.cross_language if s.cross else self.same_language
        p = model.probability(s.vector())
        answer = p >= model.threshold
        strength = "strong" if answer and p >= max(self.strong, model.threshold) else "partial" if answer else "weak"
        return Decision(answer, p, strength, s)

    def decide_vector(self, x: Sequence[float], cross: bool) -> bool:
        """Whether to answer, from a feature vector (as ``Signals.vector()``)."""
        model = self.cross_language if cross else self.same_language
        return model.probability(x) >= model.threshold

    def to_dict(self, **extra) -> dict:
        return {"format_version": FORMAT_VERSION, "features": list(FEATURES),
                "same_language": self.same_language.to_dict(), "cross_language": self.cross_language.to_dict(),
                "strong": self.strong, **extra}

    @classmethod
    def load(cls, path: str | Path | None = None) -> AbstentionModel:
        """The shipped parameters (``qa/data/abstention.json``) or a refitted file."""
        where = str(path) if path else "qa/data/abstention.json"
        try:
            text = (Path(path).read_text(encoding="utf-8") if path
                    else (resources.files("qa") / "data" / "abstention.json").read_text(encoding="utf-8"))
            d = json.loads(text)
        except (OSError, ValueError) as exc:
            raise BayyinaError(f"{where}: cannot read the abstention model ({exc}); refit it with "
                               "python bench/fit_abstention.py.") from None
        if not isinstance(d, dict) or d.get("format_version") != FORMAT_VERSION or d.get("features") != list(FEATURES):
            raise BayyinaError(f"{where}: abstention model of another format (format_version "
                               f"{d.get('format_version') if isinstance(d, dict) else '?'}, features "
                               f"{d.get('features') if isinstance(d, dict) else '?'}; this Bayyina reads version "
                               f"{FORMAT_VERSION} with {list(FEATURES)}); refit it with python bench/fit_abstention.py.")
        return cls(Logistic.from_dict(d["same_language"], where), Logistic.from_dict(d["cross_language"], where),
                   float(d.get("strong", 0.8)))


def fit_logistic(x: Sequence[Sequence[float]], y: Sequence[int], *, l2: float = 1.0, iterations: int = 50,
                 signs: Sequence[int] | None = None) -> Logistic:
    """Fit a ridge-regularised logistic regression by Newton's method (IRLS) on standardised
    features; the threshold is left at 0.5 (``bench/fit_abstention.py`` calibrates it).
    ``signs`` (+1, -1 or 0 per feature; default ``SIGNS`` when the features are ``FEATURES``)
    constrains each weight's sign: a weight that comes out of the wrong sign is fixed at 0 and the
    rest refitted (an active set), so the fitted probability is monotone in every signed feature."""
    import numpy as np

    X = np.asarray(x, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64)
    if signs is None and X.shape[1] == len(FEATURES):
        signs = [SIGNS[f] for f in FEATURES]
    sign = np.zeros(X.shape[1]) if signs is None else np.asarray(signs, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = np.hstack([np.ones((len(X), 1)), (X - mean) / scale])
    free = np.ones(Z.shape[1], dtype=bool)
    w = np.zeros(Z.shape[1])
    for _ in range(Z.shape[1] + 1):
        w = np.zeros(Z.shape[1])
        Zf = Z[:, free]
        wf = np.zeros(Zf.shape[1])
        reg = np.full(Zf.shape[1], l2)
        reg[0] = 0.0
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-np.clip(Zf @ wf, -40, 40)))
            grad = Zf.T @ (p - Y) + reg * wf
            hess = (Zf * (p * (1 - p))[:, None]).T @ Zf + np.diag(reg) + 1e-9 * np.eye(Zf.shape[1])
            step = np.linalg.solve(hess, grad)
            wf -= step
            if np.abs(step).max() < 1e-8:
                break
        w[free] = wf
        wrong = np.flatnonzero(sign * w[1:] < -1e-12) + 1
        if wrong.size == 0:
            break
        free[wrong] = False
    return Logistic(tuple(w[1:].tolist()), float(w[0]), tuple(mean.tolist()), tuple(scale.tolist()), 0.5)

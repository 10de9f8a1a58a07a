"""Open-domain answer benchmark: retrieve from the whole corpus, answer, score.

EM and F1 compare the short answer (or, without one, the quoted sentence) with the gold answers;
answer-contains-gold checks the full answer text; citation hit: a cited passage belongs to the
gold paragraph; citation-contains-gold: a cited quote contains a gold answer (both over answered
questions). With ``remove_gold`` every question is asked with its own paragraph excluded
from retrieval (in every language), so it should be abstained on.

Across languages (an Arabic question over English paragraphs), a quoting reader answers in the
source's language, so the gold answers of the parallel file (same question id) count too:
``extra_golds`` maps a question id to them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

from eval.datasets import Question, paragraph_of
from eval.metrics import contains_gold, exact_match, f1, percentile
from qa import Assistant


@dataclass(frozen=True)
class Prediction:
    id: str
    question: str
    golds: tuple[str, ...]
    answer: str
    short: str
    abstained: bool
    confidence: float
    cited_paragraphs: tuple[str, ...]
    cited_quotes: tuple[str, ...]
    gold_paragraph: str
    latency_ms: float
    retrieve_ms: float
    read_ms: float


@dataclass(frozen=True)
class AnswersResult:
    reader: str
    n: int
    em: float
    f1: float
    contains_gold: float
    citation_hit: float
    citation_contains_gold: float
    abstention_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    predictions: tuple[Prediction, ...]

    def to_dict(self, *, with_predictions: bool = False) -> dict:
        out = {"reader": self.reader, "n": self.n, "em": round(self.em, 4), "f1": round(self.f1, 4),
               "contains_gold": round(self.contains_gold, 4), "citation_hit": round(self.citation_hit, 4),
               "citation_contains_gold": round(self.citation_contains_gold, 4),
               "abstention_rate": round(self.abstention_rate, 4), "latency_p50_ms": round(self.latency_p50_ms, 1),
               "latency_p95_ms": round(self.latency_p95_ms, 1)}
        if with_predictions:
            out["predictions"] = [p.__dict__ for p in self.predictions]
        return out


_MARKERS = re.compile(r"\[\d+\]")


def answer_for_scoring(text: str, short: str) -> str:
    """The short answer when there is one, else the answer text without markers, quotes or notes."""
    if short:
        return short
    body = text.split("\n")[0]
    return _MARKERS.sub("", body).replace("«", "").replace("»", "").strip()


def sample(questions: Sequence[Question], limit: int) -> list[Question]:
    """``limit`` questions spread evenly over the dataset (every article, not just the first)."""
    if not limit or limit >= len(questions):
        return list(questions)
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def parallel_golds(*datasets) -> dict[str, tuple[str, ...]]:
    """Question id → the gold answers of every given (parallel) dataset."""
    out: dict[str, tuple[str, ...]] = {}
    for d in datasets:
        for q in d.questions:
            out[q.id] = out.get(q.id, ()) + q.answers
    return out


def evaluate_answers(assistant: Assistant, questions: Sequence[Question], *, corpus_languages: Sequence[str],
                     remove_gold: bool = False, extra_golds: Mapping[str, tuple[str, ...]] | None = None,
                     progress: bool = False) -> AnswersResult:
    preds: list[Prediction] = []
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc="answers" + (" (gold removed)" if remove_gold else ""), unit="q")
    for q in iterator:
        exclude = [f"{lang}:{q.paragraph_id}" for lang in corpus_languages] if remove_gold else []
        t0 = time.perf_counter()
        ans = assistant.ask(q.question, exclude_sources=exclude)
        latency = (time.perf_counter() - t0) * 1000
        golds = tuple(dict.fromkeys(q.answers + tuple((extra_golds or {}).get(q.id, ()))))
        preds.append(Prediction(
            id=q.id, question=q.question, golds=golds, answer=ans.text, short=ans.short,
            abstained=ans.abstained, confidence=ans.confidence,
            cited_paragraphs=tuple(paragraph_of(c.source) for c in ans.citations),
            cited_quotes=tuple(c.quote for c in ans.citations), gold_paragraph=q.paragraph_id,
            latency_ms=latency, retrieve_ms=ans.timings_ms.retrieve, read_ms=ans.timings_ms.read))
    n = len(preds)
    answered = [p for p in preds if not p.abstained]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    return AnswersResult(
        reader=assistant.reader.name, n=n,
        em=mean([0.0 if p.abstained else exact_match(answer_for_scoring(p.answer, p.short), p.golds) for p in preds]),
        f1=mean([0.0 if p.abstained else f1(answer_for_scoring(p.answer, p.short), p.golds) for p in preds]),
        contains_gold=mean([0.0 if p.abstained else contains_gold(p.answer, p.golds) for p in preds]),
        citation_hit=mean([float(p.gold_paragraph in p.cited_paragraphs) for p in answered]),
        citation_contains_gold=mean([max((contains_gold(q, p.golds) for q in p.cited_quotes), default=0.0)
                                     for p in answered]),
        abstention_rate=mean([float(p.abstained) for p in preds]),
        latency_p50_ms=percentile([p.latency_ms for p in preds], 50),
        latency_p95_ms=percentile([p.latency_ms for p in preds], 95),
        predictions=tuple(preds))

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
from collections.abc import Mapping, Sequence

from eval.citations import SupportJudge, citation_scores
from eval.datasets import Question, paragraph_of
from eval.metrics import contains_gold, exact_match, f1, percentile
from qa import Answer, Assistant, question_type


@dataclass(frozen=True)
class AnswersResult:
    """Aggregates of ``evaluate_answers`` over every question asked (abstentions count as misses);
    ``predictions`` are the per-question records (``answer_record``)."""

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
    predictions: tuple[dict, ...]

    def to_dict(self, *, with_predictions: bool = False) -> dict:
        out = {"reader": self.reader, "n": self.n, "em": round(self.em, 4), "f1": round(self.f1, 4),
               "contains_gold": round(self.contains_gold, 4), "citation_hit": round(self.citation_hit, 4),
               "citation_contains_gold": round(self.citation_contains_gold, 4),
               "abstention_rate": round(self.abstention_rate, 4), "latency_p50_ms": round(self.latency_p50_ms, 1),
               "latency_p95_ms": round(self.latency_p95_ms, 1)}
        if with_predictions:
            out["predictions"] = list(self.predictions)
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


def answer_record(ans: Answer, *, qid: str, golds: Sequence[str], gold_paragraph: str | None = None,
                  gold_text: str | None = None, gold_source: str | None = None, should_abstain: bool = False,
                  judge: SupportJudge | None = None, latency_ms: float = 0.0, lang: str = "") -> dict:
    """Everything measured about one answer, as a JSON-able record (the one place answers are scored).
    A citation hits when it comes from ``gold_paragraph`` (SQuAD-style data) or, without one, when
    its quote contains ``gold_text`` (from ``gold_source`` when given)."""
    scored = answer_for_scoring(ans.text, ans.short)
    answered = not ans.abstained
    if gold_paragraph is not None:
        hit = any(paragraph_of(c.source) == gold_paragraph for c in ans.citations)
    else:
        hit = any((gold_text or "") in c.quote or contains_gold(c.quote, [gold_text or ""])
                  for c in ans.citations if not gold_source or c.source == gold_source)
    cites = citation_scores(ans, judge) if judge is not None else None
    return {
        "id": qid, "question": ans.question, "language": lang, "type": question_type(ans.question),
        "golds": list(golds), "answer": ans.text, "short": ans.short, "abstained": ans.abstained,
        "should_abstain": should_abstain, "confidence": round(ans.confidence, 6), "search_query": ans.search_query,
        "em": exact_match(scored, golds) if answered else 0.0,
        "f1": f1(scored, golds) if answered else 0.0,
        "contains_gold": contains_gold(ans.text, golds) if answered else 0.0,
        "citation_hit": float(hit) if answered else None,
        "citation_contains_gold": max((contains_gold(c.quote, golds) for c in ans.citations), default=0.0)
        if answered else None,
        "citation_recall": cites.recall if cites else None, "citation_precision": cites.precision if cites else None,
        "citations": [c.to_dict() for c in ans.citations], "check": ans.check,
        "tokens": {"prompt": ans.prompt_tokens, "generated": ans.generated_tokens},
        "timings_ms": {**ans.timings_ms.to_dict(), "wall": round(latency_ms, 1)},
    }


def mean_of(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summarise(records: Sequence[dict]) -> dict:
    """Aggregate records: quality over answerable questions, abstention P/R, latency per stage."""
    answerable = [r for r in records if not r["should_abstain"]]
    unanswerable = [r for r in records if r["should_abstain"]]
    abstained = [r for r in records if r["abstained"]]
    tp = sum(1 for r in abstained if r["should_abstain"])
    out = {
        "n": len(records), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "em": mean_of(r["em"] for r in answerable), "f1": mean_of(r["f1"] for r in answerable),
        "contains_gold": mean_of(r["contains_gold"] for r in answerable),
        "citation_hit": mean_of(r["citation_hit"] for r in answerable),
        "citation_contains_gold": mean_of(r["citation_contains_gold"] for r in answerable),
        "citation_recall": mean_of(r["citation_recall"] for r in answerable),
        "citation_precision": mean_of(r["citation_precision"] for r in answerable),
        "answered_rate": mean_of(0.0 if r["abstained"] else 1.0 for r in answerable),
        "abstention_precision": tp / len(abstained) if abstained else None,
        "abstention_recall": tp / len(unanswerable) if unanswerable else None,
    }
    for stage in ("retrieve", "read", "total", "first_token"):
        vals = [r["timings_ms"].get(stage) for r in records]
        vals = [v for v in vals if v is not None]
        out[f"{stage}_p50_ms"] = percentile(vals, 50) if vals else None
        out[f"{stage}_p95_ms"] = percentile(vals, 95) if vals else None
    answered = [r for r in records if not r["abstained"]]
    out["unsupported_rate"] = mean_of(1.0 if r.get("check") == "unsupported" else 0.0 for r in answered)
    generated = sum(r.get("tokens", {}).get("generated", 0) for r in records)
    decoding_s = sum((r["timings_ms"]["total"] - r["timings_ms"]["first_token"]) / 1000
                     for r in records if r.get("tokens", {}).get("generated") and r["timings_ms"].get("first_token"))
    # Decode speed: generated tokens over the time from the first streamed text to the end (approximate:
    # the few tokens before the first visible text, e.g. the JSON key, are counted but not timed).
    out["tokens_per_s"] = generated / decoding_s if generated and decoding_s > 0 else None
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def evaluate_answers(assistant: Assistant, questions: Sequence[Question], *, corpus_languages: Sequence[str],
                     remove_gold: bool = False, extra_golds: Mapping[str, tuple[str, ...]] | None = None,
                     judge: SupportJudge | None = None, progress: bool = False) -> AnswersResult:
    records: list[dict] = []
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc="answers" + (" (gold removed)" if remove_gold else ""), unit="q")
    for q in iterator:
        exclude = [f"{lang}:{q.paragraph_id}" for lang in corpus_languages] if remove_gold else []
        t0 = time.perf_counter()
        ans = assistant.ask(q.question, exclude_sources=exclude)
        golds = tuple(dict.fromkeys(q.answers + tuple((extra_golds or {}).get(q.id, ()))))
        records.append(answer_record(ans, qid=q.id, golds=golds, gold_paragraph=q.paragraph_id,
                                     should_abstain=remove_gold or q.impossible, judge=judge,
                                     latency_ms=(time.perf_counter() - t0) * 1000))
    n = len(records)

    def mean(key: str, only_answered: bool = False) -> float:
        vals = [r[key] for r in records if not (only_answered and r["abstained"])]
        vals = [v for v in vals if v is not None]
        return sum(vals) / len(vals) if vals else 0.0

    walls = [r["timings_ms"]["wall"] for r in records]
    return AnswersResult(
        reader=assistant.reader.name, n=n, em=mean("em"), f1=mean("f1"), contains_gold=mean("contains_gold"),
        citation_hit=mean("citation_hit", True), citation_contains_gold=mean("citation_contains_gold", True),
        abstention_rate=sum(r["abstained"] for r in records) / n if n else 0.0,
        latency_p50_ms=percentile(walls, 50), latency_p95_ms=percentile(walls, 95), predictions=tuple(records))

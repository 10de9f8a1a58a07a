"""Retrieval benchmark: every question must retrieve its own paragraph.

Recall@k and MRR@10 are computed over distinct paragraphs (passages of the same paragraph
collapse to its first rank). On a corpus holding both languages of a parallel dataset, a hit in
either language counts, and ``other_language@5`` reports how often the *other* language's copy
of the gold paragraph is also in the top 5 — the cross-lingual check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from collections.abc import Sequence

from eval.datasets import Question, SquadDataset, paragraph_of
from qa import Index, IndexConfig, cache_dir, load_embedder
from qa import Embedder


@dataclass(frozen=True)
class RetrievalResult:
    mode: str
    n: int
    recall: dict[int, float]
    mrr10: float
    other_language_at5: float | None
    ranks: tuple[tuple[str, int | None], ...] = ()   # (question id, rank of its paragraph in the top 10)

    def to_dict(self) -> dict:
        out: dict = {f"recall@{k}": round(v, 4) for k, v in sorted(self.recall.items())}
        out["mrr@10"] = round(self.mrr10, 4)
        out["n"] = self.n
        out["mode"] = self.mode
        if self.other_language_at5 is not None:
            out["other_language@5"] = round(self.other_language_at5, 4)
        return out


def corpus_index(corpora: Sequence[SquadDataset], embedder: Embedder | None = None,
                 config: IndexConfig | None = None, *, progress: bool = False) -> Index:
    """An index over the corpora's paragraphs, cached on disk by content, embedder and config."""
    embedder = embedder or load_embedder()
    config = config or IndexConfig()
    docs = [d for c in corpora for d in c.documents()]
    key = hashlib.sha256(json.dumps([embedder.name, config.to_dict(), [(d.source, d.content_hash) for d in docs]],
                                    sort_keys=True).encode()).hexdigest()[:16]
    folder = cache_dir() / "eval-indexes" / key
    if folder.exists():
        try:
            return Index.load(folder, embedder)
        except Exception:
            pass
    index = Index(embedder, config)
    index.add_documents(docs, progress=progress)
    index.save(folder)
    return index


def evaluate_retrieval(index: Index, questions: Sequence[Question], *, mode: str = "hybrid",
                       ks: Sequence[int] = (1, 5, 10), progress: bool = False) -> RetrievalResult:
    depth = max(max(ks), 10)
    hits_at = {k: 0 for k in ks}
    rr = 0.0
    other_hits = 0
    ranks: list[tuple[str, int | None]] = []
    langs = {p.source.split(":", 1)[0] for p in index.passages}
    mixed = len(langs) > 1
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc=f"retrieval ({mode})", unit="q")
    for q in iterator:
        hits = index.search(q.question, k=depth * 3, mode=mode)
        ranked: list[str] = []
        for h in hits:
            pid = paragraph_of(h.passage.source)
            if pid not in ranked:
                ranked.append(pid)
        ranked = ranked[:depth]
        rank = ranked.index(q.paragraph_id) + 1 if q.paragraph_id in ranked else None
        ranks.append((q.id, rank))
        for k in ks:
            hits_at[k] += rank is not None and rank <= k
        if rank is not None and rank <= 10:
            rr += 1.0 / rank
        if mixed:
            top_sources: list[str] = []
            for h in hits:
                if h.passage.source not in top_sources:
                    top_sources.append(h.passage.source)
            qlang = _question_lang(q, langs)
            other = [s for s in top_sources[:5] if s.split(":", 1)[0] != qlang]
            other_hits += any(paragraph_of(s) == q.paragraph_id for s in other)
    n = len(questions)
    return RetrievalResult(mode=mode, n=n, recall={k: hits_at[k] / n if n else 0.0 for k in ks},
                           mrr10=rr / n if n else 0.0, other_language_at5=(other_hits / n if n else 0.0) if mixed else None,
                           ranks=tuple(ranks))


def _question_lang(q: Question, langs: set[str]) -> str:
    from qa import detect_language

    lang = detect_language(q.question)
    return lang if lang in langs else "?"

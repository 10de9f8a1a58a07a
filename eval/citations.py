"""Citation quality in the ALCE sense (Gao et al., 2023), with a documented support judge.

An answer is split into statements, each ending with its ``[n]`` markers. *Citation recall*: the
share of statements supported by the union of the passages they cite (an uncited statement is
unsupported). *Citation precision*: the share of citations that are needed — a citation is
irrelevant when it does not support the statement on its own and the others support it without it.

The default judge, ``LexicalEmbeddingJudge``, says a set of passages supports a statement when
``0.5 · token recall + 0.5 · cosine ≥ threshold`` for some passage: token recall is the share of
the statement's content tokens (shared Arabic/English tokeniser, stop words dropped) found in the
passage; cosine is between the statement (as a query) and the passage, with the index's embedder.
Any object with ``supports(statement, passages) -> bool`` can replace it (an NLI or LLM judge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol
from collections.abc import Sequence

import numpy as np

from qa import Answer, Embedder, tokenize

_STATEMENT = re.compile(r"(.*?)((?:\s*\[\d+\])+)", re.S)
_NUM = re.compile(r"\[(\d+)\]")


class SupportJudge(Protocol):
    def supports(self, statement: str, passages: Sequence[str]) -> bool: ...


@dataclass
class LexicalEmbeddingJudge:
    embedder: Embedder
    threshold: float = 0.6

    def score(self, statement: str, passage: str) -> float:
        words = set(tokenize(statement, stem=True, stopwords=True))
        recall = len(words & set(tokenize(passage, stem=True, stopwords=True))) / len(words) if words else 0.0
        q = self.embedder.embed_queries([statement])[0]
        p = self.embedder.embed_passages([passage])[0]
        return 0.5 * recall + 0.5 * float(np.dot(q, p))

    def supports(self, statement: str, passages: Sequence[str]) -> bool:
        return any(self.score(statement, p) >= self.threshold for p in passages)


def statements(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """(statement, cited numbers) pairs; trailing text without markers is an uncited statement."""
    body = text.split("\n")[0]  # later lines are notes (e.g. the quoted-language note)
    out: list[tuple[str, tuple[int, ...]]] = []
    pos = 0
    for m in _STATEMENT.finditer(body):
        stmt = m.group(1).strip(" —-«».،,;:\n")
        nums = tuple(int(x) for x in _NUM.findall(m.group(2)))
        if stmt:
            out.append((stmt, nums))
        pos = m.end()
    rest = body[pos:].strip(" .—-«»")
    if rest:
        out.append((rest, ()))
    return out


@dataclass(frozen=True)
class CitationScores:
    recall: float
    precision: float
    statements: int
    citations: int


def citation_scores(answer: Answer, judge: SupportJudge) -> CitationScores | None:
    """ALCE citation recall and precision of one answer (``None`` for an abstention)."""
    if answer.abstained:
        return None
    passage_of = {h.passage.id: h.passage.text for h in answer.hits}
    cited_text = {c.n: passage_of.get(c.passage_id, c.quote) for c in answer.citations}
    parts = statements(answer.text)
    if not parts:
        return None
    supported = needed = total = 0
    for stmt, nums in parts:
        texts = [cited_text[n] for n in nums if n in cited_text]
        ok = bool(texts) and judge.supports(stmt, texts)
        supported += ok
        for i, n in enumerate(nums):
            if n not in cited_text:
                continue
            total += 1
            alone = judge.supports(stmt, [cited_text[n]])
            others = [t for j, t in enumerate(texts) if j != i]
            needed += alone or not (others and judge.supports(stmt, others))
    return CitationScores(recall=supported / len(parts), precision=needed / total if total else 0.0,
                          statements=len(parts), citations=total)

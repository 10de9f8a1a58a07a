import pytest

from eval.citations import citation_scores, statements
from index.types import Hit
from qa import Answer, Citation
from sources.types import Passage


class WordJudge:
    """Supports when every word of the statement is in one passage (hand-checkable)."""

    def supports(self, statement, passages):
        words = set(statement.lower().replace(".", "").split())
        return any(words <= set(p.lower().replace(".", "").split()) for p in passages)


def _answer(text, passages, cited):
    hits = tuple(Hit(Passage(f"p{i}", t, "d", 0, len(t), "en"), 1.0, i + 1, "hybrid") for i, t in enumerate(passages))
    cites = tuple(Citation(n, f"p{i}", "d", 0, len(passages[i]), None, passages[i], 1.0) for n, i in cited)
    return Answer("q", text, "en", cites, hits, False, "fake")


def test_statement_split():
    assert statements("A fact [1]. Another [2][3] tail") == [("A fact", (1,)), ("Another", (2, 3)), ("tail", ())]
    assert statements("678 — «quote» [1]\n(Quoted in Arabic.)") == [("678 — «quote", (1,))]


def test_alce_recall_and_precision_hand_computed():
    passages = ["red apples grow", "apples are red fruit", "bananas are yellow"]
    # statement 1 cites p0 (supports) and p2 (irrelevant: alone no, others yes) → 1 of 2 needed
    # statement 2 cites p1 (supports) → needed; statement 3 is uncited → unsupported
    a = _answer("red apples [1][2] apples are red [3] bananas grow", passages, [(1, 0), (2, 2), (3, 1)])
    s = citation_scores(a, WordJudge())
    assert (s.statements, s.citations) == (3, 3)
    assert s.recall == pytest.approx(2 / 3) and s.precision == pytest.approx(2 / 3)


def test_abstentions_have_no_score():
    a = Answer("q", "The sources don't answer this question.", "en", (), (), True, "fake")
    assert citation_scores(a, WordJudge()) is None

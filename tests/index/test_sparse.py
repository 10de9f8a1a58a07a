import math

import numpy as np
import pytest

from index.sparse import B, K1, SparseIndex, bm25_tokens

CORPUS = [
    "أصدر مجلس الأمن القرار 678 في عام 1990.",
    "وبالقرار نفسه أجاز المجلس استخدام القوة.",
    "The Security Council adopted resolution 678 in 1990.",
    "Collective security failed during the Cold War.",
    "الحرب الباردة شلت عمل مجلس الأمن لعقود.",
    "Peacekeeping operations grew after the Cold War ended.",
]


def reference_bm25(corpus_tokens, query_tokens, k1=K1, b=B):
    """Lucene's BM25 (idf = ln(1 + (N - df + .5)/(df + .5)); tf part without the constant (k1 + 1)
    factor, as Lucene ≥ 8 computes it), written independently of bm25s."""
    n = len(corpus_tokens)
    avgdl = sum(len(d) for d in corpus_tokens) / n
    df = {}
    for d in corpus_tokens:
        for t in set(d):
            df[t] = df.get(t, 0) + 1
    scores = np.zeros(n)
    for i, d in enumerate(corpus_tokens):
        for t in query_tokens:
            if t not in df:
                continue
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            tf = d.count(t)
            scores[i] += idf * tf / (tf + k1 * (1 - b + b * len(d) / avgdl))
    return scores


@pytest.mark.parametrize("query", [
    "القرار 678", "مجلس الأمن والحرب الباردة", "Cold War security", "resolutions adopted", "nothing-matches-here",
    "بالقرار",
])
def test_bm25_matches_reference_implementation(query):
    idx = SparseIndex.build(CORPUS)
    q = list(dict.fromkeys(bm25_tokens(query)))  # bm25s scores each distinct query token once
    expected = reference_bm25([bm25_tokens(t) for t in CORPUS], q)
    np.testing.assert_allclose(idx.scores(query), expected, rtol=1e-4, atol=1e-5)


def test_arabic_clitics_and_diacritics_match():
    idx = SparseIndex.build(CORPUS)
    _, rows = idx.search("القَرار", 3)
    assert set(rows.tolist()[:2]) == {0, 1}  # "القرار" and "وبالقرار"


def test_english_stemming_matches_inflections():
    idx = SparseIndex.build(CORPUS)
    _, rows = idx.search("resolutions adopting", 1)
    assert rows.tolist() == [2]


def test_search_returns_only_positive_scores_in_order():
    idx = SparseIndex.build(CORPUS)
    scores, rows = idx.search("Cold War", 10)
    assert set(rows.tolist()) == {3, 5}
    assert list(scores) == sorted(scores, reverse=True)


def test_empty_index_and_persistence(tmp_path):
    assert SparseIndex.build([]).search("x", 3)[1].size == 0
    idx = SparseIndex.build(CORPUS)
    idx.save(tmp_path / "bm25")
    loaded = SparseIndex.load(tmp_path / "bm25", len(CORPUS))
    np.testing.assert_allclose(loaded.scores("مجلس الأمن"), idx.scores("مجلس الأمن"))


def test_bm25s_does_not_log_debug_lines_by_default():
    """bm25s pins its logger to DEBUG on import; after a build the application's level rules again."""
    import logging

    from index.sparse import SparseIndex

    SparseIndex.build(["مجلس الأمن الدولي", "the Security Council"])
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.WARNING)
    try:
        assert not logging.getLogger("bm25s").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(old)

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.fusion import reciprocal_rank_fusion

rankings = st.lists(st.lists(st.integers(0, 30), max_size=20), min_size=1, max_size=4)


@given(rankings)
def test_rrf_invariants(lists):
    fused = reciprocal_rank_fusion(lists, k=60)
    items = [i for i, _ in fused]
    assert len(items) == len(set(items)) == len({i for lst in lists for i in lst})
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= len(lists) / 61 for s in scores)


@given(st.lists(st.integers(0, 50), unique=True, max_size=30))
def test_single_ranking_is_preserved(lst):
    assert [i for i, _ in reciprocal_rank_fusion([lst])] == lst


@given(rankings)
def test_list_order_does_not_change_scores(lists):
    a = dict(reciprocal_rank_fusion(lists))
    b = dict(reciprocal_rank_fusion(list(reversed(lists))))
    assert a.keys() == b.keys()
    assert all(abs(a[i] - b[i]) < 1e-12 for i in a)


def test_hand_computed_example():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert list(dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]]))) == ["b", "a", "d", "c"]


def test_weights_and_validation():
    fused = reciprocal_rank_fusion([["a"], ["b"]], weights=[2.0, 1.0])
    assert [i for i, _ in fused] == ["a", "b"]
    with pytest.raises(ValueError, match="2 weights given for 1"):
        reciprocal_rank_fusion([["a"]], weights=[1, 2])

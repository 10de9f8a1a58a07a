import numpy as np
import pytest

from index.dense import DenseIndex, resolve_kind


def _unit(rng, n, d):
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_search_equals_numpy_brute_force():
    rng = np.random.default_rng(0)
    x, q = _unit(rng, 500, 32), _unit(rng, 20, 32)
    idx = DenseIndex(32, "flat")
    idx.add(x)
    for qi in q:
        scores, rows = idx.search(qi, 10)
        brute = x @ qi
        expected = np.argsort(-brute, kind="stable")[:10]
        np.testing.assert_array_equal(rows, expected)
        np.testing.assert_allclose(scores, brute[expected], rtol=1e-5)


def test_restricted_search_equals_brute_force_on_subset():
    rng = np.random.default_rng(1)
    x, q = _unit(rng, 300, 16), _unit(rng, 5, 16)
    idx = DenseIndex(16, "flat")
    idx.add(x)
    subset = np.arange(0, 300, 3)
    for qi in q:
        _, rows = idx.search(qi, 7, rows=subset)
        brute = subset[np.argsort(-(x[subset] @ qi), kind="stable")[:7]]
        np.testing.assert_array_equal(rows, brute)


def test_hnsw_recall_against_brute_force():
    rng = np.random.default_rng(2)
    x, q = _unit(rng, 2000, 32), _unit(rng, 50, 32)
    idx = DenseIndex(32, "hnsw")
    idx.add(x)
    found = 0
    for qi in q:
        _, rows = idx.search(qi, 10)
        found += len(set(rows.tolist()) & set(np.argsort(-(x @ qi))[:10].tolist()))
    assert found / (10 * len(q)) >= 0.95


def test_keep_and_persistence(tmp_path):
    rng = np.random.default_rng(3)
    x = _unit(rng, 50, 8)
    idx = DenseIndex(8, "flat")
    idx.add(x)
    kept = idx.keep([4, 1, 30])
    np.testing.assert_allclose(kept.vectors(), x[[4, 1, 30]])
    kept.save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss", 8)
    np.testing.assert_allclose(loaded.vectors(), x[[4, 1, 30]])


def test_dimension_checks():
    idx = DenseIndex(8)
    with pytest.raises(ValueError, match="dimension 8"):
        idx.add(np.zeros((2, 4), np.float32))
    assert idx.search(np.zeros(8, np.float32), 5)[1].size == 0


def test_resolve_kind():
    assert resolve_kind("auto", 10) == "flat"
    assert resolve_kind("auto", 10**6) == "ivf" and resolve_kind("hnsw", 10) == "hnsw"
    with pytest.raises(ValueError, match="'ivf'"):
        resolve_kind("pq", 1)

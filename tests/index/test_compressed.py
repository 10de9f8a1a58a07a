"""Compressed (IVF-PQ + int8 re-rank) dense shards against exact search: recall on held-out
queries, cosine scores, save/load, and a whole Index forced to compress (restricted search and
removal: ``test_ivf.py``, for both IVF kinds)."""

import numpy as np
import pytest

from index.compressed import Int8Vectors, pq_subquantizers
from index.dense import COMPRESS_THRESHOLD, IVF_THRESHOLD, TARGET_RECALL, DenseIndex, resolve_kind
from sources.errors import BayyinaError
from tests.index.synthetic import clustered


def _recall(index: DenseIndex, data: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :k]
    return float(np.mean([len(set(index.search(q, k)[1].tolist()) & set(e.tolist())) / k
                          for q, e in zip(queries, exact)]))


def test_auto_compresses_only_a_large_index():
    assert resolve_kind("auto", IVF_THRESHOLD, total=COMPRESS_THRESHOLD - 1) == "ivf"
    assert resolve_kind("auto", IVF_THRESHOLD, total=COMPRESS_THRESHOLD) == "ivfpq"
    assert resolve_kind("auto", 1000, total=10 * COMPRESS_THRESHOLD) == "flat"     # a small last shard stays exact
    assert resolve_kind("ivfpq", 10) == "ivfpq"
    assert pq_subquantizers(384) == 64 and 384 % pq_subquantizers(384) == 0
    assert all(d % pq_subquantizers(d) == 0 for d in (8, 30, 64, 100, 768))


def test_int8_vectors_keep_cosines_within_a_hundredth():
    x = clustered(500, dim=64)
    store = Int8Vectors.fitted(x[:100]).with_added(x)
    q = x[7]
    got = store.cosines(q, np.arange(len(x)))
    np.testing.assert_allclose(got, x @ q, atol=0.01)
    assert store.codes.dtype == np.int8 and store.codes.shape == (500, 64)
    far = Int8Vectors.fitted(x[:100]).encode(np.full((1, 64), 5.0, np.float32))   # beyond the range: clipped
    assert far.max() == 127


def test_compressed_recall_at_10_on_held_out_queries_and_memory_per_vector():
    data = clustered(6300)
    x, fresh = data[:6000], data[6000:]
    pq = DenseIndex(32, "ivfpq")
    pq.add(x)
    assert pq.needs_tuning and pq.rerank > 0
    pq.tune()
    assert not pq.needs_tuning and 1 <= pq.nprobe <= pq.nlist and pq.recall >= TARGET_RECALL
    assert _recall(pq, x, fresh) >= TARGET_RECALL - 0.03
    assert pq.bytes_per_vector < 4 * 32                      # codes and ids, not floats
    scores, rows = pq.search(fresh[0], 5)
    np.testing.assert_allclose(scores, x[rows] @ fresh[0], atol=0.01)   # cosines, comparable across shards
    assert list(scores) == sorted(scores, reverse=True)


def test_compressed_saves_and_loads_with_its_int8_vectors(tmp_path):
    x = clustered(3000)
    pq = DenseIndex(32, "ivfpq")
    pq.add(x)
    pq.tune()
    pq.save(tmp_path / "dense.faiss")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dense.faiss", Int8Vectors.CODES, Int8Vectors.SCALE]
    loaded = DenseIndex.load(tmp_path / "dense.faiss", 32, expected_kind="ivfpq", nprobe=pq.nprobe,
                             recall=pq.recall, rerank=pq.rerank)
    assert isinstance(loaded._int8.codes, np.memmap)          # the re-rank vectors stay on disk
    for q in x[:20]:
        assert loaded.search(q, 10)[1].tolist() == pq.search(q, 10)[1].tolist()
    np.save(tmp_path / Int8Vectors.CODES, np.zeros((10, 32), np.int8))
    with pytest.raises(ValueError, match="int8"):
        DenseIndex.load(tmp_path / "dense.faiss", 32, expected_kind="ivfpq", nprobe=pq.nprobe)


def test_a_whole_index_forced_to_compress_answers_like_exact(tmp_path, fake_embedder, bilingual_docs):
    import qa
    from index.hybrid import Index, build

    flat = build(bilingual_docs, fake_embedder, qa.IndexConfig())
    pq = build(bilingual_docs, fake_embedder, qa.IndexConfig(dense_kind="ivfpq"))
    info = pq.info()
    assert info.dense_kind == "ivfpq" and info.shards[0].bytes_per_vector < 4 * fake_embedder.dim
    assert info.shards[0].rerank >= 10
    pq.save(tmp_path / "idx")
    again = Index.load(tmp_path / "idx", fake_embedder)
    assert again.info().shards == info.shards
    for q in ("ما هو مجلس الأمن؟", "Who holds the veto?", "peacekeeping forces"):
        want = [h.passage.id for h in flat.search(q, 3, mode="dense")]
        assert [h.passage.id for h in again.search(q, 3, mode="dense")] == want, q
    source = pq.sources[0].source
    pq.remove_source(source)
    rebuilt = build([d for d in bilingual_docs if d.source != source], fake_embedder,
                    qa.IndexConfig(dense_kind="ivfpq"))
    assert sorted(p.id for p in pq.passages) == sorted(p.id for p in rebuilt.passages)


def test_an_unknown_dense_kind_names_the_choices():
    import qa

    with pytest.raises(BayyinaError, match="ivfpq"):
        qa.IndexConfig(dense_kind="pq")

"""The IVF dense index against exact search: recall bound, tuned nprobe, memory-mapped loading,
removal keeping the trained cells, and a whole Index with dense_kind="ivf" saved and reloaded."""

import numpy as np
import pytest

from index.dense import TARGET_RECALL, DenseIndex, nlist_for, resolve_kind
from tests.index.synthetic import clustered


def _recall(ivf: DenseIndex, flat: DenseIndex, queries: np.ndarray, k: int = 10) -> float:
    got = [set(ivf.search(q, k)[1].tolist()) & set(flat.search(q, k)[1].tolist()) for q in queries]
    return float(np.mean([len(g) / k for g in got]))


def test_auto_switches_to_ivf_at_the_threshold():
    assert resolve_kind("auto", 199_999) == "flat" and resolve_kind("auto", 200_000) == "ivf"
    assert nlist_for(1_000_000) == 1000 and nlist_for(10) == 16


def test_ivf_keeps_recall_at_10_above_the_target_against_exact_search():
    data = clustered(6300)
    x, fresh = data[:6000], data[6000:]                # queries the tuning never saw, from the same clusters
    flat, ivf = DenseIndex(32, "flat"), DenseIndex(32, "ivf")
    flat.add(x)
    ivf.add(x)
    assert ivf.needs_tuning
    ivf.tune()
    assert not ivf.needs_tuning and ivf.nlist == nlist_for(6000) and 1 <= ivf.nprobe < ivf.nlist
    assert ivf.recall >= TARGET_RECALL
    assert _recall(ivf, flat, fresh) >= TARGET_RECALL - 0.03
    np.testing.assert_allclose(ivf.vectors(), x, atol=1e-6)   # row order is passage order


@pytest.mark.parametrize("kind", ["ivf", "ivfpq"])
def test_restricted_search_and_removal_keep_cells_and_order(kind):
    x = clustered(3000)
    index = DenseIndex(32, kind)
    index.add(x)
    rows = np.arange(0, 3000, 3)
    _, found = index.search(x[5], 5, rows=rows)
    assert len(found) == 5 and set(found.tolist()) <= set(rows.tolist())
    kept = index.keep(list(range(1000, 3000)))
    assert kept.kind == kind and kept.nlist == index.nlist and kept.size == 2000
    np.testing.assert_allclose(kept.vectors(), index.vectors()[1000:], atol=1e-6)   # in order (ivfpq: its int8 copy)
    if kind == "ivf":
        np.testing.assert_allclose(kept.vectors(), x[1000:], atol=1e-6)
    assert kept.search(x[1500], 1)[1][0] == 500
    kept.add(clustered(10, seed=4))
    assert kept.size == 2010 and kept.search(clustered(10, seed=4)[3], 1)[1][0] == 2003


def _saved_ivf(path):
    """A tuned IVF over 3,000 clustered vectors, saved at ``path``: (the index, its vectors)."""
    x = clustered(3000)
    ivf = DenseIndex(32, "ivf")
    ivf.add(x)
    ivf.tune()
    ivf.save(path)
    return ivf, x


def test_saved_ivf_loads_memory_mapped_and_can_still_change(tmp_path):
    ivf, x = _saved_ivf(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", 32, expected_kind="ivf", nprobe=ivf.nprobe, recall=ivf.recall)
    assert loaded._mmapped and loaded.nprobe == ivf.nprobe
    for q in x[:20]:
        assert loaded.search(q, 10)[1].tolist() == ivf.search(q, 10)[1].tolist()
    loaded.add(clustered(10, seed=3))               # copied into memory first: the file is read-only
    assert loaded.size == 3010 and not loaded._mmapped


def test_a_whole_index_with_ivf_saves_reloads_and_answers_like_before(tmp_path, fake_embedder, bilingual_docs):
    import qa
    from index.hybrid import build

    index = build(bilingual_docs, fake_embedder, qa.IndexConfig(dense_kind="ivf"))
    info = index.info()
    assert info.dense_kind == "ivf" and info.dense_nlist >= 1 and info.dense_nprobe >= 1
    index.save(tmp_path / "idx")
    again = qa.Index.load(tmp_path / "idx", fake_embedder)
    assert again.info().dense_kind == "ivf" and again.info().dense_nprobe == info.dense_nprobe
    for q in ("resolution 678", "القرار 678"):
        assert [h.passage.id for h in again.search(q, 5)] == [h.passage.id for h in index.search(q, 5)]
    source = index.sources[0].source
    again.remove_source(source)
    rebuilt = build([d for d in bilingual_docs if d.source != source], fake_embedder, qa.IndexConfig(dense_kind="ivf"))
    assert [p.id for p in again.passages] == [p.id for p in rebuilt.passages]


@pytest.mark.parametrize("n", [1, 17])
def test_tiny_ivf_indexes_work(n):
    x = clustered(n)
    ivf = DenseIndex(32, "ivf")
    ivf.add(x)
    assert ivf.search(x[0], 3)[1][0] == 0


def _load_rss_mb(folder) -> float:
    """Memory a fresh process gains by loading the saved index (IVF, BM25 and passages memory-mapped)."""
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from index.hybrid import Index\n"
        "from tests.conftest import FakeEmbedder\n"
        "import faiss, bm25s, numpy, scipy.sparse\n"
        "def rss():\n"   # anonymous memory: what the process holds, not file pages the kernel can drop
        "    return int(open('/proc/self/status').read().split('RssAnon:')[1].split()[0]) / 1024\n"
        "before = rss()\n"
        f"index = Index.load(Path({str(folder)!r}), FakeEmbedder())\n"
        "print(rss() - before)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    return float(out.stdout.strip().splitlines()[-1])


def test_loading_memory_mapped_does_not_grow_with_the_index(tmp_path, fake_embedder):
    from index.hybrid import Index, IndexConfig
    from index.types import EmbeddedDocument
    from sources.types import Passage

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(5000)]
    sizes, gained = (4_000, 48_000), []
    for n in sizes:
        x = clustered(n, dim=64)
        docs = []
        for d in range(0, n, 10):
            ps = []
            for row in range(d, d + 10):
                text = " ".join(rng.choice(words, 30))
                ps.append(Passage(f"p{row}", text, f"d{d}.txt", 0, len(text), "en"))
            docs.append(EmbeddedDocument(f"d{d}.txt", "txt", f"h{d}", tuple(ps), x[d:d + 10]))
        index = Index(fake_embedder, IndexConfig(dense_kind="ivf", shard_passages=20_000))
        index.add_embedded(docs)
        index.save(tmp_path / str(n))
        gained.append(_load_rss_mb(tmp_path / str(n)))
    files = [sum(f.stat().st_size for f in (tmp_path / str(n)).rglob("*") if f.is_file()) / 2**20 for n in sizes]
    per_passage = [(b - a) * 2**20 / (sizes[1] - sizes[0]) for a, b in (files, gained)]
    print("loading gained MB", gained, "files MB", files, "bytes per passage on disk, in memory", per_passage)
    # On disk each passage is ~800 bytes (a 64-float vector: 256; its text as JSON; BM25 entries). In memory it
    # keeps a few numbers (source, language, offsets, line position): texts and vectors stay on disk.
    assert per_passage[0] > 600
    assert per_passage[1] < 300, (gained, files)


def test_an_empty_ivf_saves_loads_and_then_grows(tmp_path):
    ivf = DenseIndex(32, "ivf")
    ivf.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", 32, expected_kind="ivf")
    assert loaded.size == 0 and loaded.kind == "ivf"
    loaded.add(clustered(500))
    assert loaded.size == 500 and loaded.nlist == nlist_for(500)


def test_a_memory_mapped_ivf_saved_elsewhere_is_a_whole_index(tmp_path):
    ivf, x = _saved_ivf(tmp_path / "a.faiss")
    mapped = DenseIndex.load(tmp_path / "a.faiss", 32, expected_kind="ivf", nprobe=ivf.nprobe)
    mapped.save(tmp_path / "b.faiss")      # its file is the map's: the copy must not point back at it
    (tmp_path / "a.faiss").unlink()
    copy = DenseIndex.load(tmp_path / "b.faiss", 32, expected_kind="ivf", nprobe=ivf.nprobe)
    assert copy.size == 3000 and mapped._mmapped
    for q in x[:10]:
        assert copy.search(q, 10)[1].tolist() == ivf.search(q, 10)[1].tolist()


def test_an_ivf_index_loads_into_memory_when_asked(tmp_path, fake_embedder, bilingual_docs):
    import qa
    from index.hybrid import Index, build

    index = build(bilingual_docs, fake_embedder, qa.IndexConfig(dense_kind="ivf"))
    index.save(tmp_path / "idx")
    mapped = Index.load(tmp_path / "idx", fake_embedder)
    held = Index.load(tmp_path / "idx", fake_embedder, memory_map=False)
    assert mapped._shards[0].dense._mmapped and not held._shards[0].dense._mmapped
    for q in ("مجلس الأمن", "resolution 678"):
        assert [h.passage.id for h in held.search(q, 5)] == [h.passage.id for h in mapped.search(q, 5)]

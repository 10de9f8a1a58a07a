"""A sharded index against one shard: same hits and scores (global BM25 statistics), a change that
touches one shard only, incremental == rebuild, saves that re-link unchanged shards, and a load
that refuses a shard that does not match its manifest."""

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.hybrid import Index, IndexConfig, build
from index.sparse import SparseIndex, bm25_tokens
from sources.chunking import ChunkConfig
from sources.errors import BayyinaError
from sources.types import Document

CHUNK = ChunkConfig(max_tokens=30, overlap_tokens=8)
ONE = IndexConfig(chunk=CHUNK)
SHARDED = IndexConfig(chunk=CHUNK, shard_passages=4)

DOCS = [
    Document("peace.en.txt", "Peacekeeping operations grew after the Cold War ended. Blue helmets were deployed "
                             "to Cyprus, Lebanon and the Congo. The Council authorised each mission."),
    Document("charter.ar.txt", "ميثاق الأمم المتحدة يحدد صلاحيات مجلس الأمن. الفصل السابع يجيز استخدام القوة. "
                               "أصدر المجلس القرار 678 عام 1990 بشأن الكويت."),
    Document("veto.en.txt", "Five permanent members hold a veto. A single veto blocks a resolution of the Council."),
    Document("gulf.ar.txt", "حرب الخليج بدأت بعد غزو الكويت. فوّض مجلس الأمن الدول الأعضاء باستخدام كل الوسائل."),
]
QUERIES = ["مجلس الأمن", "Cold War", "القرار 678", "veto resolution", "the Council", "الكويت 1990", "Cyprus"]


def _hits(index, q, mode, k=50):
    return {h.passage.id: round(h.score, 4) for h in index.search(q, k, mode=mode)}


@pytest.fixture
def docs(bilingual_docs):
    return list(bilingual_docs) + DOCS


def test_sharded_search_equals_one_shard(fake_embedder, docs):
    one, many = build(docs, fake_embedder, ONE), build(docs, fake_embedder, SHARDED)
    assert len(one.info().shards) == 1 and len(many.info().shards) >= 3
    assert all(s.passages <= 4 or len({p.source for p in many._shards[i].passages}) == 1
               for i, s in enumerate(many.info().shards))
    assert sorted(p.id for p in one.passages) == sorted(p.id for p in many.passages)
    for q in QUERIES:
        for mode in ("dense", "bm25"):    # every passage scores the same whichever shard holds it
            assert _hits(one, q, mode) == _hits(many, q, mode), (q, mode)
        assert [h.passage.id for h in one.search(q, 5)] == [h.passage.id for h in many.search(q, 5)], q


def test_a_document_lies_in_one_shard(fake_embedder, docs):
    many = build(docs, fake_embedder, SHARDED)
    holder = {}
    for shard in many._shards:
        for source in set(shard.passages.names):
            assert holder.setdefault(source, shard.name) == shard.name


def test_a_change_touches_one_shard_and_equals_a_rebuild(fake_embedder, docs):
    index = build(docs, fake_embedder, SHARDED)
    before = {s.name: s for s in index._shards}
    held = {p.source: s.name for s in index._shards for p in s.passages}
    changed = Document("veto.en.txt", "Five permanent members hold a veto since 1945. The veto was used often.")
    report = index.add_documents([changed])
    assert report.replaced == ("veto.en.txt",)
    after = {s.name: s for s in index._shards}
    assert [n for n in after if after[n] is not before.get(n)] == [held["veto.en.txt"]]   # only its shard
    index.remove_source("charter.ar.txt")
    untouched = [n for n in after if n != held["charter.ar.txt"] and n in {s.name for s in index._shards}]
    assert all(next(s for s in index._shards if s.name == n) is after[n] for n in untouched)
    rest = [d for d in docs if d.source not in ("veto.en.txt", "charter.ar.txt")] + [changed]
    rebuilt = build(rest, fake_embedder, SHARDED)
    assert sorted(p.id for p in index.passages) == sorted(p.id for p in rebuilt.passages)
    assert sorted(index.sources, key=lambda s: s.source) == sorted(rebuilt.sources, key=lambda s: s.source)
    for q in QUERIES:
        for mode in ("dense", "bm25", "hybrid"):
            assert _hits(index, q, mode) == _hits(rebuilt, q, mode), (q, mode)


def test_a_save_relinks_unchanged_shards_and_rewrites_the_changed_one(tmp_path, fake_embedder, docs):
    folder = tmp_path / "idx"
    index = build(docs, fake_embedder, SHARDED)
    index.save(folder)
    inode = {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}
    loaded = Index.load(folder, fake_embedder)
    target = next(s.name for s in loaded._shards if "peace.en.txt" in s.passages.names)
    loaded.add_documents([Document("peace.en.txt", "Peacekeeping began in 1948 with observers.")])
    loaded.save(folder)
    for rel, ino in inode.items():
        if rel.startswith("shards/"):
            same = (folder / rel).exists() and (folder / rel).stat().st_ino == ino
            assert same == (not rel.startswith(f"shards/{target}/")), rel
    again = Index.load(folder, fake_embedder)       # the links verify against the new manifest
    for q in QUERIES:
        assert _hits(again, q, "hybrid") == _hits(loaded, q, "hybrid")


def test_a_shard_file_replaced_behind_its_back_is_rewritten_not_linked(tmp_path, fake_embedder, docs):
    folder = tmp_path / "idx"
    index = build(docs, fake_embedder, SHARDED)
    index.save(folder)
    other = build(docs[:2], fake_embedder, SHARDED)   # another writer's s00000 lands in the folder
    other.save(folder)
    index.add_documents([Document("new.en.txt", "A new document about the Security Council.")])
    index.save(folder)                                 # must write its own s00000, not link the other's
    loaded = Index.load(folder, fake_embedder)
    assert sorted(p.id for p in loaded.passages) == sorted(p.id for p in index.passages)


def test_save_load_round_trip_keeps_the_shards(tmp_path, fake_embedder, docs):
    index = build(docs, fake_embedder, SHARDED)
    index.save(tmp_path / "idx")
    loaded = Index.load(tmp_path / "idx", fake_embedder)
    assert loaded.info().shards == index.info().shards and loaded.config == SHARDED
    assert [p.id for p in loaded.passages] == [p.id for p in index.passages]
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert [e["name"] for e in manifest["shards"]] == sorted(os.listdir(tmp_path / "idx" / "shards"))
    for q in QUERIES:
        assert _hits(loaded, q, "hybrid") == _hits(index, q, "hybrid")


def test_a_source_moved_to_another_shard_is_refused(tmp_path, fake_embedder, docs):
    from index import integrity

    folder = tmp_path / "idx"
    build(docs, fake_embedder, SHARDED).save(folder)
    sources = json.loads((folder / "sources.json").read_text())
    first = next(iter(sources))
    names = sorted(os.listdir(folder / "shards"))
    sources[first]["shard"] = next(n for n in names if n != sources[first]["shard"])
    (folder / "sources.json").write_text(json.dumps(sources))
    m = json.loads((folder / "manifest.json").read_text())   # a consistent forgery: checksums updated
    m["checksums"]["sources.json"] = integrity.file_checksums(folder, only=("sources.json",))["sources.json"]
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(BayyinaError, match="inconsistent"):
        Index.load(folder, fake_embedder)


def test_shard_passages_must_be_positive():
    with pytest.raises(BayyinaError, match="shard_passages=0"):
        IndexConfig(shard_passages=0)


WORDS = ["مجلس", "الأمن", "القرار", "الكويت", "council", "security", "veto", "resolution", "war", "peace", "1990"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=12), min_size=2, max_size=14),
       st.data())
def test_bm25_split_anywhere_scores_like_one_collection(texts, data):
    texts = [" ".join(t) for t in texts]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(texts) - 1), max_size=3)))
    parts = [texts[a:b] for a, b in zip([0] + cuts, cuts + [len(texts)])]
    whole = SparseIndex.build(texts)
    shards = [SparseIndex.build(p) for p in parts]
    for query in ("مجلس الأمن", "security council veto", "war 1990 war", "القرار الكويت peace"):
        tokens = bm25_tokens(query)
        stats = shards[0].stats(tokens)
        for s in shards[1:]:
            stats = stats + s.stats(tokens)
        got = np.concatenate([s.scores_with(tokens, stats) for s in shards])
        np.testing.assert_allclose(got, whole.scores(query), rtol=1e-5, atol=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=12), min_size=1, max_size=12), st.data())
def test_bm25_rebuilt_from_stored_counts_equals_a_fresh_build(texts, data):
    texts = [" ".join(t) for t in texts]
    keep = sorted(data.draw(st.sets(st.integers(0, len(texts) - 1))))
    new = [" ".join(t) for t in data.draw(st.lists(st.lists(st.sampled_from(WORDS), max_size=8), max_size=3))]
    fresh = SparseIndex.build([texts[i] for i in keep] + new)
    rebuilt = SparseIndex.build(texts).rebuilt(np.array(keep, dtype=np.int64), new)
    assert rebuilt.size == fresh.size and rebuilt.tokens == fresh.tokens
    drop = data.draw(st.sets(st.integers(0, max(rebuilt.size - 1, 0)))) if rebuilt.size else set()
    again = rebuilt.rebuilt(np.array([i for i in range(rebuilt.size) if i not in drop], dtype=np.int64), new[:1])
    twice = SparseIndex.build([t for i, t in enumerate([texts[i] for i in keep] + new) if i not in drop] + new[:1])
    for query in ("مجلس الأمن", "security council veto", "war 1990 war", "القرار الكويت peace"):
        np.testing.assert_allclose(rebuilt.scores(query), fresh.scores(query), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(again.scores(query), twice.scores(query), rtol=1e-5, atol=1e-6)   # changed twice


def test_bm25_rebuilt_tokenises_only_the_new_passages(monkeypatch, tmp_path):
    import index.sparse as sparse

    texts = ["مجلس الأمن الدولي", "the security council", "قرار الكويت 1990", "veto power of five"]
    old = SparseIndex.build(texts)
    seen = []
    real = sparse.bm25_tokens
    monkeypatch.setattr(sparse, "bm25_tokens", lambda t: seen.append(t) or real(t))
    rebuilt = old.rebuilt(np.array([3, 0]), ["الأمن الإنساني"])
    assert seen == ["الأمن الإنساني"]
    rebuilt.save(tmp_path / "bm25")
    loaded = SparseIndex.load(tmp_path / "bm25", 3)
    fresh = SparseIndex.build([texts[3], texts[0], "الأمن الإنساني"])
    for query in ("الأمن", "veto", "council"):
        np.testing.assert_allclose(loaded.scores(query), fresh.scores(query), rtol=1e-5, atol=1e-6)


def test_an_ivf_index_loaded_and_saved_elsewhere_stands_alone(tmp_path, fake_embedder, docs):
    import shutil

    config = IndexConfig(chunk=CHUNK, shard_passages=4, dense_kind="ivf")
    build(docs, fake_embedder, config).save(tmp_path / "a")
    loaded = Index.load(tmp_path / "a", fake_embedder)          # its IVF shards are memory-mapped
    shutil.rmtree(tmp_path / "a")                                # nothing to link: written from the maps
    loaded.save(tmp_path / "b")
    copy = Index.load(tmp_path / "b", fake_embedder)
    for q in QUERIES:
        assert _hits(copy, q, "hybrid") == _hits(loaded, q, "hybrid")


def test_neighbours_and_document_text_are_the_same_sharded(fake_embedder, docs):
    one, many = build(docs, fake_embedder, ONE), build(docs, fake_embedder, SHARDED)
    for p in one.passages:
        assert many.neighbours(p, before=2, after=2) == one.neighbours(p, before=2, after=2)
    for d in docs:
        assert many.document_text(d.source) == one.document_text(d.source)
    hits = many.search("القرار 678", 3)
    assert many.with_context(hits) == one.with_context(one.search("القرار 678", 3))


def test_a_loaded_shard_changed_twice_keeps_reading_its_file_and_saves_the_same(tmp_path, fake_embedder, docs):
    index = build(docs, fake_embedder, IndexConfig(chunk=CHUNK))
    index.save(tmp_path / "a")
    loaded = Index.load(tmp_path / "a", fake_embedder)
    first = Document("veto.en.txt", "Five permanent members hold a veto since 1945. The veto was used often.")
    loaded.add_documents([first])
    loaded.add_documents([Document("new.ar.txt", "قرر مجلس الأمن إرسال قوات حفظ السلام إلى المنطقة.")])
    loaded.remove_source("charter.ar.txt")
    store = loaded._shards[0].passages
    assert store._items is None and len(store._offsets) > 0        # kept rows are still read from the file
    rest = [d for d in docs if d.source not in ("veto.en.txt", "charter.ar.txt")] + [
        first, Document("new.ar.txt", "قرر مجلس الأمن إرسال قوات حفظ السلام إلى المنطقة.")]
    rebuilt = build(rest, fake_embedder, IndexConfig(chunk=CHUNK))
    assert sorted(p.to_dict()["id"] for p in loaded.passages) == sorted(p.id for p in rebuilt.passages)
    assert set(store.names) == {d.source for d in rest}                # a removed source leaves no name behind
    loaded.save(tmp_path / "b")
    again = Index.load(tmp_path / "b", fake_embedder)
    assert [p.to_dict() for p in again.passages] == [p.to_dict() for p in loaded.passages]
    for q in QUERIES:
        assert _hits(again, q, "hybrid") == _hits(rebuilt, q, "hybrid"), q

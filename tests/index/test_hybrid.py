import json
import os
import shutil
import time

import numpy as np
import pytest

from index import store
from index.hybrid import Index, IndexConfig, build
from sources.chunking import ChunkConfig
from sources.errors import BayyinaError, IndexStoreError, IndexMismatchError
from sources.types import Document

SMALL = IndexConfig(chunk=ChunkConfig(max_tokens=30, overlap_tokens=8))

EXTRA = [
    Document("peace.en.txt", "Peacekeeping operations grew after the Cold War ended. Blue helmets were deployed."),
    Document("charter.ar.txt", "ميثاق الأمم المتحدة يحدد صلاحيات مجلس الأمن. الفصل السابع يجيز استخدام القوة."),
]


def _state(index: Index):
    """Everything observable about an index, in a canonical order."""
    order = sorted(range(len(index)), key=lambda i: index.passages[i].id)
    vectors = index._vectors()[order]
    return [index.passages[i] for i in order], vectors, sorted(index.sources, key=lambda s: s.source)


def _same(a: Index, b: Index):
    pa, va, sa = _state(a)
    pb, vb, sb = _state(b)
    assert pa == pb and sa == sb
    np.testing.assert_allclose(va, vb, atol=1e-6)
    for q in ["مجلس الأمن", "Cold War", "القرار 678", "force"]:
        assert [h.passage.id for h in a.search(q, 5)] == [h.passage.id for h in b.search(q, 5)]


def test_search_modes_find_the_right_passages(fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, SMALL)
    for mode in ("hybrid", "dense", "bm25"):
        hits = index.search("القرار 678 عام 1990", 3, mode=mode)
        assert "678" in hits[0].passage.text and hits[0].via == mode
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert [h.score for h in hits] == sorted([h.score for h in hits], reverse=True)


def test_hits_carry_offsets_into_the_original(fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, SMALL)
    texts = {d.source: d.text for d in bilingual_docs}
    for h in index.search("Security Council resolution", 5):
        p = h.passage
        assert texts[p.source][p.start:p.end] == p.text


def test_lang_quota_brings_in_the_other_language(fake_embedder, bilingual_docs):
    docs = bilingual_docs + [Document(f"filler{i}.ar.txt", f"نص عربي إضافي رقم {i} عن القرار 678 وعام 1990 والقوة.")
                             for i in range(6)]
    with_quota = build(docs, fake_embedder, SMALL)
    without = build(docs, fake_embedder, IndexConfig(chunk=SMALL.chunk, lang_quota=0))
    q = "القرار 678 عام 1990"
    assert {h.passage.lang for h in without.search(q, 3)} == {"ar"}
    langs = [h.passage.lang for h in with_quota.search(q, 3)]
    assert "en" in langs and langs.count("ar") == 2
    # A deeper search keeps the other language inside the first five (the quota window).
    deep = with_quota.search(q, 8)
    assert "en" in [h.passage.lang for h in deep[:5]] and len(deep) == 8
    assert len({h.passage.id for h in deep}) == 8
    assert [h.score for h in deep] == sorted((h.score for h in deep), reverse=True)


def test_save_load_round_trip(tmp_path, fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, SMALL)
    index.save(tmp_path / "idx")
    assert sorted(os.listdir(tmp_path / "idx")) == ["COMPLETE", "manifest.json", "shards", "sources.json"]
    assert sorted(os.listdir(tmp_path / "idx" / "shards" / "s00000")) == ["bm25", "dense.faiss", "passages.jsonl"]
    loaded = Index.load(tmp_path / "idx", fake_embedder)
    _same(index, loaded)
    assert loaded.config == SMALL
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["embedder"] == {"name": "fake-hash-64", "dim": 64, "query_prompt": "query: ",
                                    "passage_prompt": "passage: "}
    assert Index.saved_embedder(tmp_path / "idx") == "fake-hash-64"


def test_incremental_equals_rebuild(fake_embedder, bilingual_docs):
    a, b = bilingual_docs
    inc = build([a, b], fake_embedder, SMALL)
    inc.add_documents(EXTRA)
    inc.remove_source("un.en.txt")
    inc.add_documents([b])
    changed = Document("peace.en.txt", "Peacekeeping changed after 1990. New missions began.")
    report = inc.add_documents([changed])
    assert report.replaced == ("peace.en.txt",) and report.added == ()
    rebuilt = build([a, EXTRA[1], b, changed], fake_embedder, SMALL)
    _same(inc, rebuilt)


def test_unchanged_source_is_a_no_op(fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, SMALL)
    before = index.passages
    report = index.add_documents(bilingual_docs)
    assert report.unchanged == ("un.ar.txt", "un.en.txt") and report.passages_added == 0
    assert index.passages == before


def test_remove_unknown_source_names_it(fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, SMALL)
    with pytest.raises(BayyinaError, match="'nope.txt' is not in the index.*un.ar.txt"):
        index.remove_source("nope.txt")


def test_duplicate_source_in_one_add(fake_embedder, bilingual_docs):
    with pytest.raises(BayyinaError, match="given twice"):
        build([bilingual_docs[0], bilingual_docs[0]], fake_embedder)


def test_bad_queries(fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, SMALL)
    with pytest.raises(BayyinaError, match="empty"):
        index.search("   ")
    with pytest.raises(BayyinaError, match="k=0"):
        index.search("x", 0)
    with pytest.raises(BayyinaError, match="'fuzzy'"):
        index.search("x", mode="fuzzy")
    assert Index(fake_embedder).search("x") == ()


class OtherEmbedder:
    name = "other-model"
    dim = 64


def test_refuses_other_embedder_and_format(tmp_path, fake_embedder, bilingual_docs):
    build(bilingual_docs, fake_embedder, SMALL).save(tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="built with embedder 'fake-hash-64', not 'other-model'"):
        Index.load(tmp_path / "idx", OtherEmbedder())
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    manifest["format_version"] = 99
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 99"):
        Index.load(tmp_path / "idx", fake_embedder)


def test_missing_and_corrupt_indexes(tmp_path, fake_embedder, bilingual_docs):
    with pytest.raises(IndexStoreError, match="No index at .*bayyina index build"):
        Index.load(tmp_path / "none", fake_embedder)
    build(bilingual_docs, fake_embedder, SMALL).save(tmp_path / "idx")
    (tmp_path / "idx" / "shards" / "s00000" / "passages.jsonl").write_text('{"broken":\n')
    with pytest.raises(IndexStoreError, match="damaged"):
        Index.load(tmp_path / "idx", fake_embedder)
    (tmp_path / "idx" / "manifest.json").write_text("not json")
    with pytest.raises(IndexStoreError, match="unreadable"):
        Index.load(tmp_path / "idx", fake_embedder)


def test_crash_during_save_keeps_the_previous_index(tmp_path, fake_embedder, bilingual_docs, monkeypatch):
    folder = tmp_path / "idx"
    first = build(bilingual_docs[:1], fake_embedder, SMALL)
    first.save(folder)
    second = build(bilingual_docs, fake_embedder, SMALL)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(second._shards[0].sparse, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        second.save(folder)
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temp folder left behind
    _same(Index.load(folder, fake_embedder), first)


def test_crash_between_renames_is_recovered(tmp_path, fake_embedder, bilingual_docs):
    folder = tmp_path / "idx"
    build(bilingual_docs, fake_embedder, SMALL).save(folder)
    os.replace(folder, tmp_path / "idx.old-1234abcd")  # the state right after the first rename
    assert len(Index.load(folder, fake_embedder)) > 0
    assert folder.is_dir()


def test_save_refuses_to_replace_a_non_index_folder(tmp_path, fake_embedder, bilingual_docs):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "precious.txt").write_text("keep me")
    with pytest.raises(IndexStoreError, match="not a Bayyina index"):
        build(bilingual_docs, fake_embedder).save(tmp_path / "docs")
    assert (tmp_path / "docs" / "precious.txt").read_text() == "keep me"


def test_info(fake_embedder, bilingual_docs):
    info = build(bilingual_docs, fake_embedder, SMALL).info()
    assert info.embedder == "fake-hash-64" and info.dim == 64 and info.dense_kind == "flat"
    assert set(info.languages) == {"ar", "en"} and info.passages == sum(s.passages for s in info.sources)
    assert info.format_version == store.FORMAT_VERSION


def test_hnsw_index_works_end_to_end(tmp_path, fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, IndexConfig(chunk=SMALL.chunk, dense_kind="hnsw"))
    assert index.info().dense_kind == "hnsw"
    index.save(tmp_path / "h")
    assert Index.load(tmp_path / "h", fake_embedder).search("Cold War", 1)[0].passage.lang == "en"


def test_exclude_sources(fake_embedder, bilingual_docs):
    index = build(bilingual_docs + EXTRA, fake_embedder, SMALL)
    for mode in ("hybrid", "dense", "bm25"):
        hits = index.search("مجلس الأمن القرار 678", 10, mode=mode, exclude_sources={"un.ar.txt"})
        assert hits and "un.ar.txt" not in {h.passage.source for h in hits}


def test_neighbours_and_context(fake_embedder):
    text = " ".join(f"Sentence number {i} is here." for i in range(12))
    index = build([Document("long.txt", text)], fake_embedder, IndexConfig(chunk=ChunkConfig(10, 0)))
    ps = sorted(index.passages, key=lambda p: p.start)
    assert len(ps) >= 4
    assert index.neighbours(ps[1]) == (ps[0], ps[2])
    assert index.neighbours(ps[0], before=2, after=1) == (ps[1],)
    hits = index.search("Sentence number 5", 1)
    ctx = index.with_context(hits)
    assert ctx[0] == hits[0] and all(h.via == "context" and h.rank == hits[0].rank for h in ctx[1:])
    assert {h.passage.id for h in ctx[1:]} == {p.id for p in index.neighbours(hits[0].passage)}


def _old_copy(tmp_path, name, index, *, drop: str | None = None):
    """A ``.old-`` folder as a crash leaves it (optionally half deleted)."""
    index.save(tmp_path / "scratch")
    target = tmp_path / name
    os.replace(tmp_path / "scratch", target)
    if drop:
        path = target / drop
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return target


def test_recovery_picks_the_newest_complete_copy(tmp_path, fake_embedder, bilingual_docs):
    small = build(bilingual_docs[:1], fake_embedder, SMALL)
    full = build(bilingual_docs, fake_embedder, SMALL)
    _old_copy(tmp_path, "idx.old-aaaa0000", small)          # older, complete (sorts first by name)
    _old_copy(tmp_path, "idx.old-zzzz1111", full)           # newer, complete
    assert len(Index.load(tmp_path / "idx", fake_embedder)) == len(full)


def test_recovery_never_picks_a_half_deleted_copy(tmp_path, fake_embedder, bilingual_docs):
    small = build(bilingual_docs[:1], fake_embedder, SMALL)
    full = build(bilingual_docs, fake_embedder, SMALL)
    _old_copy(tmp_path, "idx.old-bbbb0000", small)
    _old_copy(tmp_path, "idx.old-aaaa1111", full, drop="shards/s00000/dense.faiss")   # newest, but rmtree was interrupted
    assert len(Index.load(tmp_path / "idx", fake_embedder)) == len(small)


def test_a_save_removes_what_interrupted_saves_left(tmp_path, fake_embedder, bilingual_docs):
    index = build(bilingual_docs, fake_embedder, SMALL)
    index.save(tmp_path / "idx")
    for name in ("idx.tmp-dead01", "idx.tmp-dead02", "idx.old-dead03"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "dense.faiss").write_bytes(b"x")
    index.save(tmp_path / "idx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]


def test_a_stale_lock_is_taken_over_and_a_live_one_waited_for(tmp_path):
    import subprocess
    import sys as _sys

    from index import store

    folder = tmp_path / "idx"
    lock = tmp_path / ".idx.lock"
    dead = subprocess.Popen([_sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(str(dead.pid))
    with store.writer_lock(folder, wait_s=1):
        assert lock.read_text() == str(os.getpid())
    assert not lock.exists()
    lock.write_text("")                      # a writer killed after creating the file, before writing its pid
    with pytest.raises(IndexStoreError, match="pid \\?"):
        with store.writer_lock(folder, wait_s=0.3):   # a moment old: it may be writing its pid right now
            pass
    os.utime(lock, (time.time() - 60, time.time() - 60))
    with store.writer_lock(folder, wait_s=1):          # a minute old and still no pid: dead, taken over
        assert lock.read_text() == str(os.getpid())
    alive = subprocess.Popen([_sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock.write_text(str(alive.pid))
        with pytest.raises(IndexStoreError, match=f"being written by another process \\(pid {alive.pid}"):
            with store.writer_lock(folder, wait_s=0.3):
                pass
    finally:
        alive.kill()
        alive.wait()


def _add_one(folder, text, source, barrier):
    from index import store
    from tests.conftest import FakeEmbedder

    barrier.wait()
    with store.writer_lock(folder):                      # the whole read-modify-write
        index = Index.load(folder, FakeEmbedder())
        index.add_documents([Document(source, text)])
        index.save(folder)


def test_two_concurrent_writers_lose_no_update(tmp_path, fake_embedder, bilingual_docs):
    import multiprocessing

    folder = tmp_path / "idx"
    build(bilingual_docs, fake_embedder, SMALL).save(folder)
    ctx = multiprocessing.get_context("fork")
    for round_ in range(3):
        barrier = ctx.Barrier(2)
        procs = [ctx.Process(target=_add_one, args=(folder, f"Document {i} of round {round_} about the Council.",
                                                     f"w{round_}-{i}.txt", barrier)) for i in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
    sources = {s.source for s in Index.load(folder, fake_embedder).sources}
    assert {f"w{r}-{i}.txt" for r in range(3) for i in range(2)} <= sources

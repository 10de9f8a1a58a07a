import sys

import pytest

import qa

AR_Q = "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟"
EN_Q = "Which Security Council resolution authorised the use of force against Iraq?"


def test_import_qa_is_light():
    import subprocess

    code = ("import sys, qa; heavy = [m for m in ('torch', 'faiss', 'bm25s', 'sentence_transformers', "
            "'transformers', 'langchain_core', 'gradio') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_exist():
    for name in qa.__all__:
        assert hasattr(qa, name), name
    assert len(qa.__all__) <= 30 and len(set(qa.__all__)) == len(qa.__all__)
    errors = [n for n in qa.__all__ if n.endswith("Error")]
    assert all(getattr(qa, n).__module__ in ("qa.errors", "sources.errors") for n in errors)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory, real_embedder):
    index = qa.Index(real_embedder)
    index.add_documents([qa.load(qa.bundled_corpus_path(), source="collective_security.ar.txt")])
    return index


def test_bundled_corpus_is_packaged():
    text = qa.bundled_corpus_path().read_text(encoding="utf-8")
    assert "الأمن الجماعي" in text and qa.detect_language(text) == "ar"


def test_arabic_and_cross_lingual_questions_find_resolution_678(bundled):
    for q in (AR_Q, EN_Q):
        hits = bundled.search(q, k=3)
        assert any("678" in h.passage.text for h in hits[:2]), (q, [h.passage.text[:80] for h in hits])


def test_cold_war_question_in_english_finds_arabic_passage(bundled):
    hits = bundled.search("What happened after the end of the Cold War?", k=3)
    assert any("الحرب الباردة" in h.passage.text for h in hits)


def test_default_index_builds_once_and_reloads(tmp_path, monkeypatch, real_embedder):
    monkeypatch.setenv("BAYYINA_CACHE", str(tmp_path))
    first = qa.default_index(real_embedder)
    folder = qa.default_index_dir(real_embedder.name)
    assert (folder / "manifest.json").is_file()
    mtime = (folder / "manifest.json").stat().st_mtime_ns
    second = qa.default_index(real_embedder)
    assert (folder / "manifest.json").stat().st_mtime_ns == mtime
    assert [p.id for p in first.passages] == [p.id for p in second.passages]


@pytest.mark.parametrize("paths, msg", [
    (None, "not NoneType"), (42, "not int"), ([None], r"paths\[0\] is None"), (["ok.txt", ""], r"paths\[1\]"),
])
def test_from_paths_refuses_bad_paths_before_any_work(paths, msg, tmp_path, monkeypatch):
    import qa.assistant as assistant

    monkeypatch.setattr(assistant, "load_embedder", lambda *a, **k: pytest.fail("the model must not load"))
    with pytest.raises(qa.BayyinaError, match=msg):
        qa.Assistant.from_paths(paths)


def test_from_paths_takes_one_path_as_one_path(tmp_path, fake_embedder):
    doc = tmp_path / "un.en.txt"
    doc.write_text("The Security Council adopted resolution 678 in 1990.", encoding="utf-8")
    bot = qa.Assistant.from_paths(str(doc), embedder=fake_embedder)     # a string, not a list of characters
    assert [s.source for s in bot.documents()] == [str(doc)]
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(qa.BayyinaError, match="is a file, not a folder"):
        qa.Assistant.from_paths([doc], index_dir=afile, embedder=fake_embedder)


@pytest.mark.parametrize("call, msg", [
    (lambda idx: qa.Assistant(None), "needs an Index, not NoneType"),
    (lambda idx: qa.Assistant(idx, k=0), "k=0 must be"),
    (lambda idx: qa.Assistant(idx, context="1"), "context='1' must be"),
    (lambda idx: qa.Assistant(idx, reader=42), "not int"),
    (lambda idx: qa.Assistant.load(None), "index_dir must be a folder path, not None"),
    (lambda idx: idx.search(42), "must be text, not int"),
    (lambda idx: idx.search("q", k="5"), "k='5' must be"),
    (lambda idx: idx.search("q", exclude_sources="un.en.txt"), "wrap it in a list"),
    (lambda idx: qa.IndexConfig(rrf_k=-5), "rrf_k=-5"),
    (lambda idx: qa.IndexConfig(dense_kind="pq"), "dense_kind='pq'"),
    (lambda idx: qa.IndexConfig(bm25_weight=float("nan")), "bm25_weight=nan"),
])
def test_public_entry_points_name_the_bad_argument(call, msg, fake_embedder, bilingual_docs):
    from index.hybrid import build

    idx = build(bilingual_docs, fake_embedder)
    with pytest.raises(qa.BayyinaError, match=msg):
        call(idx)

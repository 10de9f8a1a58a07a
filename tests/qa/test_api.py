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

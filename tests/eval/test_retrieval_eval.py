import json

import pytest

import qa
from eval.datasets import DatasetError, load_squad
from eval.retrieval import evaluate_retrieval
from qa import cli
from tests.conftest import BENCH


def _squad(path, lang):
    ctx = {
        "ar": ["أصدر مجلس الأمن القرار 678 في عام 1990.", "الحرب الباردة شلت عمل المجلس لعقود.",
               "حفظ السلام عملية تقوم بها الأمم المتحدة."],
        "en": ["The Security Council adopted resolution 678 in 1990.", "The Cold War paralysed the council.",
               "Peacekeeping is carried out by the United Nations."],
    }[lang]
    qs = {
        "ar": ["ما رقم القرار الصادر عام 1990؟", "ما الذي شل عمل المجلس؟", "من يقوم بحفظ السلام؟"],
        "en": ["Which resolution was adopted in 1990?", "What paralysed the council?", "Who does peacekeeping?"],
    }[lang]
    data = {"version": "1.1", "data": [{"title": "UN", "paragraphs": [
        {"context": c, "qas": [{"id": f"q{i}", "question": q, "answers": [{"text": "x", "answer_start": 0}]}]}
        for i, (c, q) in enumerate(zip(ctx, qs))]}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_load_squad_parallel_ids(tmp_path):
    ar = load_squad(_squad(tmp_path / "t.ar.json", "ar"))
    en = load_squad(_squad(tmp_path / "t.en.json", "en"))
    assert ar.language == "ar" and en.language == "en"
    assert [p.id for p in ar.paragraphs] == [p.id for p in en.paragraphs] == ["UN#0", "UN#1", "UN#2"]
    assert ar.documents()[0].source == "ar:UN#0"


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid UTF-8 JSON"),
    ('{"data": 3}', "'data' list"),
    ('{"data": [{"paragraphs": [{"context": ""}]}]}', r"data\[0\]\.paragraphs\[0\]: expected .*'context'"),
    ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "7", "question": "q", "answers": []}]}]}]}',
     r"qas\[0\] \(id 7\): no answers"),
])
def test_load_squad_names_the_first_bad_record(tmp_path, content, message):
    f = tmp_path / "bad.ar.json"
    f.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_squad(f)
    with pytest.raises(DatasetError, match="no such file"):
        load_squad(tmp_path / "missing.json")


def test_evaluate_retrieval_on_fixture(tmp_path, fake_embedder):
    ar = load_squad(_squad(tmp_path / "t.ar.json", "ar"))
    en = load_squad(_squad(tmp_path / "t.en.json", "en"))
    index = qa.Index(fake_embedder)
    index.add_documents(ar.documents())
    r = evaluate_retrieval(index, ar.questions, mode="bm25")
    assert r.n == 3 and r.recall[10] == 1.0 and r.other_language_at5 is None
    assert 0 < r.mrr10 <= 1 and r.recall[1] <= r.recall[5] <= r.recall[10]
    mixed = qa.Index(fake_embedder)
    mixed.add_documents(ar.documents() + en.documents())
    r = evaluate_retrieval(mixed, en.questions, mode="hybrid")
    assert r.other_language_at5 is not None and r.to_dict()["n"] == 3


def test_eval_cli_json_keys(tmp_path, fake_embedder, monkeypatch, capsys):
    monkeypatch.setattr(qa, "load_embedder", lambda name=None, **kw: fake_embedder)
    monkeypatch.setenv("BAYYINA_CACHE", str(tmp_path / "cache"))
    f = _squad(tmp_path / "t.ar.json", "ar")
    assert cli.main(["eval", "retrieval", "--squad", str(f), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"recall@1", "recall@5", "recall@10", "mrr@10", "n"} <= set(data) and data["n"] == 3


@pytest.mark.skipif(not (BENCH / "xquad.ar.json").exists(), reason="needs ../shared/bench (XQuAD), not in a clean clone")
def test_xquad_loads_and_is_parallel():
    ar, en = load_squad(BENCH / "xquad.ar.json"), load_squad(BENCH / "xquad.en.json")
    assert len(ar.paragraphs) == len(en.paragraphs) == 240 and len(ar.questions) == len(en.questions) == 1190
    assert [q.id for q in ar.questions] == [q.id for q in en.questions]

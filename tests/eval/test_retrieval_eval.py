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
    golds = {"ar": ["678", "الحرب الباردة", "الأمم المتحدة"], "en": ["678", "The Cold War", "the United Nations"]}[lang]
    data = {"version": "1.1", "data": [{"title": "UN", "paragraphs": [
        {"context": c, "qas": [{"id": f"q{i}", "question": q, "answers": [{"text": g, "answer_start": c.find(g)}]}]}
        for i, (c, q, g) in enumerate(zip(ctx, qs, golds))]}]}
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


def test_answers_end_to_end_on_fixture(tmp_path, fake_embedder):
    from eval.answers import evaluate_answers, parallel_golds

    ar = load_squad(_squad(tmp_path / "t.ar.json", "ar"))
    en = load_squad(_squad(tmp_path / "t.en.json", "en"))
    index = qa.Index(fake_embedder)
    index.add_documents(en.documents())
    bot = qa.Assistant(index, "extractive", abstain=False)
    same = evaluate_answers(bot, en.questions, corpus_languages=["en"])
    assert same.n == 3 and same.contains_gold == 1.0 and same.citation_hit == 1.0
    assert same.citation_contains_gold == 1.0
    assert same.abstention_rate == 0.0 and 0 < same.latency_p50_ms <= same.latency_p95_ms
    assert set(same.to_dict()) >= {"em", "f1", "contains_gold", "citation_hit", "abstention_rate",
                                   "latency_p50_ms", "latency_p95_ms"}
    removed = evaluate_answers(bot, en.questions, corpus_languages=["en"], remove_gold=True)
    assert removed.citation_hit == 0.0
    cross = evaluate_answers(bot, ar.questions, corpus_languages=["en"], extra_golds=parallel_golds(en))
    assert all("678" in p["golds"] for p in cross.predictions[:1])

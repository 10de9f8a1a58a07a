import json

import pytest

from qa import detect_language

import eval as bayyina_eval
from eval.compare import compare, format_differences, paired_bootstrap
from eval.config import ConfigError, load_config
from eval.datasets import DatasetError, load_conversations
from eval.report import PLOTS
from eval.runner import stratified_sample
from tests.eval.test_retrieval_eval import _squad


def _config(tmp_path, extra=""):
    _squad(tmp_path / "t.ar.json", "ar")
    _squad(tmp_path / "t.en.json", "en")
    (tmp_path / "doc.txt").write_text("أصدر مجلس الأمن القرار 678 في 29 نوفمبر 1990 بشأن الكويت. "
                                      "ثم انتهت العمليات العسكرية في 27 فبراير 1991.", encoding="utf-8")
    (tmp_path / "conv.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "a", "history": [], "question": "ما رقم القرار بشأن الكويت؟", "answers": ["678"]},
        {"id": "b", "history": [["ما رقم القرار بشأن الكويت؟", "678"]], "question": "ومتى صدر؟",
         "answers": ["29 نوفمبر 1990"], "gold_source": "doc.txt"},
    ]), encoding="utf-8")
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'''
name = "fixture"
seed = 3
limit = 2
[index]
max_tokens = 40
overlap_tokens = 8
[[tasks]]
name = "ar"
questions = "t.ar.json"
remove_gold = true
[[tasks]]
name = "ar→en"
questions = "t.ar.json"
corpus = ["t.en.json"]
[[tasks]]
name = "conv"
questions = "conv.jsonl"
corpus = ["doc.txt"]
retrieval = false
{extra}''', encoding="utf-8")
    return cfg


def test_end_to_end_run_writes_results_report_and_plots(tmp_path, fake_embedder, monkeypatch):
    monkeypatch.setenv("BAYYINA_CACHE", str(tmp_path / "cache"))
    cfg = _config(tmp_path, extra="[reader]\nabstain = false\n")
    results = bayyina_eval.run(cfg, tmp_path / "out", embedder=fake_embedder)
    out = tmp_path / "out"
    for name in ("results.json", "report.md", *PLOTS):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    saved = json.loads((out / "results.json").read_text())
    assert saved["seed"] == 3 and saved["config"]["limit"] == 2 and "name = \"fixture\"" in saved["config_toml"]
    assert saved["models"]["embedder"] == "fake-hash-64" and "bayyina" in saved["versions"]
    assert "git_commit" in saved
    tasks = {t["name"]: t for t in results["tasks"]}
    r = tasks["ar"]["retrieval"]
    assert r["n"] == 3 and 0 <= r["recall@1"] <= r["recall@5"] <= 1 and len(r["per_question"]) == 3
    preds = tasks["ar"]["answers"]["predictions"]
    assert len(preds) == 4  # 2 sampled questions, each with the gold present and removed
    assert {p["condition"] for p in preds} == {"full", "gold removed"}
    s = tasks["ar"]["answers"]["summary"]
    assert s["n"] == 4 and s["answerable"] == 2 and s["unanswerable"] == 2
    assert {"retrieve_p50_ms", "read_p95_ms", "total_p50_ms"} <= set(s)
    assert s["answered_rate"] == 1.0 and s["abstention_recall"] == 0.0
    assert s["citation_recall"] is not None and 0 <= s["citation_precision"] <= 1
    assert s["contains_gold"] > 0
    conv = tasks["conv"]["answers"]["summary"]
    assert conv["n"] == 2 and "follow_up_contains_gold" in conv and "retrieval_hit" in conv
    report = (out / "report.md").read_text()
    assert "## Retrieval" in report and "## Answers" in report and "| ar→en |" in report


def test_compare_flags_significant_differences(tmp_path):
    def write(name, f1s):
        d = tmp_path / name
        d.mkdir()
        preds = [{"id": str(i), "condition": "full", "should_abstain": False, "abstained": False, "f1": v,
                  "em": v, "contains_gold": v, "citation_hit": 1.0} for i, v in enumerate(f1s)]
        (d / "results.json").write_text(json.dumps({"tasks": [{"name": "t", "answers": {"predictions": preds}}]}))
        return d

    a = write("a", [0.0] * 60)
    b = write("b", [1.0] * 40 + [0.0] * 20)
    c = write("c", [0.0] * 59 + [1.0])
    diffs = {d.metric: d for d in compare(a, b)}
    assert diffs["f1"].delta == pytest.approx(40 / 60) and diffs["f1"].significant
    assert not {d.metric: d for d in compare(a, c)}["f1"].significant
    assert "*" in format_differences(compare(a, b), "a", "b")
    with pytest.raises(DatasetError, match="no results here"):
        compare(tmp_path / "missing", a)


def test_paired_bootstrap_is_seeded_and_symmetric():
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.random(50), rng.random(50)
    assert paired_bootstrap(a, b, seed=1) == paired_bootstrap(a, b, seed=1)
    assert paired_bootstrap(a, b, seed=1) == pytest.approx(paired_bootstrap(b, a, seed=1), abs=0.05)
    assert paired_bootstrap(a, a) == 1.0


@pytest.mark.parametrize("toml, msg", [
    ("name = 3\n[[tasks]]\nquestions = 'x.json'", "'name' must be str"),
    ("[index]\nbogus = 1\n[[tasks]]\nquestions = 'x.json'", r"\[index\] accepts only"),
    ("name = 'x'", r"at least one \[\[tasks\]\]"),
    ("[[tasks]]\nname = 'a'\nquestions = 'x'\n[[tasks]]\nname = 'a'\nquestions = 'y'", "unique"),
    ("not = = toml", "not valid TOML"),
    ("[reader]\nname = 'llm'\ntemperature = 1\n[[tasks]]\nquestions = 'x.json'", r"does not accept \['temperature'\]"),
    ("[reader]\nname = 'llm'\nthreads = 'two'\n[[tasks]]\nquestions = 'x.json'", "threads = 'two' must be int"),
])
def test_config_errors(tmp_path, toml, msg):
    f = tmp_path / "c.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError, match=msg):
        load_config(f)


@pytest.mark.parametrize("line, msg", [
    ("{bad json", "line 1: not valid JSON"),
    ('{"id": "a", "question": "q", "answers": []}', "'answers' must be a non-empty list"),
    ('{"id": "a", "question": "q", "answers": ["x"], "history": [["only"]]}', "'history' must be a list"),
    ('{"question": "q", "answers": ["x"]}', "'id' must be a non-empty string"),
])
def test_conversation_loader_errors(tmp_path, line, msg):
    f = tmp_path / "c.jsonl"
    f.write_text(line + "\n")
    with pytest.raises(DatasetError, match=msg):
        load_conversations(f)


def test_shipped_question_set_covers_what_it_promises():
    """The bundled-corpus question set: ≥120 turns, ≥45 per language, every paragraph and question
    type, ≥20 unanswerable, ≥15 follow-ups, ≥10 self-contained questions after an unrelated turn,
    and every gold text really in the corpus."""
    from pathlib import Path

    from qa import bundled_corpus_path
    from qa.conversation import is_follow_up

    items = load_conversations(Path(__file__).resolve().parents[2] / "eval" / "examples" /
                               "conversations.collective_security.jsonl")
    corpus = bundled_corpus_path().read_text(encoding="utf-8")
    arabic = [i for i in items if detect_language(i.question, threshold=0.5) == "ar"]
    kinds = {k: [i for i in items if i.kind == k] for k in ("single", "follow_up", "standalone", "unanswerable")}
    assert len(items) >= 120 and len(arabic) >= 45 and len(items) - len(arabic) >= 45
    assert len(kinds["unanswerable"]) >= 20 and len(kinds["follow_up"]) >= 15 and len(kinds["standalone"]) >= 10
    assert {i.paragraph for i in items if i.paragraph} == set(range(1, 18))
    assert {"when", "how many", "who", "which", "what", "why", "list"} <= {i.qtype for i in items}
    for i in items:
        assert i.unanswerable == (not i.answers)
        if not i.unanswerable:
            assert i.gold_text in corpus, i.id
        if i.kind in ("follow_up", "standalone"):
            assert i.history and is_follow_up(i.question, i.history[-1][0]) == (i.kind == "follow_up"), i.id


def test_unanswerable_conversation_items(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"id": "u", "question": "Who?", "answers": [], "unanswerable": true}\n'
                 '{"id": "a", "question": "What?", "answers": ["x"], "paragraph": 2, "type": "what"}\n')
    u, a = load_conversations(f)
    assert u.unanswerable and u.answers == () and u.kind == "unanswerable"
    assert not a.unanswerable and a.kind == "single" and a.paragraph == 2 and a.qtype == "what"
    f.write_text('{"id": "u", "question": "Who?", "answers": ["x"], "unanswerable": true}\n')
    with pytest.raises(DatasetError, match="unanswerable question has no 'answers'"):
        load_conversations(f)
    f.write_text('{"id": "u", "question": "Who?", "answers": ["x"], "paragraph": 0}\n')
    with pytest.raises(DatasetError, match="'paragraph' must be a positive integer"):
        load_conversations(f)


def test_stratified_sample_covers_articles_and_is_seeded():
    from eval.datasets import Question

    qs = [Question(f"{a}{i}", "q", ("x",), f"{a}#{i % 3}") for a in "ABCD" for i in range(10)]
    s = stratified_sample(qs, 8, seed=1)
    assert len(s) == 8 and {q.paragraph_id[0] for q in s} == set("ABCD")
    assert s == stratified_sample(qs, 8, seed=1) and s == sorted(s, key=qs.index)


def test_a_smaller_limit_asks_a_subset_of_a_larger_one():
    """What lets ``bench/fit_abstention.py`` leave out every question a benchmark run asks."""
    from eval.config import RunConfig
    from eval.datasets import Question
    from eval.runner import config_sample

    qs = [Question(f"{a}{i}", "q", ("x",), f"{a}#{i % 3}") for a in "ABCDE" for i in range(12)]
    for stratify in (True, False):
        config = RunConfig(name="x", tasks=(), seed=3, limit=20, stratify=stratify)
        big = config_sample(qs, config)
        assert len(big) == 20 and big == config_sample(qs, config, 20)
        for n in (1, 7, 13):
            assert set(q.id for q in config_sample(qs, config, n)) <= set(q.id for q in big)
    assert config_sample(qs, RunConfig(name="x", tasks=(), limit=0)) == qs


def test_reader_options_are_read(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[reader]\nname = 'openai'\nmodel = 'local'\nbase_url = 'http://127.0.0.1:8000/v1'\n"
                 "passages = 2\ntimeout = 30\n[[tasks]]\nquestions = 'x.json'")
    config = load_config(f)
    assert config.reader == "openai"
    assert config.reader_options == {"model": "local", "base_url": "http://127.0.0.1:8000/v1", "passages": 2,
                                      "timeout": 30}
    assert config.to_dict()["reader_options"]["passages"] == 2


def _squad_file(tmp_path, name, articles):
    import json

    f = tmp_path / name
    f.write_text(json.dumps({"data": [{"title": t, "paragraphs": [{"context": c, "qas": [
        {"id": f"{t}{i}", "question": "q?", "answers": [{"text": c.split()[0], "answer_start": 0}]}]}]}
        for i, (t, c) in enumerate(articles)]}, ensure_ascii=False), encoding="utf-8")
    return f


def test_repeated_titles_get_unique_paragraph_ids(tmp_path):
    from eval.datasets import load_squad

    f = _squad_file(tmp_path, "arcd.json", [("القاهرة", "القاهرة عاصمة مصر وأكبر مدنها."),
                                       ("القاهرة", "تأسست القاهرة في القرن العاشر."),
                                       ("دمشق", "دمشق من أقدم المدن المأهولة.")])
    d = load_squad(f)
    ids = [p.id for p in d.paragraphs]
    assert len(set(ids)) == 3 and ids[0] == "القاهرة#0" and ids[1] == "القاهرة (2)#0"
    assert len({doc.source for doc in d.documents()}) == 3
    assert [q.paragraph_id for q in d.questions] == ids


@pytest.mark.parametrize("name, contexts, lang", [
    ("arcd.json", ["القاهرة عاصمة مصر وأكبر مدنها.", "دمشق من أقدم المدن."], "ar"),
    ("squad-dev.json", ["Cairo is the capital of Egypt.", "Damascus is one of the oldest cities."], "en"),
    ("xquad.ar.json", ["Cairo is the capital of Egypt."], "ar"),     # the file name, when it says, wins
])
def test_dataset_language_from_the_name_or_the_text(tmp_path, name, contexts, lang):
    from eval.datasets import load_squad

    f = _squad_file(tmp_path, name, [(f"t{i}", c) for i, c in enumerate(contexts)])
    assert load_squad(f).language == lang

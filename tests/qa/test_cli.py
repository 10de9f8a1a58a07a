import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import qa
from qa import cli
from tests.conftest import AR_DOC, EN_DOC


@pytest.fixture
def docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "un.ar.txt").write_text(AR_DOC, encoding="utf-8")
    (d / "un.en.md").write_text("# The UN\n\n" + EN_DOC, encoding="utf-8")
    (d / "broken.pdf").write_bytes(b"not a pdf")
    return d


@pytest.fixture
def fake_models(monkeypatch, fake_embedder):
    """The CLI's model loading, answered with the fake embedder (the real one is tested below)."""
    monkeypatch.setattr(qa, "load_embedder", lambda name=None, **kw: fake_embedder)
    monkeypatch.setattr(qa.api, "load_embedder", lambda name=None, **kw: fake_embedder)
    monkeypatch.setattr(qa.api, "DEFAULT_EMBEDDER", fake_embedder.name)   # the fake plays the bundled one
    return fake_embedder


def test_an_index_never_chooses_which_embedder_loads(tmp_path, docs, fake_models, capsys, monkeypatch):
    """A manifest naming another model (tampered, or built with --embedder) is refused unless the
    user names that embedder; nothing is loaded from the name in the file."""
    import json as _json

    idx = tmp_path / "idx"
    assert run(capsys, "index", "build", str(docs), "--index", str(idx))[0] == 0
    manifest = _json.loads((idx / "manifest.json").read_text())
    manifest["embedder"]["name"] = "someone/evil-model"
    (idx / "manifest.json").write_text(_json.dumps(manifest))
    loaded = []
    monkeypatch.setattr(qa.api, "load_embedder", lambda name=None, **kw: loaded.append(name) or fake_models)
    code, _, err = run(capsys, "index", "info", "--index", str(idx))
    assert code != 0 and "someone/evil-model" in err and "--embedder" in err and loaded == []


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_search_info_add_remove(tmp_path, docs, fake_models, capsys):
    idx = str(tmp_path / "idx")
    code, out, err = run(capsys, "index", "build", str(docs), "--index", idx, "--max-tokens", "40", "--overlap", "8")
    assert code == 0
    assert "added: 2" in out and f"index saved in {idx}" in out
    assert "broken.pdf" in err and "not a readable PDF" in err

    code, out, _ = run(capsys, "search", "القرار 678", "--index", idx, "-k", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["query"] == "القرار 678" and len(data["hits"]) == 2
    hit = data["hits"][0]
    assert set(hit) == {"rank", "score", "source", "start", "end", "page", "lang", "text"}
    assert "678" in hit["text"] and hit["rank"] == 1
    source_text = Path(hit["source"]).read_text(encoding="utf-8")
    assert source_text[hit["start"]:hit["end"]] == hit["text"]

    code, out, _ = run(capsys, "index", "info", "--index", idx, "--json")
    info = json.loads(out)
    assert info["embedder"] == "fake-hash-64" and info["max_tokens"] == 40
    assert {Path(s["source"]).name for s in info["sources"]} == {"un.ar.txt", "un.en.md"}

    code, out, _ = run(capsys, "index", "add", str(docs), "--index", idx)
    assert code == 0 and "unchanged: 2" in out

    code, out, _ = run(capsys, "index", "remove", str(docs / "un.ar.txt"), "--index", idx)
    assert code == 0 and "removed" in out
    code, out, _ = run(capsys, "search", "Cold War", "--index", idx, "--json")
    assert {h["lang"] for h in json.loads(out)["hits"]} == {"en"}


def test_a_sharded_ivf_build_shows_its_shards(tmp_path, docs, fake_models, capsys):
    idx = str(tmp_path / "idx")
    code, _, _ = run(capsys, "index", "build", str(docs), "--index", idx, "--max-tokens", "40", "--overlap", "8",
                     "--shard-passages", "2", "--dense", "ivf")
    assert code == 0
    code, out, _ = run(capsys, "index", "info", "--index", idx, "--json")
    shards = json.loads(out)["shards"]
    assert len(shards) >= 2 and all(s["dense"] == "ivf" and s["nprobe"] >= 1 and 0 < s["recall_at_10"] <= 1
                                    for s in shards)
    code, out, _ = run(capsys, "index", "info", "--index", idx)
    assert f"shards ({len(shards)}):" in out and "s00001" in out and "recall@10" in out
    code, out, _ = run(capsys, "index", "remove", str(docs / "un.ar.txt"), "--index", idx)
    assert code == 0
    code, out, _ = run(capsys, "index", "info", "--index", idx, "--json")
    assert [Path(s["source"]).name for s in json.loads(out)["sources"]] == ["un.en.md"]


def test_errors_are_clear_and_exit_nonzero(tmp_path, fake_models, capsys):
    code, _, err = run(capsys, "search", "x", "--index", str(tmp_path / "missing"))
    assert code == 2 and "No index at" in err and "bayyina index build" in err
    code, _, err = run(capsys, "index", "build", str(tmp_path / "nothing-here"), "--index", str(tmp_path / "i"))
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "i").exists()
    code, _, err = run(capsys, "search", "   ", "--index", str(tmp_path / "missing"))
    assert code == 2


def test_real_cli_searches_the_bundled_corpus(tmp_path, real_embedder):
    """End to end through the installed console script, with the real model."""
    env = dict(os.environ, BAYYINA_CACHE=str(tmp_path / "cache"), HF_HUB_OFFLINE="1")
    (tmp_path / "cache").mkdir()
    os.symlink(qa.cache_dir() / "models", tmp_path / "cache" / "models")
    exe = Path(sys.executable).with_name("bayyina")
    out = subprocess.run([str(exe), "search", "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟", "-k", "3",
                          "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert "678" in hits[0]["text"]
    assert hits[0]["source"] == "collective_security.ar.txt" and hits[0]["lang"] == "ar"
    assert (tmp_path / "cache" / "indexes").is_dir()


def test_ask_json_and_history(tmp_path, docs, fake_models, capsys):
    idx = str(tmp_path / "idx")
    assert run(capsys, "index", "build", str(docs), "--index", idx)[0] == 0
    code, out, _ = run(capsys, "ask", "Which resolution was adopted in 1990?", "--index", idx, "--json")
    data = json.loads(out)
    assert code == 0 and set(data) == {"question", "answer", "short", "language", "abstained", "support",
                                       "citations", "reader", "check", "timings_ms"}
    assert data["language"] == "en" and data["reader"] == "extractive" and isinstance(data["abstained"], bool)
    hist = tmp_path / "h.json"
    hist.write_text(json.dumps([["Which resolution was adopted in 1990?", data["answer"]]]))
    code, out, _ = run(capsys, "ask", "When?", "--index", idx, "--history", str(hist), "--json")
    assert code == 0 and json.loads(out)["question"] == "When?"
    code, out, _ = run(capsys, "ask", "ما القرار الذي صدر عام 1990؟", "--index", idx, "--json")
    assert code == 0 and "\\u0" not in out and json.loads(out)["question"] in out   # Arabic as UTF-8 text
    hist.write_text("{not json")
    code, _, err = run(capsys, "ask", "When?", "--index", idx, "--history", str(hist))
    assert code == 2 and "not valid JSON" in err
    hist.write_text(json.dumps([["only a question"]]))
    code, _, err = run(capsys, "ask", "When?", "--index", idx, "--history", str(hist))
    assert code == 2 and "turn 0" in err
    code, _, err = run(capsys, "ask", "   ", "--index", idx)
    assert code == 2 and "empty" in err


def test_chat_keeps_going_after_a_bad_question(tmp_path, docs, fake_models, capsys, monkeypatch):
    idx = str(tmp_path / "idx")
    assert run(capsys, "index", "build", str(docs), "--index", idx)[0] == 0
    lines = iter(["这是什么", "Which resolution was adopted in 1990?", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    code, out, err = run(capsys, "chat", "--index", idx)
    assert code == 0
    assert "no Arabic or English words" in err
    assert "[1]" in out or "sources don't answer" in out


def test_add_with_only_bad_files_saves_nothing_and_says_so(tmp_path, docs, fake_models, capsys):
    idx = str(tmp_path / "idx")
    assert run(capsys, "index", "build", str(docs), "--index", idx)[0] == 0
    before = (tmp_path / "idx" / "manifest.json").read_text()
    code, out, err = run(capsys, "index", "add", str(docs / "broken.pdf"), "--index", idx)
    assert code == 1 and "index saved" not in out and "nothing changed" in out and "broken.pdf" in err
    assert (tmp_path / "idx" / "manifest.json").read_text() == before


def test_file_names_are_printed_safely(tmp_path, fake_models, capsys):
    from qa.cli import shown_name

    assert shown_name("a\nadded: evil.txt") == "a\\nadded: evil.txt"
    assert shown_name("cod\u202etxt.exe") == "cod\\u202etxt.exe" and shown_name("تقرير.txt") == "تقرير.txt"
    d = tmp_path / "d"
    d.mkdir()
    (d / "bad\nname.txt").write_text("", encoding="utf-8")      # empty: skipped, its name printed
    code, out, err = run(capsys, "index", "build", str(d), "--index", str(tmp_path / "idx"))
    assert code == 1 and "bad\\nname.txt" in err and "bad\nname" not in err


def test_an_empty_question_is_refused_before_any_model_loads(monkeypatch, capsys):
    monkeypatch.setattr(qa, "load_embedder", lambda *a, **k: pytest.fail("no model may load"))
    monkeypatch.setattr(qa.api, "load_embedder", lambda *a, **k: pytest.fail("no model may load"))
    code, _, err = run(capsys, "ask", "   ")
    assert code != 0 and "empty" in err


def test_an_index_path_that_is_a_file_is_refused_before_any_work(tmp_path, docs, monkeypatch, capsys):
    monkeypatch.setattr(qa, "load_embedder", lambda *a, **k: pytest.fail("no model may load"))
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    for command in ("build", "add"):
        code, _, err = run(capsys, "index", command, str(docs), "--index", str(afile))
        assert code != 0 and "is a file, not a folder" in err


def test_concurrent_cli_writers_keep_both_files(tmp_path, docs, fake_models, capsys):
    """`index add` holds the writer lock from loading to saving (see tests/index for processes)."""
    from index import store

    idx = tmp_path / "idx"
    assert run(capsys, "index", "build", str(docs / "un.en.md"), "--index", str(idx))[0] == 0
    with store.writer_lock(idx):      # this process holds it: the CLI call re-enters, it does not deadlock
        assert run(capsys, "index", "add", str(docs / "un.ar.txt"), "--index", str(idx))[0] == 0
    assert not (tmp_path / ".idx.lock").exists()


def test_serve_refuses_a_non_loopback_address_without_a_key(monkeypatch, capsys):
    monkeypatch.delenv("BAYYINA_API_KEY", raising=False)
    monkeypatch.setattr(qa, "load_embedder", lambda *a, **k: pytest.fail("no model may load"))
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2 and "without an API key" in err and "--api-key" in err

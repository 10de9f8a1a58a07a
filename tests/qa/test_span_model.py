"""The trained span reader: the shipped weights on fixed examples, tampering refused, and a smoke
training run (a few steps on a handful of made-up examples, then resume and load)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.errors import ModelError
from qa.readers.span_model import CARD_FILE, WEIGHTS_FILE, Card, SpanModel, _trim, model_question, shipped_dir

ROOT = Path(__file__).resolve().parents[2]

AR = ("أصدر مجلس الأمن القرار 678 في 29 نوفمبر 1990، وأجاز فيه استخدام القوة لإخراج القوات العراقية من الكويت. "
      "وقد انتهت العمليات العسكرية في 27 فبراير 1991.")
EN = ("The Kok-Aral Dam was completed in August 2005 with money from the World Bank. "
      "Since then the North Aral Sea has risen by several metres.")
UNRELATED_AR = "تقع مدينة فاس في شمال المغرب، وهي من أقدم المدن الإسلامية وتشتهر بجامعة القرويين."


@pytest.fixture(scope="module")
def model(real_embedder):
    return SpanModel(real_embedder)


@pytest.mark.parametrize("question, text, gold", [
    ("ما رقم القرار الذي أجاز استخدام القوة؟", AR, "678"),
    ("متى انتهت العمليات العسكرية؟", AR, "27 فبراير 1991"),
    ("When was the Kok-Aral Dam completed?", EN, "August 2005"),
    ("Who paid for the Kok-Aral Dam?", EN, "the World Bank"),
    ("What did the Security Council authorise in resolution 678?", AR,          # English question, Arabic text
     "استخدام القوة لإخراج القوات العراقية من الكويت"),
    ("When did the military operations end?", AR, "27 فبراير 1991"),
])
def test_the_shipped_model_finds_the_exact_span(model, question, text, gold):
    spans = model.spans(question, [text])
    assert spans, question
    s = spans[0]
    assert s.text.removeprefix("the ") == gold.removeprefix("the ")
    assert text[s.start:s.end] == s.text and s.margin > 0


def test_a_paragraph_without_the_answer_gives_none(model):
    spans = model.spans("متى انتهت العمليات العسكرية؟", [UNRELATED_AR])
    assert not spans or spans[0].margin < 0
    spans = model.spans("When was the Kok-Aral Dam completed?", [UNRELATED_AR])
    assert not spans or spans[0].margin < 0


def test_invisible_marks_in_the_question_change_nothing(model):
    """XQuAD's Arabic questions often open with a right-to-left mark (U+200F): the model reads the
    question without it (the passage is never altered: offsets stay those of the text)."""
    plain = model.spans("متى انتهت العمليات العسكرية؟", [AR])[0]
    marked = model.spans("\u200fمتى انتهت \u200eالعمليات العسكرية؟\ufeff", [AR])[0]
    assert (marked.start, marked.end, marked.text) == (plain.start, plain.end, plain.text)
    assert marked.score == pytest.approx(plain.score) and marked.null == pytest.approx(plain.null)


@pytest.mark.parametrize("text, span, want", [
    ("تحدث الرئيس جورج بوش «الأب» عن نظام جديد", "جورج بوش «الأب", "جورج بوش «الأب»"),   # its closing mark kept
    ("تحدث الرئيس جورج بوش «الأب» عن نظام جديد", "«الأب»", "الأب"),                       # marks around: dropped
    ("the Security Council (UNSC) met.", "Security Council (UNSC", "Security Council (UNSC)"),
    ("the Security Council (UNSC). Then", "Security Council (UNSC).", "Security Council (UNSC)"),
    ("He said “never again” twice.", "“never again”", "never again"),
    ("القرار 678، الذي", "القرار 678،", "القرار 678"),
    ("بالفقر والأمراض، والخلايا الإرهابية التي", "والخلايا الإرهابية", "الخلايا الإرهابية"),   # no leading "and"
    ("قال والد الطفل إن", "والد الطفل", "والد الطفل"),                                     # a word, not و + ال
    ("عين والي المدينة", "والي المدينة", "والي المدينة"),
])
def test_a_span_keeps_the_closing_mark_it_opens_and_loses_stray_edges(text, span, want):
    s0 = text.index(span)
    s, e = _trim(text, s0, s0 + len(span))
    assert text[s:e] == want


def test_passages_are_read_in_one_batch_in_order(model):
    spans = model.spans("When was the Kok-Aral Dam completed?", [UNRELATED_AR, EN, AR])
    assert [s.passage for s in spans] == [0, 1, 2]
    assert max(spans, key=lambda s: s.margin).passage == 1


def test_a_span_can_be_held_to_one_sentence_of_the_passage(model):
    q = "When was the Kok-Aral Dam completed?"
    best = model.spans(q, [EN])[0]
    a = EN.index(".") + 1                       # everything after the first sentence …
    if best.start >= a:
        a, b = 0, EN.index(".") + 1             # … or the first sentence alone
    else:
        b = len(EN)
    held = model.spans(q, [EN], within=[(a, b)])
    assert held and a <= held[0].start < held[0].end <= b and held[0].margin <= best.margin
    assert EN[held[0].start:held[0].end] == held[0].text
    assert model.spans(q, [EN], within=[None]) == [best]


def test_a_pair_read_again_is_not_run_again_and_reads_the_same(real_embedder):
    fresh = SpanModel(real_embedder)
    runs = []
    logits = fresh.logits
    fresh.logits = lambda enc: runs.append(len(enc["input_ids"])) or logits(enc)
    q = "متى انتهت العمليات العسكرية؟"
    first = fresh.spans(q, [AR, EN])
    assert runs == [2]
    again = fresh.spans(q, [EN, AR, UNRELATED_AR])          # only the new passage goes to the network
    assert runs == [2, 1]
    assert [(s.start, s.end, s.text) for s in again[:2]] == [(s.start, s.end, s.text) for s in first[::-1]]
    alone = SpanModel(real_embedder).spans(q, [AR])[0]     # the same span and scores as read alone (padding cut)
    ar = next(s for s in first if s.passage == 0)
    assert (alone.start, alone.end) == (ar.start, ar.end) and abs(alone.margin - ar.margin) < 1e-3
    fresh.spans("When did the military operations end?", [AR])    # another question is read afresh
    assert runs == [2, 1, 1]


def test_the_follow_up_question_leads():
    assert model_question("When was it issued?", "Which resolution? When was it issued?") == \
        "When was it issued? Which resolution?"
    assert model_question("متى صدر؟", "متى صدر؟") == "متى صدر؟"
    assert model_question("Why?", "") == "Why?"


def test_the_card_names_data_licences_and_checksum():
    card = Card.read(shipped_dir())
    raw = card.raw
    assert raw["never_trained_on"].startswith("XQuAD") and raw["command"].startswith("python bench/train_reader.py")
    assert all("licen" not in v.lower() or v for v in raw["data"].values()) and len(raw["data"]) >= 3
    assert raw["held_out"]
    # Trained here, or the mean of runs that were (bench/train_reader.py --average; a run averaged
    # may itself be a mean): every leaf of the card's tree was trained, and says how.
    def trained(card: dict) -> bool:
        if card["steps"] > 0:
            return card["command"].startswith("python bench/train_reader.py")
        return bool(card["previous"]["averaged"]) and all(trained(c) for c in card["previous"]["averaged"])

    assert trained(raw)
    assert (shipped_dir() / WEIGHTS_FILE).stat().st_size < 64 << 20


def test_tampered_weights_are_refused(tmp_path, real_embedder):
    folder = tmp_path / "reader"
    shutil.copytree(shipped_dir(), folder)
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        SpanModel(real_embedder, folder=folder)
    card = json.loads((shipped_dir() / CARD_FILE).read_text(encoding="utf-8"))
    (folder / CARD_FILE).write_text(json.dumps({**card, "format_version": 99}), encoding="utf-8")
    with pytest.raises(ModelError, match="format 99"):
        SpanModel(real_embedder, folder=folder)


def _squad(title_paragraphs: list[tuple[str, str, list[tuple[str, str]]]]) -> dict:
    data = []
    for title, context, qas in title_paragraphs:
        data.append({"title": title, "paragraphs": [{"context": context, "qas": [
            {"id": f"{title}-{j}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
            for j, (q, a) in enumerate(qas)]}]})
    return {"data": data}


@pytest.mark.slow
def test_smoke_training_writes_weights_that_load_and_resumes(tmp_path, real_embedder):
    train, bench, work, out = (tmp_path / n for n in ("train", "bench", "work", "out"))
    train.mkdir()
    bench.mkdir()
    en = [("Dam", EN, [("When was the dam completed?", "August 2005"), ("Who paid for the dam?", "World Bank")]),
          ("Sea", "The Aral Sea was once the fourth largest lake in the world.",
           [("What was the Aral Sea?", "the fourth largest lake in the world")])]
    ar = [("قرار", AR, [("ما رقم القرار؟", "678"), ("متى انتهت العمليات؟", "27 فبراير 1991")]),
          ("فاس", UNRELATED_AR, [("أين تقع فاس؟", "شمال المغرب")])]
    for name, content in (("squad-v1.1-train.en.json", en), ("tydiqa-goldp-train.en.json", en),
                          ("tydiqa-goldp-dev.ar.json", ar)):
        (train / name).write_text(json.dumps(_squad(content), ensure_ascii=False), encoding="utf-8")
    (bench / "arcd-train.ar.json").write_text(json.dumps(_squad(ar), ensure_ascii=False), encoding="utf-8")
    cmd = [sys.executable, str(ROOT / "bench" / "train_reader.py"), "--qa-train", str(train), "--bench", str(bench),
           "--work", str(work), "--out", str(out), "--dev-ar", "1", "--dev-en", "1", "--squad", "2", "--batch", "4",
           "--max-steps", "2", "--save-every", "1", "--threads", "1"]
    lexicon = tmp_path / "lexicon.json"           # cross-language pairs (bench/induce_lexicon.py's format)
    lexicon.write_text(json.dumps({"en_ar": {"dam": ["السد", 0.02]}, "ar_en": {"القرار": ["resolution", 0.03]}},
                                  ensure_ascii=False), encoding="utf-8")
    cmd += ["--lexicon", str(lexicon), "--cross-rate", "0.5"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((out / CARD_FILE).read_text(encoding="utf-8"))
    assert card["steps"] == 2 and card["held_out"]["tydi_ar_dev_heldout"]["n"] == 1
    assert card["examples"]["cross_language_questions"] > 0 and "cross:" in done.stderr
    assert json.loads((work / "ckpt" / "state.json").read_text())["step"] == 2
    loaded = SpanModel(real_embedder, folder=out)         # the checksum in the card matches
    assert loaded.card.sha256 == card["sha256"]
    again = subprocess.run(cmd + ["--resume", "--no-eval"], capture_output=True, text=True, timeout=600, env=env,
                           cwd=ROOT)
    assert again.returncode == 0 and "resumed at step 2/2" in again.stderr, again.stderr[-2000:]
    # A weight soup: the mean of this run and a second one (another batch order), evaluated and carded.
    second = tmp_path / "out2"
    done2 = subprocess.run([*cmd[: cmd.index("--work")], "--work", str(tmp_path / "work2"), "--out", str(second),
                            *cmd[cmd.index("--dev-ar"):], "--order-seed", "5", "--no-eval"],
                           capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done2.returncode == 0, done2.stderr[-2000:]
    soup = tmp_path / "soup"
    mixed = subprocess.run([*cmd[: cmd.index("--work")], "--work", str(tmp_path / "work3"), "--out", str(soup),
                            "--dev-ar", "1", "--dev-en", "1", "--squad", "2", "--threads", "1",
                            "--average", str(out), str(second)], capture_output=True, text=True, timeout=600, env=env,
                           cwd=ROOT)
    assert mixed.returncode == 0, mixed.stderr[-2000:]
    soup_card = json.loads((soup / CARD_FILE).read_text(encoding="utf-8"))
    assert soup_card["steps"] == 0 and soup_card["examples"] is None and soup_card["held_out"]
    assert [c["sha256"] for c in soup_card["previous"]["averaged"]] == [
        json.loads((f / CARD_FILE).read_text(encoding="utf-8"))["sha256"] for f in (out, second)]
    from safetensors.torch import load_file
    a, b, m = (load_file(str(f / WEIGHTS_FILE)) for f in (out, second, soup))
    key = next(k for k in a if not np.allclose(a[k].float().numpy(), b[k].float().numpy()))
    assert np.allclose(m[key].float().numpy(), (a[key].float().numpy() + b[key].float().numpy()) / 2, atol=2e-3)
    assert SpanModel(real_embedder, folder=soup).card.sha256 == soup_card["sha256"]
    # A run that is not there, or tampered with, is refused with the reason.
    refused = subprocess.run([*cmd[: cmd.index("--work")], "--work", str(tmp_path / "work4"), "--out",
                              str(tmp_path / "x"), "--average", str(out), str(tmp_path / "nowhere")],
                             capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert refused.returncode == 2 and "no reader.json here" in refused.stderr

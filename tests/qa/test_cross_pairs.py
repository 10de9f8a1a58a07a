"""The training recipe's cross-language pairs: the lexicon induction (CSLS) and the word-by-word
rendering of a question in the other language (``bench/induce_lexicon.py``, ``bench/train_reader.py``)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def train():
    return _load("train_reader")


@pytest.fixture(scope="module")
def lexicon_mod():
    return _load("induce_lexicon")


LEXICON = {
    "en_ar": {"council": ["مجلس", 0.02], "adopt": ["اعتمد", 0.01], "resolution": ["قرار", 0.03],
              "countries": ["الدول", 0.01], "church": ["مسجد", -0.004]},
    "ar_en": {"مجلس": ["council", 0.02], "اعتمد": ["adopted", 0.01], "قرار": ["resolution", 0.03],
              "دول": ["countries", 0.01], "العراق": ["pakistan", -0.006]},
}


def test_english_question_rendered_in_arabic(train):
    rng = random.Random(0)
    got = train.cross_question("When did the Council adopt resolution 678?", "en", LEXICON, rng)
    assert got == "متى مجلس اعتمد قرار 678؟"          # function words dropped, the number kept
    got = train.cross_question("How many countries voted for it?", "en", LEXICON, rng)
    assert got == "كم الدول voted؟"                    # a word the lexicon lacks stays as it is


def test_arabic_question_rendered_in_english(train):
    rng = random.Random(0)
    got = train.cross_question("متى اعتمد المجلس القرار 678؟", "ar", LEXICON, rng)
    assert got == "when adopted council resolution 678?"   # «المجلس» found without its article
    assert train.cross_question("كم عدد الدول؟", "ar", LEXICON, rng) == "how many عدد countries?"
    # «من» is "who" only as the first word; elsewhere it is "from", a function word
    assert train.cross_question("من أرسل القوات من العراق؟", "ar", LEXICON, rng).startswith("who أرسل القوات")


def test_low_scoring_matches_are_not_used(train):
    rng = random.Random(0)
    assert "pakistan" not in train.cross_question("ما عاصمة العراق؟", "ar", LEXICON, rng)
    assert "مسجد" not in train.cross_question("Which church is oldest?", "en", LEXICON, rng)
    assert "pakistan" in train.cross_question("ما عاصمة العراق؟", "ar", LEXICON, rng, min_match=-0.01)


def test_cross_renders_the_given_share_and_marks_it(train):
    ex = [train.Example(str(i), "When did the Council adopt it?", "ctx", 0, "x", "a", "en") for i in range(400)]
    out = train.cross(ex, 0.3, LEXICON, random.Random(5), 1.0, 0.0)
    crossed = [e for e in out if e.id.endswith("#x")]
    assert 90 <= len(crossed) <= 150 and all(e.question.startswith("متى") for e in crossed)
    assert all(e.question == "When did the Council adopt it?" for e in out if not e.id.endswith("#x"))
    assert train.cross(ex, 0.0, LEXICON, random.Random(5), 1.0, 0.0) == ex


def test_csls_best_matches_brute_force(lexicon_mod):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(37, 8)).astype(np.float32)
    b = rng.normal(size=(53, 8)).astype(np.float32)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    ra, rb = lexicon_mod._knn_mean(a, b, 5, chunk=7), lexicon_mod._knn_mean(b, a, 5, chunk=11)
    sims = a @ b.T
    assert np.allclose(ra, np.sort(sims, axis=1)[:, -5:].mean(axis=1), atol=1e-5)
    assert np.allclose(rb, np.sort(sims.T, axis=1)[:, -5:].mean(axis=1), atol=1e-5)
    idx, score = lexicon_mod.csls_best(a, b, ra, rb, chunk=10)
    full = 2 * sims - ra[:, None] - rb[None, :]
    assert (idx == full.argmax(axis=1)).all() and np.allclose(score, full.max(axis=1), atol=1e-5)


def test_vocabulary_counts_content_words_only(lexicon_mod):
    texts = ["The council met.", "The Council voted.", "the council", "اجتمع المجلس في نيويورك", "المجلس في",
             "المجْلس"]
    en = lexicon_mod.vocabulary(texts, lexicon_mod._EN_WORD, 10, "en", min_count=2)
    assert en == ["council"]                          # "the" is a stopword; lower-cased
    ar = lexicon_mod.vocabulary(texts, lexicon_mod._AR_WORD, 10, "ar", min_count=2)
    assert ar == ["المجلس"]                           # diacritics removed before counting; «في» a stopword

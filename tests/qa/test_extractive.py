"""The real extractive reader with the real embedder on the bundled corpus (slow)."""

import pytest

import qa

AR_Q = "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟"
EN_Q = "Which Security Council resolution authorised the use of force against Iraq?"


@pytest.fixture(scope="module")
def bot(real_embedder):
    index = qa.Index(real_embedder)
    index.add_documents([qa.load(qa.bundled_corpus_path(), source="collective_security.ar.txt")])
    return qa.Assistant(index, "extractive")


def _check_citations(answer):
    text = qa.bundled_corpus_path().read_text(encoding="utf-8")
    assert answer.citations, answer.text
    for c in answer.citations:
        assert text[c.start:c.end] == c.quote and f"[{c.n}]" in answer.text
        assert c.source == "collective_security.ar.txt"


def test_arabic_question(bot):
    a = bot.ask(AR_Q)
    assert not a.abstained and a.short == "678" and "678" in a.citations[0].quote
    assert a.lang == "ar" and a.reader == "extractive"
    _check_citations(a)


def test_cross_lingual_question_quotes_arabic_and_says_so(bot):
    a = bot.ask(EN_Q)
    assert not a.abstained and "678" in a.text and a.lang == "en"
    assert "Quoted in Arabic" in a.text
    _check_citations(a)


def test_follow_up_uses_the_conversation(bot):
    first = bot.ask(AR_Q)
    a = bot.ask("ومتى صدر؟", history=[(AR_Q, first.text)])
    assert a.search_query.startswith(AR_Q)
    assert not a.abstained and "1990" in a.short, (a.short, a.text)
    _check_citations(a)


@pytest.mark.parametrize("question, lang", [
    ("ما هي عاصمة اليابان؟", "ar"), ("How do I bake sourdough bread?", "en")])
def test_unanswerable_questions_abstain(bot, question, lang):
    a = bot.ask(question)
    assert a.abstained and a.text == {"ar": "لا تتضمن المصادر إجابة عن هذا السؤال.",
                                      "en": "The sources don't answer this question."}[lang]
    assert a.hits and not a.citations

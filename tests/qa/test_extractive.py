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


CORPUS = qa.bundled_corpus_path().read_text(encoding="utf-8")


@pytest.mark.parametrize("question, short", [
    ("متى انتهت العمليات العسكرية ضد العراق؟", "27 فبراير 1991"),
    ("When did the military operations against Iraq end?", "27 فبراير 1991"),
    ("متى صدر القرار 678؟", "29 نوفمبر 1990"),
    ("كم قرارا اتخذ مجلس الأمن إبان أزمة الكويت؟", "12"),
    ("ما الفئة الخامسة من التهديدات؟", "الإرهاب"),
    ("ما الفئة الأخيرة من التهديدات؟", "الجريمة المنظمة العالمية"),
    ("Which Security Council resolution authorised the use of force against Iraq?", "678"),
    ("Into how many categories can the threats be grouped?", "ست"),           # rendered "6" for the asker
    ("ما المفهوم الذي جاء أوسع نطاقا من مفهوم الأمن الجماعي؟", "الأمن الإنساني"),
])
def test_the_short_answer_and_its_exact_span_in_the_source(bot, question, short):
    """The questions that used to be abstained on (or answered with a whole passage) now get the
    short answer, and the citation's answer span is exactly those words in the source."""
    from qa.render import render_short

    a = bot.ask(question)
    shown = render_short(short, a.lang, question=question)      # 27 February 1991 for an English asker
    assert not a.abstained and a.short == shown, (a.text, a.short)
    c = a.citations[0]
    assert CORPUS[c.answer_start:c.answer_end] == short == c.answer_text   # the source's own words
    assert c.start <= c.answer_start and c.answer_end <= c.end and len(c.quote.split()) <= 40
    assert a.text.startswith(shown) and a.support in ("strong", "partial")
    _check_citations(a)


def test_a_short_complete_question_after_an_unrelated_turn_is_not_condensed(bot):
    a = bot.ask("What is human security?", history=[(EN_Q, "678 [1]")])
    assert a.search_query == "What is human security?"
    fresh = bot.ask("What is human security?")
    assert [c.quote for c in a.citations] == [c.quote for c in fresh.citations]


@pytest.mark.parametrize("follow_up, short", [
    ("When did it end?", "27 February 1991"),                # the end of the operations, not the resolution's date
    ("When did the Council adopt it?", "29 November 1990"),  # in the asker's language
])
def test_a_cross_lingual_follow_up_picks_the_date_it_asks_for(bot, follow_up, short):
    first = bot.ask(EN_Q)
    a = bot.ask(follow_up, [(EN_Q, first.text)])
    assert a.short == short, a.text

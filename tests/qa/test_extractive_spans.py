"""The extractive reader's quotes and exact answer spans, with the fake embedder (no model)."""

import pytest

import qa
from index.hybrid import Index
from sources.types import Document, Span
from tests.qa.fakes import FakeChat
from qa.readers.llm import LLMReader

ARAL = ("# The Aral Sea\n\n"
        "The Aral Sea was once the fourth largest lake in the world.\n\n"
        "## The Kok-Aral Dam\n\n"
        "Work on the Kok-Aral Dam began in 2003 with money from the World Bank. "
        "The dam was completed in **August 2005**. The North Aral Sea has risen since then.\n\n"
        "- The dam is 13 kilometres long.\n")
THREATS = ("ويمكن إجمال هذه التهديدات على ست فئات، هي:\n1. النزاع بين الدول\n2. الفقر والأمراض المعدية\n"
           "3. العنف الداخلي\n4. أسلحة الدمار الشامل\n5. الإرهاب\n6. الجريمة المنظمة العالمية\n")


@pytest.fixture
def bot(fake_embedder):
    headings = tuple(Span(m, ARAL.index("\n", m)) for m in (0, ARAL.index("## The Kok")))
    index = Index(fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(60, 10)))
    index.add_documents([Document("aral.en.md", ARAL, kind="md", headings=headings),
                         Document("threats.ar.txt", THREATS)])
    return qa.Assistant(index, qa.ExtractiveReader(fake_embedder, abstain=False, span_model=None))


def test_the_answer_leads_and_its_exact_span_is_cited(bot):
    a = bot.ask("When was the Kok-Aral Dam completed?")
    c = a.citations[0]
    assert a.short == "August 2005" and a.text.startswith("August 2005 — «")
    assert ARAL[c.answer_start:c.answer_end] == "August 2005" == c.answer_text
    assert c.start <= c.answer_start < c.answer_end <= c.end and "completed" in c.quote
    assert "**" not in a.text and "**" not in c.quote       # markdown never shows
    assert c.passage_start <= c.start and c.end <= c.passage_end


@pytest.mark.parametrize("question", ["What is the Aral Sea?", "ما هو بحر آرال؟", "Tell me about the Aral Sea"])
def test_a_heading_is_never_the_evidence(bot, question):
    a = bot.ask(question)
    assert not a.text.startswith("«# ") and "#" not in a.text
    assert all(not c.quote.lstrip().startswith("#") and c.quote.strip() not in ("The Aral Sea", "The Kok-Aral Dam")
               for c in a.citations)


def test_a_list_item_is_quoted_without_its_marker_and_found_by_position(bot):
    a = bot.ask("ما الفئة الخامسة من التهديدات؟")
    c = a.citations[0]
    assert a.short == "الإرهاب" and THREATS[c.answer_start:c.answer_end] == "الإرهاب"
    assert "5." not in a.text
    b = bot.ask("What is the length of the dam in kilometres?")
    assert not b.text.startswith("-") and "- The dam" not in b.text


def test_the_llm_reader_reads_sentences_and_snaps_to_the_source(fake_embedder, bot):
    chat = FakeChat('{"answer": "in August 2005", "passage": 1}')
    reader = LLMReader(chat, selector=qa.ExtractiveReader(fake_embedder, abstain=False, span_model=None), sentences=3)
    llm = qa.Assistant(bot.index, reader)
    a = llm.ask("When was the Kok-Aral Dam completed?")
    user = chat.calls[0]["messages"][1].content
    assert user.count("\n[") <= 3 and "The Aral Sea was once" not in user.split("[1]")[1].split("\n")[0]
    c = a.citations[0]
    assert a.text.startswith("August 2005 [") and c.answer_text == "August 2005"
    assert ARAL[c.answer_start:c.answer_end] == "August 2005" and c.end - c.start < 80


@pytest.mark.parametrize("question", ["ما الفئة الأخيرة من التهديدات؟", "Which category comes last?"])
def test_the_last_item_of_a_numbered_list_gets_the_position_bonus(bot, fake_embedder, question):
    from dataclasses import replace

    from qa.readers.extractive import ExtractiveReader, ExtractiveWeights

    reader = ExtractiveReader(fake_embedder, abstain=False, span_model=None)
    flat = ExtractiveReader(fake_embedder, abstain=False, span_model=None,
                            weights=replace(ExtractiveWeights(), list_position=0.0))
    hits = bot.index.search("ويمكن إجمال هذه التهديدات على ست فئات", k=3)
    cands = reader.candidates(hits)
    gain = reader.score(question, question, cands)[0] - flat.score(question, question, cands)[0]
    bonus = {c.text: round(float(g), 6) for c, g in zip(cands, gain) if g}
    assert bonus == {"الجريمة المنظمة العالمية": ExtractiveWeights().list_position}


def test_the_last_item_is_the_last_of_its_run_not_of_the_document(fake_embedder):
    from qa.readers.extractive import ExtractiveReader

    text = "الفئات:\n1. الأولى هنا\n2. الثانية هنا\n\nالأنواع:\n1. نوع أول هنا\n2. نوع ثان هنا\n3. نوع ثالث هنا\n"
    index = Index(fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(200, 10)))
    index.add_documents([Document("lists.ar.txt", text)])
    reader = ExtractiveReader(fake_embedder, abstain=False, span_model=None)
    last = [c.text for c in reader.candidates(index.search("الفئات", k=3)) if c.list_last]
    assert last == ["الثانية هنا", "نوع ثالث هنا"]


def test_across_languages_the_sentence_score_can_overrule_the_models_margin(fake_embedder):
    """The model prefers a span in the wrong Arabic sentence by a small margin; the English question's
    sentence score settles it — unless the margin is weighted to win (the ablation setting)."""
    from qa.readers.extractive import ExtractiveReader
    from tests.qa.fakes import FakeSpanModel

    doc = ("بنى الاتحاد السوفيتي السد العالي في أسوان.\n\n"
           "The Kok-Aral Dam was completed in August 2005 بمال البنك الدولي.\n")
    index = Index(fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(12, 0)))
    index.add_documents([Document("dams.txt", doc)])
    model = FakeSpanModel({"الاتحاد السوفيتي": 2.0, "البنك الدولي": 1.0})
    q = "Who paid for the Kok-Aral Dam completed in August 2005?"
    fused = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False, span_model=model, cross_weight=0.01))
    assert fused.ask(q).short == "البنك الدولي"
    trusting = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False, span_model=model, cross_weight=10.0))
    assert trusting.ask(q).short == "الاتحاد السوفيتي"
    alone = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False, span_model=model,
                                                 cross_language="model"))
    assert alone.ask(q).short == "الاتحاد السوفيتي"


def test_a_yes_no_question_gets_the_quoted_sentence_not_a_span_as_its_answer(fake_embedder):
    """A span cannot say yes or no: "هل…؟" / "Does…?" is answered by the cited sentence alone (no
    short answer, no words put forward in it); a choice ("…أم…؟") keeps its span, and so does the
    ablation setting (``question_form=False``)."""
    from qa.readers.extractive import ExtractiveReader
    from tests.qa.fakes import FakeSpanModel

    doc = ("خلا ميثاق الأمم المتحدة من الإشارة إلى عمليات حفظ السلام، ومن أبرز صورها قوات حفظ السلام.\n\n"
           "وكانت فعالية الأمم المتحدة رهنا بإرادة الدول الأعضاء الدائمين.\n")
    index = Index(fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(20, 0)))
    index.add_documents([Document("charter.ar.txt", doc)])
    model = FakeSpanModel({"قوات حفظ السلام": 3.0})
    bot = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False, span_model=model))
    for q in ("هل ذكر الميثاق عمليات حفظ السلام؟", "Does the UN Charter mention peacekeeping operations?"):
        a = bot.ask(q)
        assert not a.abstained and a.short == "", (q, a.short)
        assert "خلا ميثاق الأمم المتحدة من الإشارة" in a.citations[0].quote
        assert a.citations[0].answer_text == ""
    assert bot.ask("هل كانت قوات حفظ السلام أم المراقبون أبرز صورها؟").short == "قوات حفظ السلام"
    ablation = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False, span_model=model,
                                                    question_form=False))
    assert ablation.ask("هل ذكر الميثاق عمليات حفظ السلام؟").short == "قوات حفظ السلام"


def test_a_how_many_question_is_answered_with_a_quantity_or_not_at_all(fake_embedder):
    """"How many…?" takes a count ("12 قرارا"), never a label (the 678 of "رقم 678") nor words
    without a number; the ablation setting (``question_form=False``) keeps the model's span."""
    from qa.readers.extractive import ExtractiveReader
    from tests.qa.fakes import FakeSpanModel

    doc = ("سلم المجلس مفاتيح إدارة الأزمة إلى التحالف عبر قراره الشهير رقم 678.\n\n"
           "وكانت فعالية الأمم المتحدة رهنا بإرادة الدول الأعضاء الدائمين.\n")
    index = Index(fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(14, 0)))
    index.add_documents([Document("kuwait.ar.txt", doc)])
    model = FakeSpanModel({"678": 3.0, "الدول": 2.0})
    bot = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False, span_model=model))
    for q in ("وكم دولة صوتت لصالح القرار الشهير؟", "How many countries voted for resolution 678?",
              "كم عدد الأعضاء الدائمين؟"):
        a = bot.ask(q)
        assert a.abstained and not a.citations, (q, a.short)
    assert bot.ask("ما رقم القرار الشهير الذي سلم مفاتيح الأزمة؟").short == "678"
    ablation = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False, span_model=model,
                                                    question_form=False))
    assert ablation.ask("وكم دولة صوتت لصالح القرار الشهير؟").short == "678"

    counted = "اتخذ مجلس الأمن 12 قرارا إبان الأزمة بموجب قراره رقم 678.\n"
    index2 = Index(fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(14, 0)))
    index2.add_documents([Document("count.ar.txt", counted)])
    bot2 = qa.Assistant(index2, ExtractiveReader(fake_embedder, abstain=False,
                                                 span_model=FakeSpanModel({"12 قرارا إبان الأزمة بموجب": 2.0})))
    a = bot2.ask("كم قرارا اتخذ مجلس الأمن إبان الأزمة؟")
    assert a.short == "12" and counted[a.citations[0].answer_start:a.citations[0].answer_end] == "12"


def test_a_short_answer_that_only_echoes_the_question_is_left_out(fake_embedder):
    """«عمليات حفظ السلام» for "ما عمليات حفظ السلام؟" says nothing: the quote answers alone; a
    question that offers a choice ("…أم…", "…or…") may be answered with its own words."""
    from qa.readers.extractive import ExtractiveReader, _repeats_question
    from tests.qa.fakes import FakeSpanModel

    doc = "عمليات حفظ السلام هي التدابير التي اتخذتها الأمم المتحدة لتهدئة الصراعات.\n"
    index = Index(fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(30, 0)))
    index.add_documents([Document("pk.ar.txt", doc)])
    bot = qa.Assistant(index, ExtractiveReader(fake_embedder, abstain=False,
                                               span_model=FakeSpanModel({"عمليات حفظ السلام": 2.0})))
    a = bot.ask("ما عمليات حفظ السلام؟")
    assert not a.abstained and a.short == "" and a.citations[0].answer_start is None
    assert "التدابير التي اتخذتها الأمم المتحدة" in a.citations[0].quote
    assert _repeats_question("What is collective security?", "collective security")
    assert not _repeats_question("Which is larger, Egypt or Sudan?", "Sudan")
    assert not _repeats_question("أيهما أكبر، مصر أم السودان؟", "السودان")
    assert not _repeats_question("ما عمليات حفظ السلام؟", "التدابير التي اتخذتها الأمم المتحدة")

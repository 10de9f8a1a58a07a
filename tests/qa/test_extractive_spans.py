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

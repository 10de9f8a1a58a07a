"""The chain and the Assistant with a fake embedder and a fake reader (fast, deterministic)."""

import pytest

import qa
from index.hybrid import build
from qa.assistant import Assistant, question_language
from qa.chain import document_to_hit, hit_to_document
from qa.readers.base import Evidence
from qa.abstention import FEATURES, AbstentionModel, Logistic
from tests.qa.fakes import FakeReader


@pytest.fixture
def index(fake_embedder, bilingual_docs):
    return build(bilingual_docs, fake_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(30, 8)))


def test_hit_document_round_trip(index):
    for hit in index.search("القرار 678", 3):
        doc = hit_to_document(hit)
        assert doc.page_content == hit.passage.text and doc.id == hit.passage.id
        assert document_to_hit(doc) == hit


def test_streams_deltas_then_the_answer(index):
    bot = Assistant(index, FakeReader("The answer is 678 [1] [7]."), threshold=0.5)
    chunks = list(bot.stream("Which resolution was adopted in 1990?"))
    assert [c.delta for c in chunks[:-1]] == ["The", " answer", " is", " 678", " [1]", " [7]."]
    final = chunks[-1].answer
    assert final is not None and all(c.answer is None for c in chunks[:-1])
    assert final.text == "The answer is 678 [1]."       # [7] was never shown to the reader: dropped
    assert len(final.citations) == 1 and final.citations[0].n == 1
    assert final.citations[0].passage_id == final.hits[0].passage.id
    assert final.lang == "en" and final.reader == "fake" and not final.abstained
    assert final.timings_ms.total >= final.timings_ms.retrieve >= 0


def test_ask_equals_the_folded_stream(index):
    bot = Assistant(index, FakeReader(), threshold=None)
    a = bot.ask("القرار 678؟")
    assert a.text == "The answer is 678 [1]." and a.short == "678" and a.lang == "ar"
    d = a.to_dict()
    assert set(d) == {"question", "answer", "short", "language", "abstained", "support", "citations", "reader",
                      "check", "timings_ms"}
    assert set(d["citations"][0]) == {"n", "source", "start", "end", "page", "text", "score", "passage", "answer_span"}
    assert set(d["timings_ms"]) == {"condense", "retrieve", "read", "total", "first_token"}
    assert d["timings_ms"]["first_token"] <= d["timings_ms"]["total"]


def test_evidence_spans_become_quotes(index):
    hits = index.search("resolution 678", 5)  # what the assistant's reader is shown
    n = next(i for i, h in enumerate(hits, 1) if "resolution 678" in h.passage.text)
    start = hits[n - 1].passage.start + hits[n - 1].passage.text.index("resolution 678")
    bot = Assistant(index, FakeReader(f"678 [{n}]", evidence=(Evidence(n, start, start + 14),)), threshold=None)
    a = bot.ask("resolution 678")
    assert a.citations[0].quote == "resolution 678" and a.citations[0].start == start


@pytest.mark.parametrize("question, lang, message", [
    ("Which resolution?", "en", "The sources don't answer this question."),
    ("ما رقم القرار؟", "ar", "لا تتضمن المصادر إجابة عن هذا السؤال."),
])
def test_low_confidence_abstains_in_the_askers_language(index, question, lang, message):
    bot = Assistant(index, FakeReader(confidence=0.2), threshold=0.5)
    a = bot.ask(question)
    assert a.abstained and a.text == message and a.lang == lang and a.citations == ()
    assert a.hits, "the nearest passages are still returned"


def test_reader_abstention(index):
    assert Assistant(index, FakeReader(abstain=True), threshold=None).ask("x y z?").abstained


def test_follow_up_is_condensed_for_retrieval_only(index):
    reader = FakeReader()
    bot = Assistant(index, reader, threshold=None)
    a = bot.ask("When was it adopted?", history=[("Which resolution authorised force against Iraq?", "678 [1]")])
    assert a.search_query == "Which resolution authorised force against Iraq? When was it adopted?"
    assert reader.calls[-1]["question"] == "When was it adopted?"
    assert a.question == "When was it adopted?"


def test_exclude_sources_reaches_retrieval(index):
    bot = Assistant(index, FakeReader(), threshold=None)
    a = bot.ask("مجلس الأمن", exclude_sources=["un.ar.txt"])
    assert a.hits and {h.passage.source for h in a.hits} == {"un.en.txt"}


@pytest.mark.parametrize("question, message", [
    ("", "empty"), ("   \n", "empty"), ("x" * 1_048_576, "1,048,576 characters"),
    ("这是什么问题？", "no Arabic or English words"), (None, "must be text"),
])
def test_bad_questions(index, question, message):
    bot = Assistant(index, FakeReader())
    with pytest.raises(qa.QuestionError, match=message):
        bot.ask(question)


def test_question_language():
    assert question_language("ما هو مجلس الأمن؟") == "ar"
    assert question_language("What is the Security Council?") == "en"
    assert question_language("ما معنى Security Council؟") == "ar"


def test_bad_history_is_an_error_and_the_assistant_keeps_working(index):
    bot = Assistant(index, FakeReader(), threshold=None)
    with pytest.raises(qa.BayyinaError, match="turn 0"):
        bot.ask("When?", history=[("only one",)])
    assert not bot.ask("القرار 678؟").abstained


def test_unknown_reader_names_the_choices(index):
    with pytest.raises(qa.BayyinaError, match="Unknown reader 'gpt'.*extractive"):
        Assistant(index, "gpt")


def test_chain_is_a_langchain_runnable(index):
    from langchain_core.runnables import Runnable

    bot = Assistant(index, FakeReader(), threshold=None)
    assert isinstance(bot.chain, Runnable)


def test_extractive_reader_with_fake_embedder(index):
    """The extractive reader's mechanics (quote, citation, language note, thresholds) without a model."""
    bot = Assistant(index, "extractive", abstain=False)
    a = bot.ask("Which resolution did the Council adopt in 1990?")
    assert not a.abstained and "«" in a.text and a.citations
    body = a.text.split("\n")[0]
    assert all(f"[{c.n}]" in body for c in a.citations)
    for c in a.citations:
        doc = next(d for d in ("un.ar.txt", "un.en.txt") if d == c.source)
        assert c.quote and c.end > c.start and doc
    never = Logistic(weights=(0.0,) * len(FEATURES), bias=-10.0, mean=(0.0,) * len(FEATURES),
                     scale=(1.0,) * len(FEATURES), threshold=0.5)
    strict = Assistant(index, qa.ExtractiveReader(index.embedder, abstention=AbstentionModel(never, never)))
    a = strict.ask("Which resolution did the Council adopt in 1990?")
    assert a.abstained and a.support == "weak" and not a.citations


def test_twenty_concurrent_sessions_get_their_own_answers(index, tmp_path):
    """20 sessions × 5 questions at once, each with its own growing history, while documents are
    added: no error, no cross-talk — each answer equals the one the same conversation gets alone
    (fault suite)."""
    import threading

    bot = Assistant(index, "extractive", abstain=False)
    questions = ["Which resolution did the Council adopt in 1990?", "ما القرار الذي أصدره مجلس الأمن؟",
                 "When was it adopted?", "What is the Security Council?", "وهل نجح نظامه؟"]

    def conversation(i: int, ask) -> list[tuple[str, str]]:
        history: list[tuple[str, str]] = []
        for j in range(5):
            q = questions[(i + j) % 5]
            history.append((q, ask(q, list(history)).text))
        return history

    alone = {i: conversation(i, bot.ask) for i in range(5)}     # the five orders, one at a time
    results, errors = {}, []

    def session(i: int) -> None:
        try:
            for j, turn in enumerate(conversation(i, bot.ask)):
                results[(i, j)] = turn
        except Exception as exc:  # recorded, the test fails below
            errors.append(repr(exc))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    extra = tmp_path / "extra.en.txt"
    extra.write_text("An unrelated note about gardening and tomatoes.", encoding="utf-8")
    assert bot.add_files([extra]).added                   # while the sessions run
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 100
    assert all(results[(i, j)] == alone[i % 5][j] for i in range(20) for j in range(5))

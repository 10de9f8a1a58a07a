"""The chat's rules checked on the server, without a browser: ``qa.chat.Chat`` is what every
event of the page calls (asking, stopping, conversations, uploads, removal)."""

import threading
from pathlib import Path

import pytest

import qa
from index.hybrid import build
from qa.chat import Chat, ChatProblem, Session
from qa.uploads import document_id
from tests.qa.fakes import FakeReader


def _chat(fake_embedder, bilingual_docs, tmp_path, *, allow_remove=False, reader=None):
    bot = qa.Assistant(build(bilingual_docs, fake_embedder), reader or FakeReader())
    return Chat(bot, data_dir=tmp_path / "uploads", allow_remove=allow_remove)


def _upload(chat, s, tmp_path, name="notes.en.txt"):
    src = tmp_path / "in" / name
    src.parent.mkdir(exist_ok=True)
    src.write_text("Notes on the Security Council and resolution 678.", encoding="utf-8")
    status = chat.add(s, [str(src)], "en")
    assert status.startswith("✓") and name in status
    return next(source for source in s.uploads if source.endswith(name))


def test_a_visitor_cannot_remove_what_another_browser_or_the_server_added(fake_embedder, bilingual_docs, tmp_path):
    chat = _chat(fake_embedder, bilingual_docs, tmp_path)
    s, other = Session(), Session()
    upload = _upload(chat, s, tmp_path)
    for ui, says in (("en", "Only documents you added"), ("ar", "لا يمكن هنا حذف")):
        msg, removed = chat.remove(other, document_id("un.en.txt"), ui)
        assert not removed and msg.startswith("✗ " + says)
    msg, removed = chat.remove(other, document_id(upload), "en")
    assert not removed and len(chat.bot.documents()) == 3
    assert chat.remove(other, "ffffffffffffffff", "en") == ("", False)
    assert chat.documents(other, "en").removable == ()
    assert chat.documents(s, "en").removable == (("notes.en.txt", document_id(upload)),)


def test_a_visitor_removes_their_own_upload_and_its_stored_copy(fake_embedder, bilingual_docs, tmp_path):
    chat = _chat(fake_embedder, bilingual_docs, tmp_path)
    s = Session()
    upload = _upload(chat, s, tmp_path)
    stored = s.uploads[upload]
    assert stored.is_file() and stored.is_relative_to(tmp_path / "uploads" / s.id)   # its own folder
    assert "everyone" not in chat.confirm_question(s, document_id(upload), "en")
    msg, removed = chat.remove(s, document_id(upload), "en")
    assert removed and "notes.en.txt" in msg and not stored.exists() and not s.uploads
    assert sorted(d.source for d in chat.bot.documents()) == ["un.ar.txt", "un.en.txt"]


def test_an_administrator_removes_any_document(fake_embedder, bilingual_docs, tmp_path):
    chat = _chat(fake_embedder, bilingual_docs, tmp_path, allow_remove=True)
    s = Session()
    assert len(chat.documents(s, "ar").removable) == 2
    assert chat.confirm_question(s, document_id("un.ar.txt"), "en") is not None
    msg, removed = chat.remove(s, document_id("un.ar.txt"), "ar")
    assert removed and "un.ar.txt" not in [d.source for d in chat.bot.documents()]


def test_two_browsers_uploading_the_same_name_keep_both_copies(fake_embedder, bilingual_docs, tmp_path):
    chat = _chat(fake_embedder, bilingual_docs, tmp_path)
    a, b = Session(), Session()
    first, second = _upload(chat, a, tmp_path), _upload(chat, b, tmp_path)
    assert first != second and a.uploads[first].is_file() and b.uploads[second].is_file()


def test_asking_answers_into_the_current_conversation(fake_embedder, bilingual_docs, tmp_path):
    chat = _chat(fake_embedder, bilingual_docs, tmp_path)
    s = Session()
    chat.take(s, "  What does the Security Council do?  ", "en")
    page = chat.page(s, "en")
    assert page.busy and page.export is None and s.pending == "What does the Security Council do?"
    with pytest.raises(ChatProblem):
        chat.take(s, "another question", "en")            # one answer at a time
    list(chat.answer(s))
    page = chat.page(s, "en")
    assert not page.busy and len(s.conv.turns) == 1 and s.conv.turns[0].answer is not None
    assert page.export and "Security Council" in Path(page.export).read_text(encoding="utf-8")
    assert page.conversations == (("What does the Security Council do?", "c1"),)
    for q, ui in (("", "en"), ("x" * 5000, "ar")):
        with pytest.raises(ChatProblem) as exc:
            chat.take(s, q, ui)
        assert str(exc.value)
    assert s.pending is None and len(s.conv.turns) == 1


class _Slow(FakeReader):
    """Streams one word, then waits until released (so Stop can come in between)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def stream(self, question, hits, *, lang, search_query):
        from qa.readers.base import ReadingChunk

        yield ReadingChunk(delta="Partial words")
        self.release.wait(10)
        yield from super().stream(question, hits, lang=lang, search_query=search_query)


def test_stop_keeps_the_partial_answer_and_a_late_answer_is_dropped(fake_embedder, bilingual_docs, tmp_path):
    reader = _Slow()
    chat = _chat(fake_embedder, bilingual_docs, tmp_path, reader=reader)
    s = Session()
    chat.take(s, "What does the Security Council do?", "en")
    steps = chat.answer(s)
    next(steps, None)                 # the first words arrived
    assert s.partial == "Partial words"
    chat.stop(s)
    assert s.pending is None and s.conv.turns[-1].partial == "Partial words"
    reader.release.set()
    list(steps)                        # the answer finishing late changes nothing
    assert len(s.conv.turns) == 1 and s.conv.turns[-1].answer is None and s.partial == ""


def test_conversations_new_pick_delete_and_busy(fake_embedder, bilingual_docs, tmp_path):
    chat = _chat(fake_embedder, bilingual_docs, tmp_path)
    s = Session()
    chat.new(s, "en")
    assert len(s.conversations) == 1                      # an empty conversation is reused
    chat.take(s, "Who holds the veto?", "en")
    with pytest.raises(ChatProblem):
        chat.new(s, "ar")                                 # not while an answer is being written
    list(chat.answer(s))
    chat.new(s, "en")
    assert [c.key for c in s.conversations] == ["c1", "c2"] and s.conv.key == "c2"
    chat.pick(s, "c1", "en")
    assert s.conv.key == "c1" and len(s.conv.turns) == 1
    chat.delete(s, "en")
    assert [c.key for c in s.conversations] == ["c2"]
    chat.delete(s, "en")
    assert [c.key for c in s.conversations] == ["c3"]     # never without a conversation

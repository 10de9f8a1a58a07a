"""The chat's rules checked on the server, without a browser (its events can be called directly)."""

import qa
from index.hybrid import build
from qa.ui import _doc_id, _Session, remove_for_session
from qa.uploads import client_folder, store_uploads
from tests.qa.fakes import FakeReader


def _bot(fake_embedder, bilingual_docs, tmp_path):
    bot = qa.Assistant(build(bilingual_docs, fake_embedder), FakeReader())
    s = _Session()
    src = tmp_path / "in" / "notes.en.txt"
    src.parent.mkdir()
    src.write_text("Notes on the Security Council and resolution 678.", encoding="utf-8")
    stored, problems = store_uploads([str(src)], client_folder(tmp_path / "uploads", s.id))
    assert stored and not problems
    bot.add_files(stored)
    s.uploads[str(stored[0])] = stored[0]
    return bot, s, stored[0]


def test_a_visitor_cannot_remove_what_another_browser_or_the_server_added(fake_embedder, bilingual_docs, tmp_path):
    bot, s, _ = _bot(fake_embedder, bilingual_docs, tmp_path)
    other = _Session()
    for ui, says in (("en", "Only documents you added"), ("ar", "لا يمكن هنا حذف")):
        msg, removed = remove_for_session(bot, other, _doc_id("un.en.txt"), ui, allow_remove=False,
                                          data_dir=tmp_path / "uploads")
        assert not removed and msg.startswith("✗ " + says)
    upload = next(d.source for d in bot.documents() if d.source.endswith("notes.en.txt"))
    msg, removed = remove_for_session(bot, other, _doc_id(upload), "en", allow_remove=False,
                                      data_dir=tmp_path / "uploads")
    assert not removed and len(bot.documents()) == 3
    assert remove_for_session(bot, other, "ffffffffffffffff", "en", allow_remove=False,
                              data_dir=tmp_path / "uploads") == ("", False)


def test_a_visitor_removes_their_own_upload_and_its_stored_copy(fake_embedder, bilingual_docs, tmp_path):
    bot, s, stored = _bot(fake_embedder, bilingual_docs, tmp_path)
    msg, removed = remove_for_session(bot, s, _doc_id(str(stored)), "en", allow_remove=False,
                                      data_dir=tmp_path / "uploads")
    assert removed and "notes.en.txt" in msg and not stored.exists() and not s.uploads
    assert sorted(d.source for d in bot.documents()) == ["un.ar.txt", "un.en.txt"]


def test_an_administrator_removes_any_document(fake_embedder, bilingual_docs, tmp_path):
    bot, _, _ = _bot(fake_embedder, bilingual_docs, tmp_path)
    msg, removed = remove_for_session(bot, _Session(), _doc_id("un.ar.txt"), "ar", allow_remove=True,
                                      data_dir=tmp_path / "uploads")
    assert removed and "un.ar.txt" not in [d.source for d in bot.documents()]

"""The Gradio chat: rendering helpers, upload safety, and the real app in a real browser."""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

import qa
from tests.net import free_port
from qa.ui import message_html, safe_upload_name, sources_html, store_uploads

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]


def test_message_direction_follows_its_language_and_markers_link():
    ar = message_html("القرار 678 [1]")
    assert 'dir="rtl"' in ar and '<a class="cite" href="#src-1">[1]</a>' in ar
    assert 'dir="ltr"' in message_html("Resolution 678 [2]")
    assert "&lt;script&gt;" in message_html("<script>alert(1)</script>")


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\win.md", "win.md"), (".hidden.pdf", "hidden.pdf"),
    ("تقرير الأمن.docx", "تقرير الأمن.docx"), ("a/b/c;rm -rf.html", "c_rm -rf.html"), ("..", "upload"),
])
def test_upload_names_cannot_escape(name, safe):
    assert safe_upload_name(name) == safe


def test_store_uploads_limits_type_and_size(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "ok.txt").write_text("نص")
    (src / "bad.exe").write_bytes(b"MZ")
    (src / "big.txt").write_bytes(b"x" * (2 * 1024 * 1024))
    data = tmp_path / "data"
    stored, problems = store_uploads([src / "ok.txt", src / "bad.exe", src / "big.txt"], data, max_mb=1)
    assert stored == [(data / "ok.txt").resolve()]
    assert any("bad.exe: unsupported type" in p for p in problems) and any("over the 1 MB limit" in p for p in problems)


def test_sources_panel_highlights_the_quote(fake_embedder, bilingual_docs):
    from index.hybrid import build
    from tests.qa.fakes import FakeReader
    from qa.readers.base import Evidence

    index = build(bilingual_docs, fake_embedder)
    hits = index.search("resolution 678", 5)
    n = next(i for i, h in enumerate(hits, 1) if "resolution 678" in h.passage.text)
    p = hits[n - 1].passage
    start = p.start + p.text.index("resolution 678")
    bot = qa.Assistant(index, FakeReader(f"678 [{n}]", evidence=(Evidence(n, start, start + 14),)))
    panel = sources_html(bot.ask("resolution 678"))
    assert '<li id="src-1">' in panel and "<mark>resolution 678</mark>" in panel and "un.en.txt" in panel
    # The answer's own words are marked inside the supporting quote.
    a0 = start + len("resolution ")
    bot = qa.Assistant(index, FakeReader(f"678 — «resolution 678» [{n}]",
                                         evidence=(Evidence(n, start, start + 14, a0, a0 + 3),)))
    answer = bot.ask("resolution 678")
    panel = sources_html(answer)
    assert '<mark>resolution <mark class="answer">678</mark></mark>' in panel
    assert message_html(answer.text, "en", answer.short).startswith(
        '<div class="bayyina-msg answer" dir="ltr" lang="en"><strong class="short"><bdi>678</bdi></strong> — '
        '<bdi dir="ltr">«resolution 678»</bdi>')


def test_an_english_answer_quoting_arabic_keeps_its_direction_and_parentheses():
    msg = message_html("678 — «لكن ومع دخول الأزمة رقم 678 …» [1]\n(Quoted in Arabic, as written in the source.)",
                       "en", "678")
    assert 'dir="ltr"' in msg.split(">")[0] and '<bdi dir="rtl">«لكن' in msg
    assert "<br>(Quoted in Arabic" in msg         # the note sits outside every isolate, in the answer's direction


def _serve(real_embedder, tmp_path_factory, **options):
    """A real server on 127.0.0.1 over the bundled corpus: (url, index, app)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    pytest.importorskip("gradio")
    from qa.ui import serve

    index = qa.Index(real_embedder)
    index.add_documents([qa.load(qa.bundled_corpus_path(), source="collective_security.ar.txt")])
    port = free_port()
    app = serve(qa.Assistant(index), port=port, data_dir=tmp_path_factory.mktemp("uploads"),
                prevent_thread_lock=True, **options)
    return f"http://127.0.0.1:{port}/", index, app


@pytest.fixture(scope="module")
def app_url(real_embedder, tmp_path_factory):
    url, _, app = _serve(real_embedder, tmp_path_factory, allow_remove=True)   # visitors may remove (tested)
    yield url
    app.close()


@pytest.fixture(scope="module")
def locked_url(real_embedder, tmp_path_factory):
    """A server started without --allow-remove."""
    url, index, app = _serve(real_embedder, tmp_path_factory)
    yield url, index
    app.close()


def test_without_the_admin_flag_nothing_can_be_removed_and_no_path_is_shown(locked_url):
    import json
    import urllib.request

    from gradio_client import Client

    url, index = locked_url
    info = urllib.request.urlopen(url + "gradio_api/info", timeout=30).read().decode()
    config = urllib.request.urlopen(url + "config", timeout=30).read().decode()
    assert "remove_doc" not in info and "/root/" not in info and str(qa.cache_dir()) not in config
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="history is not valid JSON"):
        client.predict("ما القرار؟", "{not json", api_name="/ask")
    with pytest.raises(Exception, match="question is empty"):
        client.predict("   ", "[]", api_name="/ask")
    assert [s.source for s in index.sources] == ["collective_security.ar.txt"]
    assert json.loads(config)  # the page config is served


def test_gradio_client_api(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict("ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟", "[]", api_name="/ask")
    assert result["language"] == "ar" and not result["abstained"] and "678" in result["answer"]
    assert result["citations"][0]["source"] == "collective_security.ar.txt"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it as root)")
def test_chat_in_a_real_browser(app_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(locale="en-US")
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(app_url, wait_until="load")
        box = page.locator("#question textarea")
        box.wait_for(timeout=60_000)

        def ask(q: str, expect_messages: int) -> None:
            box.fill(q)
            box.press("Enter")
            page.wait_for_function(
                f"() => document.querySelectorAll('#chat .bayyina-msg').length >= {expect_messages} && "
                "document.querySelector('#sources').innerText.includes('[')", timeout=60_000)
            page.wait_for_timeout(300)

        # An Arabic question: the answer streams in, right-to-left, with a citation link and the source panel.
        ask("ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟", 2)
        msgs = page.locator("#chat .bayyina-msg")
        assert "678" in msgs.nth(1).inner_text()
        assert page.evaluate("() => getComputedStyle(document.querySelectorAll('#chat .bayyina-msg')[1]).direction") \
            == "rtl"
        assert page.locator("#chat a.cite").count() >= 1
        assert page.locator("#chat a.cite").first.get_attribute("href") == "#src-1"
        panel = page.locator("#sources").inner_text()
        assert "collective_security.ar.txt" in panel and "678" in page.locator("#sources mark").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "chat_ar.png"), full_page=True)

        # An English question over the Arabic source: a left-to-right message that says the quote is Arabic.
        ask("Which Security Council resolution authorised the use of force against Iraq?", 4)
        en = page.locator("#chat .bayyina-msg").nth(3)
        assert "Quoted in Arabic" in en.inner_text()
        assert page.evaluate("() => getComputedStyle(document.querySelectorAll('#chat .bayyina-msg')[3]).direction") \
            == "ltr"

        # A follow-up uses the conversation.
        ask("ومتى صدر؟", 6)
        assert "1990" in page.locator("#chat .bayyina-msg").nth(5).inner_text()
        page.screenshot(path=str(ARTIFACTS / "chat_follow_up.png"), full_page=True)

        # Upload a document, then ask about it.
        doc = tmp_path / "lighthouse.txt"
        doc.write_text("The Alexandria lighthouse keeper in this story is named Captain Idris Farouk. "
                       "He kept the lamp burning for forty-one years.", encoding="utf-8")
        page.get_by_role("tab", name="Documents / المستندات").click()
        page.locator("#upload input[type=file]").set_input_files(str(doc))
        page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('lighthouse.txt')",
                               timeout=120_000)
        assert "indexed" in page.locator("#upload-status").inner_text()
        assert "lighthouse.txt" in page.locator("#documents").inner_text()
        page.screenshot(path=str(ARTIFACTS / "documents.png"), full_page=True)
        page.get_by_role("tab", name="Chat / المحادثة").click()
        ask("How many years did the lighthouse keeper keep the lamp burning?", 8)
        assert "forty-one" in page.locator("#chat .bayyina-msg").nth(7).inner_text()
        assert "lighthouse.txt" in page.locator("#sources").inner_text()
        page.screenshot(path=str(ARTIFACTS / "chat_upload.png"), full_page=True)

        # Remove it again.
        page.get_by_role("tab", name="Documents / المستندات").click()
        choice = page.locator("#remove-choice input")
        choice.click()
        choice.fill("lighthouse")
        page.get_by_role("option", name=re.compile("lighthouse")).click()
        page.locator("#remove").click()
        page.wait_for_function("() => !document.querySelector('#documents').innerText.includes('lighthouse.txt')",
                               timeout=60_000)
        assert "removed lighthouse.txt" in page.locator("#upload-status").inner_text()

        # The interface language toggle.
        page.get_by_label("ar", exact=True).check()
        page.wait_for_function("() => document.querySelector('#title').innerText.includes('بيّنة')", timeout=10_000)
        assert page.locator("#question textarea").get_attribute("placeholder").startswith("اكتب")
        browser.close()
    outside = sorted({u for u in requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))})
    assert not outside, f"the page fetched from outside: {outside[:5]}"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it as root)")
def test_two_sessions_do_not_share_history(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        a, b = browser.new_page(), browser.new_page()
        for page in (a, b):
            page.goto(app_url, wait_until="load")
            page.locator("#question textarea").wait_for(timeout=60_000)
        a.locator("#question textarea").fill("ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟")
        a.locator("#question textarea").press("Enter")
        a.wait_for_function("() => document.querySelectorAll('#chat .bayyina-msg').length >= 2", timeout=60_000)
        time.sleep(0.5)
        assert b.locator("#chat .bayyina-msg").count() == 0
        browser.close()

"""The Gradio chat: rendering helpers, upload safety, and the real app in a real browser."""

import os
import re
import time
import shutil
from pathlib import Path

import pytest

import qa
from tests.net import free_port
from qa.ui import safe_upload_name, store_uploads

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]


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


def _serve(real_embedder, tmp_path_factory, **options):
    """A real server on 127.0.0.1 over the bundled corpus, offering the extractive reader and a
    slow fake "llm" (for Stop): (url, assistant, uploads folder, app)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    pytest.importorskip("gradio")
    from qa.ui import Readers, serve
    from tests.qa.fakes import SlowReader

    index = qa.Index(real_embedder)
    index.add_documents([qa.load(qa.bundled_corpus_path(), source="collective_security.ar.txt")])
    bot = qa.Assistant(index)
    readers = Readers(bot, {"llm": lambda: bot.with_reader(SlowReader(qa.ExtractiveReader(real_embedder)))})
    port = free_port()
    data = tmp_path_factory.mktemp("uploads")
    app = serve(bot, port=port, data_dir=data, prevent_thread_lock=True, readers=readers, **options)
    return f"http://127.0.0.1:{port}/", bot, data, app


@pytest.fixture(scope="module")
def app_url(real_embedder, tmp_path_factory):
    url, _, _, app = _serve(real_embedder, tmp_path_factory, allow_remove=True)   # an administrator's server
    yield url
    app.close()


@pytest.fixture(scope="module")
def locked(real_embedder, tmp_path_factory):
    """A server started without --allow-remove: (url, assistant, uploads folder)."""
    url, bot, data, app = _serve(real_embedder, tmp_path_factory)
    yield url, bot, data
    app.close()


@pytest.fixture(scope="module")
def locked_url(locked):
    return locked[0], locked[1].index


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




# ---------------------------------------------------------------------------- in a real browser

needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                   reason="needs Debian's chromium (make test installs it as root)")
LAPTOP, PHONE = (1280, 900), (390, 844)
FLOWS = {   # question, what the short answer holds, a follow-up, what it holds, a question the chapter never answers
    "en": ("Which Security Council resolution authorised the use of force against Iraq?", "678",
           "When did the Council adopt it?", "1990", "Who was the president of France in 1990?"),
    "ar": ("ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟", "678", "ومتى صدر؟", "1990", "من كان رئيس فرنسا عام 1990؟"),
}
# Latin words the Arabic page may show: the other language's name, the bundled file's name, format names.
ALLOWED_LATIN = {"English", "collective", "security", "ar", "txt", "PDF", "OpenAI"}


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


def _open(browser, url, *, lang="en", size=LAPTOP, requests=None):
    context = browser.new_context(locale="ar" if lang == "ar" else "en-US",
                                  viewport={"width": size[0], "height": size[1]})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    page.locator("#question textarea").wait_for(timeout=60_000)
    title = "بيّنة" if lang == "ar" else "Bayyina"
    page.wait_for_function(f"() => document.querySelector('#title').innerText.includes('{title}')", timeout=30_000)
    page.wait_for_timeout(300)
    return page


def _ask(page, question: str, n: int):
    """Ask and wait for the n-th finished answer card; return it."""
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        f"() => document.querySelectorAll('#conversation article.card:not(.pending)').length >= {n}", timeout=60_000)
    page.wait_for_timeout(200)
    return page.locator("#conversation article.card").nth(n - 1)


def _in_view(page, selector: str) -> bool:
    return page.evaluate("(s) => { const e = document.querySelector(s); if (!e) return false; "
                         "const r = e.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }", selector)


def _wait_opened(page, source: str) -> None:
    """Wait (with a deadline) until the source drawer ``source`` is open with its answer words on screen."""
    page.wait_for_function(
        "(s) => { const d = document.querySelector(s); const m = d && d.querySelector('mark.answer'); "
        "if (!d || !d.classList.contains('active') || !m) return false; "
        "const r = m.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }", arg=source,
        timeout=10_000)


def _outside(requests: list[str]) -> list[str]:
    return sorted({u for u in requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))})


@needs_browser
@pytest.mark.parametrize("lang, size", [("en", LAPTOP), ("ar", PHONE), ("ar", LAPTOP), ("en", PHONE)],
                         ids=["en-laptop", "ar-phone", "ar-laptop", "en-phone"])
def test_a_learner_asks_and_sees_the_exact_words(browser, locked, lang, size):
    url, bot, _ = locked
    requests: list[str] = []
    page = _open(browser, url, lang=lang, size=size, requests=requests)
    name = f"chat_{lang}_{'laptop' if size == LAPTOP else 'phone'}"
    direction = page.evaluate("() => getComputedStyle(document.documentElement).direction")
    assert direction == ("rtl" if lang == "ar" else "ltr")
    empty = page.locator("#conversation .empty").inner_text()
    assert ("الأمن الجماعي" if lang == "ar" else "collective security") in empty
    page.screenshot(path=str(ARTIFACTS / f"{name}_empty.png"), full_page=True)
    if lang == "ar":
        _assert_no_english(page)

    question, short, follow_up, follow_short, unanswerable = FLOWS[lang]
    api = bot.ask(question)
    c = api.citations[0]
    card = _ask(page, question, 1)
    page.wait_for_function("() => !document.querySelector('#send').disabled", timeout=10_000)   # Ask is back
    assert not page.locator("#stop").is_visible()
    assert short in card.locator(".short").inner_text()
    assert card.locator(".evidence").inner_text().strip()          # a word, not a fusion score
    assert not re.search(r"\b0\.\d{3}\b", page.locator("#conversation").inner_text())
    # The chip's preview is the cited sentence.
    chip = card.locator("a.cite").first
    if size == LAPTOP:
        chip.hover()
        preview = chip.locator(".preview")
        assert preview.is_visible()
        cited = bot.document_text(c.source)[c.start:c.end]
        assert " ".join(preview.inner_text().split()) == " ".join(cited.split())
    # Clicking it opens this message's source with the answer's own words highlighted, in view.
    chip.click()
    _wait_opened(page, "#c1-m1-s1")
    src = page.locator("#c1-m1-s1")
    assert src.is_visible() and "active" in src.get_attribute("class")
    assert src.locator("mark.answer").inner_text() == c.answer_text
    assert _in_view(page, "#c1-m1-s1 mark.answer")

    card2 = _ask(page, follow_up, 2)
    assert follow_short in card2.inner_text()
    card3 = _ask(page, unanswerable, 3)
    assert "abstained" in card3.get_attribute("class") and card3.locator("a.cite").count() == 0
    assert ("لم يُعثر" if lang == "ar" else "Not found in your documents") in card3.inner_text()
    # An old message's chip still opens its own source, not the latest answer's.
    page.locator("#conversation article.card").nth(0).locator("a.cite").first.click()
    _wait_opened(page, "#c1-m1-s1")
    assert "active" in page.locator("#c1-m1-s1").get_attribute("class") and _in_view(page, "#c1-m1-s1 mark.answer")
    # Copy puts plain text with the markers and a sources list on the clipboard.
    page.locator("#conversation article.card").nth(0).locator("button.copy").click()
    deadline = time.monotonic() + 10
    copied = page.evaluate("() => navigator.clipboard.readText()")
    while "[1]" not in copied and time.monotonic() < deadline:   # polled: the copy handler is asynchronous
        page.wait_for_timeout(100)
        copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "<" not in copied and "[1]" in copied and "collective_security.ar.txt" in copied and short in copied
    page.locator("#conversation article.card").nth(0).locator("a.cite").first.click()   # the drawer, open, on screen
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=size == LAPTOP)
    page.screenshot(path=str(ARTIFACTS / f"{name}_full.png"), full_page=True)
    if lang == "ar":
        _assert_no_english(page)
    assert not _outside(requests), f"the page fetched from outside: {_outside(requests)[:5]}"


def _assert_no_english(page) -> None:
    # Gradio's own status line ("common.complete") can show for a moment after an event: poll with a
    # deadline, so only English that stays on the page fails.
    deadline = time.monotonic() + 5
    while True:
        text = page.evaluate("() => document.body.innerText")
        placeholder = page.locator("#question textarea").get_attribute("placeholder") or ""
        latin = set(re.findall(r"[A-Za-z]+", text + " " + placeholder)) - ALLOWED_LATIN
        if not latin or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    assert not latin, f"English left in the Arabic interface: {sorted(latin)}"


@needs_browser
def test_conversations_switch_and_export_as_markdown(browser, locked):
    url, _, _ = locked
    page = _open(browser, url)
    _ask(page, FLOWS["en"][0], 1)
    with page.expect_download() as download:
        page.locator("#export").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("# Which Security Council") and "Sources:" in exported and "[1]" in exported
    page.locator("#new-conv").click()
    page.wait_for_function("() => document.querySelector('#conversation .empty') !== null", timeout=10_000)
    _ask(page, FLOWS["ar"][0], 1)
    radios = page.locator("#conversations label")
    assert radios.count() == 2
    radios.nth(0).click()            # back to the first conversation: its own answer and sources
    page.wait_for_function("() => document.querySelector('#conversation').innerText.includes('Which Security')",
                           timeout=10_000)
    page.locator("#delete-conv").click()
    page.wait_for_function("() => document.querySelectorAll('#conversations label').length === 1", timeout=10_000)
    assert "ما رقم القرار" in page.locator("#conversation").inner_text()
    # A question that is too long: a clear error, and the pasted text is still in the box.
    long = "Which resolution? " * 130
    box = page.locator("#question textarea")
    box.fill(long)
    box.press("Enter")
    page.get_by_text("characters long").first.wait_for(timeout=10_000)
    assert box.input_value() == long


@needs_browser
def test_stop_ends_a_slow_answer_and_what_you_typed_survives(browser, locked):
    url, _, _ = locked
    page = _open(browser, url)
    page.locator("#reader input").click()
    page.get_by_role("option", name="Local model").click()
    page.wait_for_function("() => document.querySelector('#reader-note').innerText.includes('language model')",
                           timeout=30_000)
    box = page.locator("#question textarea")
    box.fill(FLOWS["en"][0])
    box.press("Enter")
    page.wait_for_function("() => { const e = document.querySelector('.thinking .elapsed'); "
                           "return e && parseInt(e.textContent) >= 1; }", timeout=30_000)
    assert page.locator("#send").is_disabled() and page.locator("#stop").is_visible()
    page.screenshot(path=str(ARTIFACTS / "chat_thinking.png"))
    box.fill("And what happened next?")
    box.press("Enter")                 # a second question while one runs: refused visibly, kept in the box
    page.get_by_text("An answer is still being written").first.wait_for(timeout=10_000)
    page.wait_for_function("() => document.querySelector('.pending .body')?.innerText.trim().length > 0",
                           timeout=30_000)
    page.locator("#stop").click()
    page.wait_for_function("() => !document.querySelector('#conversation .pending') && "
                           "document.querySelector('#conversation').innerText.includes('Stopped.')", timeout=15_000)
    assert box.input_value() == "And what happened next?"
    assert page.locator("#send").is_enabled()
    page.wait_for_timeout(1500)        # the stopped stream never comes back to overwrite the card
    assert "Stopped." in page.locator("#conversation article.card").nth(0).inner_text()
    assert page.locator("#conversation article.card").count() == 1


@needs_browser
def test_documents_a_visitor_adds_can_be_removed_after_confirming_and_nothing_else(browser, locked, tmp_path):
    url, bot, data = locked
    page = _open(browser, url)
    assert not page.locator("#remove-choice").is_visible()       # the bundled corpus is not the visitor's
    doc = tmp_path / "lighthouse.txt"
    doc.write_text("The Alexandria lighthouse keeper in this story is named Captain Idris Farouk. "
                   "He kept the lamp burning for forty-one years.", encoding="utf-8")
    with page.expect_file_chooser() as chooser:
        page.locator("#upload").click()
    chooser.value.set_files(str(doc))
    page.wait_for_function("() => document.querySelector('#upload-status').innerText.includes('lighthouse.txt')",
                           timeout=120_000)
    listed = page.locator("#documents").inner_text()
    assert "lighthouse.txt" in listed and "yours" in listed and "1 passage" in listed
    card = _ask(page, "How many years did the lighthouse keeper keep the lamp burning?", 1)
    assert "forty-one" in card.inner_text()
    stored = [p for p in data.rglob("lighthouse.txt")]
    assert len(stored) == 1
    page.screenshot(path=str(ARTIFACTS / "documents.png"), full_page=True)

    choice = page.locator("#remove-choice input")
    choice.click()
    options = page.get_by_role("option")
    assert [o.inner_text().strip() for o in options.all()] == ["lighthouse.txt"]   # only what this browser added
    options.first.click()
    page.locator("#remove").click()
    page.locator("#confirm-text").get_by_text("lighthouse.txt").wait_for(timeout=10_000)
    assert "lighthouse.txt" in page.locator("#documents").inner_text()   # nothing happens before confirming
    page.locator("#cancel-remove").click()
    page.locator("#confirm-text").wait_for(state="hidden", timeout=10_000)
    assert "lighthouse.txt" in page.locator("#documents").inner_text()
    page.locator("#remove").click()
    page.locator("#confirm-remove").click()
    page.wait_for_function("() => !document.querySelector('#documents').innerText.includes('lighthouse.txt')",
                           timeout=60_000)
    assert not stored[0].exists()                                          # its stored copy is gone
    assert [s.source for s in bot.documents()] == ["collective_security.ar.txt"]


@needs_browser
def test_an_administrator_may_remove_any_document(browser, app_url):
    page = _open(browser, app_url)
    page.locator("#remove-choice input").click()
    assert "collective_security.ar.txt" in [o.inner_text().strip() for o in page.get_by_role("option").all()]


@needs_browser
def test_two_sessions_do_not_share_history(browser, locked):
    url, _, _ = locked
    a, b = _open(browser, url), _open(browser, url)
    _ask(a, FLOWS["ar"][0], 1)
    assert b.locator("#conversation article.card").count() == 0

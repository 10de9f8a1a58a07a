"""The Gradio chat: cited answers, a sources panel, Arabic right-to-left, your own documents.

It only calls the public API (``Assistant``). Gradio is imported here, when the UI is built.
Each browser session keeps its own conversation (``gr.State``); documents are shared by all.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
from pathlib import Path
from typing import Sequence

from qa.uploads import MAX_UPLOAD_MB, safe_upload_name, store_uploads  # noqa: F401 (the UI's API)
from qa.abstain import nearest_label, unverified_note
from qa.assistant import Assistant
from qa.errors import BayyinaError, MissingDependencyError
from qa.readers.factory import READERS
from qa.types import Answer
from sources.loaders import SUPPORTED_SUFFIXES
from sources.text import detect_language

logger = logging.getLogger(__name__)

MAX_HISTORY_JSON = 200_000   # characters of history one API call may send
STREAM_INTERVAL_S = 0.05   # at most ~20 redraws a second while tokens stream
EXAMPLES = [
    "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟",
    "متى انتهت العمليات العسكرية في أزمة الخليج؟",
    "Which Security Council resolution authorised the use of force against Iraq?",
    "What did George H. W. Bush call for after the Cold War?",
]
TEXT = {
    "ar": {"title": "## بيّنة — إجابات موثّقة من مصادرك", "placeholder": "اكتب سؤالك بالعربية أو بالإنجليزية…",
           "send": "اسأل", "sources": "المصادر", "docs": "المستندات", "upload": "أضف ملفات (txt, md, html, pdf, docx)",
           "remove": "احذف", "reader": "القارئ", "clear": "محادثة جديدة", "indexed": "المستندات المفهرسة",
           "no_sources": "ستظهر المصادر المستشهد بها هنا."},
    "en": {"title": "## Bayyina — cited answers from your sources",
           "placeholder": "Ask in Arabic or English…", "send": "Ask", "sources": "Sources", "docs": "Documents",
           "upload": "Add files (txt, md, html, pdf, docx)", "remove": "Remove", "reader": "Reader",
           "clear": "New conversation", "indexed": "Indexed documents",
           "no_sources": "The cited passages will appear here."},
}
CSS = """
.bayyina-msg, .bayyina-src { unicode-bidi: plaintext; font-family: "Noto Naskh Arabic", "DejaVu Sans", sans-serif; }
.bayyina-msg[dir=rtl], .bayyina-src[dir=rtl] { text-align: right; }
.bayyina-msg.answer { unicode-bidi: isolate; }
#question textarea { unicode-bidi: plaintext; text-align: start; }
.bayyina-src mark { background: #ffe58a; padding: 0 2px; }
.bayyina-src mark.answer { background: #ffb84d; font-weight: 700; padding: 0 1px; }
.bayyina-src li { margin-bottom: 0.8em; }
a.cite { text-decoration: none; font-weight: 600; }
"""
_MARKER = re.compile(r"\[(\d+)\]")


def _dir(text: str) -> str:
    return "rtl" if detect_language(text, threshold=0.5) == "ar" else "ltr"


_QUOTED = re.compile(r"«[^»]*»")


def message_html(text: str, lang: str | None = None, short: str = "") -> str:
    """A chat message with its own direction; ``[n]`` markers become links to the sources panel;
    the short answer the text leads with is bold. An answer (``lang`` given: the asker's language)
    is laid out in that direction, with every quote and the short answer isolated (``<bdi>``) so a
    quote in the other script never flips the note's parentheses or the order of the numbers."""
    direction = "rtl" if (lang or detect_language(text, threshold=0.5)) == "ar" else "ltr"
    if lang is None:   # a question as typed: each paragraph follows its own first letters
        body = html.escape(text)
        kind = "bayyina-msg"
    else:
        rest = text
        head = ""
        if short and text.startswith(short):
            head = f'<strong class="short"><bdi>{html.escape(short)}</bdi></strong>'
            rest = text[len(short):]
        pieces, pos = [], 0
        for m in _QUOTED.finditer(rest):
            pieces.append(html.escape(rest[pos:m.start()]))
            pieces.append(f'<bdi dir="{_dir(m.group(0))}">{html.escape(m.group(0))}</bdi>')
            pos = m.end()
        pieces.append(html.escape(rest[pos:]))
        body = head + "".join(pieces)
        kind = "bayyina-msg answer"
    body = body.replace("\n", "<br>")
    body = _MARKER.sub(lambda m: f'<a class="cite" href="#src-{m.group(1)}">[{m.group(1)}]</a>', body)
    return f'<div class="{kind}" dir="{direction}" lang="{"ar" if direction == "rtl" else "en"}">{body}</div>'


def sources_html(answer: Answer | None, ui_lang: str = "en") -> str:
    """The cited passages, each with the quoted span highlighted inside it."""
    if answer is None:
        return f'<div class="bayyina-src" dir="{"rtl" if ui_lang == "ar" else "ltr"}">{TEXT[ui_lang]["no_sources"]}</div>'
    passages = {h.passage.id: h for h in answer.hits}
    items = []
    if answer.abstained:
        for i, h in enumerate(answer.hits[:3], start=1):
            p = h.passage
            items.append(f'<li id="near-{i}"><b>{html.escape(_name(p.source))}</b> · {h.score:.3f}'
                         f'<div class="bayyina-src" dir="{_dir(p.text)}">{html.escape(p.text)}</div></li>')
        head = html.escape(nearest_label(answer.lang))
        return f'<div class="bayyina-src"><p>{head}</p><ol>{"".join(items)}</ol></div>'
    for c in answer.citations:
        hit = passages.get(c.passage_id)
        if hit is not None:
            p = hit.passage
            a, b = c.start - p.start, c.end - p.start
            if c.answer_start is not None and c.answer_end is not None:   # the answer itself, inside the quote
                x, y = c.answer_start - p.start, c.answer_end - p.start
                quoted = (html.escape(p.text[a:x]) + '<mark class="answer">' + html.escape(p.text[x:y]) + "</mark>"
                          + html.escape(p.text[y:b]))
            else:
                quoted = html.escape(p.text[a:b])
            body = html.escape(p.text[:a]) + "<mark>" + quoted + "</mark>" + html.escape(p.text[b:])
        else:
            body = "<mark>" + html.escape(c.quote) + "</mark>"
        page = f" · p. {c.page}" if c.page else ""
        items.append(f'<li id="src-{c.n}"><b>[{c.n}] {html.escape(_name(c.source))}</b>{page} · {c.score:.3f}'
                     f'<div class="bayyina-src" dir="{_dir(c.quote)}">{body}</div></li>')
    return f'<div class="bayyina-src"><ol>{"".join(items)}</ol></div>'


def documents_markdown(bot: Assistant) -> str:
    docs = bot.documents()
    if not docs:
        return "—"
    return "\n".join(f"- `{_name(d.source)}` — {d.kind}, {d.passages} passages" for d in docs)


def _name(source: str) -> str:
    """What a person calls a source: its file name (sources are full paths of uploaded files)."""
    return Path(source).name or source


def _doc_id(source: str) -> str:
    """An opaque id for a document: what the page and its API see instead of a server path."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _choices(bot: Assistant) -> list[tuple[str, str]]:
    return [(_name(d.source), _doc_id(d.source)) for d in bot.documents()]


def _source_of(bot: Assistant, doc_id: str) -> str | None:
    return next((d.source for d in bot.documents() if _doc_id(d.source) == doc_id), None)




def build_app(bot: Assistant, *, data_dir: Path, max_upload_mb: int = MAX_UPLOAD_MB, allow_remove: bool = False):
    """The Gradio Blocks app and the keyword arguments its ``launch`` needs (CSS). Removing documents
    is an administrator's act: off unless ``allow_remove`` (``bayyina serve --allow-remove``)."""
    try:
        import gradio as gr
    except ImportError:
        raise MissingDependencyError("The chat UI needs Gradio.", 'pip install "bayyina[ui]"') from None

    with gr.Blocks(title="Bayyina — بيّنة") as app:
        ui_lang = gr.Radio(["ar", "en"], value="en", label="العربية / English", elem_id="ui-lang")
        title = gr.Markdown(TEXT["en"]["title"], elem_id="title")
        history = gr.State([])
        with gr.Tab("Chat / المحادثة"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(height=460, elem_id="chat", sanitize_html=True, label="Bayyina")
                    question = gr.Textbox(placeholder=TEXT["en"]["placeholder"], show_label=False, elem_id="question",
                                          lines=1)
                    with gr.Row():
                        send = gr.Button(TEXT["en"]["send"], variant="primary", elem_id="send")
                        clear = gr.Button(TEXT["en"]["clear"], elem_id="clear")
                    gr.Examples(EXAMPLES, inputs=question)
                with gr.Column(scale=2):
                    sources_title = gr.Markdown(f"### {TEXT['en']['sources']}")
                    sources = gr.HTML(sources_html(None), elem_id="sources")
                    reader = gr.Dropdown(list(READERS), value=bot.reader.name, label=TEXT["en"]["reader"],
                                         elem_id="reader", interactive=False)  # chosen by `serve --reader`
        with gr.Tab("Documents / المستندات"):
            upload = gr.File(file_count="multiple", file_types=list(SUPPORTED_SUFFIXES), label=TEXT["en"]["upload"],
                             elem_id="upload")
            status = gr.Markdown("", elem_id="upload-status")
            docs_title = gr.Markdown(f"### {TEXT['en']['indexed']}")
            docs = gr.Markdown(documents_markdown(bot), elem_id="documents")
            with gr.Row(visible=allow_remove):
                to_remove = gr.Dropdown(_choices(bot), value=None, label=TEXT["en"]["remove"],
                                        elem_id="remove-choice")
                remove = gr.Button(TEXT["en"]["remove"], elem_id="remove")

        def respond(q: str, turns: list, messages: list, lang: str):
            messages = list(messages or [])
            if not q or not q.strip():
                yield messages, gr.skip(), turns, q
                return
            messages.append({"role": "user", "content": message_html(q)})
            yield messages, gr.skip(), turns, ""
            messages.append({"role": "assistant", "content": ""})
            answer, streamed, shown_at = None, "", 0.0
            try:
                for chunk in bot.stream(q, [tuple(t) for t in turns]):
                    streamed += chunk.delta
                    if chunk.answer is not None:
                        answer = chunk.answer
                    elif chunk.delta and time.monotonic() - shown_at > STREAM_INTERVAL_S:
                        shown_at = time.monotonic()
                        messages[-1] = {"role": "assistant", "content": message_html(streamed)}
                        yield messages, gr.skip(), turns, ""
            except BayyinaError as exc:
                messages[-1] = {"role": "assistant", "content": message_html(f"⚠ {exc}", lang)}
                yield messages, gr.skip(), turns, ""
                return
            assert answer is not None
            text = answer.text  # authoritative: markers renumbered, or an abstention
            if answer.check == "unsupported":
                text += "\n⚠ " + unverified_note(answer.lang)
            messages[-1] = {"role": "assistant", "content": message_html(text, answer.lang, answer.short)}
            turns = turns + [[q, answer.text]]
            yield messages, sources_html(answer, lang), turns, ""

        for trigger in (question.submit, send.click):
            trigger(respond, [question, history, chat, ui_lang], [chat, sources, history, question])
        clear.click(lambda lang: ([], sources_html(None, lang), []), [ui_lang], [chat, sources, history])

        def add_files(files, progress=gr.Progress()):
            if not files:
                return gr.skip(), gr.skip(), gr.skip()
            progress(0.1, desc="copying files")
            stored, problems = store_uploads([getattr(f, "name", f) for f in files], data_dir, max_mb=max_upload_mb)
            progress(0.3, desc="indexing")
            report = bot.add_files(stored) if stored else None
            progress(1.0, desc="done")
            lines = []
            if report is not None:
                if report.added or report.replaced:
                    lines.append("✓ indexed: " + ", ".join(Path(s).name for s in report.added + report.replaced)
                                 + f" ({report.passages_added} passages)")
                if report.unchanged:
                    lines.append("= unchanged: " + ", ".join(Path(s).name for s in report.unchanged))
                problems += [f"{Path(s.path).name}: {s.reason}" for s in report.skipped]
            lines += [f"✗ {p}" for p in problems]
            return "\n\n".join(lines), documents_markdown(bot), gr.update(choices=_choices(bot))

        upload.upload(add_files, [upload], [status, docs, to_remove])

        def remove_doc(doc_id):
            if not allow_remove:   # checked here too: an event can be called without the page
                return ("✗ removing documents is turned off on this server (start it with --allow-remove)",
                        gr.skip(), gr.skip())
            source = _source_of(bot, doc_id) if doc_id else None
            if source is None:
                return gr.skip(), gr.skip(), gr.skip()
            try:
                n = bot.remove_document(source)
                msg = f"removed {_name(source)} ({n} passages)"
            except BayyinaError as exc:
                msg = f"✗ {exc}"
            return msg, documents_markdown(bot), gr.update(choices=_choices(bot), value=None)

        remove.click(remove_doc, [to_remove], [status, docs, to_remove], api_visibility="private")

        def switch(lang: str):
            t = TEXT[lang]
            return (t["title"], gr.update(placeholder=t["placeholder"]), gr.update(value=t["send"]),
                    gr.update(value=t["clear"]), f"### {t['sources']}", f"### {t['indexed']}",
                    gr.update(label=t["upload"]), gr.update(label=t["reader"]), gr.update(label=t["remove"]),
                    gr.update(value=t["remove"]))

        ui_lang.change(switch, [ui_lang], [title, question, send, clear, sources_title, docs_title, upload, reader,
                                           to_remove, remove])
        # The interface language follows the browser's on first load.
        app.load(None, None, [ui_lang], js="() => ((navigator.language || 'en').startsWith('ar') ? 'ar' : 'en')")

        def api_ask(q: str, turns_json: str = "[]") -> dict:
            import json

            if len(turns_json or "") > MAX_HISTORY_JSON:
                raise gr.Error(f"The history is {len(turns_json):,} characters; send at most {MAX_HISTORY_JSON:,} "
                               "(the last turns are enough).")
            try:
                turns = json.loads(turns_json or "[]")
                return bot.ask(q, turns).to_dict()
            except ValueError as exc:
                raise gr.Error(f"The history is not valid JSON ({str(exc)[:80]}): send a list of "
                               "[question, answer] pairs.") from None
            except BayyinaError as exc:      # a user's mistake: a clean message, no traceback
                raise gr.Error(str(exc)[:500]) from None

        gr.api(api_ask, api_name="ask")
    return app, {"css": CSS}


def serve(bot: Assistant, *, host: str = "127.0.0.1", port: int = 7860, data_dir: Path,
          prevent_thread_lock: bool = False, allow_remove: bool = False):
    """Build and launch the app; return it (with ``prevent_thread_lock`` the call returns at once)."""
    app, launch_kwargs = build_app(bot, data_dir=data_dir, allow_remove=allow_remove)
    app.queue(default_concurrency_limit=4)
    app.launch(server_name=host, server_port=port, prevent_thread_lock=prevent_thread_lock, quiet=True,
               max_file_size=f"{MAX_UPLOAD_MB}mb", **launch_kwargs)
    return app

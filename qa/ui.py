"""The Gradio chat: answer cards with citation chips, each message's own sources, a right-to-left
page in Arabic, Stop, conversations, export, your own documents.

Layout and wiring only: every rule lives in ``qa.chat`` (``Chat``, Gradio-free and tested without
a browser). ``_layout`` builds the components and names them; ``_wire`` connects each event to
one ``Chat`` action and turns what it returns into updates of components addressed by name. It
only calls the public API (``Assistant``); Gradio is imported here, when the UI is built. Each
browser session keeps its own ``Session`` (``gr.State``); the index is shared. What it shows is
rendered by ``qa.ui_render``; its words live in ``qa.ui_text``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

from qa.assistant import Assistant
from qa.chat import Chat, ChatProblem, Documents, Page, Readers, Session
from qa.errors import BayyinaError, MissingDependencyError
from qa.ui_text import CSS, EXAMPLES, FONTS, MONO_FONTS, SCRIPT, t
from qa.uploads import MAX_UPLOAD_MB, safe_upload_name, store_uploads
from sources.loaders import SUPPORTED_SUFFIXES

__all__ = ["build_app", "serve", "safe_upload_name", "store_uploads", "Readers"]

logger = logging.getLogger(__name__)

MAX_HISTORY_JSON = 200_000   # characters of history one API call may send


def _gradio():
    try:
        import gradio as gr
    except ImportError:
        raise MissingDependencyError("The chat UI needs Gradio.", 'pip install "bayyina[ui]"') from None
    return gr


def build_app(bot: Assistant, *, data_dir: Path, max_upload_mb: int = MAX_UPLOAD_MB, allow_remove: bool = False,
              readers: Readers | None = None):
    """The Gradio Blocks app and the keyword arguments its ``launch`` (or ``mount_gradio_app``)
    needs: theme, CSS, the page script, no footer. ``readers``: the readers to offer (default:
    only ``bot``'s). Removing other people's documents (the bundled corpus included) is an
    administrator's act, off unless ``allow_remove`` (``bayyina serve --allow-remove``); a visitor
    can always remove what they uploaded in their own browser, after confirming."""
    gr = _gradio()
    chat = Chat(bot, data_dir=Path(data_dir), readers=readers, max_upload_mb=max_upload_mb,
                allow_remove=allow_remove)
    with gr.Blocks(title="Bayyina — بيّنة") as app:
        c = _layout(gr, chat)
        _wire(gr, app, c, chat)
    theme = gr.themes.Default(font=FONTS, font_mono=MONO_FONTS)
    return app, {"css": CSS, "theme": theme, "head": SCRIPT, "footer_links": []}


def _layout(gr, chat: Chat) -> SimpleNamespace:
    """The page's components, by name (English first; the page switches language on load)."""
    readers, ui = chat.readers, "en"
    c = SimpleNamespace(session=gr.State(Session), ui=gr.State(ui))
    with gr.Row(elem_id="topbar"):
        with gr.Column(scale=3, min_width=240):
            c.title = gr.HTML(_title_html(ui), elem_id="title")
        c.lang_pick = gr.Radio([("العربية", "ar"), ("English", "en")], value=ui, show_label=False, container=False,
                               elem_id="ui-lang", scale=0, min_width=200)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            c.conversation = gr.HTML(chat.conversation(Session(), ui), elem_id="conversation")
            with gr.Row(elem_id="composer"):
                c.question = gr.Textbox(placeholder=t(ui, "placeholder"), label=t(ui, "question"), show_label=False,
                                        container=False, elem_id="question", lines=1, max_lines=6, scale=5,
                                        min_width=300, autofocus=True)
                c.send = gr.Button(t(ui, "send"), variant="primary", elem_id="send", scale=1, min_width=72)
                c.stop = gr.Button(t(ui, "stop"), variant="stop", elem_id="stop", visible=False, scale=1, min_width=72)
            with gr.Row(elem_id="examples"):
                c.examples = [gr.Button(x, size="sm", elem_classes="example") for x in EXAMPLES[ui]]
        with gr.Column(scale=1, min_width=260, elem_id="side"):
            c.reader = gr.Dropdown(readers.choices(ui), value=readers.default, label=t(ui, "reader"),
                                   elem_id="reader", interactive=len(readers.names) > 1)
            c.reader_note = gr.Markdown(readers.note(readers.default, ui), elem_id="reader-note")
            c.conv_pick = gr.Radio([], label=t(ui, "conversations"), elem_id="conversations")
            with gr.Row():
                c.new = gr.Button(t(ui, "new"), size="sm", elem_id="new-conv")
                c.delete = gr.Button(t(ui, "delete"), size="sm", elem_id="delete-conv")
            c.export = gr.DownloadButton(t(ui, "export"), value=None, interactive=False, size="sm", elem_id="export")
            c.docs_title = gr.Markdown(f"### {t(ui, 'documents')}", elem_id="documents-title")
            c.docs = gr.HTML(chat.documents(None, ui).html, elem_id="documents")
            c.upload = gr.UploadButton(t(ui, "upload"), file_count="multiple", size="sm",
                                       file_types=list(SUPPORTED_SUFFIXES), elem_id="upload")
            c.status = gr.Markdown("", elem_id="upload-status")
            with gr.Group(visible=chat.allow_remove) as c.remove_group:
                c.to_remove = gr.Dropdown([], value=None, label=_remove_label(chat, ui), elem_id="remove-choice")
                c.remove = gr.Button(t(ui, "remove"), size="sm", elem_id="remove")
            with gr.Group(visible=False) as c.confirm_group:
                c.confirm_text = gr.Markdown("", elem_id="confirm-text")
                with gr.Row():
                    c.confirm = gr.Button(t(ui, "confirm"), variant="stop", size="sm", elem_id="confirm-remove")
                    c.cancel = gr.Button(t(ui, "cancel"), size="sm", elem_id="cancel-remove")
    c.timer = gr.Timer(1.0, active=readers.loading)
    return c


def _remove_label(chat: Chat, ui: str) -> str:
    return t(ui, "remove_choice_admin" if chat.allow_remove else "remove_choice")


def _page(gr, c: SimpleNamespace, page: Page, ui: str) -> dict:
    """Updates showing ``page``: the conversation, the list of conversations, export, Send and Stop."""
    return {c.conversation: page.conversation,
            c.conv_pick: gr.update(choices=list(page.conversations), value=page.current, label=t(ui, "conversations")),
            c.export: gr.update(value=page.export, interactive=page.export is not None),
            c.send: gr.update(interactive=not page.busy), c.stop: gr.update(visible=page.busy)}


def _documents(gr, c: SimpleNamespace, docs: Documents, chat: Chat, ui: str) -> dict:
    """Updates showing the document list and what this session may remove."""
    return {c.docs: docs.html, c.remove_group: gr.update(visible=bool(docs.removable)),
            c.to_remove: gr.update(choices=list(docs.removable), value=None, label=_remove_label(chat, ui))}


def _wire(gr, app, c: SimpleNamespace, chat: Chat) -> None:
    """Each event calls one ``Chat`` action; a ``ChatProblem`` is shown as an error, nothing changed."""
    for part in (_wire_asking, _wire_conversations, _wire_readers, _wire_documents, _wire_language, _wire_api):
        part(gr, app, c, chat)


def _page_out(c: SimpleNamespace) -> list:
    return [c.conversation, c.conv_pick, c.export, c.send, c.stop]


def _docs_out(c: SimpleNamespace) -> list:
    return [c.docs, c.remove_group, c.to_remove]


def _shown(gr, problem: ChatProblem, ui: str):
    return gr.Error(str(problem), title=t(ui, "error"))


_PRIVATE = {"api_visibility": "private"}


def _wire_asking(gr, app, c: SimpleNamespace, chat: Chat) -> None:
    def take(q: str, s: Session, ui: str):
        try:
            chat.take(s, q, ui)
        except ChatProblem as exc:
            raise _shown(gr, exc, ui) from None
        return {**_page(gr, c, chat.page(s, ui), ui), c.question: ""}

    def answer(s: Session, ui: str, reader_name: str):
        for _ in chat.answer(s, reader_name):
            yield chat.conversation(s, ui)
        yield chat.conversation(s, ui)

    def page_of(s: Session, ui: str):
        return _page(gr, c, chat.page(s, ui), ui)

    def stopped(s: Session, ui: str):
        chat.stop(s)
        return page_of(s, ui)

    asked = gr.on([c.question.submit, c.send.click], take, [c.question, c.session, c.ui],
                  _page_out(c) + [c.question], show_progress="hidden", **_PRIVATE)
    # The conversation shows its own thinking line: no progress overlay covers the page or Stop.
    answering = asked.success(answer, [c.session, c.ui, c.reader], [c.conversation], concurrency_limit=None,
                              show_progress="hidden", **_PRIVATE)
    answering.then(page_of, [c.session, c.ui], _page_out(c), show_progress="hidden", **_PRIVATE)
    c.stop.click(stopped, [c.session, c.ui], _page_out(c), cancels=[answering], show_progress="hidden", **_PRIVATE)
    for button in c.examples:
        button.click(lambda label: label, [button], [c.question], **_PRIVATE)


def _wire_conversations(gr, app, c: SimpleNamespace, chat: Chat) -> None:
    def acting(action):
        def run(*args):
            *rest, s, ui = args
            try:
                action(s, *rest, ui)
            except ChatProblem as exc:
                raise _shown(gr, exc, ui) from None
            return _page(gr, c, chat.page(s, ui), ui)
        return run

    c.conv_pick.input(acting(chat.pick), [c.conv_pick, c.session, c.ui], _page_out(c), **_PRIVATE)
    c.new.click(acting(chat.new), [c.session, c.ui], _page_out(c), **_PRIVATE)
    c.delete.click(acting(chat.delete), [c.session, c.ui], _page_out(c), **_PRIVATE)


def _wire_readers(gr, app, c: SimpleNamespace, chat: Chat) -> None:
    def reader_state(name: str, ui: str):
        active = chat.readers.loading   # read before the note: a load that ends in between gets one more tick
        return chat.readers.note(name or chat.readers.default, ui), gr.Timer(active=active)

    def choose_reader(name: str, ui: str):
        if name != chat.readers.default:
            chat.readers.start(name)
        return chat.readers.note(name, ui), gr.Timer(active=True)

    c.reader.change(choose_reader, [c.reader, c.ui], [c.reader_note, c.timer], **_PRIVATE)
    c.timer.tick(reader_state, [c.reader, c.ui], [c.reader_note, c.timer], **_PRIVATE)


def _wire_documents(gr, app, c: SimpleNamespace, chat: Chat) -> None:
    def add_files(files, s: Session, ui: str, progress=gr.Progress()):
        if not files:
            return {}
        progress(0.1)
        status = chat.add(s, [getattr(f, "name", f) for f in files], ui)
        progress(1.0)
        return {c.status: status, **_documents(gr, c, chat.documents(s, ui), chat, ui),
                c.conversation: chat.conversation(s, ui)}

    def ask_remove(doc_id: str, s: Session, ui: str):
        question = chat.confirm_question(s, doc_id, ui)
        return {} if question is None else {c.confirm_text: question, c.confirm_group: gr.update(visible=True)}

    def do_remove(doc_id: str, s: Session, ui: str):
        msg, removed = chat.remove(s, doc_id, ui)
        out = {c.confirm_group: gr.update(visible=False)}
        if msg:
            out[c.status] = msg
        if removed:
            out |= {**_documents(gr, c, chat.documents(s, ui), chat, ui), c.conversation: chat.conversation(s, ui)}
        return out

    c.upload.upload(add_files, [c.upload, c.session, c.ui], [c.status, *_docs_out(c), c.conversation], **_PRIVATE)
    c.remove.click(ask_remove, [c.to_remove, c.session, c.ui], [c.confirm_text, c.confirm_group], **_PRIVATE)
    c.confirm.click(do_remove, [c.to_remove, c.session, c.ui],
                    [c.status, c.confirm_group, *_docs_out(c), c.conversation], **_PRIVATE)
    c.cancel.click(lambda: gr.update(visible=False), None, [c.confirm_group], **_PRIVATE)


def _wire_language(gr, app, c: SimpleNamespace, chat: Chat) -> None:
    def switch(ui: str, s: Session, reader_name: str):
        words = {c.send: "send", c.stop: "stop", c.new: "new", c.delete: "delete", c.remove: "remove",
                 c.confirm: "confirm", c.cancel: "cancel"}
        page = _page(gr, c, chat.page(s, ui), ui)
        for button in (c.send, c.stop):          # the page's state and the new words in one update
            page[button] = {**page[button], "value": t(ui, words.pop(button))}
        page[c.export] = {**page[c.export], "label": t(ui, "export")}
        return {c.ui: ui, c.title: _title_html(ui),
                c.question: gr.update(placeholder=t(ui, "placeholder"), label=t(ui, "question")),
                **{button: gr.update(value=t(ui, key)) for button, key in words.items()},
                **{button: gr.update(value=x) for button, x in zip(c.examples, EXAMPLES[ui])},
                c.reader: gr.update(choices=chat.readers.choices(ui), label=t(ui, "reader")),
                c.reader_note: chat.readers.note(reader_name or chat.readers.default, ui),
                c.docs_title: f"### {t(ui, 'documents')}", c.upload: gr.update(label=t(ui, "upload")),
                **_documents(gr, c, chat.documents(s, ui), chat, ui), **page}

    switched = [c.ui, c.title, c.question, c.send, c.stop, c.new, c.delete, c.remove, c.confirm, c.cancel,
                *c.examples, c.reader, c.reader_note, c.docs_title, c.upload, *_docs_out(c), *_page_out(c)]
    c.lang_pick.change(switch, [c.lang_pick, c.session, c.reader], list(dict.fromkeys(switched)), **_PRIVATE)
    # The whole page mirrors in Arabic: the root element's direction and language follow the choice.
    c.lang_pick.change(None, [c.lang_pick], None, js="(ui) => { const r = document.documentElement; "
                                                     "r.dir = ui === 'ar' ? 'rtl' : 'ltr'; r.lang = ui; }")
    # The interface language follows the browser's on first load (its change redraws the page).
    app.load(None, None, [c.lang_pick], js="() => ((navigator.language || 'en').startsWith('ar') ? 'ar' : 'en')")
    app.load(lambda s: {**_page(gr, c, chat.page(s, "en"), "en"), **_documents(gr, c, chat.documents(s, "en"), chat,
                                                                                  "en")},
             [c.session], _page_out(c) + _docs_out(c), **_PRIVATE)


def _wire_api(gr, app, c: SimpleNamespace, chat: Chat) -> None:
    """The programmatic endpoint (``ask``), for ``gradio_client``."""

    def api_ask(q: str, turns_json: str = "[]") -> dict:
        if len(turns_json or "") > MAX_HISTORY_JSON:
            raise gr.Error(f"The history is {len(turns_json):,} characters; send at most {MAX_HISTORY_JSON:,} "
                           "(the last turns are enough).")
        try:
            turns = json.loads(turns_json or "[]")
            return chat.bot.ask(q, turns).to_dict()
        except ValueError as exc:
            raise gr.Error(f"The history is not valid JSON ({str(exc)[:80]}): send a list of "
                           "[question, answer] pairs.") from None
        except BayyinaError as exc:      # a user's mistake: a clean message, no traceback
            raise gr.Error(str(exc)[:500]) from None

    gr.api(api_ask, api_name="ask")


def _title_html(ui: str) -> str:
    return (f'<div dir="{"rtl" if ui == "ar" else "ltr"}"><h1>{t(ui, "title")}</h1>'
            f'<p>{t(ui, "tagline")}</p></div>')


def serve(bot: Assistant, *, host: str = "127.0.0.1", port: int = 7860, data_dir: Path,
          prevent_thread_lock: bool = False, allow_remove: bool = False, readers: Readers | None = None):
    """Build and launch the app; return it (with ``prevent_thread_lock`` the call returns at once)."""
    app, launch_kwargs = build_app(bot, data_dir=data_dir, allow_remove=allow_remove, readers=readers)
    app.queue(default_concurrency_limit=4)
    app.launch(server_name=host, server_port=port, prevent_thread_lock=prevent_thread_lock, quiet=True,
               max_file_size=f"{MAX_UPLOAD_MB}mb", **launch_kwargs)
    return app

"""The Gradio chat: answer cards with citation chips, each message's own sources, a right-to-left
page in Arabic, Stop, conversations, export, your own documents.

It only calls the public API (``Assistant``). Gradio is imported here, when the UI is built.
Each browser session keeps its own conversations and uploads (``gr.State``); the index is shared.
What it shows is rendered by ``qa.ui_render``; its words live in ``qa.ui_text``.
"""

from __future__ import annotations

import html
import logging
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Mapping

from qa.api import bundled_corpus_path
from qa.assistant import Assistant, question_language
from qa.errors import BayyinaError, MissingDependencyError, QuestionError
from qa.readers.factory import READERS
from qa.ui_render import ChatTurn, conversation_html, conversation_markdown, source_name
from qa.ui_text import CSS, EXAMPLES, FONTS, MONO_FONTS, SCRIPT, passages_words, t
from qa.uploads import MAX_UPLOAD_MB, client_folder, delete_stored, document_id, safe_upload_name, store_uploads
from sources.loaders import SUPPORTED_SUFFIXES

__all__ = ["build_app", "serve", "safe_upload_name", "store_uploads", "Readers"]

logger = logging.getLogger(__name__)

MAX_HISTORY_JSON = 200_000   # characters of history one API call may send
STREAM_INTERVAL_S = 0.08     # at most ~12 redraws a second while tokens stream


# ---------------------------------------------------------------------------- per-browser state


@dataclass
class _Conversation:
    key: str
    number: int
    turns: list[ChatTurn] = field(default_factory=list)

    def title(self, ui: str) -> str:
        if self.turns:
            q = " ".join(self.turns[0].question.split())
            return q if len(q) <= 48 else q[:47] + "…"
        return t(ui, "conversation", n=self.number)

    def history(self) -> list[tuple[str, str]]:
        return [(x.question, x.answer.text) for x in self.turns if x.answer is not None]


class _Session:
    """One browser tab: its conversations, the answer being written, the files it uploaded."""

    def __init__(self) -> None:
        self.id = secrets.token_hex(8)
        self.conversations: list[_Conversation] = [_Conversation(self._key(1), 1)]
        self.current = 0
        self.made = 1
        self.pending: str | None = None   # the question being answered
        self.partial = ""
        self.generation = 0               # bumped by every question and by Stop: late results are dropped
        self.uploads: dict[str, Path] = {}  # source -> the stored copy

    def _key(self, n: int) -> str:
        return f"c{n}"

    @property
    def conv(self) -> _Conversation:
        return self.conversations[self.current]

    def new(self) -> None:
        self.made += 1
        self.conversations.append(_Conversation(self._key(self.made), self.made))
        self.current = len(self.conversations) - 1

    def delete(self) -> None:
        del self.conversations[self.current]
        if not self.conversations:
            self.made += 1
            self.conversations.append(_Conversation(self._key(self.made), self.made))
        self.current = min(self.current, len(self.conversations) - 1)


# ---------------------------------------------------------------------------- readers


class Readers:
    """The readers a chat offers: the assistant it was started with, and others made on demand
    (or at start, in the background, with ``preload``) from ``factories`` — each an ``Assistant``
    over the same index (``Assistant.with_reader``)."""

    def __init__(self, bot: Assistant, factories: Mapping[str, Callable[[], Assistant]] | None = None,
                 *, preload: bool = False) -> None:
        self.default = bot.reader.name
        self._ready: dict[str, Assistant] = {self.default: bot}
        self._factories = {k: v for k, v in (factories or {}).items() if k != self.default}
        self._failed: dict[str, str] = {}
        self._loading: dict[str, float] = {}
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        if preload:
            for name in self._factories:
                self.start(name)

    @property
    def names(self) -> list[str]:
        return [self.default, *self._factories]

    def start(self, name: str) -> threading.Event:
        with self._lock:
            if name in self._done:
                return self._done[name]
            done = self._done[name] = threading.Event()
            if name in self._ready:
                done.set()
                return done
            self._loading[name] = time.monotonic()
        threading.Thread(target=self._load, args=(name, done), name=f"bayyina-load-{name}", daemon=True).start()
        return done

    def _load(self, name: str, done: threading.Event) -> None:
        try:
            bot = self._factories[name]()
            bot.warm_up()
            self._ready[name] = bot
        except Exception as exc:  # shown beside the choice; the other readers keep working
            logger.warning("could not load the %s reader: %s", name, exc)
            self._failed[name] = str(exc)[:300]
        finally:
            self._loading.pop(name, None)
            done.set()

    def get(self, name: str) -> Assistant:
        """The assistant for ``name``, waiting for it to load; ``BayyinaError`` if it cannot."""
        if name not in self._ready and name not in self._factories:
            raise BayyinaError(f"Unknown reader {name!r}: choose one of {', '.join(self.names)}.")
        self.start(name).wait()
        if name in self._failed:
            raise BayyinaError(f"The {name} reader could not be loaded: {self._failed[name]}")
        return self._ready[name]

    def note(self, name: str, ui: str) -> str:
        """A line about ``name``: what it does, or that it is loading (seconds), or why it failed."""
        if name in self._failed:
            return t(ui, "load_failed", reason=self._failed[name])
        if name in self._loading:
            return t(ui, "loading", s=int(time.monotonic() - self._loading[name]))
        return t(ui, f"reader_{name}") if name in READERS else t(ui, "reader_other")

    @property
    def loading(self) -> bool:
        return bool(self._loading)


def _reader_choices(readers: Readers, ui: str) -> list[tuple[str, str]]:
    return [(t(ui, f"name_{n}") if n in READERS else n, n) for n in readers.names]


# ---------------------------------------------------------------------------- documents


def documents_html(bot: Assistant, session: _Session | None, ui: str) -> str:
    docs = bot.documents()
    if not docs:
        return '<p class="docs">—</p>'
    mine = session.uploads if session is not None else {}
    items = "".join(
        f'<li><bdi>{html.escape(source_name(d.source))}</bdi> <span class="count">· {passages_words(d.passages, ui)}'
        f'</span>{" <span class=yours>" + t(ui, "yours") + "</span>" if d.source in mine else ""}</li>'
        for d in docs)
    return f'<ul class="docs" dir="{"rtl" if ui == "ar" else "ltr"}">{items}</ul>'


def _removable(bot: Assistant, session: _Session, allow_remove: bool) -> list[tuple[str, str]]:
    return [(source_name(d.source), document_id(d.source)) for d in bot.documents()
            if allow_remove or d.source in session.uploads]


# ---------------------------------------------------------------------------- the app


def build_app(bot: Assistant, *, data_dir: Path, max_upload_mb: int = MAX_UPLOAD_MB, allow_remove: bool = False,
              readers: Readers | None = None):
    """The Gradio Blocks app and the keyword arguments its ``launch`` (or ``mount_gradio_app``)
    needs: theme, CSS, the page script, no footer. ``readers``: the readers to offer (default:
    only ``bot``'s). Removing other people's documents (the bundled corpus included) is an
    administrator's act, off unless ``allow_remove`` (``bayyina serve --allow-remove``); a visitor
    can always remove what they uploaded in their own browser, after confirming."""
    try:
        import gradio as gr
    except ImportError:
        raise MissingDependencyError("The chat UI needs Gradio.", 'pip install "bayyina[ui]"') from None

    readers = readers or Readers(bot)
    bundled_name = bundled_corpus_path().name
    export_dir = Path(tempfile.mkdtemp(prefix="bayyina-export-"))

    def docs_summary() -> list[tuple[str, int]]:
        return [(d.source, d.passages) for d in bot.documents()]

    def render(s: _Session, ui: str) -> str:
        # The document list is read only for the empty state: it takes the index lock, which a
        # generating answer holds.
        empty = not s.conv.turns and s.pending is None
        return conversation_html(s.conv.key, s.conv.turns, ui, pending=s.pending, partial=s.partial,
                                 documents=docs_summary() if empty else (), bundled_name=bundled_name)

    def conv_choices(s: _Session, ui: str):
        return gr.update(choices=[(c.title(ui), c.key) for c in s.conversations], value=s.conv.key,
                         label=t(ui, "conversations"))

    def export_file(s: _Session, ui: str):
        if not s.conv.turns:
            return gr.update(value=None, interactive=False)
        path = export_dir / f"{s.id}-{s.conv.key}" / "bayyina-conversation.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conversation_markdown(s.conv.title(ui), s.conv.turns, ui), encoding="utf-8")
        return gr.update(value=str(path), interactive=True)

    theme = gr.themes.Default(font=FONTS, font_mono=MONO_FONTS)
    with gr.Blocks(title="Bayyina — بيّنة") as app:
        session = gr.State(_Session)
        ui_lang = gr.State("en")
        with gr.Row(elem_id="topbar"):
            with gr.Column(scale=3, min_width=240):
                title = gr.HTML(_title_html("en"), elem_id="title")
            lang_pick = gr.Radio([("العربية", "ar"), ("English", "en")], value="en", show_label=False,
                                 container=False, elem_id="ui-lang", scale=0, min_width=200)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                conversation = gr.HTML(render(_Session(), "en"), elem_id="conversation")
                with gr.Row(elem_id="composer"):
                    question = gr.Textbox(placeholder=t("en", "placeholder"), label=t("en", "question"), show_label=False, container=False,
                                          elem_id="question", lines=1, max_lines=6, scale=5, min_width=300, autofocus=True)
                    send = gr.Button(t("en", "send"), variant="primary", elem_id="send", scale=1, min_width=72)
                    stop = gr.Button(t("en", "stop"), variant="stop", elem_id="stop", visible=False, scale=1,
                                     min_width=72)
                with gr.Row(elem_id="examples"):
                    examples = [gr.Button(x, size="sm", elem_classes="example") for x in EXAMPLES["en"]]
            with gr.Column(scale=1, min_width=260, elem_id="side"):
                reader = gr.Dropdown(_reader_choices(readers, "en"), value=readers.default, label=t("en", "reader"),
                                     elem_id="reader", interactive=len(readers.names) > 1)
                reader_note = gr.Markdown(readers.note(readers.default, "en"), elem_id="reader-note")
                conv_pick = gr.Radio([], label=t("en", "conversations"), elem_id="conversations")
                with gr.Row():
                    new_btn = gr.Button(t("en", "new"), size="sm", elem_id="new-conv")
                    del_btn = gr.Button(t("en", "delete"), size="sm", elem_id="delete-conv")
                export = gr.DownloadButton(t("en", "export"), value=None, interactive=False, size="sm",
                                           elem_id="export")
                docs_title = gr.Markdown(f"### {t('en', 'documents')}", elem_id="documents-title")
                docs = gr.HTML(documents_html(bot, None, "en"), elem_id="documents")
                upload = gr.UploadButton(t("en", "upload"), file_count="multiple", size="sm",
                                         file_types=list(SUPPORTED_SUFFIXES), elem_id="upload")
                status = gr.Markdown("", elem_id="upload-status")
                with gr.Group(visible=allow_remove) as remove_group:
                    to_remove = gr.Dropdown([], value=None, label=t("en", "remove_choice_admin" if allow_remove
                                                                        else "remove_choice"), elem_id="remove-choice")
                    remove = gr.Button(t("en", "remove"), size="sm", elem_id="remove")
                with gr.Group(visible=False) as confirm_group:
                    confirm_text = gr.Markdown("", elem_id="confirm-text")
                    with gr.Row():
                        confirm = gr.Button(t("en", "confirm"), variant="stop", size="sm", elem_id="confirm-remove")
                        cancel = gr.Button(t("en", "cancel"), size="sm", elem_id="cancel-remove")
        timer = gr.Timer(1.0, active=readers.loading)

        # ------------------------------------------------------------ asking

        def take(q: str, s: _Session, ui: str):
            if s.pending is not None:
                raise gr.Error(t(ui, "busy"), title=t(ui, "error"))
            try:
                question_language(q)
            except QuestionError as exc:
                raise gr.Error(_question_problem(q, exc, ui), title=t(ui, "error")) from None
            s.generation += 1
            s.pending, s.partial = q.strip(), ""
            return render(s, ui), "", gr.update(interactive=False), gr.update(visible=True)

        def answer(s: _Session, ui: str, reader_name: str):
            if s.pending is None:
                return
            mine, q, conv = s.generation, s.pending, s.conv
            turn: ChatTurn
            try:
                chosen = readers.get(reader_name or readers.default)
                shown = 0.0
                final = None
                for chunk in chosen.stream(q, conv.history()):
                    if s.generation != mine:   # stopped: the Stop handler has written the turn
                        return
                    if chunk.answer is not None:
                        final = chunk.answer
                    elif chunk.delta:
                        s.partial += chunk.delta
                        if time.monotonic() - shown > STREAM_INTERVAL_S:
                            shown = time.monotonic()
                            yield render(s, ui)
                if final is None:
                    raise BayyinaError("The reader stopped before it finished the answer; ask again.")
                turn = ChatTurn(q, final)
            except BayyinaError as exc:
                turn = ChatTurn(q, error=str(exc))
            if s.generation != mine:
                return
            conv.turns.append(turn)
            s.pending, s.partial = None, ""
            yield render(s, ui)

        def finish(s: _Session, ui: str):
            return gr.update(interactive=True), gr.update(visible=False), conv_choices(s, ui), export_file(s, ui)

        def stopped(s: _Session, ui: str):
            if s.pending is not None:
                s.conv.turns.append(ChatTurn(s.pending, partial=s.partial))
                s.generation += 1
                s.pending, s.partial = None, ""
            return (render(s, ui), gr.update(interactive=True), gr.update(visible=False), conv_choices(s, ui),
                    export_file(s, ui))

        asked = gr.on([question.submit, send.click], take, [question, session, ui_lang],
                      [conversation, question, send, stop], api_visibility="private", show_progress="hidden")
        # The conversation shows its own thinking line: no progress overlay covers the page or Stop.
        answering = asked.success(answer, [session, ui_lang, reader], [conversation], api_visibility="private",
                                  concurrency_limit=None, show_progress="hidden")
        answering.then(finish, [session, ui_lang], [send, stop, conv_pick, export], api_visibility="private",
                       show_progress="hidden")
        stop.click(stopped, [session, ui_lang], [conversation, send, stop, conv_pick, export], cancels=[answering],
                   api_visibility="private", show_progress="hidden")
        for button in examples:
            button.click(lambda label: label, [button], [question], api_visibility="private")

        # ------------------------------------------------------------ conversations

        def pick(key: str, s: _Session, ui: str):
            if s.pending is not None:
                raise gr.Error(t(ui, "busy_switch"), title=t(ui, "error"))
            s.current = next((i for i, c in enumerate(s.conversations) if c.key == key), s.current)
            return render(s, ui), conv_choices(s, ui), export_file(s, ui)

        def new_conv(s: _Session, ui: str):
            if s.pending is not None:
                raise gr.Error(t(ui, "busy_switch"), title=t(ui, "error"))
            if s.conv.turns:
                s.new()
            return render(s, ui), conv_choices(s, ui), export_file(s, ui)

        def delete_conv(s: _Session, ui: str):
            if s.pending is not None:
                raise gr.Error(t(ui, "busy_switch"), title=t(ui, "error"))
            s.delete()
            return render(s, ui), conv_choices(s, ui), export_file(s, ui)

        conv_pick.input(pick, [conv_pick, session, ui_lang], [conversation, conv_pick, export], api_visibility="private")
        new_btn.click(new_conv, [session, ui_lang], [conversation, conv_pick, export], api_visibility="private")
        del_btn.click(delete_conv, [session, ui_lang], [conversation, conv_pick, export], api_visibility="private")

        # ------------------------------------------------------------ readers

        def reader_state(name: str, ui: str):
            active = readers.loading    # read before the note: a load that ends in between gets one more tick
            return readers.note(name or readers.default, ui), gr.Timer(active=active)

        def choose_reader(name: str, ui: str):
            if name != readers.default:
                readers.start(name)
            return readers.note(name, ui), gr.Timer(active=True)

        reader.change(choose_reader, [reader, ui_lang], [reader_note, timer], api_visibility="private")
        timer.tick(reader_state, [reader, ui_lang], [reader_note, timer], api_visibility="private")

        # ------------------------------------------------------------ documents

        def remove_controls(s: _Session, ui: str):
            choices = _removable(bot, s, allow_remove)
            return (gr.update(visible=bool(choices)),
                    gr.update(choices=choices, value=None,
                              label=t(ui, "remove_choice_admin" if allow_remove else "remove_choice")))

        def add_files(files, s: _Session, ui: str, progress=gr.Progress()):
            if not files:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            progress(0.1)
            folder = client_folder(Path(data_dir), s.id)
            stored, problems = store_uploads([getattr(f, "name", f) for f in files], folder, max_mb=max_upload_mb)
            report = bot.add_files(stored) if stored else None
            progress(1.0)
            lines = []
            if report is not None:
                done = list(report.added) + list(report.replaced)
                for source in done:
                    s.uploads[source] = Path(source)
                if done:
                    lines.append("✓ " + t(ui, "indexed", names=", ".join(source_name(x) for x in done),
                                          count=passages_words(report.passages_added, ui)))
                if report.unchanged:
                    lines.append(t(ui, "unchanged", names=", ".join(source_name(x) for x in report.unchanged)))
                problems += [f"{source_name(x.path)}: {x.reason}" for x in report.skipped]
                for x in report.skipped:   # nothing indexed: its copy is not kept
                    delete_stored(str(x.path), Path(data_dir))
            lines += ["✗ " + t(ui, "problem", problem=p) for p in problems]
            group, choice = remove_controls(s, ui)
            return "\n\n".join(lines), documents_html(bot, s, ui), group, choice, render(s, ui)

        upload.upload(add_files, [upload, session, ui_lang], [status, docs, remove_group, to_remove, conversation],
                      api_visibility="private")

        def ask_remove(doc_id: str, s: _Session, ui: str):
            source = _source_of(bot, doc_id)
            if source is None:
                return gr.skip(), gr.skip()
            n = next(d.passages for d in bot.documents() if d.source == source)
            everyone = t(ui, "everyone") if source not in s.uploads else ""
            return (t(ui, "confirm_q", name=source_name(source), count=passages_words(n, ui), everyone=everyone), gr.update(visible=True))

        def do_remove(doc_id: str, s: _Session, ui: str):
            hidden = gr.update(visible=False)
            msg, removed = remove_for_session(bot, s, doc_id, ui, allow_remove=allow_remove, data_dir=Path(data_dir))
            if not removed:
                return (msg or gr.skip()), gr.skip(), hidden, gr.skip(), gr.skip(), gr.skip()
            group, choice = remove_controls(s, ui)
            return msg, documents_html(bot, s, ui), hidden, group, choice, render(s, ui)

        remove.click(ask_remove, [to_remove, session, ui_lang], [confirm_text, confirm_group],
                     api_visibility="private")
        confirm.click(do_remove, [to_remove, session, ui_lang],
                      [status, docs, confirm_group, remove_group, to_remove, conversation], api_visibility="private")
        cancel.click(lambda: gr.update(visible=False), None, [confirm_group], api_visibility="private")

        # ------------------------------------------------------------ interface language

        def switch(ui: str, s: _Session, reader_name: str):
            group, choice = remove_controls(s, ui)
            return (ui, _title_html(ui), gr.update(placeholder=t(ui, "placeholder"), label=t(ui, "question")), gr.update(value=t(ui, "send")),
                    gr.update(value=t(ui, "stop")), *[gr.update(value=x) for x in EXAMPLES[ui]],
                    gr.update(choices=_reader_choices(readers, ui), label=t(ui, "reader")),
                    readers.note(reader_name or readers.default, ui), conv_choices(s, ui),
                    gr.update(value=t(ui, "new")), gr.update(value=t(ui, "delete")),
                    gr.update(label=t(ui, "export")), f"### {t(ui, 'documents')}", documents_html(bot, s, ui),
                    gr.update(label=t(ui, "upload")), group, choice, gr.update(value=t(ui, "remove")),
                    gr.update(value=t(ui, "confirm")), gr.update(value=t(ui, "cancel")), render(s, ui))

        lang_pick.change(switch, [lang_pick, session, reader],
                         [ui_lang, title, question, send, stop, *examples, reader, reader_note, conv_pick, new_btn,
                          del_btn, export, docs_title, docs, upload, remove_group, to_remove, remove, confirm, cancel,
                          conversation], api_visibility="private")
        # The whole page mirrors in Arabic: the root element's direction and language follow the choice.
        lang_pick.change(None, [lang_pick], None, js="(ui) => { const r = document.documentElement; "
                                                     "r.dir = ui === 'ar' ? 'rtl' : 'ltr'; r.lang = ui; }")
        # The interface language follows the browser's on first load (its change redraws the page).
        app.load(None, None, [lang_pick], js="() => ((navigator.language || 'en').startsWith('ar') ? 'ar' : 'en')")
        app.load(lambda s: (conv_choices(s, "en"), *remove_controls(s, "en")), [session],
                 [conv_pick, remove_group, to_remove], api_visibility="private")

        # ------------------------------------------------------------ the programmatic endpoint

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
    return app, {"css": CSS, "theme": theme, "head": SCRIPT, "footer_links": []}


def _title_html(ui: str) -> str:
    return (f'<div dir="{"rtl" if ui == "ar" else "ltr"}"><h1>{t(ui, "title")}</h1>'
            f'<p>{t(ui, "tagline")}</p></div>')


def _question_problem(q: str, exc: QuestionError, ui: str) -> str:
    from qa.assistant import MAX_QUESTION_CHARS

    stripped = (q or "").strip()
    if not stripped:
        return t(ui, "empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        return t(ui, "too_long", n=f"{len(stripped):,}", max=f"{MAX_QUESTION_CHARS:,}")
    return t(ui, "bad_language") if ui == "ar" else str(exc)


def _source_of(bot: Assistant, doc_id: str | None) -> str | None:
    return next((d.source for d in bot.documents() if document_id(d.source) == doc_id), None)


def remove_for_session(bot: Assistant, s: _Session, doc_id: str | None, ui: str, *, allow_remove: bool,
                       data_dir: Path) -> tuple[str, bool]:
    """The chat's removal rule, checked on the server (events can be called without the page): a
    visitor removes what this browser uploaded, an administrator (``allow_remove``) anything; the
    stored copy goes with it. Returns the status line ("" for an unknown id) and whether it was removed."""
    source = _source_of(bot, doc_id) if doc_id else None
    if source is None:
        return "", False
    if not allow_remove and source not in s.uploads:
        return "✗ " + t(ui, "not_yours"), False
    try:
        n = bot.remove_document(source)
    except BayyinaError as exc:
        return f"✗ {exc}", False
    s.uploads.pop(source, None)
    delete_stored(source, data_dir)
    return t(ui, "removed", name=source_name(source), count=passages_words(n, ui)), True




def serve(bot: Assistant, *, host: str = "127.0.0.1", port: int = 7860, data_dir: Path,
          prevent_thread_lock: bool = False, allow_remove: bool = False, readers: Readers | None = None):
    """Build and launch the app; return it (with ``prevent_thread_lock`` the call returns at once)."""
    app, launch_kwargs = build_app(bot, data_dir=data_dir, allow_remove=allow_remove, readers=readers)
    app.queue(default_concurrency_limit=4)
    app.launch(server_name=host, server_port=port, prevent_thread_lock=prevent_thread_lock, quiet=True,
               max_file_size=f"{MAX_UPLOAD_MB}mb", **launch_kwargs)
    return app

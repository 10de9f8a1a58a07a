"""The chat's behaviour without Gradio: sessions, asking, stopping, conversations, documents.

``Chat`` holds what every browser shares — the assistant, the readers, the uploads folder, the
removal rule; a ``Session`` is one browser tab's own state (its conversations, the answer being
written, the files it uploaded). Every action takes a session and returns plain data: the page
for it (``Page``), a status line, or a ``ChatProblem`` carrying the message to show in the
interface language. ``qa.ui`` lays the components out and wires each event to one action; it
holds no rule of its own, so everything here is tested without a browser (``tests/qa/test_chat.py``).
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator, Mapping, Sequence

from qa.api import bundled_corpus_path
from qa.assistant import MAX_QUESTION_CHARS, Assistant, question_language
from qa.errors import BayyinaError, QuestionError
from qa.limits import MAX_UPLOAD_MB
from qa.readers.factory import READERS
from qa.ui_render import ChatTurn, conversation_html, conversation_markdown, documents_list_html, source_name
from qa.ui_text import passages_words, t
from qa.uploads import client_folder, delete_stored, document_id, store_uploads

logger = logging.getLogger(__name__)

STREAM_INTERVAL_S = 0.08     # at most ~12 redraws a second while tokens stream


class ChatProblem(Exception):
    """Something the visitor must be told (in the interface language); nothing changed."""


@dataclass
class Conversation:
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


class Session:
    """One browser tab: its conversations, the answer being written, the files it uploaded."""

    def __init__(self) -> None:
        self.id = secrets.token_hex(8)
        self.conversations: list[Conversation] = [Conversation("c1", 1)]
        self.current = 0
        self.made = 1
        self.pending: str | None = None   # the question being answered
        self.partial = ""
        self.generation = 0               # bumped by every question and by Stop: late results are dropped
        self.uploads: dict[str, Path] = {}  # source -> the stored copy

    @property
    def conv(self) -> Conversation:
        return self.conversations[self.current]

    def new(self) -> None:
        self.made += 1
        self.conversations.append(Conversation(f"c{self.made}", self.made))
        self.current = len(self.conversations) - 1

    def delete(self) -> None:
        del self.conversations[self.current]
        if not self.conversations:
            self.made += 1
            self.conversations.append(Conversation(f"c{self.made}", self.made))
        self.current = min(self.current, len(self.conversations) - 1)


@dataclass(frozen=True)
class Page:
    """What the page shows of one session: the conversation, the list of conversations (title,
    key) with the current one, the export file (``None``: nothing to export) and whether an
    answer is being written (Send disabled, Stop shown)."""

    conversation: str
    conversations: tuple[tuple[str, str], ...]
    current: str
    export: str | None
    busy: bool


@dataclass(frozen=True)
class Documents:
    """The document list, and the documents this session may remove (name, id)."""

    html: str
    removable: tuple[tuple[str, str], ...]


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

    def choices(self, ui: str) -> list[tuple[str, str]]:
        """(label, name) of each reader, in the interface language."""
        return [(t(ui, f"name_{n}") if n in READERS else n, n) for n in self.names]

    @property
    def loading(self) -> bool:
        return bool(self._loading)


class Chat:
    """The chat's actions on a ``Session``. Removing other people's documents (the bundled corpus
    included) is an administrator's act, off unless ``allow_remove``; a visitor can always remove
    what they uploaded in their own browser."""

    def __init__(self, bot: Assistant, *, data_dir: Path, readers: Readers | None = None,
                 max_upload_mb: int = MAX_UPLOAD_MB, allow_remove: bool = False) -> None:
        self.bot = bot
        self.readers = readers or Readers(bot)
        self.data_dir = Path(data_dir)
        self.max_upload_mb = max_upload_mb
        self.allow_remove = allow_remove
        self._bundled = bundled_corpus_path().name
        self._exports = Path(tempfile.mkdtemp(prefix="bayyina-export-"))

    # ------------------------------------------------------------------ what is shown

    def page(self, s: Session, ui: str) -> Page:
        return Page(self.conversation(s, ui), tuple((c.title(ui), c.key) for c in s.conversations),
                    s.conv.key, self._export(s, ui), s.pending is not None)

    def conversation(self, s: Session, ui: str) -> str:
        """The current conversation as HTML (while an answer streams: its text so far)."""
        # The document list is read only for the empty state: it takes the index lock, which a
        # generating answer holds.
        empty = not s.conv.turns and s.pending is None
        documents = [(d.source, d.passages) for d in self.bot.documents()] if empty else ()
        return conversation_html(s.conv.key, s.conv.turns, ui, pending=s.pending, partial=s.partial,
                                 documents=documents, bundled_name=self._bundled)

    def _export(self, s: Session, ui: str) -> str | None:
        if not s.conv.turns:
            return None
        path = self._exports / f"{s.id}-{s.conv.key}" / "bayyina-conversation.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conversation_markdown(s.conv.title(ui), s.conv.turns, ui), encoding="utf-8")
        return str(path)

    def documents(self, s: Session | None, ui: str) -> Documents:
        docs = self.bot.documents()
        mine = s.uploads if s is not None else {}
        removable = tuple((source_name(d.source), document_id(d.source)) for d in docs
                          if self.allow_remove or d.source in mine)
        return Documents(documents_list_html([(d.source, d.passages, d.source in mine) for d in docs], ui),
                         removable)

    # ------------------------------------------------------------------ asking

    def take(self, s: Session, question: str, ui: str) -> None:
        """Accept ``question`` as the one being answered (``ChatProblem`` when one is already
        being written, or the question is empty, too long or in neither language)."""
        if s.pending is not None:
            raise ChatProblem(t(ui, "busy"))
        try:
            question_language(question)
        except QuestionError as exc:
            raise ChatProblem(_question_problem(question, exc, ui)) from None
        s.generation += 1
        s.pending, s.partial = question.strip(), ""

    def answer(self, s: Session, reader_name: str = "") -> Iterator[None]:
        """Write the pending question's answer: yields whenever enough streamed text arrived to
        redraw, and ends with the turn in the conversation — unless Stop came first, which wrote it."""
        if s.pending is None:
            return
        mine, q, conv = s.generation, s.pending, s.conv
        try:
            chosen = self.readers.get(reader_name or self.readers.default)
            shown, final = 0.0, None
            for chunk in chosen.stream(q, conv.history()):
                if s.generation != mine:   # stopped
                    return
                if chunk.answer is not None:
                    final = chunk.answer
                elif chunk.delta:
                    s.partial += chunk.delta
                    if time.monotonic() - shown > STREAM_INTERVAL_S:
                        shown = time.monotonic()
                        yield
            if final is None:
                raise BayyinaError("The reader stopped before it finished the answer; ask again.")
            turn = ChatTurn(q, final)
        except BayyinaError as exc:
            turn = ChatTurn(q, error=str(exc))
        if s.generation != mine:
            return
        conv.turns.append(turn)
        s.pending, s.partial = None, ""

    def stop(self, s: Session) -> None:
        """Keep what was written so far as the turn (marked stopped) and drop the rest."""
        if s.pending is not None:
            s.conv.turns.append(ChatTurn(s.pending, partial=s.partial))
            s.generation += 1
            s.pending, s.partial = None, ""

    # ------------------------------------------------------------------ conversations

    def _idle(self, s: Session, ui: str) -> None:
        if s.pending is not None:
            raise ChatProblem(t(ui, "busy_switch"))

    def pick(self, s: Session, key: str, ui: str) -> None:
        self._idle(s, ui)
        s.current = next((i for i, c in enumerate(s.conversations) if c.key == key), s.current)

    def new(self, s: Session, ui: str) -> None:
        self._idle(s, ui)
        if s.conv.turns:
            s.new()

    def delete(self, s: Session, ui: str) -> None:
        self._idle(s, ui)
        s.delete()

    # ------------------------------------------------------------------ documents

    def add(self, s: Session, files: Sequence[str], ui: str) -> str:
        """Store and index uploaded files for this session; the status lines to show."""
        stored, problems = store_uploads(list(files), client_folder(self.data_dir, s.id), max_mb=self.max_upload_mb)
        report = self.bot.add_files(stored) if stored else None
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
                delete_stored(str(x.path), self.data_dir)
        return "\n\n".join(lines + ["✗ " + t(ui, "problem", problem=p) for p in problems])

    def _source_of(self, doc_id: str | None) -> str | None:
        return next((d.source for d in self.bot.documents() if document_id(d.source) == doc_id), None)

    def confirm_question(self, s: Session, doc_id: str | None, ui: str) -> str | None:
        """What to ask before removing ``doc_id`` (``None``: no such document)."""
        source = self._source_of(doc_id) if doc_id else None
        if source is None:
            return None
        n = next(d.passages for d in self.bot.documents() if d.source == source)
        everyone = t(ui, "everyone") if source not in s.uploads else ""
        return t(ui, "confirm_q", name=source_name(source), count=passages_words(n, ui), everyone=everyone)

    def remove(self, s: Session, doc_id: str | None, ui: str) -> tuple[str, bool]:
        """The removal rule, checked on the server (events can be called without the page): a
        visitor removes what this browser uploaded, an administrator (``allow_remove``) anything;
        the stored copy goes with it. Returns the status line ("" for an unknown id) and whether
        it was removed."""
        source = self._source_of(doc_id) if doc_id else None
        if source is None:
            return "", False
        if not self.allow_remove and source not in s.uploads:
            return "✗ " + t(ui, "not_yours"), False
        try:
            n = self.bot.remove_document(source)
        except BayyinaError as exc:
            return f"✗ {exc}", False
        s.uploads.pop(source, None)
        delete_stored(source, self.data_dir)
        return t(ui, "removed", name=source_name(source), count=passages_words(n, ui)), True


def _question_problem(q: str, exc: QuestionError, ui: str) -> str:
    stripped = (q or "").strip()
    if not stripped:
        return t(ui, "empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        return t(ui, "too_long", n=f"{len(stripped):,}", max=f"{MAX_QUESTION_CHARS:,}")
    return t(ui, "bad_language") if ui == "ar" else str(exc)

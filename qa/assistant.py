"""``Assistant``: the public entry point for questions and answers."""

from __future__ import annotations

import queue
import threading
import time
import unicodedata
from pathlib import Path
from collections.abc import Iterable, Iterator

from index.embed import Embedder
from index.config import IndexConfig
from index.hybrid import Index
from index.types import AddReport, SourceInfo
from qa.api import default_index, load_embedder, open_index
from qa.conversation import validate_history
from qa.errors import BayyinaError, QuestionError
from qa.limits import MAX_QUESTION_CHARS
from qa.readers.base import Reader
from qa.readers.factory import READERS, ReaderOptions, make_reader
from qa.types import Answer, AnswerChunk
from sources.loaders import path_list
from sources.text import detect_language

_DONE = object()


def question_language(question: object) -> str:
    """``ar`` or ``en`` for a valid question; raise ``QuestionError`` naming the problem and fix."""
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, not {type(question).__name__}.")
    stripped = question.strip()
    if not stripped:
        raise QuestionError("The question is empty: type a question in Arabic or English.")
    if len(stripped) > MAX_QUESTION_CHARS:
        raise QuestionError(f"The question is {len(stripped):,} characters long; ask in at most "
                            f"{MAX_QUESTION_CHARS:,} (to ask about a long text, index it as a document).")
    lang = detect_language(stripped, threshold=0.5)
    if lang in ("ar", "en"):
        return lang
    letters = [ch for ch in stripped if ch.isalpha()]
    other = [ch for ch in letters if not ("\u0600" <= ch <= "\u06ff" or ch.isascii()
                                          or "LATIN" in unicodedata.name(ch, ""))]
    if not letters or len(other) > len(letters) / 2:
        raise QuestionError("Bayyina answers questions in Arabic or English; this question has no Arabic or "
                            "English words. Rephrase it in Arabic or English.")
    return "ar" if any("\u0600" <= ch <= "\u06ff" for ch in letters) else "en"


class Assistant:
    """Answers questions from an index, with citations.

    >>> bot = Assistant.default()                      # the bundled Arabic corpus
    >>> ans = bot.ask("ما رقم القرار الذي أتاح استخدام القوة؟")
    >>> ans.text, [c.quote for c in ans.citations]
    """

    def __init__(self, index: Index, reader: Reader | str = "extractive", *, k: int = 5, context: int = 1,
                 abstain: bool = True, threshold: float | None = None,
                 reader_options: ReaderOptions | None = None) -> None:
        """``reader``: a name from ``READERS`` (configured by ``reader_options``) or any ``Reader``.
        ``abstain=False`` makes a named reader answer even when unsure; ``threshold`` adds a floor
        on the reader's confidence. A reader with a ``condense`` method (the LLM readers) also
        rewrites follow-up questions for retrieval."""
        if not isinstance(index, Index):
            raise BayyinaError(f"Assistant needs an Index, not {type(index).__name__}: use Assistant.default(), "
                               "Assistant.load(dir) or Assistant.from_paths(paths).")
        for name, value, low in (("k", k, 1), ("context", context, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise BayyinaError(f"{name}={value!r} must be a whole number ≥ {low}.")
        if not isinstance(reader, str) and not isinstance(reader, Reader):
            raise BayyinaError(f"reader must be a reader name ({', '.join(READERS)}) or a Reader, not "
                               f"{type(reader).__name__}.")
        self.index = index
        self.reader: Reader = (make_reader(reader, index.embedder, abstain=abstain, options=reader_options)
                               if isinstance(reader, str) else reader)
        self.k = k
        self.context = context
        self.threshold = threshold
        self.index_dir: Path | None = None
        self._chain = None
        self._lock = threading.RLock()       # the index: searching, adding, removing, saving
        self._read_lock = threading.Lock()   # this assistant's reader: one answer at a time

    # ---------------------------------------------------------------- construction

    @classmethod
    def default(cls, *, reader: Reader | str = "extractive", embedder: Embedder | None = None,
                progress: bool = False, reader_options: ReaderOptions | None = None) -> Assistant:
        """An assistant over the bundled corpus (its index is built in the cache on first use)."""
        from qa.api import default_index_dir

        bot = cls(default_index(embedder, progress=progress), reader, reader_options=reader_options)
        bot.index_dir = default_index_dir(bot.index.embedder.name)
        return bot

    @classmethod
    def load(cls, index_dir: str | Path, *, reader: Reader | str = "extractive",
             embedder: Embedder | None = None, reader_options: ReaderOptions | None = None) -> Assistant:
        if not isinstance(index_dir, (str, Path)) or not str(index_dir).strip():
            raise BayyinaError(f"index_dir must be a folder path, not {index_dir!r}.")
        if Path(index_dir).is_file():
            raise BayyinaError(f"index_dir {str(index_dir)!r} is a file, not an index folder.")
        bot = cls(open_index(index_dir, embedder), reader, reader_options=reader_options)
        bot.index_dir = Path(index_dir)
        return bot

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], index_dir: str | Path | None = None, *,
                   reader: Reader | str = "extractive", embedder: Embedder | None = None,
                   config: IndexConfig | None = None, progress: bool = False,
                   reader_options: ReaderOptions | None = None) -> Assistant:
        """Index files and folders (adding to ``index_dir`` when it holds an index) and answer from them.
        ``paths``: one path or a list of them. Checked before any model loads or file is read."""
        paths = path_list(paths)
        if index_dir is not None:
            if not isinstance(index_dir, (str, Path)) or not str(index_dir).strip():
                raise BayyinaError(f"index_dir must be a folder path, not {index_dir!r}.")
            if Path(index_dir).exists() and not Path(index_dir).is_dir():
                raise BayyinaError(f"index_dir {str(index_dir)!r} is a file, not a folder: give a folder path "
                                   "(it is created when missing).")
        if index_dir is not None and (Path(index_dir) / "manifest.json").exists():
            index = open_index(index_dir, embedder)
        else:
            index = Index(embedder or load_embedder(), config)
        report = index.add_paths(paths, progress=progress)
        if not len(index):
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in report.skipped) or "no files given"
            raise BayyinaError(f"Nothing could be indexed ({reasons}).")
        if index_dir is not None:
            index.save(index_dir)
        bot = cls(index, reader, reader_options=reader_options)
        bot.index_dir = Path(index_dir) if index_dir is not None else None
        bot.last_report = report
        return bot

    def with_reader(self, reader: Reader | str, *, abstain: bool = True,
                    reader_options: ReaderOptions | None = None) -> Assistant:
        """Another assistant over the same index (same documents, same lock, same saved folder)
        answering with ``reader``: a chat offering several readers keeps one index in memory."""
        other = Assistant(self.index, reader, k=self.k, context=self.context, abstain=abstain,
                          threshold=self.threshold, reader_options=reader_options)
        other.index_dir = self.index_dir
        other._lock = self._lock
        return other

    # ---------------------------------------------------------------- documents

    def documents(self) -> tuple[SourceInfo, ...]:
        """The indexed sources."""
        with self._lock:
            return self.index.sources

    def document_text(self, source: str) -> str:
        """An indexed document's text with its offsets (what citations' ``start``/``end`` point into)."""
        with self._lock:
            return self.index.document_text(source)

    def add_files(self, paths: Iterable[str | Path], *, progress: bool = False) -> AddReport:
        """Index more files (unreadable ones are reported in ``skipped``), saving the index when
        the assistant has a folder."""
        with self._lock:
            report = self.index.add_paths(paths, progress=progress)
            if self.index_dir is not None and (report.added or report.replaced):
                self.index.save(self.index_dir)
            return report

    def remove_document(self, source: str) -> int:
        """Remove a source from the index (and the saved index); return the passages removed."""
        with self._lock:
            removed = self.index.remove_source(source)
            if self.index_dir is not None:
                self.index.save(self.index_dir)
            return removed

    # ---------------------------------------------------------------- asking

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the reader's model (the local
        LLM and its prompt cache) and the answer chain. Safe to call from a background thread."""
        warm = getattr(self.reader, "warm_up", None)
        if callable(warm):
            warm()
        _ = self.chain

    @property
    def chain(self):
        """The LangChain Runnable behind ``ask``/``stream`` (built on first use)."""
        if self._chain is None:
            from qa.chain import build_chain

            condenser = self.reader if callable(getattr(self.reader, "condense", None)) else None
            self._chain = build_chain(self.index, self.reader, k=self.k, context=self.context,
                                      threshold=self.threshold, condenser=condenser, lock=self._lock)
        return self._chain

    def _inputs(self, question: str, history: object, exclude_sources: Iterable[str]) -> dict:
        lang = question_language(question)
        return {"question": question.strip(), "lang": lang, "history": validate_history(history),
                "exclude_sources": tuple(exclude_sources), "t0": time.perf_counter()}

    def stream(self, question: str, history: object = (), *, exclude_sources: Iterable[str] = ()
               ) -> Iterator[AnswerChunk]:
        """Stream the answer: text deltas, then a last chunk carrying the finished ``Answer``.
        Safe while other threads add or remove documents: the answer is produced on a worker
        thread (a generator may resume on any thread, so it cannot hold a lock itself) that holds
        the index lock while searching and this assistant's reader lock while reading, so a long
        generated answer never blocks documents or another reader; chunks reach the caller through
        a queue as they are generated. Closing the
        stream early (a client that disconnects) stops the generation."""
        inputs = self._inputs(question, history, exclude_sources)
        chunks: queue.Queue = queue.Queue()
        cancelled = threading.Event()

        def work() -> None:
            try:
                with self._read_lock:
                    for chunk in self.chain.stream(inputs):
                        if cancelled.is_set():   # the caller stopped listening: stop generating
                            break
                        chunks.put(chunk)
            except BaseException as exc:  # handed to the caller's thread
                chunks.put(exc)
            finally:
                chunks.put(_DONE)

        threading.Thread(target=work, name="bayyina-answer", daemon=True).start()
        try:
            while (item := chunks.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancelled.set()

    def ask(self, question: str, history: object = (), *, exclude_sources: Iterable[str] = ()) -> Answer:
        """Answer ``question`` (``history``: ``[(question, answer), …]`` of earlier turns): the
        folded ``stream``. Safe to call from several threads while others add or remove documents."""
        final = AnswerChunk()
        for chunk in self.stream(question, history, exclude_sources=exclude_sources):
            final = final + chunk
        if final.answer is None:
            raise BayyinaError("The reader stopped before it finished the answer (its stream ended "
                               "without the final chunk); ask again, or report the reader's bug.")
        return final.answer

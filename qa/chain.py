"""The retrieval chain — the only file that imports LangChain.

Built from ``langchain_core`` pieces: a ``BaseRetriever`` adapter over the hybrid ``Index``
(``Hit`` → ``Document`` on the way out, back to ``Hit`` at this boundary), Runnables for
condensing and retrieving, and a ``RunnableGenerator`` that streams the reader's text and ends
with the finished ``Answer`` (citations validated, abstention decided). LangChain's chat-model
interface is adapted here too: ``LangChainChat`` turns any ``BaseChatModel`` into Bayyina's
``ChatModel`` (``Message`` → LangChain messages and back), and ``OpenAIChat`` is that over any
OpenAI-compatible server. Everything outside this file speaks Bayyina's own types.
"""

from __future__ import annotations

import logging
import os
import re
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol
from collections.abc import Callable, Iterator, Sequence

from index.hybrid import Index
from index.types import Hit
from qa import abstain
from qa.citations import cite
from qa.conversation import condense, is_follow_up
from qa.errors import MissingDependencyError
from qa.llm.base import Generation, LLMError, Message
from qa.readers.base import Reader, Reading
from qa.types import Answer, AnswerChunk, Timings, Turn
from sources.types import Passage

log = logging.getLogger(__name__)

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document as LCDocument
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda, RunnablePassthrough
    from pydantic import ConfigDict
except ImportError as exc:  # pragma: no cover - a core dependency
    raise MissingDependencyError("The answer chain needs LangChain's core package.", "pip install langchain-core") from exc


def hit_to_document(hit: Hit) -> LCDocument:
    p = hit.passage
    return LCDocument(page_content=p.text, id=p.id, metadata={
        **p.to_dict(), "score": hit.score, "rank": hit.rank, "via": hit.via,
        "dense_score": hit.dense_score, "bm25_score": hit.bm25_score})


def document_to_hit(doc: LCDocument) -> Hit:
    m = doc.metadata
    passage = Passage(id=m["id"], text=doc.page_content, source=m["source"], start=m["start"], end=m["end"],
                      lang=m["lang"], page=m.get("page"), heading=m.get("heading", ""))
    return Hit(passage=passage, score=float(m["score"]), rank=int(m["rank"]), via=m["via"],
               dense_score=m.get("dense_score"), bm25_score=m.get("bm25_score"))


class IndexRetriever(BaseRetriever):
    """LangChain retriever over Bayyina's hybrid index."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any
    k: int = 5
    exclude_sources: frozenset = frozenset()

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[LCDocument]:
        hits = self.index.search(query, k=self.k, exclude_sources=self.exclude_sources)
        return [hit_to_document(h) for h in hits]


class Condenser(Protocol):
    def condense(self, question: str, history: Sequence[Turn], lang: str) -> str: ...


def build_chain(index: Index, reader: Reader, *, k: int = 5, context: int = 1, threshold: float | None = None,
                condenser: Condenser | None = None, clock: Callable[[], float] = time.perf_counter,
                lock: AbstractContextManager | None = None) -> Runnable:
    """A Runnable from ``{"question", "lang", "history", "exclude_sources"}`` to ``AnswerChunk``s;
    ``invoke`` returns the folded chunk whose ``answer`` is the final ``Answer``. The reader is
    shown the ``k`` retrieved passages, then ``context`` neighbouring passages on each side of them.
    A follow-up is condensed into a stand-alone query for retrieval by ``condenser`` (a model)
    when given, else by the word rule of ``qa.conversation``; the user's own question is answered.
    ``lock``, when given, is held while the index is searched (not while the reader reads the
    retrieved passages, which are immutable), so documents can change while an answer is written."""

    def add_query(inp: dict) -> dict:
        history: Sequence[Turn] = inp.get("history", ())
        t0 = clock()
        if history and condenser is not None and is_follow_up(inp["question"], history[-1][0]):
            query = condenser.condense(inp["question"], history, inp["lang"]).strip() or inp["question"]
        else:
            query = condense(inp["question"], history)
        return {"query": query, "ms": (clock() - t0) * 1000}

    def retrieve(inp: dict) -> dict:
        t0 = clock()
        retriever = IndexRetriever(index=index, k=k, exclude_sources=frozenset(inp.get("exclude_sources", ())))
        with lock if lock is not None else nullcontext():
            hits = tuple(document_to_hit(d) for d in retriever.invoke(inp["condensed"]["query"]))
            if context:
                hits = index.with_context(hits, before=context, after=context)
        return {"hits": hits, "retrieve_ms": (clock() - t0) * 1000}

    def read_and_cite(pieces: Iterator[dict]) -> Iterator[AnswerChunk]:
        # When streaming, the assign steps upstream deliver the input dict in pieces: merge them.
        inp: dict = {}
        for piece in pieces:
            inp.update(piece)
        if inp:
            question, lang, hits = inp["question"], inp["lang"], inp["retrieved"]["hits"]
            t0 = clock()
            reading: Reading | None = None
            streamed = ""
            first_token: float | None = None
            if hits:
                for chunk in reader.stream(question, hits, lang=lang, search_query=inp["condensed"]["query"]):
                    if chunk.reading is not None:
                        reading = chunk.reading
                    elif chunk.delta:
                        if first_token is None:
                            first_token = (clock() - inp.get("t0", t0)) * 1000
                        streamed += chunk.delta
                        yield AnswerChunk(delta=chunk.delta)
            read_ms = (clock() - t0) * 1000
            answer = _finish(inp, hits, reading, reader.name, threshold, read_ms, first_token, clock)
            # The final answer is authoritative (markers renumbered, invalid ones dropped, or an
            # abstention): its delta completes the streamed text when it extends it.
            rest = answer.text[len(streamed):] if answer.text.startswith(streamed) else ""
            yield AnswerChunk(delta=rest, answer=answer)

    return (RunnablePassthrough.assign(condensed=RunnableLambda(add_query))
            | RunnablePassthrough.assign(retrieved=RunnableLambda(retrieve))
            | RunnableGenerator(read_and_cite))


def _finish(inp: dict, hits: tuple[Hit, ...], reading: Reading | None, reader_name: str, threshold: float | None,
            read_ms: float, first_token: float | None, clock: Callable[[], float]) -> Answer:
    question, lang = inp["question"], inp["lang"]
    retrieve_ms, condense_ms = inp["retrieved"]["retrieve_ms"], inp["condensed"]["ms"]
    total = (clock() - inp["t0"]) * 1000 if "t0" in inp else condense_ms + retrieve_ms + read_ms
    timings = Timings(retrieve=retrieve_ms, read=read_ms, total=total, first_token=first_token, condense=condense_ms)
    search_query = inp["condensed"]["query"]
    tokens = {"prompt_tokens": reading.prompt_tokens, "generated_tokens": reading.generated_tokens} if reading else {}
    abstained = (reading is None or reading.abstained or not reading.text.strip()
                 or (threshold is not None and reading.confidence < threshold))
    if abstained:
        return Answer(question=question, text=abstain.message(lang), lang=lang, citations=(), hits=hits,
                      abstained=True, reader=reader_name, timings_ms=timings, search_query=search_query,
                      confidence=reading.confidence if reading else 0.0, support="weak", **tokens)
    text, citations = cite(reading.text, hits, reading.evidence)
    return Answer(question=question, text=text, lang=lang, citations=citations, hits=hits, abstained=False,
                  reader=reader_name, timings_ms=timings, search_query=search_query, short=reading.short,
                  confidence=reading.confidence, check=reading.check if citations else "unsupported",
                  support=reading.support, **tokens)


# ---------------------------------------------------------------------------- chat models

_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


def to_langchain_messages(messages: Sequence[Message]) -> list[BaseMessage]:
    try:
        return [_ROLES[m.role](content=m.content) for m in messages]
    except KeyError as exc:
        raise LLMError(f"Message role {exc.args[0]!r} is unknown: use system, user or assistant.") from None


class LangChainChat:
    """Bayyina's ``ChatModel`` over any LangChain chat model (``BaseChatModel``). The JSON schema,
    when given, is sent as an OpenAI-style ``response_format``: structured outputs, else JSON mode
    with a schema, else none (the prompt still asks for JSON, and the reader also reads free text)."""

    def __init__(self, model: BaseChatModel, *, name: str | None = None, describe: str = "the chat model") -> None:
        self.model = model
        self.name = name or type(model).__name__
        self.describe = describe
        self._format = 0  # the first response_format style not yet refused by the server

    def stream(self, messages: Sequence[Message], *, max_tokens: int, json_schema: dict | None = None
               ) -> Iterator[Generation]:
        lc_messages = to_langchain_messages(messages)
        if json_schema is not None:
            # OpenAI's structured outputs first, then the older JSON mode with a schema (llama-cpp-python's
            # server, Anyscale); the first one a server accepts is remembered.
            formats = [{"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema}},
                       {"type": "json_object", "schema": json_schema}]
            for i in range(self._format, len(formats)):
                try:
                    yield from self._stream(lc_messages, max_tokens=max_tokens, response_format=formats[i])
                    return
                except _SchemaRefused:
                    log.info("%s refused response_format %s", self.describe, formats[i]["type"])
                    self._format = i + 1
        yield from self._stream(lc_messages, max_tokens=max_tokens)

    def _stream(self, lc_messages: list[BaseMessage], **kwargs: Any) -> Iterator[Generation]:
        prompt_tokens = completion_tokens = chunks = 0
        started = False
        try:
            for chunk in self.model.bind(**kwargs).stream(lc_messages):
                text = chunk.content if isinstance(chunk.content, str) else "".join(
                    part.get("text", "") for part in chunk.content if isinstance(part, dict))
                usage = getattr(chunk, "usage_metadata", None)
                if usage:
                    prompt_tokens = usage.get("input_tokens", 0) or prompt_tokens
                    completion_tokens = usage.get("output_tokens", 0) or completion_tokens
                if text:
                    started, chunks = True, chunks + 1
                    yield Generation(text=text)
        except Exception as exc:  # translated: the client library's errors name neither value nor fix
            if not started and "response_format" in kwargs and _is_schema_refusal(exc):
                raise _SchemaRefused() from exc
            raise _llm_error(exc, self.describe) from exc
        # A server that reports no usage while streaming (llama-cpp-python's) streams a token a chunk.
        yield Generation(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens or chunks)


class _SchemaRefused(Exception):
    pass


def _is_schema_refusal(exc: Exception) -> bool:
    status = getattr(exc, "status_code", None)
    # 500: llama-cpp-python's server reports its request validation errors so.
    return status in (400, 422, 500) and any(w in str(exc).lower() for w in ("response_format", "schema", "grammar"))


def _llm_error(exc: Exception, describe: str) -> LLMError:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    # By class name along the MRO: the openai client's classes (and LangChain's subclasses of them)
    # without importing the client here.
    names = {c.__name__ for c in type(exc).__mro__}
    if "APITimeoutError" in names:
        return LLMError(f"{describe} did not answer in time (after retries): check that it is running and not "
                        "overloaded, or raise --timeout.")
    if "APIConnectionError" in names:
        return LLMError(f"Cannot reach {describe} ({getattr(exc, '__cause__', None) or exc}): start the server or "
                        "fix --base-url (e.g. http://127.0.0.1:8000/v1).")
    if status in (401, 403):
        return LLMError(f"{describe} refused the API key (HTTP {status}): set BAYYINA_API_KEY (or OPENAI_API_KEY) "
                        "to a key the server accepts.")
    if status == 404:
        return LLMError(f"{describe} answered 404 (not found): check --model and that --base-url ends with /v1. "
                        f"Server said: {exc}")
    if status is not None:
        return LLMError(f"{describe} answered HTTP {status}: {exc}")
    return LLMError(f"{describe} failed: {name}: {exc}")


class OpenAIChat(LangChainChat):
    """A ``ChatModel`` over any OpenAI-compatible chat-completions server (llama.cpp's server,
    Ollama, vLLM, a hosted API) through LangChain's ``ChatOpenAI``. The key comes from
    ``api_key``, else ``$BAYYINA_API_KEY``, else ``$OPENAI_API_KEY`` (local servers need none)."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 60.0,
                 retries: int = 2) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            shown = redact_url(base_url) if isinstance(base_url, str) else repr(base_url)
            raise LLMError(f"--base-url {shown!r} is not an http(s) URL: give e.g. http://127.0.0.1:8000/v1.")
        if not model:
            raise LLMError("An OpenAI-compatible server needs a model name: pass --model NAME (the name the "
                           "server lists at /v1/models).")
        if timeout <= 0 or retries < 0:
            raise LLMError(f"timeout={timeout} must be positive and retries={retries} not negative.")
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise MissingDependencyError("The OpenAI-compatible reader needs langchain-openai.",
                                         "pip install 'bayyina[openai]'  (or: pip install langchain-openai)") from None
        key = api_key or os.environ.get("BAYYINA_API_KEY") or os.environ.get("OPENAI_API_KEY") or "no-key"
        self.base_url = base_url.rstrip("/")
        chat = ChatOpenAI(base_url=self.base_url, model=model, api_key=key, temperature=0.0, timeout=timeout,
                          max_retries=retries, stream_usage=True)
        super().__init__(chat, name=f"openai:{model}",
                         describe=f"the OpenAI-compatible server at {redact_url(self.base_url)}")


def redact_url(url: str) -> str:
    """``url`` with any password (``http://user:secret@host``) replaced by ``***``, for messages."""
    return re.sub(r"(//[^/@:\s]*):[^/@\s]*@", r"\1:***@", url)

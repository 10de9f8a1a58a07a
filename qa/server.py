"""The HTTP API that `bayyina serve` runs: OpenAI-compatible chat with citations that survive, plus
native ask/search/documents — one ASGI app (FastAPI), the Gradio chat mounted on it at ``/``, one
index and one model.

- ``GET /v1/models``, ``POST /v1/chat/completions`` (``stream`` true/false): the answer text carries
  ``[n]`` markers and ``message.annotations`` one OpenAI ``url_citation`` per marker (its character
  span in the answer, the document's name, a link to the cited span); the full citations are in
  the ``bayyina`` extension field that generic clients ignore. Abstention is an ordinary message.
- ``/api/v1/ask`` (and ``ask/stream``, SSE events ``token``, ``citation``, ``answer``), ``search``,
  ``documents`` (list, upload, get with text, delete with ``--allow-remove``), ``health``, ``ready``.
- API keys (Bearer, constant-time compare), body and question limits, a bounded generation queue
  (429 with ``Retry-After`` when full), OpenAI-shaped errors, CORS only for ``--cors`` origins.
  ``/docs`` is off (its page loads assets from a CDN); the spec is at ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal
from collections.abc import Iterator

from qa import __version__
from qa.assistant import Assistant
from qa.errors import BayyinaError, MissingDependencyError
from qa.citations import MARKER, marker_numbers
from qa.types import Answer, Citation
from qa.http_guard import Guard
from qa.uploads import MAX_UPLOAD_MB, client_folder, delete_stored, safe_upload_name, store_uploads

try:
    from fastapi import FastAPI, File, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse
    from pydantic import BaseModel, ConfigDict, Field
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError:  # pragma: no cover - gradio brings fastapi
    raise MissingDependencyError("The HTTP API needs FastAPI.", 'pip install "bayyina[ui]"') from None

MAX_BODY_BYTES = 1_000_000
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
_MARKER = MARKER


def doc_id(source: str) -> str:
    """The opaque id of a document in URLs (never a server path)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------- typed bodies


_STRICT = ConfigDict(strict=True)   # "false" is not a temperature, "5" not a k


class ContentPart(BaseModel):
    """One part of a message's content (OpenAI's list form); only ``text`` parts can be read."""

    type: str = Field(max_length=40)
    text: str | None = Field(default=None, max_length=20_000)


class ChatMessage(BaseModel):
    model_config = _STRICT
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] = Field(max_length=20_000)

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        other = [p.type for p in self.content if p.type != "text"]
        if other:
            raise ApiError(400, f"Content parts of type {other[0]!r} are not supported: send text parts or a string.",
                           "invalid_request_error", "unsupported_content")
        text = "".join(p.text or "" for p in self.content)
        if len(text) > 20_000:
            raise ApiError(400, f"A message is {len(text):,} characters long; send at most 20,000.",
                           "invalid_request_error", "message_too_long")
        return text


class ChatRequest(BaseModel):
    model: str = Field(default="bayyina-extractive", max_length=100)
    messages: list[ChatMessage] = Field(min_length=1, max_length=101)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    n: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None

    model_config = {"strict": True, "json_schema_extra": {"examples": [
        {"model": "bayyina-extractive", "messages": [{"role": "user", "content": "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟"}]},
        {"model": "bayyina-extractive", "messages": [
            {"role": "user", "content": "Which resolution authorised the use of force against Iraq?"},
            {"role": "assistant", "content": "678 — «…» [1]"}, {"role": "user", "content": "When was it issued?"}]},
    ]}}


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    history: list[Annotated[list[Annotated[str, Field(max_length=20_000)]], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, max_length=50, description="earlier [question, answer] turns")

    model_config = {"strict": True, "json_schema_extra": {"examples": [
        {"question": "متى انتهت العمليات العسكرية ضد العراق؟", "history": []},
        {"question": "When was it issued?", "history": [["Which resolution authorised force against Iraq?", "678 [1]"]]},
    ]}}


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=100)
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"

    model_config = {"strict": True, "json_schema_extra": {"examples": [{"query": "قرار مجلس الأمن 678", "k": 3},
                                                       {"query": "human security", "k": 5, "mode": "hybrid"}]}}


class CitationOut(BaseModel):
    n: int
    source: str
    document_id: str
    start: int
    end: int
    page: int | None
    text: str
    score: float
    passage: dict[str, Any]
    answer_span: dict[str, Any] | None


class AnswerOut(BaseModel):
    question: str
    answer: str
    short: str
    language: str
    abstained: bool
    support: str
    citations: list[CitationOut]
    reader: str
    check: str
    timings_ms: dict[str, float | None]
    tokens: dict[str, int] | None = None


class HitOut(BaseModel):
    rank: int
    score: float
    source: str
    document_id: str
    start: int
    end: int
    page: int | None
    lang: str
    text: str


class SearchOut(BaseModel):
    query: str
    hits: list[HitOut]


class DocumentOut(BaseModel):
    id: str
    name: str
    kind: str
    passages: int


class DocumentText(DocumentOut):
    text: str


class ErrorBody(BaseModel):
    message: str
    type: str
    code: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.headers = status, message, type_, code, headers or {}


def _error(status: int, message: str, type_: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type_, "code": code}}, status_code=status,
                        headers=headers)


# ---------------------------------------------------------------------------- the app


class _Slot:
    """One place in the generation queue, given back exactly once however the request ends."""

    def __init__(self, gate: _Gate) -> None:
        self._gate, self._held = gate, True

    def leave(self) -> None:
        with self._gate.lock:
            if self._held:
                self._held = False
                self._gate.used -= 1


class _Gate:
    """At most ``size`` generations at once; a request past that is refused at once (429)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.used = 0
        self.lock = threading.Lock()

    def enter(self) -> _Slot:
        with self.lock:
            if self.used >= self.size:
                raise ApiError(429, "The server is busy answering other questions; retry in a moment.",
                               "rate_limit_error", "queue_full", {"Retry-After": "1"})
            self.used += 1
        return _Slot(self)

    def free(self) -> int:
        """Places free now (``/api/v1/ready`` shows it)."""
        with self.lock:
            return self.size - self.used


class _SlotResponse(StreamingResponse):
    """A streamed answer that gives its queue place back when the response ends in any way —
    finished, client gone before the first byte, reset mid-stream, or an error."""

    def __init__(self, slot: _Slot, content, **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._slot = slot

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._slot.leave()
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                try:
                    await close()
                except RuntimeError:   # still running on its worker thread: it ends on its own
                    pass


def create_app(bot: Assistant, *, api_key: str | None = None, cors: list[str] | None = None,
               queue: int | None = None, allow_remove: bool = False, data_dir: Path | None = None,
               ui: bool = True, readers=None) -> FastAPI:
    """The ASGI app: the API, and (``ui``) the Gradio chat at ``/``. ``queue``: answers in progress
    at once (running or waiting their turn); past it, 429. Default: 32 for the extractive reader
    (milliseconds each), 2 for a generative one (seconds each, one at a time on a CPU).
    ``readers``: the readers the chat offers (``qa.ui.Readers``; default: only ``bot``'s)."""
    if queue is None:
        queue = 32 if bot.reader.name in ("extractive", "heuristic") else 2
    app = FastAPI(title="Bayyina", version=__version__, docs_url=None, redoc_url=None,
                  description="Answers from your documents, in Arabic and English, with every claim cited. "
                              "OpenAI-compatible chat at /v1, native API at /api/v1.")
    gate = _Gate(queue)
    model_id = f"bayyina-{bot.reader.name}"
    if data_dir is None:   # where `bayyina serve` keeps uploads too; never the working directory
        from index.embed import cache_dir

        data_dir = cache_dir() / "uploads"
    state = {"ready": True}

    if cors:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])

    def limit_for(path: str) -> int:
        return MAX_UPLOAD_BYTES + 1_000_000 if path == "/api/v1/documents" or path.endswith("/upload") \
            else MAX_BODY_BYTES

    # Outermost: the key on every route (the chat's included), body limits on the bytes read,
    # CORS only for --cors origins, security headers (qa/http_guard.py).
    app.add_middleware(Guard, api_key=api_key, cors=cors, limit_for=limit_for)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError):
        return _error(exc.status, exc.message, exc.type, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}", "invalid_request_error",
                      "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:   # every method the path has (one route per method in FastAPI)
            methods = {m for r in app.routes if getattr(r, "path_regex", None) is not None
                       and r.path_regex.match(request.url.path) for m in (getattr(r, "methods", None) or ())}
            headers["Allow"] = ", ".join(sorted(methods - {"HEAD"} if "GET" not in methods else methods))
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code)
        return _error(exc.status_code, str(exc.detail), "invalid_request_error", code, headers)

    @app.exception_handler(BayyinaError)
    async def bayyina_error(_: Request, exc: BayyinaError):
        return _error(400, str(exc)[:1000], "invalid_request_error", type(exc).__name__)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception):
        return _error(500, "Internal error; see the server log.", "server_error", None)

    responses = {code: {"model": ErrorOut} for code in (400, 401, 413, 422, 429)}

    # ------------------------------------------------------------------ OpenAI-compatible

    @app.get("/v1/models", responses=responses)
    def models() -> dict:
        return {"object": "list", "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "bayyina"}]}

    streamed = {200: {"content": {"application/json": {}, "text/event-stream": {}},
                      "description": "a chat.completion, or with stream=true chat.completion.chunk events"}}

    @app.post("/v1/chat/completions", responses={**streamed, 404: {"model": ErrorOut}, **responses})
    async def chat_completions(body: ChatRequest, request: Request):
        if body.n not in (None, 1):
            raise ApiError(400, f"n={body.n} is not supported: Bayyina gives one cited answer per question (send n=1 "
                           "or leave it out).", "invalid_request_error", "unsupported_parameter")
        if body.tools or body.tool_choice not in (None, "none"):
            raise ApiError(400, "Tools are not supported: Bayyina answers from its documents only (leave tools out).",
                           "invalid_request_error", "unsupported_parameter")
        question, history = _conversation(body.messages)
        if body.model not in (model_id, "bayyina"):
            raise ApiError(404, f"Model {body.model!r} is not served here; use {model_id!r} (GET /v1/models).",
                           "invalid_request_error", "model_not_found")
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not body.stream:
            answer = await _answer(bot, gate, question, history)
            return _completion(answer, completion_id, created, model_id)
        slot = gate.enter()
        chunks = _start_stream(bot, slot, question, history)
        return _SlotResponse(slot, _sse_chat(chunks, request, completion_id, created, model_id),
                             media_type="text/event-stream")

    # ------------------------------------------------------------------ native

    @app.post("/api/v1/ask", response_model=AnswerOut, response_model_exclude_unset=True, responses=responses)
    async def ask(body: AskRequest):
        return public_answer(await _answer(bot, gate, body.question, [tuple(t) for t in body.history]))

    @app.post("/api/v1/ask/stream", response_class=StreamingResponse,
              responses={200: {"content": {"text/event-stream": {}},
                               "description": "events: token, citation, answer"}, **responses})
    async def ask_stream(body: AskRequest, request: Request):
        slot = gate.enter()
        chunks = _start_stream(bot, slot, body.question, [tuple(t) for t in body.history])
        return _SlotResponse(slot, _sse_native(chunks, request), media_type="text/event-stream")

    @app.post("/api/v1/search", response_model=SearchOut, responses=responses)
    def search(body: SearchRequest):
        hits = bot.index.search(body.query, k=body.k, mode=body.mode)
        return {"query": body.query, "hits": [
            {"rank": h.rank, "score": round(h.score, 6), "source": public_name(h.passage.source),
             "document_id": doc_id(h.passage.source), "start": h.passage.start,
             "end": h.passage.end, "page": h.passage.page, "lang": h.passage.lang, "text": h.passage.text}
            for h in hits]}

    def _doc_out(s) -> dict:
        return {"id": doc_id(s.source), "name": Path(s.source).name, "kind": s.kind, "passages": s.passages}

    def _find(doc: str):
        for s in bot.documents():
            if doc_id(s.source) == doc:
                return s
        raise ApiError(404, f"No document with id {doc[:40]!r}; list them at GET /api/v1/documents.",
                       "invalid_request_error", "document_not_found")

    @app.get("/api/v1/documents", response_model=list[DocumentOut], responses=responses)
    def documents():
        return [_doc_out(s) for s in bot.documents()]

    @app.get("/api/v1/documents/{doc}", response_model=DocumentText, responses={404: {"model": ErrorOut}, **responses})
    def document(doc: str):
        s = _find(doc)
        return {**_doc_out(s), "text": bot.document_text(s.source)}

    @app.post("/api/v1/documents", response_model=list[DocumentOut], responses=responses)
    async def upload(files: list[UploadFile] = File(...)):
        import tempfile

        problems: list[str] = []
        with tempfile.TemporaryDirectory() as tmp:
            received = []
            for i, f in enumerate(files):
                data = await f.read(MAX_UPLOAD_BYTES + 1)
                name = safe_upload_name(f.filename or "upload")
                if len(data) > MAX_UPLOAD_BYTES:
                    problems.append(f"{name}: over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit")
                    continue
                path = Path(tmp) / str(i) / name
                path.parent.mkdir()
                path.write_bytes(data)
                received.append(path)
            # The chat's path: safe names, supported types, sizes; a new folder of its own per upload.
            stored, refused = store_uploads(received, client_folder(data_dir))
            problems += refused
        report = await asyncio.to_thread(bot.add_files, stored) if stored else None
        for s in (report.skipped if report else ()):   # refused (empty, a bomb…): its copy is not kept
            problems.append(f"{Path(s.path).name}: {s.reason}")
            delete_stored(str(s.path), data_dir)
        if problems and not (report and (report.added or report.replaced or report.unchanged)):
            raise ApiError(400, "Nothing was indexed: " + "; ".join(problems), "invalid_request_error",
                           "nothing_indexed")
        names = {str(p) for p in stored}
        return [_doc_out(s) for s in bot.documents() if s.source in names]

    @app.delete("/api/v1/documents/{doc}", responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}, **responses})
    def delete(doc: str) -> dict:
        if not allow_remove:
            raise ApiError(403, "Removing documents is turned off on this server (start it with --allow-remove).",
                           "permission_error", "remove_disabled")
        s = _find(doc)
        removed = bot.remove_document(s.source)
        delete_stored(s.source, data_dir)   # an upload (chat's or API's): its stored copy goes too
        return {"id": doc, "removed_passages": removed}

    @app.get("/api/v1/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/api/v1/ready")
    def ready() -> dict:
        return {"ready": state["ready"], "reader": bot.reader.name, "passages": len(bot.index),
                "documents": len(bot.documents()), "queue_free": gate.free(), "queue_size": gate.size}

    # Anything else under the API prefixes is answered here, in the OpenAI error shape (not by the
    # chat mounted at "/"): 405 with the path's methods in Allow, else 404.
    every = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    @app.api_route("/v1/{rest:path}", methods=every, include_in_schema=False)
    @app.api_route("/api/v1/{rest:path}", methods=every, include_in_schema=False)
    def unknown(request: Request, rest: str):
        path = request.url.path
        methods = {m for r in app.routes if getattr(r, "endpoint", None) is not unknown
                   and getattr(r, "path_regex", None) is not None and r.path_regex.match(path)
                   for m in (getattr(r, "methods", None) or ())}
        if methods:
            allow = ", ".join(sorted(methods - {"HEAD"} if "GET" not in methods else methods))
            raise ApiError(405, f"{request.method} is not allowed on {path}; use {allow}.", "invalid_request_error",
                           "method_not_allowed", {"Allow": allow})
        raise ApiError(404, f"No such route: {path} (the API is described at /openapi.json).",
                       "invalid_request_error", "not_found")

    if ui:
        import gradio as gr

        from qa.ui import build_app

        blocks, launch_kwargs = build_app(bot, data_dir=data_dir, allow_remove=allow_remove, readers=readers)
        blocks.queue(default_concurrency_limit=4)
        app = gr.mount_gradio_app(app, blocks, path="", **launch_kwargs)
    return app


# ---------------------------------------------------------------------------- helpers


def _conversation(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user/assistant pairs the history."""
    turns = [m for m in messages if m.role not in ("system", "developer")]
    if not turns or turns[-1].role != "user":
        raise ApiError(400, "The last message must be the user's question.", "invalid_request_error",
                       "no_question")
    history, pending = [], None
    for m in turns[:-1]:
        if m.role == "user":
            pending = m.text()
        elif pending is not None:
            history.append((pending, _MARKER.sub("", m.text()).strip()))
            pending = None
    return turns[-1].text(), history


async def _answer(bot: Assistant, gate: _Gate, question: str, history) -> Answer:
    slot = gate.enter()
    try:
        return await asyncio.to_thread(bot.ask, question, history)
    finally:
        slot.leave()


def _start_stream(bot: Assistant, slot: _Slot, question: str, history) -> Iterator:
    """The answer's chunks; the question is checked now, so a bad one is a clean 400, not a broken stream."""
    try:
        from qa.assistant import question_language

        question_language(question)
        stream = bot.stream(question, history)
    except BaseException:
        slot.leave()
        raise

    def chunks():
        try:
            yield from stream
        finally:
            slot.leave()

    return chunks()


def public_name(source: str) -> str:
    """What a response says of a document: its file name, never the server's path to it."""
    return Path(source).name or source


def public_answer(answer: Answer) -> dict:
    """``Answer.to_dict()`` with every citation's source as its display name and document id."""
    d = answer.to_dict()
    for c, cited in zip(d["citations"], answer.citations):
        c["source"] = public_name(cited.source)
        c["document_id"] = doc_id(cited.source)
    return d


def public_citation(c: Citation) -> dict:
    return {**c.to_dict(), "source": public_name(c.source), "document_id": doc_id(c.source)}


def annotations(answer: Answer) -> list[dict]:
    """One OpenAI ``url_citation`` per ``[n]`` marker: its span in the answer text, the document's
    name, and a link to the cited span (served by ``GET /api/v1/documents/{id}``)."""
    by_n = {c.n: c for c in answer.citations}
    out = []
    for m in _MARKER.finditer(answer.text):
        for n in marker_numbers(m):
            c: Citation | None = by_n.get(n)
            if c is None:
                continue
            out.append({"type": "url_citation", "url_citation": {
                "start_index": m.start(), "end_index": m.end(), "title": Path(c.source).name,
                "url": f"/api/v1/documents/{doc_id(c.source)}#chars={c.start}-{c.end}"}})
    return out


def _extension(answer: Answer) -> dict:
    d = public_answer(answer)
    return {"abstained": answer.abstained, "short": answer.short, "support": answer.support,
            "language": answer.lang, "citations": d["citations"], "check": answer.check,
            "search_query": answer.search_query}


def _completion(answer: Answer, completion_id: str, created: int, model: str) -> dict:
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": answer.text, "annotations": annotations(answer)}}],
            "usage": {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.generated_tokens,
                      "total_tokens": answer.prompt_tokens + answer.generated_tokens},
            "bayyina": _extension(answer)}


async def _iterate(chunks: Iterator, request: Request):
    """The chunks of a (blocking) stream, read on a worker thread; stops when the client leaves."""
    done = object()
    iterator = iter(chunks)
    try:
        while True:
            if await request.is_disconnected():
                return
            item = await asyncio.to_thread(next, iterator, done)
            if item is done:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close:
            await asyncio.to_thread(close)


def _sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


async def _sse_chat(chunks: Iterator, request: Request, completion_id: str, created: int, model: str):
    head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
    yield _sse({**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                     "finish_reason": None}]})
    streamed = ""
    try:
        async for chunk in _iterate(chunks, request):
            if chunk.answer is None:
                if chunk.delta:
                    streamed += chunk.delta
                    yield _sse({**head, "choices": [{"index": 0, "delta": {"content": chunk.delta},
                                                     "finish_reason": None}]})
                continue
            answer = chunk.answer
            if answer.text.startswith(streamed):
                rest = answer.text[len(streamed):]
            else:   # the final text corrects what streamed (e.g. an abstention): clients see it as appended
                rest = answer.text
            delta = {"content": rest, "annotations": annotations(answer)} if rest else {"annotations": annotations(answer)}
            yield _sse({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": "stop"}],
                        "bayyina": _extension(answer)})
    except BayyinaError as exc:
        yield _sse({"error": {"message": str(exc)[:1000], "type": "invalid_request_error", "code": None}})
    yield _sse("[DONE]")


async def _sse_native(chunks: Iterator, request: Request):
    try:
        async for chunk in _iterate(chunks, request):
            if chunk.delta:
                yield f"event: token\ndata: {json.dumps({'text': chunk.delta}, ensure_ascii=False)}\n\n"
            if chunk.answer is not None:
                for c in chunk.answer.citations:
                    yield f"event: citation\ndata: {json.dumps(public_citation(c), ensure_ascii=False)}\n\n"
                yield f"event: answer\ndata: {json.dumps(public_answer(chunk.answer), ensure_ascii=False)}\n\n"
    except BayyinaError as exc:
        yield f"event: error\ndata: {json.dumps({'message': str(exc)[:1000]}, ensure_ascii=False)}\n\n"

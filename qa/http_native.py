"""The native routes under ``/api/v1``: ask (and ask/stream: SSE ``token``, ``citation``,
``answer``), search, documents (list, get with text, upload, delete with ``--allow-remove``),
health and ready."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import StreamingResponse

from qa.http_answers import doc_id, public_answer, public_name
from qa.http_errors import ApiError
from qa.http_queue import SlotResponse, answer_now, start_stream
from qa.http_schemas import AnswerOut, AskRequest, DocumentOut, DocumentText, ErrorOut, SearchOut, SearchRequest
from qa.http_sse import sse_native
from qa.http_state import ServerState, State
from qa.limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB
from qa.uploads import client_folder, delete_stored, safe_upload_name, store_uploads

ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 413, 422, 429)}
_NOT_FOUND = {404: {"model": ErrorOut}}

router = APIRouter(prefix="/api/v1")


@router.post("/ask", response_model=AnswerOut, response_model_exclude_unset=True, responses=ERRORS)
async def ask(body: AskRequest, state: State):
    return public_answer(await answer_now(state.bot, state.gate, body.question, [tuple(t) for t in body.history]))


@router.post("/ask/stream", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}, "description": "events: token, citation, answer"},
                        **ERRORS})
async def ask_stream(body: AskRequest, request: Request, state: State):
    slot = state.gate.enter()
    chunks = start_stream(state.bot, slot, body.question, [tuple(t) for t in body.history])
    return SlotResponse(slot, sse_native(chunks, request), media_type="text/event-stream")


@router.post("/search", response_model=SearchOut, responses=ERRORS)
def search(body: SearchRequest, state: State):
    hits = state.bot.index.search(body.query, k=body.k, mode=body.mode)
    return {"query": body.query, "hits": [
        {"rank": h.rank, "score": round(h.score, 6), "source": public_name(h.passage.source),
         "document_id": doc_id(h.passage.source), "start": h.passage.start,
         "end": h.passage.end, "page": h.passage.page, "lang": h.passage.lang, "text": h.passage.text}
        for h in hits]}


def _doc_out(s) -> dict:
    return {"id": doc_id(s.source), "name": Path(s.source).name, "kind": s.kind, "passages": s.passages}


def _find(state: ServerState, doc: str):
    for s in state.bot.documents():
        if doc_id(s.source) == doc:
            return s
    raise ApiError(404, f"No document with id {doc[:40]!r}; list them at GET /api/v1/documents.",
                   "invalid_request_error", "document_not_found")


@router.get("/documents", response_model=list[DocumentOut], responses=ERRORS)
def documents(state: State):
    return [_doc_out(s) for s in state.bot.documents()]


@router.get("/documents/{doc}", response_model=DocumentText, responses={**_NOT_FOUND, **ERRORS})
def document(doc: str, state: State):
    s = _find(state, doc)
    return {**_doc_out(s), "text": state.bot.document_text(s.source)}


async def _receive(files: list[UploadFile], tmp: Path) -> tuple[list[Path], list[str]]:
    """The uploaded files written under ``tmp`` (each in its own folder), and the refused ones' reasons."""
    received, problems = [], []
    for i, f in enumerate(files):
        data = await f.read(MAX_UPLOAD_BYTES + 1)
        name = safe_upload_name(f.filename or "upload")
        if len(data) > MAX_UPLOAD_BYTES:
            problems.append(f"{name}: over the {MAX_UPLOAD_MB} MB limit")
            continue
        path = tmp / str(i) / name
        path.parent.mkdir()
        path.write_bytes(data)
        received.append(path)
    return received, problems


@router.post("/documents", response_model=list[DocumentOut], responses=ERRORS)
async def upload(state: State, files: list[UploadFile] = File(...)):
    with tempfile.TemporaryDirectory() as tmp:
        received, problems = await _receive(files, Path(tmp))
        # The chat's path: safe names, supported types, sizes; a new folder of its own per upload.
        stored, refused = store_uploads(received, client_folder(state.data_dir))
        problems += refused
    report = await asyncio.to_thread(state.bot.add_files, stored) if stored else None
    for s in (report.skipped if report else ()):   # refused (empty, a bomb…): its copy is not kept
        problems.append(f"{Path(s.path).name}: {s.reason}")
        delete_stored(str(s.path), state.data_dir)
    if problems and not (report and (report.added or report.replaced or report.unchanged)):
        raise ApiError(400, "Nothing was indexed: " + "; ".join(problems), "invalid_request_error",
                       "nothing_indexed")
    names = {str(p) for p in stored}
    return [_doc_out(s) for s in state.bot.documents() if s.source in names]


@router.delete("/documents/{doc}", responses={403: {"model": ErrorOut}, **_NOT_FOUND, **ERRORS})
def delete(doc: str, state: State) -> dict:
    if not state.allow_remove:
        raise ApiError(403, "Removing documents is turned off on this server (start it with --allow-remove).",
                       "permission_error", "remove_disabled")
    s = _find(state, doc)
    removed = state.bot.remove_document(s.source)
    delete_stored(s.source, state.data_dir)   # an upload (chat's or API's): its stored copy goes too
    return {"id": doc, "removed_passages": removed}


@router.get("/health")
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready")
def ready(state: State) -> dict:
    return {"ready": state.ready, "reader": state.bot.reader.name, "passages": len(state.bot.index),
            "documents": len(state.bot.documents()), "queue_free": state.gate.free(), "queue_size": state.gate.size}

"""The OpenAI-compatible routes: ``GET /v1/models`` and ``POST /v1/chat/completions`` (``stream``
true or false), the answer's ``[n]`` markers with one ``url_citation`` annotation each."""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, Request

from qa.http_answers import completion, conversation
from qa.http_errors import ApiError
from qa.http_queue import SlotResponse, answer_now, start_stream
from qa.http_schemas import ChatRequest, ErrorOut
from qa.http_sse import sse_chat
from qa.http_state import State

ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 413, 422, 429)}
_STREAMED = {200: {"content": {"application/json": {}, "text/event-stream": {}},
                   "description": "a chat.completion, or with stream=true chat.completion.chunk events"}}

router = APIRouter(prefix="/v1")


@router.get("/models", responses=ERRORS)
def models(state: State) -> dict:
    return {"object": "list", "data": [{"id": state.model_id, "object": "model", "created": 0,
                                        "owned_by": "bayyina"}]}


def _refuse_unsupported(body: ChatRequest) -> None:
    """What Bayyina cannot do is refused by name (n > 1, tools)."""
    if body.n not in (None, 1):
        raise ApiError(400, f"n={body.n} is not supported: Bayyina gives one cited answer per question (send n=1 "
                       "or leave it out).", "invalid_request_error", "unsupported_parameter")
    if body.tools or body.tool_choice not in (None, "none"):
        raise ApiError(400, "Tools are not supported: Bayyina answers from its documents only (leave tools out).",
                       "invalid_request_error", "unsupported_parameter")


def _served_model(body: ChatRequest, model_id: str) -> None:
    if body.model not in (model_id, "bayyina"):
        raise ApiError(404, f"Model {body.model!r} is not served here; use {model_id!r} (GET /v1/models).",
                       "invalid_request_error", "model_not_found")


@router.post("/chat/completions", responses={**_STREAMED, 404: {"model": ErrorOut}, **ERRORS})
async def chat_completions(body: ChatRequest, request: Request, state: State):
    _refuse_unsupported(body)
    question, history = conversation(body.messages)
    _served_model(body, state.model_id)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if not body.stream:
        answer = await answer_now(state.bot, state.gate, question, history)
        return completion(answer, completion_id, created, state.model_id)
    slot = state.gate.enter()
    chunks = start_stream(state.bot, slot, question, history)
    return SlotResponse(slot, sse_chat(chunks, request, completion_id, created, state.model_id),
                        media_type="text/event-stream")

"""Server-sent events: a blocking answer stream read on a worker thread (stopping when the client
leaves), as OpenAI ``chat.completion.chunk`` events or the native ``token``/``citation``/``answer``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

from fastapi import Request

from qa.errors import BayyinaError
from qa.http_answers import annotations, extension, public_answer, public_citation


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


async def sse_chat(chunks: Iterator, request: Request, completion_id: str, created: int, model: str):
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
                        "bayyina": extension(answer)})
    except BayyinaError as exc:
        yield _sse({"error": {"message": str(exc)[:1000], "type": "invalid_request_error", "code": None}})
    yield _sse("[DONE]")


async def sse_native(chunks: Iterator, request: Request):
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

"""The bounded generation queue: at most ``size`` answers in progress; a request past it gets 429
at once, and a streamed answer gives its place back however its response ends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

from fastapi.responses import StreamingResponse

from qa.assistant import Assistant, question_language
from qa.http_errors import ApiError
from qa.types import Answer


class Slot:
    """One place in the generation queue, given back exactly once however the request ends."""

    def __init__(self, gate: Gate) -> None:
        self._gate, self._held = gate, True

    def leave(self) -> None:
        with self._gate.lock:
            if self._held:
                self._held = False
                self._gate.used -= 1


class Gate:
    """At most ``size`` generations at once; a request past that is refused at once (429)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.used = 0
        self.lock = threading.Lock()

    def enter(self) -> Slot:
        with self.lock:
            if self.used >= self.size:
                raise ApiError(429, "The server is busy answering other questions; retry in a moment.",
                               "rate_limit_error", "queue_full", {"Retry-After": "1"})
            self.used += 1
        return Slot(self)

    def free(self) -> int:
        """Places free now (``/api/v1/ready`` shows it)."""
        with self.lock:
            return self.size - self.used


class SlotResponse(StreamingResponse):
    """A streamed answer that gives its queue place back when the response ends in any way —
    finished, client gone before the first byte, reset mid-stream, or an error."""

    def __init__(self, slot: Slot, content, **kwargs) -> None:
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


async def answer_now(bot: Assistant, gate: Gate, question: str, history) -> Answer:
    slot = gate.enter()
    try:
        return await asyncio.to_thread(bot.ask, question, history)
    finally:
        slot.leave()


def start_stream(bot: Assistant, slot: Slot, question: str, history) -> Iterator:
    """The answer's chunks; the question is checked now, so a bad one is a clean 400, not a broken stream."""
    try:
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

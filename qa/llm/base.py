"""The ``ChatModel`` Protocol the LLM reader talks to, and what it streams back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from collections.abc import Iterator, Sequence

from qa.errors import BayyinaError


class LLMError(BayyinaError):
    """A language model could not be loaded or did not answer (unreachable server, bad key, timeout…)."""


@dataclass(frozen=True)
class Message:
    role: str      # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Generation:
    """A piece of generated text. The last piece of a stream carries the token counts the back end
    reported (0 when it reports none)."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


@runtime_checkable
class ChatModel(Protocol):
    name: str

    def stream(self, messages: Sequence[Message], *, max_tokens: int, json_schema: dict | None = None
               ) -> Iterator[Generation]:
        """Generate a reply to ``messages`` greedily; with ``json_schema``, constrain it to match."""
        ...

"""The HTTP API's typed request and response bodies (pydantic), with the shared limits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.http_errors import ApiError
from qa.limits import MAX_HISTORY_TURNS, MAX_MESSAGE_CHARS, MAX_MESSAGES, MAX_QUESTION_CHARS

_STRICT = ConfigDict(strict=True)   # "false" is not a temperature, "5" not a k


class ContentPart(BaseModel):
    """One part of a message's content (OpenAI's list form); only ``text`` parts can be read."""

    type: str = Field(max_length=40)
    text: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    model_config = _STRICT
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] = Field(max_length=MAX_MESSAGE_CHARS)

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        other = [p.type for p in self.content if p.type != "text"]
        if other:
            raise ApiError(400, f"Content parts of type {other[0]!r} are not supported: send text parts or a string.",
                           "invalid_request_error", "unsupported_content")
        text = "".join(p.text or "" for p in self.content)
        if len(text) > MAX_MESSAGE_CHARS:
            raise ApiError(400, f"A message is {len(text):,} characters long; send at most {MAX_MESSAGE_CHARS:,}.",
                           "invalid_request_error", "message_too_long")
        return text


class ChatRequest(BaseModel):
    model: str = Field(default="bayyina-extractive", max_length=100)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
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
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    history: list[Annotated[list[Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS, description="earlier [question, answer] turns")

    model_config = {"strict": True, "json_schema_extra": {"examples": [
        {"question": "متى انتهت العمليات العسكرية ضد العراق؟", "history": []},
        {"question": "When was it issued?", "history": [["Which resolution authorised force against Iraq?", "678 [1]"]]},
    ]}}


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
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

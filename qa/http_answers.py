"""What the HTTP API says of an answer: public names and ids (never a server path), OpenAI
``url_citation`` annotations per ``[n]`` marker, the ``bayyina`` extension, a chat completion."""

from __future__ import annotations

from pathlib import Path

from qa.citations import MARKER, marker_numbers
from qa.http_errors import ApiError
from qa.http_schemas import ChatMessage
from qa.types import Answer, Citation
from qa.uploads import document_id as doc_id


def conversation(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
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
            history.append((pending, MARKER.sub("", m.text()).strip()))
            pending = None
    return turns[-1].text(), history


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
    for m in MARKER.finditer(answer.text):
        for n in marker_numbers(m):
            c: Citation | None = by_n.get(n)
            if c is None:
                continue
            out.append({"type": "url_citation", "url_citation": {
                "start_index": m.start(), "end_index": m.end(), "title": Path(c.source).name,
                "url": f"/api/v1/documents/{doc_id(c.source)}#chars={c.start}-{c.end}"}})
    return out


def extension(answer: Answer) -> dict:
    d = public_answer(answer)
    return {"abstained": answer.abstained, "short": answer.short, "support": answer.support,
            "language": answer.lang, "citations": d["citations"], "check": answer.check,
            "search_query": answer.search_query}


def completion(answer: Answer, completion_id: str, created: int, model: str) -> dict:
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": answer.text, "annotations": annotations(answer)}}],
            "usage": {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.generated_tokens,
                      "total_tokens": answer.prompt_tokens + answer.generated_tokens},
            "bayyina": extension(answer)}

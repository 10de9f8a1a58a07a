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

from pathlib import Path

from qa import __version__
from qa.assistant import Assistant
from qa.errors import MissingDependencyError

try:
    from fastapi import FastAPI, Request
except ImportError:  # pragma: no cover - gradio brings fastapi
    raise MissingDependencyError("The HTTP API needs FastAPI.", 'pip install "bayyina[ui]"') from None

from qa import http_native, http_openai
from qa.http_answers import annotations, doc_id, public_answer   # noqa: F401 - the module's public helpers
from qa.http_errors import ApiError, allowed_methods, install_error_handlers
from qa.http_guard import Guard
from qa.http_queue import Gate
from qa.http_state import ServerState
from qa.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES

_EVERY = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def create_app(bot: Assistant, *, api_key: str | None = None, cors: list[str] | None = None,
               queue: int | None = None, allow_remove: bool = False, data_dir: Path | None = None,
               ui: bool = True, readers=None) -> FastAPI:
    """The ASGI app: the API, and (``ui``) the Gradio chat at ``/``. ``queue``: answers in progress
    at once (running or waiting their turn); past it, 429. Default: 32 for the extractive reader
    (milliseconds each), 2 for a generative one (seconds each, one at a time on a CPU).
    ``readers``: the readers the chat offers (``qa.ui.Readers``; default: only ``bot``'s)."""
    if queue is None:
        queue = 32 if bot.reader.name in ("extractive", "heuristic") else 2
    if data_dir is None:   # where `bayyina serve` keeps uploads too; never the working directory
        from index.embed import cache_dir

        data_dir = cache_dir() / "uploads"
    app = FastAPI(title="Bayyina", version=__version__, docs_url=None, redoc_url=None,
                  description="Answers from your documents, in Arabic and English, with every claim cited. "
                              "OpenAI-compatible chat at /v1, native API at /api/v1.")
    app.state.bayyina = ServerState(bot, Gate(queue), f"bayyina-{bot.reader.name}", data_dir, allow_remove, readers)
    _guard(app, api_key, cors)
    install_error_handlers(app)
    app.include_router(http_openai.router)
    app.include_router(http_native.router)
    _unknown_routes(app)
    if ui:
        import gradio as gr

        from qa.ui import build_app

        blocks, launch_kwargs = build_app(bot, data_dir=data_dir, allow_remove=allow_remove, readers=readers)
        blocks.queue(default_concurrency_limit=4)
        app = gr.mount_gradio_app(app, blocks, path="", **launch_kwargs)
    return app


def _limit_for(path: str) -> int:
    """The most bytes a request body on ``path`` may have (an upload's, or any other's)."""
    return MAX_UPLOAD_BYTES + 1_000_000 if path == "/api/v1/documents" or path.endswith("/upload") \
        else MAX_BODY_BYTES


def _guard(app: FastAPI, api_key: str | None, cors: list[str] | None) -> None:
    """Outermost: the key on every route (the chat's included), body limits on the bytes read, CORS
    only for --cors origins, security headers (``qa/http_guard.py``)."""
    if cors:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(Guard, api_key=api_key, cors=cors, limit_for=_limit_for)


def _unknown_routes(app: FastAPI) -> None:
    """Anything else under the API prefixes is answered in the OpenAI error shape (not by the chat
    mounted at "/"): 405 with the path's methods in Allow, else 404."""

    @app.api_route("/v1/{rest:path}", methods=_EVERY, include_in_schema=False)
    @app.api_route("/api/v1/{rest:path}", methods=_EVERY, include_in_schema=False)
    def unknown(request: Request, rest: str):
        path = request.url.path
        allow = allowed_methods(app, path, skip=unknown)
        if allow:
            raise ApiError(405, f"{request.method} is not allowed on {path}; use {allow}.", "invalid_request_error",
                           "method_not_allowed", {"Allow": allow})
        raise ApiError(404, f"No such route: {path} (the API is described at /openapi.json).",
                       "invalid_request_error", "not_found")

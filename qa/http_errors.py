"""The HTTP API's errors, in OpenAI's shape (``{"error": {"message", "type", "code"}}``), and the
handlers that turn every failure into one."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from qa.errors import BayyinaError


class ApiError(Exception):
    """A refusal with its HTTP status, OpenAI error type and code (and headers, e.g. ``Retry-After``)."""

    def __init__(self, status: int, message: str, type_: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.headers = status, message, type_, code, headers or {}


def error_response(status: int, message: str, type_: str, code: str | None = None,
                   headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type_, "code": code}}, status_code=status,
                        headers=headers)


def allowed_methods(app: FastAPI, path: str, *, skip: object = None) -> str:
    """The methods the app's routes (``skip``'s endpoint aside) take on ``path``, for ``Allow``:
    asked of each route as the router would (``matches``), HEAD beside GET."""
    found = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": [],
                 "query_string": b""}
        if any(getattr(r, "endpoint", None) is not skip and not isinstance(r, Mount)   # the chat at "/"
               and r.matches(scope)[0] == Match.FULL for r in app.router.routes):
            found.add(method)
    if "GET" in found:
        found.add("HEAD")
    return ", ".join(sorted(found))


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app can raise answers in the OpenAI shape; an unexpected one says only 500."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.message, exc.type, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return error_response(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}",
                              "invalid_request_error", "invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:   # every method the path has (one route per method in FastAPI)
            headers["Allow"] = allowed_methods(app, request.url.path)
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code)
        return error_response(exc.status_code, str(exc.detail), "invalid_request_error", code, headers)

    @app.exception_handler(BayyinaError)
    async def bayyina_error(_: Request, exc: BayyinaError):
        return error_response(400, str(exc)[:1000], "invalid_request_error", type(exc).__name__)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception):
        return error_response(500, "Internal error; see the server log.", "server_error", None)

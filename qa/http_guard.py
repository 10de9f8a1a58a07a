"""What stands in front of every route of ``bayyina serve``: one ASGI middleware.

- **The key guards everything.** With a key set, every path but ``/api/v1/health``,
  ``/openapi.json`` and the login page needs either ``Authorization: Bearer <key>`` or the session
  cookie the login page sets (``HttpOnly``, ``SameSite=Strict``, random, server-side, expiring) —
  the chat page, its assets and the Gradio API routes (``/gradio_api/…``) included. A browser asking
  for a page without it is sent to the login page; anything else gets a 401 in the OpenAI error shape.
- **Body limits on the bytes read**, whatever the framing: the declared ``Content-Length`` is
  checked first, and the bytes actually received are counted, so a chunked body over the limit is
  refused (413) as soon as it passes it.
- **CORS only for the ``--cors`` origins**: the ``Access-Control-*`` headers of any other origin's
  response are dropped (Gradio answers ``localhost`` origins on its own).
- **Security headers** on every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  no-referrer``, ``X-Frame-Options: DENY`` and ``Content-Security-Policy: frame-ancestors 'none'``.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException

COOKIE = "bayyina_session"
LOGIN_PATH = "/login"
SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 10_000
OPEN_PATHS = frozenset({"/api/v1/health", "/openapi.json", LOGIN_PATH})
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'")]

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a request body passes its limit: an HTTP 413 that FastAPI
    passes through its body parsing untouched, answered in the OpenAI error shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is over {limit:,} bytes.")
        self.limit = limit


def error_body(status: int, message: str, code: str) -> bytes:
    """An error in the OpenAI shape (``{"error": {"message", "type", "code"}}``)."""
    return json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": code}}).encode()


class Sessions:
    """Random session tokens handed out by the login page, each valid for ``SESSION_SECONDS``."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}

    def new(self) -> str:
        now = time.monotonic()
        if len(self._expiry) >= MAX_SESSIONS:
            for token, until in list(self._expiry.items()):
                if until < now:
                    del self._expiry[token]
            while len(self._expiry) >= MAX_SESSIONS:
                self._expiry.pop(next(iter(self._expiry)))
        token = secrets.token_urlsafe(32)
        self._expiry[token] = now + SESSION_SECONDS
        return token

    def valid(self, token: str) -> bool:
        until = self._expiry.get(token)
        if until is None:
            return False
        if until < time.monotonic():
            self._expiry.pop(token, None)
            return False
        return True


def _cookie(headers: dict[bytes, bytes], name: str) -> str:
    raw = headers.get(b"cookie", b"").decode("latin-1")
    for part in raw.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return ""


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bayyina — sign in</title>
<style>
body{{font-family:"Noto Sans","Noto Sans Arabic",system-ui,sans-serif;background:#f6f7f9;margin:0;display:flex;
min-height:100vh;align-items:center;justify-content:center}}
form{{background:#fff;border:1px solid #dde1e6;border-radius:12px;padding:28px;width:min(360px,90vw);
box-shadow:0 2px 10px rgba(0,0,0,.06)}}
h1{{font-size:1.3rem;margin:0 0 4px}} p{{color:#555;margin:0 0 16px;font-size:.95rem}}
p[dir=rtl]{{text-align:right}} label{{display:block;font-weight:600;margin-bottom:6px}}
input{{width:100%;box-sizing:border-box;font-size:1rem;padding:10px;border:1px solid #c4c9d0;border-radius:8px}}
button{{margin-top:14px;width:100%;padding:10px;font-size:1rem;border:0;border-radius:8px;background:#1f5fbf;color:#fff}}
.err{{color:#b00020;font-weight:600}}
</style></head>
<body><form method="post" action="{action}">
<h1>Bayyina · بيّنة</h1>
<p>This server needs its access key.</p><p dir="rtl" lang="ar">يحتاج هذا الخادم إلى مفتاح الوصول.</p>
{error}
<label for="key">Access key · مفتاح الوصول</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in · دخول</button>
</form></body></html>"""


class Guard:
    """The ASGI middleware (see the module docstring). ``limit_for(path)``: the body limit in bytes."""

    def __init__(self, app, *, api_key: str | None, cors: list[str] | None, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.api_key = api_key
        self.cors = set(cors or ())
        self.limit_for = limit_for
        self.sessions = Sessions()

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        if self.api_key is None:
            return True
        given = headers.get(b"authorization", b"").decode("latin-1")
        token = given[7:] if given.lower().startswith("bearer ") else ""
        if token and hmac.compare_digest(token.encode(), self.api_key.encode()):
            return True
        session = _cookie(headers, COOKIE)
        return bool(session) and self.sessions.valid(session)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        path = scope.get("path", "")
        origin = headers.get(b"origin", b"").decode("latin-1")

        async def send_guarded(message: dict) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ())
                        if not (k.lower().startswith(b"access-control-") and origin not in self.cors)]
                names = {k.lower() for k, _ in kept}
                kept += [(k, v) for k, v in _HEADERS if k not in names]
                message = {**message, "headers": kept}
            await send(message)

        if scope["type"] == "websocket":
            if not self._authorised(headers):
                await send({"type": "websocket.close", "code": 4401})
                return
            return await self.app(scope, receive, send)
        if (scope.get("method") == "OPTIONS" and origin in self.cors
                and b"access-control-request-method" in headers):
            return await self.app(scope, receive, send_guarded)   # a CORS preflight carries no credentials
        if self.api_key is not None and path == LOGIN_PATH:
            return await self._login(scope, receive, send_guarded)
        if path not in OPEN_PATHS and not self._authorised(headers):
            method = scope.get("method", "GET")
            if method in ("GET", "HEAD") and b"text/html" in headers.get(b"accept", b""):
                return await _respond(send_guarded, 303, b"", [(b"location", LOGIN_PATH.encode())], "text/plain")
            return await _respond(send_guarded, 401, error_body(
                401, "Missing or wrong API key: send 'Authorization: Bearer <key>' (or sign in at /login).",
                "invalid_api_key"), [(b"www-authenticate", b"Bearer")])
        limit = self.limit_for(path)
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _respond(send_guarded, 413, error_body(413, f"The request body is over {limit:,} bytes.",
                                                                "body_too_large"))
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def send_tracked(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_guarded(message)

        try:
            await self.app(scope, counted, send_tracked)
        except BodyTooLarge as exc:
            if not started:
                await _respond(send_guarded, 413, error_body(413, str(exc.detail), "body_too_large"))

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method == "GET":
            page = LOGIN_PAGE.format(action=LOGIN_PATH, error="").encode()
            return await _respond(send, 200, page, content_type="text/html; charset=utf-8")
        if method != "POST":
            return await _respond(send, 405, error_body(405, "Use GET or POST on /login.", "method_not_allowed"),
                                  [(b"allow", b"GET, POST")])
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > 10_000:
                return await _respond(send, 413, error_body(413, "The login form is too large.", "body_too_large"))
            if not message.get("more_body"):
                break
        given = (parse_qs(body.decode("utf-8", "replace")).get("key") or [""])[0]
        if not hmac.compare_digest(given.encode(), (self.api_key or "").encode()):
            page = LOGIN_PAGE.format(action=LOGIN_PATH, error='<p class="err">Wrong key · مفتاح خاطئ</p>')
            return await _respond(send, 401, page.encode(), content_type="text/html; charset=utf-8")
        token = self.sessions.new()
        cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}"
        await _respond(send, 303, b"", [(b"location", b"/"), (b"set-cookie", cookie.encode())], "text/plain")


async def _respond(send: Send, status: int, body: bytes, headers: list | None = None,
                   content_type: str = "application/json") -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


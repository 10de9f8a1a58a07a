"""The fault/security suite: each finding of the probe (issue 22) replayed against a real server on
127.0.0.1 with the chat mounted and a key set. Fails if any regresses."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import qa
from index.hybrid import build
from qa.server import create_app
from sources.types import Document
from tests.qa.fakes import SlowReader
from tests.qa.test_server import _run

KEY = "sec-key-456"
QUEUE = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import AR_DOC, EN_DOC, FakeEmbedder

    emb = FakeEmbedder()
    index = build([Document("un.ar.txt", AR_DOC), Document("un.en.txt", EN_DOC)], emb)
    inner = qa.ExtractiveReader(emb, abstain=False, span_model=None)
    bot = qa.Assistant(index, SlowReader(inner, delay=0.05, first=0.3))
    data = tmp_path_factory.mktemp("uploads")
    url, srv = _run(create_app(bot, api_key=KEY, allow_remove=True, queue=QUEUE, data_dir=data))
    yield url, bot, data
    srv.should_exit = True


def _req(url, path, *, method="GET", body=None, headers=None, key=None):
    h = dict(headers or {})
    if key:
        h["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    if data is not None and "Content-Type" not in h:
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(url + path, data=data, method=method, headers=h)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        r = opener.open(req, timeout=60)
        return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.mark.parametrize("method, path", [
    ("POST", "/gradio_api/call/ask"), ("POST", "/gradio_api/upload"), ("POST", "/gradio_api/queue/join"),
    ("GET", "/config"), ("GET", "/gradio_api/info"), ("GET", "/"), ("GET", "/v1/models"),
    ("POST", "/api/v1/ask"), ("GET", "/api/v1/documents"), ("GET", "/api/v1/ready"),
])
def test_every_route_needs_the_key(server, method, path):
    url, _, _ = server
    body = {"data": ["ما القرار؟", "[]"]} if method == "POST" else None
    status, headers, raw = _req(url, path, method=method, body=body)
    assert status == 401, (path, status, raw[:200])
    assert json.loads(raw)["error"]["code"] == "invalid_api_key"
    status, _, _ = _req(url, path, method=method, body=body, key="wrong-" + KEY)
    assert status == 401


def test_health_and_the_spec_stay_open_and_a_browser_is_sent_to_sign_in(server):
    url, _, _ = server
    assert _req(url, "/api/v1/health")[0] == 200 and _req(url, "/openapi.json")[0] == 200
    status, headers, _ = _req(url, "/", headers={"Accept": "text/html"})
    assert status == 303 and headers["location"] == "/login"
    status, _, page = _req(url, "/login")
    assert status == 200 and b'name="key"' in page and "مفتاح".encode() in page


def test_signing_in_sets_a_strict_httponly_cookie_that_opens_the_chat(server):
    url, _, _ = server
    status, _, _ = _req(url, "/login", method="POST", body=b"key=nope",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    status, headers, _ = _req(url, "/login", method="POST", body=f"key={KEY}".encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    cookie = headers["set-cookie"]
    assert status == 303 and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    session = cookie.split(";")[0]
    status, _, page = _req(url, "/", headers={"Cookie": session, "Accept": "text/html"})
    assert status == 200 and b"<html" in page.lower()
    assert _req(url, "/config", headers={"Cookie": session})[0] == 200
    assert _req(url, "/config", headers={"Cookie": "bayyina_session=forged"})[0] == 401


def test_the_chat_api_answers_with_the_key(server):
    url, _, _ = server
    status, _, raw = _req(url, "/gradio_api/call/ask", method="POST", body={"data": ["ما القرار؟", "[]"]}, key=KEY)
    assert status == 200 and "event_id" in json.loads(raw)


def _reset_stream(url: str) -> None:
    """Open a streaming chat completion, read the first bytes, and reset the connection (RST)."""
    host, port = url.split("//")[1].split(":")
    body = json.dumps({"model": "bayyina", "stream": True,
                       "messages": [{"role": "user", "content": "Which resolution did the Council adopt?"}]}).encode()
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    try:
        s.recv(64)
    except OSError:
        pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_dropped_streams_give_their_queue_places_back(server):
    url, _, _ = server
    for _ in range(50):
        _reset_stream(url)
    deadline = time.monotonic() + 30
    ready = {}
    while time.monotonic() < deadline:
        ready = json.loads(_req(url, "/api/v1/ready", key=KEY)[2])
        if ready["queue_free"] == QUEUE:
            break
        time.sleep(0.2)
    assert ready["queue_free"] == QUEUE, ready
    status, _, raw = _req(url, "/v1/chat/completions", method="POST", key=KEY, body={
        "model": "bayyina", "messages": [{"role": "user", "content": "Which resolution did the Council adopt?"}]})
    assert status == 200 and "678" in raw.decode()


def test_a_chunked_body_over_the_limit_is_refused(server):
    url, _, _ = server
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    big = json.dumps({"question": "x" * 5_000_000}).encode()
    conn.request("POST", "/api/v1/ask", body=iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                 headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json",
                          "Transfer-Encoding": "chunked"}, encode_chunked=True)
    r = conn.getresponse()
    assert r.status == 413 and json.loads(r.read())["error"]["code"] == "body_too_large"
    conn.close()


def _upload(url, name: str, data: bytes):
    boundary = "----bayyina-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return _req(url, "/api/v1/documents", method="POST", body=body, key=KEY,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_uploads_never_overwrite_each_other_and_removal_deletes_the_copy(server):
    url, _, data = server
    s1, _, r1 = _upload(url, "notes.txt", b"The first notes say the dam opened in 2005.")
    s2, _, r2 = _upload(url, "notes.txt", b"The second notes say the bridge opened in 1999.")
    assert s1 == s2 == 200
    d1, d2 = json.loads(r1)[0], json.loads(r2)[0]
    assert d1["id"] != d2["id"] and d1["name"] == d2["name"] == "notes.txt"
    texts = [json.loads(_req(url, f"/api/v1/documents/{d['id']}", key=KEY)[2])["text"] for d in (d1, d2)]
    assert "dam" in texts[0] and "bridge" in texts[1]                        # the first text is still there
    copies = sorted(p for p in Path(data).rglob("notes.txt"))
    assert len(copies) == 2
    assert _req(url, f"/api/v1/documents/{d1['id']}", method="DELETE", key=KEY)[0] == 200
    assert len(list(Path(data).rglob("notes.txt"))) == 1                    # its stored copy went with it
    assert _req(url, f"/api/v1/documents/{d2['id']}", method="DELETE", key=KEY)[0] == 200
    assert not list(Path(data).rglob("notes.txt"))


def test_a_refused_upload_leaves_nothing_on_disk(server):
    url, _, data = server
    before = sorted(Path(data).rglob("*"))
    status, _, raw = _upload(url, "empty.txt", b"   \n")
    assert status == 400 and "empty.txt" in json.loads(raw)["error"]["message"]
    assert not [p for p in Path(data).rglob("empty.txt")] and sorted(Path(data).rglob("*")) == before


def test_a_long_name_keeps_its_extension():
    from qa.uploads import safe_upload_name

    name = safe_upload_name("ت" * 200 + ".docx")
    assert name.endswith(".docx") and len(name) <= 120


def test_no_server_path_in_any_response(server):
    url, bot, data = server
    _, _, raw = _upload(url, "paths.txt", b"Resolution 678 was adopted by the Council in 1990.")
    doc = json.loads(raw)[0]
    try:
        for path, body in (("/api/v1/search", {"query": "resolution 678 adopted", "k": 5}),
                           ("/api/v1/ask", {"question": "Which resolution was adopted in 1990?"})):
            status, _, raw = _req(url, path, method="POST", body=body, key=KEY)
            assert status == 200 and str(data) not in raw.decode() and "/tmp" not in raw.decode()
        status, _, raw = _req(url, "/v1/chat/completions", method="POST", key=KEY, body={
            "model": "bayyina", "messages": [{"role": "user", "content": "Which resolution was adopted in 1990?"}]})
        assert status == 200 and str(data) not in raw.decode()
        for c in json.loads(raw)["bayyina"]["citations"]:
            assert "/" not in c["source"] and c["document_id"]
    finally:
        _req(url, f"/api/v1/documents/{doc['id']}", method="DELETE", key=KEY)


def test_cors_only_for_named_origins_and_security_headers(server):
    url, _, _ = server
    for path in ("/config", "/api/v1/health", "/v1/models"):
        _, headers, _ = _req(url, path, key=KEY, headers={"Origin": "http://localhost:9999"})
        low = {k.lower(): v for k, v in headers.items()}
        assert not any(k.startswith("access-control-") for k in low), (path, low)
        assert low["x-content-type-options"] == "nosniff" and "frame-ancestors 'none'" in low["content-security-policy"]
        assert low["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("extra, status, code", [
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "Which resolution did the Council adopt?"}]}]},
     200, None),
    ({"messages": [{"role": "developer", "content": "Answer briefly."},
                   {"role": "user", "content": "Which resolution did the Council adopt?"}]}, 200, None),
    ({"n": 2}, 400, "unsupported_parameter"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, 400, "unsupported_parameter"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, 400,
     "unsupported_content"),
])
def test_openai_requests_are_accepted_or_refused_in_the_openai_shape(server, extra, status, code):
    url, _, _ = server
    body = {"model": "bayyina", "messages": [{"role": "user", "content": "Which resolution did the Council adopt?"}],
            **extra}
    got, _, raw = _req(url, "/v1/chat/completions", method="POST", body=body, key=KEY)
    assert got == status, raw[:300]
    if code:
        assert json.loads(raw)["error"]["code"] == code


@pytest.mark.parametrize("method, path, status, code, allow", [
    ("PUT", "/api/v1/documents/0123456789abcdef", 405, "method_not_allowed", {"GET", "DELETE"}),
    ("GET", "/v1/nothing-here", 404, "not_found", None),
    ("DELETE", "/v1/models", 405, "method_not_allowed", {"GET"}),
    ("GET", "/api/v1/ask", 405, "method_not_allowed", {"POST"}),
])
def test_unknown_api_routes_answer_in_the_openai_shape(server, method, path, status, code, allow):
    url, _, _ = server
    got, headers, raw = _req(url, path, method=method, key=KEY)
    assert got == status and json.loads(raw)["error"]["code"] == code
    if allow is not None:   # the path's own methods (HEAD rides along with GET)
        assert set(headers["allow"].split(", ")) - {"HEAD"} == allow


def test_a_crowd_with_dropped_streams_in_between_gets_no_errors(tmp_path):
    """The probe's load: 20 clients × 5 questions, 50 streams reset in between; 0 errors, 0 leaked places."""
    import threading

    from tests.conftest import AR_DOC, EN_DOC, FakeEmbedder

    emb = FakeEmbedder()
    bot = qa.Assistant(build([Document("un.ar.txt", AR_DOC), Document("un.en.txt", EN_DOC)], emb),
                       qa.ExtractiveReader(emb, abstain=False, span_model=None))
    url, srv = _run(create_app(bot, api_key=KEY, ui=False, data_dir=tmp_path))
    errors: list = []
    try:
        def client(i: int) -> None:
            for j in range(5):
                status, _, raw = _req(url, "/api/v1/ask", method="POST", key=KEY,
                                      body={"question": "Which resolution did the Council adopt in 1990?"})
                if status != 200:
                    errors.append((i, j, status, raw[:200]))
                if i % 4 == 0:
                    for _ in range(2):
                        _reset_stream(url)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for _ in range(40):   # the 10 stream resets above, and 40 more
            _reset_stream(url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = json.loads(_req(url, "/api/v1/ready", key=KEY)[2])
            if ready["queue_free"] == ready["queue_size"]:
                break
            time.sleep(0.2)
        assert not errors and ready["queue_free"] == ready["queue_size"], (errors[:3], ready)
    finally:
        srv.should_exit = True

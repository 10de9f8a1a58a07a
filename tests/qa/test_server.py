"""The HTTP API on a real server on 127.0.0.1 (uvicorn in a thread): the official openai SDK,
LangChain's ChatOpenAI, auth, limits, the queue, documents, concurrency. The fake embedder keeps
it fast; the answer path is the real chain."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

import qa
from index.hybrid import build
from qa.server import create_app
from tests.net import free_port
from tests.qa.fakes import FakeReader

KEY = "test-key-123"
EN_Q = "Which resolution did the Council adopt in 1990?"
AR_Q = "ما القرار الذي أصدره مجلس الأمن عام 1990؟"


def _run(app) -> tuple[str, object]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


@pytest.fixture(scope="module")
def served(fake_embedder_module, tmp_path_factory):
    from tests.conftest import AR_DOC, EN_DOC
    from sources.types import Document

    index = build([Document("un.ar.txt", AR_DOC), Document("un.en.txt", EN_DOC)], fake_embedder_module)
    bot = qa.Assistant(index, qa.ExtractiveReader(fake_embedder_module, abstain=False, span_model=None))
    url, server = _run(create_app(bot, api_key=KEY, allow_remove=True, ui=False,
                                  data_dir=tmp_path_factory.mktemp("uploads")))
    yield url, bot
    server.should_exit = True


@pytest.fixture(scope="module")
def fake_embedder_module():
    from tests.conftest import FakeEmbedder

    return FakeEmbedder()


def _client(url):
    from openai import OpenAI

    return OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)


def _check_annotations(text: str, annotations, citations) -> None:
    markers = [(i, text.index("]", i) + 1) for i in range(len(text)) if text.startswith("[", i) and
               text[i + 1:text.index("]", i)].isdigit()]
    assert len(annotations) == len(markers) and annotations
    for (start, end), a in zip(markers, annotations):
        uc = a.url_citation if hasattr(a, "url_citation") else a["url_citation"]
        s, e = (uc.start_index, uc.end_index) if hasattr(uc, "start_index") else (uc["start_index"], uc["end_index"])
        assert (s, e) == (start, end)                      # each annotation spans exactly its marker
        n = int(text[s + 1:e - 1])
        assert citations[n - 1]["n"] == n                   # 1-based, as the Bayyina citation objects


@pytest.mark.parametrize("question", [EN_Q, AR_Q])
def test_openai_sdk_non_streaming(served, question):
    url, _ = served
    r = _client(url).chat.completions.create(model="bayyina-extractive",
                                             messages=[{"role": "user", "content": question}])
    msg = r.choices[0].message
    extra = r.model_extra["bayyina"]
    assert "678" in msg.content and not extra["abstained"]
    _check_annotations(msg.content, msg.annotations, extra["citations"])
    doc = urllib.request.urlopen(urllib.request.Request(
        url + msg.annotations[0].url_citation.url.split("#")[0], headers={"Authorization": f"Bearer {KEY}"}))
    chars = msg.annotations[0].url_citation.url.split("#chars=")[1].split("-")
    text = json.loads(doc.read())["text"]
    assert text[int(chars[0]):int(chars[1])] == extra["citations"][0]["text"]    # the link points at the quote


@pytest.mark.parametrize("question", [EN_Q, AR_Q])
def test_openai_sdk_streaming(served, question):
    url, _ = served
    stream = _client(url).chat.completions.create(model="bayyina-extractive", stream=True,
                                                  messages=[{"role": "user", "content": question}])
    text, annotations, extra = "", None, None
    for chunk in stream:
        delta = chunk.choices[0].delta
        text += delta.content or ""
        if chunk.choices[0].finish_reason == "stop":
            annotations = (delta.model_extra or {}).get("annotations")
            extra = chunk.model_extra["bayyina"]
    assert "678" in text and annotations
    _check_annotations(text, annotations, extra["citations"])


def test_follow_up_through_messages_and_abstention(served):
    url, _ = served
    client = _client(url)
    first = client.chat.completions.create(model="bayyina-extractive", messages=[{"role": "user", "content": EN_Q}])
    follow = client.chat.completions.create(model="bayyina-extractive", messages=[
        {"role": "user", "content": EN_Q}, {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "And what did it authorise?"}])
    assert follow.model_extra["bayyina"]["search_query"].startswith(EN_Q)


def test_abstention_is_an_ordinary_message_without_annotations(fake_embedder_module, tmp_path):
    from tests.conftest import EN_DOC
    from sources.types import Document

    bot = qa.Assistant(build([Document("un.en.txt", EN_DOC)], fake_embedder_module), FakeReader(abstain=True))
    url, server = _run(create_app(bot, ui=False, data_dir=tmp_path))
    try:
        from openai import OpenAI

        r = OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0).chat.completions.create(
            model="bayyina-fake", messages=[{"role": "user", "content": "ما عاصمة اليابان؟"}])
        assert r.choices[0].message.content == "لا تتضمن المصادر إجابة عن هذا السؤال."
        assert not r.choices[0].message.annotations and r.model_extra["bayyina"]["abstained"]
    finally:
        server.should_exit = True


def test_langchain_chat_openai_answers_through_the_same_path(served):
    from langchain_openai import ChatOpenAI

    url, _ = served
    reply = ChatOpenAI(base_url=f"{url}/v1", api_key=KEY, model="bayyina-extractive", max_retries=0).invoke(EN_Q)
    assert "678" in reply.content


def _post(url, path, body, key=KEY):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {key}"} if key else {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)


@pytest.mark.parametrize("key", [None, "wrong"])
def test_a_missing_or_wrong_key_is_401_json(served, key):
    url, _ = served
    code, body, _ = _post(url, "/api/v1/ask", {"question": EN_Q}, key=key)
    assert code == 401 and body["error"]["code"] == "invalid_api_key"
    code, body, _ = _post(url, "/api/v1/health", {}, key=None)
    assert code == 405 and body["error"]["code"] == "method_not_allowed"   # liveness is GET (and needs no key)


def test_bad_requests_are_openai_shaped_errors(served):
    url, _ = served
    code, body, _ = _post(url, "/api/v1/ask", {"question": "x" * 3000})
    assert code == 422 and "question" in body["error"]["message"]
    code, body, _ = _post(url, "/api/v1/ask", {"question": "   "})
    assert code == 400 and "empty" in body["error"]["message"]
    code, body, _ = _post(url, "/v1/chat/completions", {"model": "gpt-4", "messages": [{"role": "user", "content": "q"}]})
    assert code == 404 and body["error"]["code"] == "model_not_found"
    from fastapi.testclient import TestClient      # in-process: a real socket is reset mid-upload

    r = TestClient(create_app(served[1], ui=False)).post("/api/v1/ask", content=b"x" * 2_000_000,
                                                         headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_native_ask_search_and_stream(served):
    url, bot = served
    code, body, _ = _post(url, "/api/v1/ask", {"question": EN_Q})
    from qa.server import public_answer

    assert code == 200 and body == {**public_answer(bot.ask(EN_Q)), "timings_ms": body["timings_ms"]}
    code, body, _ = _post(url, "/api/v1/search", {"query": "resolution 678", "k": 2})
    assert code == 200 and len(body["hits"]) == 2 and body["hits"][0]["rank"] == 1
    req = urllib.request.Request(url + "/api/v1/ask/stream", data=json.dumps({"question": EN_Q}).encode(),
                                 method="POST", headers={"Content-Type": "application/json",
                                                         "Authorization": f"Bearer {KEY}"})
    events = urllib.request.urlopen(req, timeout=30).read().decode()
    assert "event: token" in events and "event: citation" in events and "event: answer" in events


def test_upload_ask_delete_and_refusals(served):
    url, _ = served
    boundary = "----bayyina"

    def upload(name: str, data: bytes):
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                "Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        req = urllib.request.Request(url + "/api/v1/documents", data=body, method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {KEY}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    code, body = upload("evil.exe", b"MZ\x90\x00")
    assert code == 400 and "unsupported type" in body["error"]["message"]
    code, docs = upload("../../etc/lighthouse.txt", b"The lighthouse keeper kept the lamp burning for forty-one years.")
    assert code == 200 and docs[0]["name"] == "lighthouse.txt"      # the path part is dropped
    code, body, _ = _post(url, "/api/v1/ask", {"question": "How many years did the keeper keep the lamp burning?"})
    assert "forty-one" in body["answer"]
    from fastapi.testclient import TestClient      # in-process: a real socket is reset mid-upload

    r = TestClient(create_app(served[1], ui=False)).post(
        "/api/v1/documents", files={"files": ("big.txt", b"a" * (51 * 1024 * 1024), "text/plain")})
    assert r.status_code == 413
    req = urllib.request.Request(url + f"/api/v1/documents/{docs[0]['id']}", method="DELETE",
                                 headers={"Authorization": f"Bearer {KEY}"})
    assert json.loads(urllib.request.urlopen(req).read())["removed_passages"] >= 1


def test_a_full_queue_answers_429_quickly(fake_embedder_module, tmp_path):
    from tests.conftest import EN_DOC
    from sources.types import Document

    release = threading.Event()

    class Held(FakeReader):
        def stream(self, *a, **k):
            release.wait(30)          # answers in progress until the test lets them finish
            yield from super().stream(*a, **k)

    bot = qa.Assistant(build([Document("un.en.txt", EN_DOC)], fake_embedder_module), Held())
    url, server = _run(create_app(bot, ui=False, queue=2, data_dir=tmp_path))   # as `serve --reader llm`
    try:
        results = []
        threads = [threading.Thread(target=lambda: results.append(_post(url, "/api/v1/ask", {"question": EN_Q}, None)))
                   for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while json.loads(urllib.request.urlopen(url + "/api/v1/ready").read())["queue_free"] and \
                time.monotonic() < deadline:
            time.sleep(0.05)          # polled with a deadline: both places taken
        code, body, headers = _post(url, "/api/v1/ask", {"question": EN_Q}, None)
        release.set()
        for t in threads:
            t.join(20)
        assert code == 429 and body["error"]["code"] == "queue_full"
        assert {k.lower(): v for k, v in headers.items()}.get("retry-after") == "1"
        assert sorted(c for c, _, _ in results) == [200, 200]
    finally:
        release.set()
        server.should_exit = True


def test_twenty_concurrent_clients_no_errors_no_cross_talk(served):
    url, bot = served
    questions = [EN_Q, AR_Q, "Did the Cold War paralyse the Council?", "What is the Security Council?",
                 "هل نجح نظام الأمن الجماعي؟"]
    alone = {q: bot.ask(q).text for q in questions}
    results, errors = [], []

    def client(i):
        for j in range(5):
            q = questions[(i + j) % 5]
            code, body, _ = _post(url, "/api/v1/ask", {"question": q})
            (results if code == 200 else errors).append((q, body))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 100 and all(body["answer"] == alone[q] for q, body in results)


def test_a_client_that_disconnects_stops_the_generation(fake_embedder_module, tmp_path):
    import http.client

    from tests.conftest import EN_DOC
    from sources.types import Document

    produced = []

    class Slow(FakeReader):
        def stream(self, question, hits, *, lang, search_query):
            for i in range(40):
                time.sleep(0.05)
                produced.append(i)
                yield qa.ReadingChunk(delta=f"w{i} ")
            yield qa.ReadingChunk(reading=qa.Reading(text="done [1]"))

    bot = qa.Assistant(build([Document("un.en.txt", EN_DOC)], fake_embedder_module), Slow())
    url, server = _run(create_app(bot, ui=False, data_dir=tmp_path))
    try:
        host, port = url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("POST", "/api/v1/ask/stream", body=json.dumps({"question": EN_Q}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert b"event: token" in resp.read1(200)
        conn.close()                                  # the client leaves mid-answer
        stopped_at, deadline = -1, time.monotonic() + 10
        while len(produced) != stopped_at and time.monotonic() < deadline:
            stopped_at = len(produced)
            time.sleep(0.4)                           # eight words' time: still growing means still generating
        assert stopped_at < 40 and len(produced) == stopped_at     # generation stopped, not run to the end
    finally:
        server.should_exit = True

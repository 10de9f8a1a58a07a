"""The HTTP app's wiring, in process (no server): routers, shared state, readiness, limits, Allow."""

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

import qa
from index.hybrid import build
from qa.limits import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS
from qa.server import create_app
from tests.qa.fakes import FakeReader

KEY = "test-key"


class _Loading:
    """A chat's readers (``qa.ui.Readers``) with one still loading in the background."""

    def __init__(self) -> None:
        self.loading = True


@pytest.fixture
def client(fake_embedder, bilingual_docs, tmp_path):
    bot = qa.Assistant(build(bilingual_docs, fake_embedder), FakeReader())
    readers = _Loading()
    app = create_app(bot, api_key=KEY, ui=False, data_dir=tmp_path, readers=readers)
    return TestClient(app, headers={"Authorization": f"Bearer {KEY}"}), readers


def test_ready_waits_for_the_readers_the_chat_is_still_loading(client):
    c, readers = client
    assert c.get("/api/v1/ready").json()["ready"] is False
    readers.loading = False
    body = c.get("/api/v1/ready").json()
    assert body["ready"] is True and body["queue_free"] == body["queue_size"] >= 1


def test_the_routers_share_one_state(client):
    c, _ = client
    assert c.get("/v1/models").json()["data"][0]["id"] == "bayyina-fake"
    docs = c.get("/api/v1/documents").json()
    assert sorted(d["name"] for d in docs) == ["un.ar.txt", "un.en.txt"]
    one = c.get(f"/api/v1/documents/{docs[0]['id']}").json()
    assert one["text"] and "/" not in one["name"]


@pytest.mark.parametrize("method, path, allow", [
    ("POST", "/api/v1/health", "GET, HEAD"), ("GET", "/api/v1/ask", "POST"),
    ("PUT", "/api/v1/documents/0123456789abcdef", "DELETE, GET, HEAD"), ("DELETE", "/v1/models", "GET, HEAD"),
])
def test_a_wrong_method_names_the_paths_own_methods(client, method, path, allow):
    c, _ = client
    r = c.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_the_shared_limits_are_the_ones_enforced(client):
    c, _ = client
    r = c.post("/api/v1/ask", json={"question": "x" * (MAX_QUESTION_CHARS + 1)})
    assert r.status_code == 422 and "question" in r.json()["error"]["message"]
    turns = [["q", "a"]] * (MAX_HISTORY_TURNS + 1)
    r = c.post("/api/v1/ask", json={"question": "What is resolution 678?", "history": turns})
    assert r.status_code == 422 and "history" in r.json()["error"]["message"]
    r = c.post("/api/v1/ask", json={"question": "What is resolution 678?", "history": turns[:MAX_HISTORY_TURNS]})
    assert r.status_code == 200


def test_delete_is_refused_unless_the_server_allows_it_and_unknown_ids_are_404(client, fake_embedder,
                                                                              bilingual_docs, tmp_path):
    c, _ = client
    doc = c.get("/api/v1/documents").json()[0]["id"]
    r = c.delete(f"/api/v1/documents/{doc}")
    assert r.status_code == 403 and r.json()["error"]["code"] == "remove_disabled"
    bot = qa.Assistant(build(bilingual_docs, fake_embedder), FakeReader())
    allowed = TestClient(create_app(bot, api_key=KEY, ui=False, data_dir=tmp_path, allow_remove=True),
                         headers={"Authorization": f"Bearer {KEY}"})
    r = allowed.delete("/api/v1/documents/ffffffffffffffff")
    assert r.status_code == 404 and r.json()["error"]["code"] == "document_not_found"
    r = allowed.delete(f"/api/v1/documents/{doc}")
    assert r.status_code == 200 and r.json()["removed_passages"] > 0
    assert len(allowed.get("/api/v1/documents").json()) == 1


def test_an_unexpected_error_is_a_plain_500(fake_embedder, bilingual_docs, tmp_path):
    class Broken(FakeReader):
        def stream(self, *a, **k):
            raise RuntimeError("secret detail")

    bot = qa.Assistant(build(bilingual_docs, fake_embedder), Broken())
    c = TestClient(create_app(bot, api_key=KEY, ui=False, data_dir=tmp_path),
                   headers={"Authorization": f"Bearer {KEY}"}, raise_server_exceptions=False)
    r = c.post("/api/v1/ask", json={"question": "What is resolution 678?"})
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
    assert "secret" not in r.text

"""OpenAI-compatible back end: bad settings and network failures become clear errors (real
sockets: a closed port, a server that accepts and never answers)."""

import socket
import threading

import pytest

import qa
from tests.net import free_port

pytest.importorskip("langchain_openai", reason="the openai extra is not installed: pip install 'bayyina[openai]'")


@pytest.mark.parametrize("base_url, model, match", [
    ("localhost:8000", "m", "not an http"),
    ("http://127.0.0.1:8000/v1", "", "needs a model name"),
])
def test_bad_settings(base_url, model, match):
    with pytest.raises(qa.LLMError, match=match):
        qa.OpenAIChat(base_url, model)


def test_unreachable_server():
    chat = qa.OpenAIChat(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=5, retries=0)
    with pytest.raises(qa.LLMError, match="Cannot reach the OpenAI-compatible server at http://127.0.0.1:.*--base-url"):
        list(chat.stream([qa.Message("user", "hi")], max_tokens=4))


def test_a_server_that_never_answers_times_out():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    conns = []
    stop = threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])   # accept, read nothing, say nothing
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        chat = qa.OpenAIChat(f"http://127.0.0.1:{sock.getsockname()[1]}/v1", "m", timeout=0.5, retries=1)
        with pytest.raises(qa.LLMError, match="did not answer in time"):
            list(chat.stream([qa.Message("user", "hi")], max_tokens=4))
        assert len(conns) == 2   # the first try and one retry
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        sock.close()


def test_a_password_in_the_base_url_is_never_shown():
    chat = qa.OpenAIChat("http://user:s3cret@127.0.0.1:9/v1", "m", timeout=1, retries=0)
    assert "s3cret" not in chat.describe and "user:***@127.0.0.1:9" in chat.describe
    with pytest.raises(qa.LLMError) as err:
        list(chat.stream([qa.Message("user", "hi")], max_tokens=4))
    assert "s3cret" not in str(err.value)
    with pytest.raises(qa.LLMError) as err:
        qa.OpenAIChat("ftp://user:s3cret@host/v1", "m")
    assert "s3cret" not in str(err.value)

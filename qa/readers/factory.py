"""Readers by name: what ``--reader`` and ``Assistant(reader="…")`` resolve to."""

from __future__ import annotations

import os
from dataclasses import dataclass

from index.embed import Embedder
from qa.errors import BayyinaError
from qa.readers.base import Reader

READERS = ("extractive", "llm", "openai")


@dataclass(frozen=True)
class ReaderOptions:
    """Settings of the generative readers (the extractive reader has none).

    ``model``: for ``llm`` a bundled model name or a ``.gguf`` path (default: the bundled one);
    for ``openai`` the model name the server serves. ``base_url``: the server's OpenAI-compatible
    root (``…/v1``; default ``$BAYYINA_BASE_URL``). ``threads``: CPU threads of the local runtime.
    ``sentences``: read that many of the extractive reader's best evidence sentences instead of
    ``passages`` whole passages (0, the default: passages — on the bundled-corpus question set the
    sentences were both less accurate and no shorter a prompt; README, Benchmarks). ``gate``: abstain first by the extractive
    reader's calibrated decision (``qa.abstention``), asking the model only when it answers.
    ``render``: the extractive reader's short answer, when it is in the other language than the
    asker's, is followed by the local model's rendering of it when the embedder finds that it means
    what the span says (``qa.readers.rendering``)."""

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    threads: int | None = None
    passages: int = 3
    sentences: int = 0
    max_tokens: int = 96
    gate: bool = True
    render: bool = False
    timeout: float = 60.0
    retries: int = 2


@dataclass(frozen=True)
class ReaderStatus:
    """Whether a named reader can run here: ``available``, or the ``reason`` it cannot (with the fix)."""

    name: str
    available: bool
    reason: str = ""


def reader_status(options: ReaderOptions | None = None) -> tuple[ReaderStatus, ...]:
    """Every reader in ``READERS`` with whether it can run on this machine with ``options``
    (nothing is loaded: the llm reader needs its runtime installed; openai a configured server)."""
    import importlib.util

    options = options or ReaderOptions()
    out = [ReaderStatus("extractive", True)]
    if importlib.util.find_spec("mistralrs") is None:
        out.append(ReaderStatus("llm", False, 'the local model runtime is not installed: pip install "bayyina[llm]"'))
    else:
        out.append(ReaderStatus("llm", True))
    base_url = options.base_url or os.environ.get("BAYYINA_BASE_URL")
    if not base_url or not options.model:
        out.append(ReaderStatus("openai", False, "no server configured: pass --base-url URL and --model NAME"))
    else:
        out.append(ReaderStatus("openai", True))
    return tuple(out)


def make_reader(name: str, embedder: Embedder, *, abstain: bool = True,
                options: ReaderOptions | None = None) -> Reader:
    """A reader by name; ``abstain=False`` makes it answer even when unsure (for evaluation)."""
    options = options or ReaderOptions()
    if name == "extractive":
        from qa.readers.extractive import ExtractiveReader

        reader = ExtractiveReader(embedder, abstain=abstain)
        if not options.render:
            return reader
        from qa.llm.mistral import MistralRsChat
        from qa.llm.models import DEFAULT_LOCAL_MODEL
        from qa.readers.rendering import RenderingReader

        return RenderingReader(reader, MistralRsChat(options.model or DEFAULT_LOCAL_MODEL, threads=options.threads))
    if name == "heuristic":
        # The earlier reader without the trained model (kept for the side-by-side benchmark).
        from qa.readers.extractive import ExtractiveReader

        return ExtractiveReader(embedder, abstain=abstain, span_model=None, name="heuristic")
    if name == "llm":
        from qa.llm.mistral import MistralRsChat
        from qa.llm.models import DEFAULT_LOCAL_MODEL
        from qa.readers.llm import LLMReader

        chat = MistralRsChat(options.model or DEFAULT_LOCAL_MODEL, threads=options.threads)
        gate, selector = _evidence_reader(embedder, options)
        return LLMReader(chat, passages=options.passages, max_tokens=options.max_tokens, abstain=abstain,
                         gate=gate, selector=selector,
                         sentences=max(options.sentences, 1), name="llm")
    if name == "openai":
        from qa.chain import OpenAIChat
        from qa.readers.llm import LLMReader

        base_url = options.base_url or os.environ.get("BAYYINA_BASE_URL")
        if not base_url:
            raise BayyinaError("The openai reader needs a server: pass --base-url URL (e.g. "
                               "http://127.0.0.1:8000/v1) or set BAYYINA_BASE_URL.")
        if not options.model:
            raise BayyinaError("The openai reader needs --model NAME: the model name the server lists at /v1/models.")
        chat = OpenAIChat(base_url, options.model, api_key=options.api_key, timeout=options.timeout,
                          retries=options.retries)
        gate, selector = _evidence_reader(embedder, options)
        return LLMReader(chat, passages=options.passages, max_tokens=options.max_tokens, abstain=abstain,
                         gate=gate, selector=selector,
                         sentences=max(options.sentences, 1), name="openai")
    raise BayyinaError(f"Unknown reader {name!r}: choose one of {', '.join(READERS)}.")


def _evidence_reader(embedder: Embedder, options: ReaderOptions) -> tuple[Reader | None, Reader | None]:
    """(gate, selector): one extractive reader — one trained span model in memory — for both."""
    if not options.gate and options.sentences <= 0:
        return None, None
    from qa.readers.extractive import ExtractiveReader

    extractive = ExtractiveReader(embedder)
    return (extractive if options.gate else None), (extractive if options.sentences > 0 else None)

"""The local runtime: mistral.rs (a prebuilt wheel) running a GGUF model on the CPU.

Loading takes a few seconds and is done once: by ``warm_up`` (``bayyina serve`` and ``chat`` call it
at start) or else on the first request. Requests are greedy
(temperature 0) and may be constrained by a JSON schema (mistral.rs' grammar support). Only one
request runs at a time: on a small CPU, parallel sequences only slow each other down.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from collections.abc import Iterator, Sequence

from qa.errors import MissingDependencyError
from qa.llm.base import Generation, LLMError, Message
from qa.llm.models import DEFAULT_LOCAL_MODEL, LocalModel, local_model_path

log = logging.getLogger(__name__)


class MistralRsChat:
    """A ``ChatModel`` over a local GGUF file. ``model``: a bundled model name or a ``.gguf`` path.
    ``threads`` sets ``RAYON_NUM_THREADS`` for the process before the runtime starts (``None``:
    leave it, which uses every core); ``quiet`` sets ``RUST_LOG=warn`` then unless it is set."""

    def __init__(self, model: str | Path | LocalModel = DEFAULT_LOCAL_MODEL, *, threads: int | None = None,
                 context_tokens: int = 4096, quiet: bool = True) -> None:
        self._model = model
        self.threads = threads
        self.context_tokens = context_tokens
        self.quiet = quiet
        path = Path(model) if isinstance(model, (str, Path)) and str(model).endswith(".gguf") else None
        self.name = f"mistralrs:{path.name if path else (model.name if isinstance(model, LocalModel) else model)}"
        self._runner = None
        self._lock = threading.Lock()

    def _load(self):
        if self._runner is not None:
            return self._runner
        if self.quiet:
            # mistral.rs logs every loading step at INFO, with colour codes, unless RUST_LOG says
            # otherwise; a library stays quiet unless asked (quiet=False, or RUST_LOG set by the user).
            os.environ.setdefault("RUST_LOG", "warn")
        try:
            import mistralrs
        except ImportError:
            raise MissingDependencyError("The local LLM reader needs mistral.rs.", "pip install 'bayyina[llm]'  "
                                         "(or: pip install mistralrs==0.9.5)") from None
        model = self._model
        path = Path(model) if isinstance(model, (str, Path)) and str(model).endswith(".gguf") else local_model_path(model)
        if not path.is_file():
            raise LLMError(f"Model file {path} does not exist: give an existing .gguf file or a bundled model name.")
        if self.threads is not None:
            if self.threads < 1:
                raise LLMError(f"threads={self.threads} must be at least 1.")
            os.environ["RAYON_NUM_THREADS"] = str(self.threads)
        log.info("loading %s with mistral.rs", path)
        try:
            self._runner = mistralrs.Runner(
                which=mistralrs.Which.GGUF(quantized_model_id=str(path.parent), quantized_filename=path.name),
                token_source="none", max_seqs=1, no_paged_attn=True, prefix_cache_n=4)
        except Exception as exc:  # the runtime raises bare exceptions
            raise LLMError(f"mistral.rs could not load {path}: {exc}") from exc
        return self._runner

    def warm_up(self, prefixes: Sequence[Message] = ()) -> None:
        """Load the model now (not on the first question) and run each prefix message once, which
        mistral.rs' prefix cache may reuse for the constant system prompts (not measured apart)."""
        with self._lock:
            self._load()
        for message in prefixes:
            for _ in self.stream([message, Message("user", ".")], max_tokens=1):
                pass

    def stream(self, messages: Sequence[Message], *, max_tokens: int, json_schema: dict | None = None
               ) -> Iterator[Generation]:
        import mistralrs

        with self._lock:
            runner = self._load()
            request = mistralrs.ChatCompletionRequest(
                model="local", messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=max_tokens, temperature=0.0, stream=True,
                grammar=json.dumps(json_schema, ensure_ascii=False) if json_schema else None,
                grammar_type="json_schema" if json_schema else None)
            try:
                chunks = runner.send_chat_completion_request(request)
                usage = None
                for chunk in chunks:
                    if chunk.usage is not None:
                        usage = chunk.usage
                    for choice in chunk.choices:
                        if choice.delta.content:
                            yield Generation(text=choice.delta.content)
            except Exception as exc:
                raise LLMError(f"mistral.rs failed while generating: {exc}") from exc
            yield Generation(prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                             completion_tokens=getattr(usage, "completion_tokens", 0) or 0)

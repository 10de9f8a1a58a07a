"""The extracted answer at once, then a language model's short rendering of it in the asker's language.

``RenderingReader`` wraps the extractive reader: its answer (the short answer, the quote, the
citation) streams first, unchanged. When the short answer is not in the asker's language — an
English learner reading the Arabic chapter gets "الاتحاد السوفيتي وفرنسا" — a chat model is asked
to render just that span, shown with its sentence and nothing else (a prompt of a few dozen
tokens: fast), and the rendering streams after it, cited with the same ``[n]``. Dates and numbers
never need the model (``qa.render`` does them by table). The rendering becomes ``Answer.short``;
the citation still points at the source's own words (``answer_start``/``answer_end``), and
``check`` says ``unchecked`` (a translation cannot be compared word for word).
"""

from __future__ import annotations

import re
from dataclasses import replace
from collections.abc import Iterator, Sequence

from index.types import Hit
from qa.llm.base import ChatModel, LLMError, Message
from qa.readers.base import Reader, Reading, ReadingChunk
from sources.text import detect_language

_NAMES = {"en": "English", "ar": "Arabic"}
_SYSTEM = ("You translate a short answer taken from a document. Reply with the translation of the answer only — "
           "a few words, no explanation, no quotes, no punctuation at the end.")
_MAX_WORDS = 12


def needs_rendering(short: str, lang: str) -> bool:
    """Whether ``short`` is written in another language than the asker's (``ar``/``en``)."""
    if not short or lang not in _NAMES:
        return False
    found = detect_language(short, threshold=0.5)
    return found in _NAMES and found != lang


def rendering_prompt(question: str, short: str, sentence: str, lang: str) -> list[Message]:
    source = _NAMES[detect_language(short, threshold=0.5)] if detect_language(short, threshold=0.5) in _NAMES else ""
    return [Message("system", _SYSTEM),
            Message("user", f"Question ({_NAMES[lang]}): {question}\n"
                            f"Sentence ({source}): {sentence}\n"
                            f"Answer ({source}): {short}\n"
                            f"Translate the answer into {_NAMES[lang]}.")]


def _clean(text: str) -> str:
    text = text.strip().strip("\"'«»“”").strip()
    text = re.sub(r"\s+", " ", text.splitlines()[0] if text else "")
    return text.rstrip(".。؛;،,")


class RenderingReader:
    """``inner``: the extractive reader; ``chat``: the model that renders (the bundled local one)."""

    def __init__(self, inner: Reader, chat: ChatModel, *, max_tokens: int = 24) -> None:
        self.inner = inner
        self.chat = chat
        self.max_tokens = max_tokens
        self.name = inner.name

    def warm_up(self) -> None:
        """Load the model now (and run its constant system prompt once), not at the first question."""
        warm = getattr(self.chat, "warm_up", None)
        if callable(warm):
            warm([Message("system", _SYSTEM)])

    def __getattr__(self, name: str):
        return getattr(self.inner, name)   # the inner reader's tools (choose, span_model…) stay reachable

    def stream(self, question: str, hits: Sequence[Hit], *, lang: str, search_query: str) -> Iterator[ReadingChunk]:
        reading: Reading | None = None
        for chunk in self.inner.stream(question, hits, lang=lang, search_query=search_query):
            if chunk.reading is None:
                yield chunk
                continue
            reading = chunk.reading
            if chunk.delta:
                yield ReadingChunk(delta=chunk.delta)
        if reading is None:
            return
        if reading.abstained or not needs_rendering(reading.short, lang) or not reading.evidence:
            yield ReadingChunk(reading=reading)
            return
        ev = reading.evidence[0]
        passage = hits[ev.n - 1].passage
        sentence = passage.text[max(ev.start - passage.start, 0): max(ev.end - passage.start, 0)]
        messages = rendering_prompt(question, reading.short, sentence, lang)
        lead = "\n\n→ "
        yield ReadingChunk(delta=lead)
        got, prompt_tokens, generated = "", 0, 0
        try:
            for g in self.chat.stream(messages, max_tokens=self.max_tokens):
                if g.text:
                    got += g.text
                    yield ReadingChunk(delta=g.text)
                prompt_tokens = g.prompt_tokens or prompt_tokens
                generated = g.completion_tokens or generated
        except LLMError:
            got = ""
        rendered = _clean(got)
        if not rendered or len(rendered.split()) > _MAX_WORDS or detect_language(rendered, threshold=0.5) != lang:
            # Nothing usable: the extracted answer stands as it was.
            yield ReadingChunk(reading=replace(reading, prompt_tokens=prompt_tokens, generated_tokens=generated))
            return
        marker = f" [{ev.n}]"
        yield ReadingChunk(delta=marker)
        text = reading.text + lead + rendered + marker
        yield ReadingChunk(reading=replace(reading, text=text, short=rendered, check="unchecked",
                                           prompt_tokens=prompt_tokens, generated_tokens=generated))

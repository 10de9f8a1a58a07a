"""The extracted answer at once, then a language model's short rendering of it in the asker's language.

``RenderingReader`` wraps the extractive reader: its answer (the short answer, the quote, the
citation) streams first, unchanged. When the short answer is not in the asker's language — an
English learner reading the Arabic chapter gets "الاتحاد السوفيتي وفرنسا" — a chat model is asked
to render just that span, shown with its sentence and nothing else (a prompt of a few dozen
tokens: fast), and the rendering follows it, cited with the same ``[n]``. Dates and numbers
never need the model (``qa.render`` does them by table). The rendering becomes ``Answer.short``;
the citation still points at the source's own words (``answer_start``/``answer_end``), and
``check`` says ``unchecked`` (a translation cannot be compared word for word).

The small local model mistranslates names and terms (البلقان → "Bolivia", بروكهيفن → "Brooklyn
Hill"), so a rendering is shown only when it *means* what the span says: the multilingual embedder's
cosine of the span and its rendering must reach ``MIN_SIMILARITY`` for the asker's language, and a
word mixing Arabic and Latin letters ("الBroncos") is refused. Otherwise the extracted answer stands
alone. The rendering is therefore checked whole before it is shown (a few words, ~2–4 s after the
extracted answer), not streamed token by token.
"""

from __future__ import annotations

import re
from dataclasses import replace
from collections.abc import Iterator, Sequence

from index.embed import Embedder
from index.types import Hit
from qa.llm.base import ChatModel, LLMError, Message
from qa.readers.base import Reader, Reading, ReadingChunk
from sources.text import detect_language

_NAMES = {"en": "English", "ar": "Arabic"}
_SYSTEM = ("You translate a short answer taken from a document. Reply with the translation of the answer only — "
           "a few words, no explanation, no quotes, no punctuation at the end.")
_MAX_WORDS = 12
# The least cosine (multilingual-e5-small) of a span and its rendering into each language for the
# rendering to be shown. Set on 76 XQuAD questions (seed 7) whose span the reader got right, each
# rendered by the bundled model in the other language (README, "--render"): into English, 0.88 kept
# every rendering that matched the English gold and refused 19 of the 22 that did not; renderings
# into Arabic are worse and need 0.92.
MIN_SIMILARITY = {"en": 0.88, "ar": 0.92}
# What the model sometimes says before the rendering itself ("The answer in English is: …").
_LEAD_IN = re.compile(r"^\s*(?:(?:the\s+)?(?:answer|translation|translated\s+answer)(?:\s+in\s+(?:english|arabic))?"
                      r"(?:\s+is)?|(?:الكلمة\s+المترجمة|الترجمة|الإجابة|الجواب)(?:\s+هي)?)\s*(?:[:：]\s*|(?=[\"“«]))", re.IGNORECASE)
_MIXED_WORD = re.compile(r"[\u0600-\u06ff][A-Za-z]|[A-Za-z][\u0600-\u06ff]")


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
    text = _LEAD_IN.sub("", text).strip().strip("\"'«»“”").strip()
    return text.rstrip(".。؛;،,")


def faithful(span: str, rendering: str, lang: str, embedder: Embedder, *,
             min_similarity: dict[str, float] | None = None) -> bool:
    """Whether ``rendering`` (in ``lang``) means what ``span`` says: no word mixing Arabic and Latin
    letters, and the embedder's cosine of the two at least ``min_similarity[lang]``."""
    if _MIXED_WORD.search(rendering):
        return False
    v = embedder.embed_queries([span, rendering])
    return float(v[0] @ v[1]) >= (min_similarity or MIN_SIMILARITY).get(lang, 1.0)


class RenderingReader:
    """``inner``: the extractive reader; ``chat``: the model that renders (the bundled local one);
    ``embedder``: checks each rendering against its span (``faithful``; default the inner reader's
    embedder; ``check=False`` shows every usable rendering unchecked, as ``--render`` did before the check)."""

    def __init__(self, inner: Reader, chat: ChatModel, *, max_tokens: int = 24, embedder: Embedder | None = None,
                 check: bool = True, min_similarity: dict[str, float] | None = None) -> None:
        self.inner = inner
        self.chat = chat
        self.max_tokens = max_tokens
        self.name = inner.name
        self.embedder = embedder if embedder is not None else getattr(inner, "embedder", None)
        if check and self.embedder is None:
            raise ValueError("RenderingReader checks each rendering with an embedder: pass embedder=… "
                             "(or check=False to show renderings unchecked).")
        self.check = check
        self.min_similarity = dict(min_similarity or MIN_SIMILARITY)

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
        got, prompt_tokens, generated = "", 0, 0
        try:
            for g in self.chat.stream(messages, max_tokens=self.max_tokens):
                got += g.text or ""
                prompt_tokens = g.prompt_tokens or prompt_tokens
                generated = g.completion_tokens or generated
        except LLMError:
            got = ""
        rendered = _clean(got)
        if (not rendered or len(rendered.split()) > _MAX_WORDS or detect_language(rendered, threshold=0.5) != lang
                or (self.check and not faithful(reading.short, rendered, lang, self.embedder,
                                                min_similarity=self.min_similarity))):
            # Nothing usable, or not what the span says: the extracted answer stands as it was.
            yield ReadingChunk(reading=replace(reading, prompt_tokens=prompt_tokens, generated_tokens=generated))
            return
        lead, marker = "\n\n→ ", f" [{ev.n}]"
        yield ReadingChunk(delta=lead + rendered + marker)
        text = reading.text + lead + rendered + marker
        yield ReadingChunk(reading=replace(reading, text=text, short=rendered, check="unchecked",
                                           prompt_tokens=prompt_tokens, generated_tokens=generated))

"""A deterministic fake reader for unit tests of the chain and citation repair."""

from __future__ import annotations

from qa.readers.base import Evidence, Reading, ReadingChunk


class FakeReader:
    """Streams a scripted answer word by word. ``confidence`` and ``abstain`` drive abstention."""

    name = "fake"

    def __init__(self, text: str = "The answer is 678 [1].", *, confidence: float = 1.0, abstain: bool = False,
                 evidence: tuple[Evidence, ...] = ()) -> None:
        self.text, self.confidence, self.abstain, self.evidence = text, confidence, abstain, evidence
        self.calls: list[dict] = []

    def stream(self, question, hits, *, lang, search_query):
        self.calls.append({"question": question, "hits": tuple(hits), "lang": lang, "search_query": search_query})
        words = self.text.split(" ")
        for i, w in enumerate(words):
            yield ReadingChunk(delta=w if i == 0 else " " + w)
        yield ReadingChunk(reading=Reading(text=self.text, short="678", confidence=self.confidence,
                                           evidence=self.evidence, abstained=self.abstain))


class FakeChat:
    """A deterministic ``ChatModel``: replies with scripted texts in order (the last one repeats),
    streamed a few characters at a time, and records what it was sent."""

    name = "fake-chat"

    def __init__(self, *replies: str, piece: int = 3) -> None:
        self.replies = list(replies) or ['{"answer": "", "passage": 0}']
        self.piece = piece
        self.calls: list[dict] = []

    def stream(self, messages, *, max_tokens, json_schema=None):
        from qa.llm.base import Generation

        self.calls.append({"messages": list(messages), "max_tokens": max_tokens, "json_schema": json_schema})
        reply = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        for i in range(0, len(reply), self.piece):
            yield Generation(text=reply[i:i + self.piece])
        yield Generation(prompt_tokens=100, completion_tokens=max(1, len(reply) // 4))


class SlowReader:
    """A slow generative reader for UI tests: waits ``first`` seconds, then streams ``inner``'s
    answer a word every ``delay`` seconds (what the local LLM looks like on a small CPU)."""

    name = "llm"

    def __init__(self, inner, *, delay: float = 0.4, first: float = 1.5) -> None:
        self.inner, self.delay, self.first = inner, delay, first

    def stream(self, question, hits, *, lang, search_query):
        import time

        final = None
        for chunk in self.inner.stream(question, hits, lang=lang, search_query=search_query):
            if chunk.reading is not None:
                final = chunk.reading
        time.sleep(self.first)
        for i, word in enumerate(final.text.split(" ")):
            time.sleep(self.delay)
            yield ReadingChunk(delta=word if i == 0 else " " + word)
        yield ReadingChunk(reading=final)


class FakeSpanModel:
    """A span model (``qa.readers.span_model.SpanModelLike``) that finds given words: ``answers``
    maps a phrase to its margin; in each passage the phrase with the highest margin that occurs
    is its best span (null score 0)."""

    def __init__(self, answers: dict[str, float]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def spans(self, question, texts, *, within=None):
        from qa.readers.span_model import Span

        self.calls.append((question, tuple(texts)))
        out = []
        for i, text in enumerate(texts):
            a, b = within[i] if within and within[i] else (0, len(text))
            found = [(m, w) for w, m in self.answers.items() if w in text[a:b]]
            if found:
                margin, words = max(found)
                start = text.index(words, a)
                out.append(Span(i, start, start + len(words), words, margin, 0.0))
        return out

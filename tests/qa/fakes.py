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

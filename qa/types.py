"""The values ``qa`` returns: ``Citation``, ``Answer`` and the streaming ``AnswerChunk``."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.types import Hit

Turn = tuple[str, str]  # (question, answer)


@dataclass(frozen=True)
class Citation:
    """What an ``[n]`` marker in an answer points at: a span of an original document.
    ``start``/``end`` are character offsets in that document of the supporting words; ``quote``
    is their text there (markdown emphasis removed). ``answer_start``/``answer_end``, when the
    reader found them, are the offsets of the answer itself inside that span (``answer_text``),
    so a front end can highlight "29 نوفمبر 1990" and not only its sentence. ``passage_start``/
    ``passage_end`` locate the whole cited passage."""

    n: int
    passage_id: str
    source: str
    start: int
    end: int
    page: int | None
    quote: str
    score: float
    answer_start: int | None = None
    answer_end: int | None = None
    answer_text: str = ""
    passage_start: int = 0
    passage_end: int = 0

    def to_dict(self) -> dict:
        out = {"n": self.n, "source": self.source, "start": self.start, "end": self.end, "page": self.page,
               "text": self.quote, "score": round(self.score, 6),
               "passage": {"id": self.passage_id, "start": self.passage_start, "end": self.passage_end}}
        out["answer_span"] = (None if self.answer_start is None else
                              {"start": self.answer_start, "end": self.answer_end, "text": self.answer_text})
        return out


@dataclass(frozen=True)
class Timings:
    """Milliseconds: condensing a follow-up, retrieving, reading, in all, and until the first
    streamed text (``first_token``, from the question's arrival; ``None`` when nothing streamed)."""

    retrieve: float = 0.0
    read: float = 0.0
    total: float = 0.0
    first_token: float | None = None
    condense: float = 0.0

    def to_dict(self) -> dict:
        return {"condense": round(self.condense, 1), "retrieve": round(self.retrieve, 1), "read": round(self.read, 1),
                "total": round(self.total, 1),
                "first_token": None if self.first_token is None else round(self.first_token, 1)}


@dataclass(frozen=True)
class Answer:
    """An answer in the asker's language (``lang``) whose ``[n]`` markers map to ``citations``
    (``citations[i].n == i + 1``). ``short`` is the short answer span where the reader found one.
    When ``abstained``, ``text`` says the sources do not answer and ``hits`` are the nearest passages.
    ``support`` says in a word how strong the evidence is (``strong``, ``partial``, ``weak``).
    ``check`` says how the citations were verified (see ``Reading``); ``"unsupported"`` flags an
    answer no shown passage backs. ``generated_tokens`` counts a generative reader's output tokens."""

    question: str
    text: str
    lang: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    reader: str
    timings_ms: Timings = field(default_factory=Timings)
    search_query: str = ""
    short: str = ""
    confidence: float = 0.0
    check: str = "quoted"
    prompt_tokens: int = 0
    generated_tokens: int = 0
    support: str = ""

    def to_dict(self) -> dict:
        out = {
            "question": self.question, "answer": self.text, "short": self.short, "language": self.lang,
            "abstained": self.abstained, "support": self.support,
            "citations": [c.to_dict() for c in self.citations], "reader": self.reader, "check": self.check,
            "timings_ms": self.timings_ms.to_dict(),
        }
        if self.generated_tokens:
            out["tokens"] = {"prompt": self.prompt_tokens, "generated": self.generated_tokens}
        return out


@dataclass(frozen=True)
class AnswerChunk:
    """One piece of a streamed answer: text to append (``delta``); the last chunk carries the
    finished ``answer``. Chunks add up (``a + b``), so a stream folds into its final chunk."""

    delta: str = ""
    answer: Answer | None = None

    def __add__(self, other: AnswerChunk) -> AnswerChunk:
        return AnswerChunk(self.delta + other.delta, other.answer or self.answer)

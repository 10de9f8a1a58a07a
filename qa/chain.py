"""The retrieval chain — the only file that imports LangChain.

Built from ``langchain_core`` pieces: a ``BaseRetriever`` adapter over the hybrid ``Index``
(``Hit`` → ``Document`` on the way out, back to ``Hit`` at this boundary), Runnables for
condensing and retrieving, and a ``RunnableGenerator`` that streams the reader's text and ends
with the finished ``Answer`` (citations validated, abstention decided). Everything outside this
file speaks Bayyina's own types.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator, Sequence

from index.hybrid import Index
from index.types import Hit
from qa import abstain
from qa.citations import cite
from qa.conversation import condense
from qa.errors import MissingDependencyError
from qa.readers.base import Reader, Reading
from qa.types import Answer, AnswerChunk, Timings, Turn
from sources.types import Passage

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document as LCDocument
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda, RunnablePassthrough
    from pydantic import ConfigDict
except ImportError:  # pragma: no cover - a core dependency
    raise MissingDependencyError("The answer chain needs LangChain's core package.", "pip install langchain-core")


def hit_to_document(hit: Hit) -> LCDocument:
    p = hit.passage
    return LCDocument(page_content=p.text, id=p.id, metadata={
        **p.to_dict(), "score": hit.score, "rank": hit.rank, "via": hit.via,
        "dense_score": hit.dense_score, "bm25_score": hit.bm25_score})


def document_to_hit(doc: LCDocument) -> Hit:
    m = doc.metadata
    passage = Passage(id=m["id"], text=doc.page_content, source=m["source"], start=m["start"], end=m["end"],
                      lang=m["lang"], page=m.get("page"), heading=m.get("heading", ""))
    return Hit(passage=passage, score=float(m["score"]), rank=int(m["rank"]), via=m["via"],
               dense_score=m.get("dense_score"), bm25_score=m.get("bm25_score"))


class IndexRetriever(BaseRetriever):
    """LangChain retriever over Bayyina's hybrid index."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any
    k: int = 5
    exclude_sources: frozenset = frozenset()

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[LCDocument]:
        hits = self.index.search(query, k=self.k, exclude_sources=self.exclude_sources)
        return [hit_to_document(h) for h in hits]


def build_chain(index: Index, reader: Reader, *, k: int = 5, context: int = 1, threshold: float | None = None,
                clock: Callable[[], float] = time.perf_counter) -> Runnable:
    """A Runnable from ``{"question", "lang", "history", "exclude_sources"}`` to ``AnswerChunk``s;
    ``invoke`` returns the folded chunk whose ``answer`` is the final ``Answer``. The reader is
    shown the ``k`` retrieved passages, then ``context`` neighbouring passages on each side of them."""

    def add_query(inp: dict) -> str:
        history: Sequence[Turn] = inp.get("history", ())
        return condense(inp["question"], history)

    def retrieve(inp: dict) -> dict:
        t0 = clock()
        retriever = IndexRetriever(index=index, k=k, exclude_sources=frozenset(inp.get("exclude_sources", ())))
        hits = tuple(document_to_hit(d) for d in retriever.invoke(inp["search_query"]))
        if context:
            hits = index.with_context(hits, before=context, after=context)
        return {"hits": hits, "retrieve_ms": (clock() - t0) * 1000}

    def read_and_cite(pieces: Iterator[dict]) -> Iterator[AnswerChunk]:
        # When streaming, the assign steps upstream deliver the input dict in pieces: merge them.
        inp: dict = {}
        for piece in pieces:
            inp.update(piece)
        if inp:
            question, lang, hits = inp["question"], inp["lang"], inp["retrieved"]["hits"]
            t0 = clock()
            reading: Reading | None = None
            streamed = ""
            if hits:
                for chunk in reader.stream(question, hits, lang=lang, search_query=inp["search_query"]):
                    if chunk.reading is not None:
                        reading = chunk.reading
                    elif chunk.delta:
                        streamed += chunk.delta
                        yield AnswerChunk(delta=chunk.delta)
            read_ms = (clock() - t0) * 1000
            answer = _finish(inp, hits, reading, reader.name, threshold, inp["retrieved"]["retrieve_ms"], read_ms,
                             clock)
            # The final answer is authoritative (markers renumbered, invalid ones dropped, or an
            # abstention): its delta completes the streamed text when it extends it.
            rest = answer.text[len(streamed):] if answer.text.startswith(streamed) else ""
            yield AnswerChunk(delta=rest, answer=answer)

    return (RunnablePassthrough.assign(search_query=RunnableLambda(add_query))
            | RunnablePassthrough.assign(retrieved=RunnableLambda(retrieve))
            | RunnableGenerator(read_and_cite))


def _finish(inp: dict, hits: tuple[Hit, ...], reading: Reading | None, reader_name: str, threshold: float | None,
            retrieve_ms: float, read_ms: float, clock: Callable[[], float]) -> Answer:
    question, lang = inp["question"], inp["lang"]
    total = (clock() - inp["t0"]) * 1000 if "t0" in inp else retrieve_ms + read_ms
    timings = Timings(retrieve=retrieve_ms, read=read_ms, total=total)
    abstained = (reading is None or reading.abstained or not reading.text.strip()
                 or (threshold is not None and reading.confidence < threshold))
    if abstained:
        return Answer(question=question, text=abstain.message(lang), lang=lang, citations=(), hits=hits,
                      abstained=True, reader=reader_name, timings_ms=timings, search_query=inp["search_query"],
                      confidence=reading.confidence if reading else 0.0)
    text, citations = cite(reading.text, hits, reading.evidence)
    return Answer(question=question, text=text, lang=lang, citations=citations, hits=hits, abstained=False,
                  reader=reader_name, timings_ms=timings, search_query=inp["search_query"], short=reading.short,
                  confidence=reading.confidence)

"""The offline default reader: it quotes the answer-bearing sentence of the retrieved passages.

No generative model. Every sentence of the top passages is scored against the (condensed)
question with the multilingual embedder — so it works across languages — together with lexical
overlap on the shared Arabic/English tokeniser and the passage's retrieval rank. The best
sentence is quoted verbatim with its ``[n]`` citation; inside it, a short answer span is marked
where the question's type allows (``qa.readers.spans``). The quote is in the source's language;
when that differs from the asker's, the answer says so.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from index.embed import Embedder
from index.types import Hit
from qa.abstain import CROSS_LANGUAGE_THRESHOLD, SAME_LANGUAGE_THRESHOLD
from qa.readers.base import Evidence, Reading, ReadingChunk
from qa.readers.spans import short_span
from sources.chunking import sentences
from sources.text import detect_language, tokenize

_LANG_NAMES = {"ar": {"ar": "العربية", "en": "الإنجليزية"}, "en": {"ar": "Arabic", "en": "English"}}


@dataclass(frozen=True)
class _Candidate:
    n: int           # 1-based number of the hit it came from
    start: int       # document offsets
    end: int
    text: str
    source: str
    rank: int        # retrieval rank of the hit (a context passage shares its retrieved neighbour's)


@dataclass(frozen=True)
class ExtractiveWeights:
    """Sentence score = dense cosine + lexical overlap + retrieval-rank prior (tuned on XQuAD,
    ``bench/tune_extractive.py``). A second sentence is quoted when it scores within
    ``second_within`` of the best."""

    dense: float = 1.0
    lexical: float = 0.1
    rank: float = 0.02
    second_within: float = 0.02


@dataclass(frozen=True)
class Thresholds:
    """Abstain when the best sentence's dense similarity is below these (see ``qa.abstain``)."""

    same_language: float = SAME_LANGUAGE_THRESHOLD
    cross_language: float = CROSS_LANGUAGE_THRESHOLD


def _lexical(qtokens: set[str], text: str) -> float:
    if not qtokens:
        return 0.0
    return len(qtokens & set(tokenize(text, stem=True, stopwords=True))) / len(qtokens)


def language_note(source_lang: str, asker_lang: str) -> str:
    """A sentence telling the asker the quote is in the other language."""
    if source_lang not in ("ar", "en") or asker_lang not in ("ar", "en") or source_lang == asker_lang:
        return ""
    name = _LANG_NAMES[asker_lang][source_lang]
    if asker_lang == "ar":
        return f"(الاقتباس باللغة {name} كما ورد في المصدر.)"
    return f"(Quoted in {name}, as written in the source.)"


class ExtractiveReader:
    name = "extractive"

    def __init__(self, embedder: Embedder, *, weights: ExtractiveWeights = ExtractiveWeights(),
                 thresholds: Thresholds | None = Thresholds(), max_passages: int = 20, min_words: int = 3) -> None:
        self.embedder = embedder
        self.weights = weights
        self.thresholds = thresholds
        self.max_passages = max_passages
        self.min_words = min_words
        self._vectors: OrderedDict[tuple[str, int, int, str], np.ndarray] = OrderedDict()
        self._cache_size = 8192

    def _sentence_vectors(self, candidates: Sequence[_Candidate]) -> np.ndarray:
        """Sentence embeddings, remembered across questions (follow-ups and nearby questions
        read the same passages)."""
        keys = [(c.source, c.start, c.end, c.text) for c in candidates]
        missing = [i for i, key in enumerate(keys) if key not in self._vectors]
        if missing:
            fresh = self.embedder.embed_passages([candidates[i].text for i in missing])
            for i, vec in zip(missing, fresh):
                self._vectors[keys[i]] = vec
        for key in keys:
            self._vectors.move_to_end(key)
        while len(self._vectors) > self._cache_size:
            self._vectors.popitem(last=False)
        return np.stack([self._vectors[key] for key in keys])

    def candidates(self, hits: Sequence[Hit]) -> list[_Candidate]:
        """Sentences of the top passages, once each (overlapping passages share sentences)."""
        out: list[_Candidate] = []
        seen: set[tuple[str, int, int]] = set()
        for n, hit in enumerate(hits[: self.max_passages], start=1):
            p = hit.passage
            spans = sentences(p.text)
            for s, e in spans:
                key = (p.source, p.start + s, p.start + e)
                if key in seen:
                    continue
                text = p.text[s:e]
                if len(spans) > 1 and (len(text.split()) < self.min_words or text == p.heading
                                       or text.rstrip().endswith(":")):
                    continue  # too short to answer, or a heading line
                seen.add(key)
                out.append(_Candidate(n, p.start + s, p.start + e, text, p.source, hit.rank))
        return out

    def score(self, search_query: str, candidates: Sequence[_Candidate]) -> tuple[np.ndarray, np.ndarray]:
        """(combined score, dense similarity) of every candidate sentence."""
        if not candidates:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        q = self.embedder.embed_queries([search_query])[0]
        dense = self._sentence_vectors(candidates) @ q
        qtokens = set(tokenize(search_query, stem=True, stopwords=True))
        w = self.weights
        lex = np.array([_lexical(qtokens, c.text) for c in candidates], np.float32)
        rank = np.array([1.0 / max(c.rank, 1) for c in candidates], np.float32)
        return w.dense * dense + w.lexical * lex + w.rank * rank, dense

    def stream(self, question: str, hits: Sequence[Hit], *, lang: str, search_query: str) -> Iterator[ReadingChunk]:
        candidates = self.candidates(hits)
        if not candidates:
            yield ReadingChunk(reading=Reading(text="", abstained=True))
            return
        scores, dense = self.score(search_query or question, candidates)
        order = np.argsort(-scores, kind="stable")
        best = candidates[int(order[0])]
        confidence = float(dense[order[0]])
        best_lang = detect_language(best.text)
        if self.thresholds is not None:
            # What was matched is the search query (a condensed follow-up may mix languages).
            query_lang = detect_language(search_query or question)
            same = best_lang == query_lang or best_lang not in ("ar", "en")
            floor = self.thresholds.same_language if same else self.thresholds.cross_language
            if confidence < floor:
                yield ReadingChunk(reading=Reading(text="", confidence=confidence, abstained=True))
                return
        chosen = [best]
        if len(order) > 1 and scores[order[0]] - scores[order[1]] <= self.weights.second_within:
            chosen.append(candidates[int(order[1])])
        span = short_span(question, search_query or question, best.text)
        short = best.text[span[0]:span[1]] if span else ""
        quotes = " ".join(f"«{c.text}» [{c.n}]" for c in chosen)
        text = f"{short} — {quotes}" if short and short != best.text else quotes
        note = language_note(best_lang, lang)
        if note:
            text += "\n" + note
        # One chunk: the quote is only worth showing once it has been scored (and not abstained on).
        yield ReadingChunk(delta=text, reading=Reading(
            text=text, short=short, confidence=confidence,
            evidence=tuple(Evidence(c.n, c.start, c.end) for c in chosen)))

"""The offline default reader: it quotes the words of the retrieved passages that answer.

No generative model. The trained span reader (``qa.readers.span_model``) reads the retrieved
passages and its best span over "no answer" is the short answer; the question's form (a date, a
number, the n-th or last item of a numbered list) is held to by the earlier reader described next,
and across languages — where the model, trained on same-language pairs, chooses passages poorly —
each span is weighed with that reader's score of its sentence (``ExtractiveReader._cross_best``).

The earlier reader (``span_model=None``, the ``heuristic`` reader): every sentence of the top passages is scored against the (condensed)
question with the multilingual embedder — so it works across languages — together with lexical
overlap on the shared Arabic/English tokeniser, the passage's retrieval rank and whether the
sentence holds what the question asks for (a date for "when", a number for "how many"). Inside the
best sentence the reader finds the short answer (``qa.readers.spans``: by the question's words
within a language, by the embedder across languages) and, when the sentence is long, the clauses
around it: the answer leads with the short answer, then quotes those words with their ``[n]``
citation, whose ``Evidence`` names the quote's and the short answer's exact offsets in the source.
Headings and markdown syntax are never quoted. Whether to answer at all is decided on several
signals by the calibrated model of ``qa.abstention``. The quote is in the source's language; when
that differs from the asker's, the answer says so.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from collections.abc import Iterator, Sequence

import numpy as np

from index.embed import Embedder
from index.types import Hit
from qa.abstention import AbstentionModel, Signals, signals
from qa.readers.base import Evidence, Reading, ReadingChunk
from qa.readers.span_model import Span, SpanModelLike, model_question
from qa.render import render_short
from qa.markdown import clean_span, display_text, is_heading_line, list_number
from qa.question_form import LAST, asks_count, asks_yes_no, offers_choice, ordinal, question_type
from qa.readers.spans import short_span, span_near_question, typed_spans, windows
from sources.chunking import sentences
from sources.text import detect_language, soft_overlap, tokenize

_LANG_NAMES = {"ar": {"ar": "العربية", "en": "الإنجليزية"}, "en": {"ar": "Arabic", "en": "English"}}
_NEAR = 8  # a typed span this many tokens from a question word is chosen lexically


@dataclass(frozen=True)
class _Candidate:
    n: int           # 1-based number of the hit it came from
    start: int       # document offsets
    end: int
    text: str
    source: str
    rank: int        # retrieval rank of the hit (a context passage shares its retrieved neighbour's)
    list_number: int | None = None   # its number when it is an item of a numbered list
    lead_in: str = ""                # … and the line that introduces that list ("…على ست فئات، هي:")
    list_last: bool = False          # … and whether it is the list's last shown item

    def is_item(self, wanted: int | None) -> bool:
        """Whether it is the list item a question asks for (``qa.question_form.ordinal``)."""
        return (wanted is not None and self.list_number is not None
                and (self.list_number == wanted or (wanted == LAST and self.list_last)))

    @property
    def meaning(self) -> str:
        """What the sentence says: a list item is read with its list's lead-in."""
        return f"{self.lead_in} {self.text}" if self.lead_in else self.text


@dataclass(frozen=True)
class ExtractiveWeights:
    """Sentence score = dense cosine + lexical overlap + retrieval-rank prior + a bonus when the
    sentence holds an answer of the question's type (tuned on XQuAD, ``bench/tune_extractive.py``).
    A second sentence is quoted, when no short answer was found, if it scores within
    ``second_within`` of the best."""

    dense: float = 1.0
    lexical: float = 0.1
    rank: float = 0.02
    answer_type: float = 0.02
    answer_near: float = 0.15     # … more when that date/number sits next to the question's words
    list_position: float = 0.15   # the numbered-list item a question asks for ("the fifth category")
    second_within: float = 0.02


@dataclass(frozen=True)
class Choice:
    """What the reader found before deciding whether to answer: the quoted candidates, the quote's
    and the short answer's document spans, and the signals of the evidence."""

    chosen: tuple[_Candidate, ...]
    quote_span: tuple[int, int]          # document offsets of the quoted words of chosen[0]
    answer_span: tuple[int, int] | None  # document offsets of the short answer
    short: str
    quote: str
    confidence: float                    # dense similarity of the best sentence
    source_lang: str
    signals: Signals


def _lexical(qtokens: set[str], text: str) -> float:
    if not qtokens:
        return 0.0
    return soft_overlap(qtokens, set(tokenize(text, stem=True, stopwords=True))) / len(qtokens)


def _crosses(question: str, text: str) -> bool:
    """Whether the question and the passage are in different languages (Arabic and English)."""
    q, t = detect_language(question), detect_language(text)
    return q in ("ar", "en") and t in ("ar", "en") and q != t


def language_note(source_lang: str, asker_lang: str) -> str:
    """A sentence telling the asker the quote is in the other language."""
    if source_lang not in ("ar", "en") or asker_lang not in ("ar", "en") or source_lang == asker_lang:
        return ""
    name = _LANG_NAMES[asker_lang][source_lang]
    if asker_lang == "ar":
        return f"(الاقتباس باللغة {name} كما ورد في المصدر.)"
    return f"(Quoted in {name}, as written in the source.)"


class ExtractiveReader:
    """``abstention``: the decision model (default: the shipped calibrated one); ``abstain=False``
    answers every question. ``max_quote_words``: a longer sentence is quoted by its clauses
    around the answer."""

    name = "extractive"

    def __init__(self, embedder: Embedder, *, weights: ExtractiveWeights = ExtractiveWeights(),
                 abstain: bool = True, abstention: AbstentionModel | None = None, max_passages: int = 20,
                 min_words: int = 3, max_quote_words: int = 40, span_model: SpanModelLike | None | str = "trained",
                 question_form: bool = True, cross_language: str = "fused", cross_weight: float = 0.01,
                 name: str | None = None) -> None:
        """``span_model``: the trained span reader (``"trained"``, the default: the shipped one,
        sharing the embedder's embeddings), any object with its ``spans`` method, or ``None`` for the
        earlier heuristics alone (sentence scoring and typed spans; the ``heuristic`` reader).
        ``question_form``: the span must agree with what the question's form settles (a date, a number,
        the n-th item of a numbered list); ``False`` only for the ablation benchmark.
        ``cross_language``: when the model's best span is in the other language than the question,
        ``"fused"`` (the default) weighs each span with the earlier reader's multilingual score of its
        sentence, plus ``cross_weight`` × its margin (``_cross_best``); ``"model"`` takes the model's
        span as it is (the ablation: the model, trained on same-language pairs, chooses poorly there)."""
        if cross_language not in ("fused", "model"):
            raise ValueError(f"cross_language={cross_language!r}: choose 'fused' or 'model'.")
        self.cross_weight = cross_weight
        self.embedder = embedder
        self.cross_language = cross_language
        if span_model == "trained":
            from qa.readers.span_model import SpanModel

            span_model = SpanModel(embedder)
        self.span_model = span_model
        self.question_form = question_form
        if name:
            self.name = name
        self.weights = weights
        self.abstention = (abstention or AbstentionModel.load()) if abstain else None
        self.max_passages = max_passages
        self.min_words = min_words
        self.max_quote_words = max_quote_words
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = 8192

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passage-side embeddings, remembered across questions (follow-ups and nearby questions
        read the same passages)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for t, vec in zip(missing, self.embedder.embed_passages(missing)):
                self._vectors[t] = vec
        for t in texts:
            self._vectors.move_to_end(t)
        while len(self._vectors) > self._cache_size:
            self._vectors.popitem(last=False)
        return np.stack([self._vectors[t] for t in texts])

    def candidates(self, hits: Sequence[Hit]) -> list[_Candidate]:
        """Sentences of the top passages, once each (overlapping passages share sentences), with
        markdown syntax trimmed; headings and label lines are left out."""
        out: list[_Candidate] = []
        seen: set[tuple[str, int, int]] = set()
        for n, hit in enumerate(hits[: self.max_passages], start=1):
            p = hit.passage
            spans = sentences(p.text)
            for s, e in spans:
                if is_heading_line(p.text[s:e], p.heading) and (len(spans) > 1 or p.text[s:e].lstrip().startswith("#")):
                    continue
                s, e = clean_span(p.text, s, e)
                key = (p.source, p.start + s, p.start + e)
                text = p.text[s:e]
                if key in seen or (len(spans) > 1 and len(text.split()) < self.min_words
                                   and not _is_list_item(p.text, s)):
                    continue  # too short to answer (a numbered list item may be short)
                seen.add(key)
                number = list_number(p.text, s)
                out.append(_Candidate(n, p.start + s, p.start + e, text, p.source, hit.rank, number,
                                      _lead_in(hits, p.source, p.start + s) if number is not None else ""))
        return _mark_last_items(out)

    def score(self, question: str, search_query: str, candidates: Sequence[_Candidate]
              ) -> tuple[np.ndarray, np.ndarray]:
        """(combined score, dense similarity) of every candidate sentence. A condensed follow-up is
        matched both as the user asked it and as condensed, so the previous question's words do
        not outweigh the new one's."""
        if not candidates:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        search_query = search_query or question
        queries = [search_query] if search_query == question else [search_query, question]
        qv = self.embedder.embed_queries(queries)
        sv = self._embed([c.meaning for c in candidates])
        dense = (sv @ qv.T).mean(axis=1)
        w = self.weights
        own = set(tokenize(question, stem=True, stopwords=True))
        joint = set(tokenize(search_query, stem=True, stopwords=True))
        lex = np.array([0.7 * _lexical(own, c.meaning) + 0.3 * _lexical(joint, c.meaning) for c in candidates],
                       np.float32)
        rank = np.array([1.0 / max(c.rank, 1) for c in candidates], np.float32)
        qtype = question_type(question)
        typed = np.zeros(len(candidates), np.float32)
        near = np.zeros(len(candidates), np.float32)
        if qtype in ("date", "number"):
            counting = asks_count(question)
            for i, c in enumerate(candidates):
                spans = typed_spans(c.text, qtype, counting=counting)
                if spans:
                    typed[i] = 1.0
                    _, distance = span_near_question(question, "", c.text, spans)
                    near[i] = 1.0 / (1.0 + distance)
        wanted = ordinal(question)
        listed = np.array([c.is_item(wanted) for c in candidates], np.float32)
        score = (w.dense * dense + w.lexical * lex + w.rank * rank + w.answer_type * typed + w.answer_near * near
                 + w.list_position * listed)
        return score, dense

    def choose(self, question: str, hits: Sequence[Hit], *, search_query: str) -> Choice | None:
        """Find the answer's words (no decision yet): ``None`` when there is nothing to quote."""
        if self.span_model is not None:
            return self.choose_span(question, hits, search_query=search_query)
        return self.choose_heuristic(question, hits, search_query=search_query)

    def choose_span(self, question: str, hits: Sequence[Hit], *, search_query: str) -> Choice | None:
        """The trained model reads every shown passage in one batch; the span it prefers most
        over "no answer" is the short answer, the sentence around it the quote (agreeing with what
        the question's form settles, unless ``question_form`` is off)."""
        shown = list(hits[: self.max_passages])
        if not shown:
            return None
        asked = model_question(question, search_query)
        # The model reads the retrieved passages (one batch); their neighbours are there for quoting
        # and for the earlier reader's fallback.
        read = [i for i, h in enumerate(shown) if h.via != "context"] or list(range(len(shown)))
        spans = [replace(sp, passage=read[sp.passage])
                 for sp in self.span_model.spans(asked, [shown[i].passage.text for i in read])]
        if not spans:
            return None
        best = max(spans, key=lambda sp: sp.margin)
        if self.cross_language == "fused" and _crosses(question, shown[best.passage].passage.text):
            best = self._cross_best(question, shown, hits, spans, search_query=search_query)
        # What the question's form settles, the model's span must agree with (README, "The trained
        # reader": the ablation): the item of a numbered list it names, a date or a number.
        # The earlier reader runs only when its answer may be taken (an ordinal, or no date/number in the span).
        wanted, qtype = ordinal(question), question_type(question)
        if self.question_form:
            typed = (self._typed_in(question, search_query, best, shown[best.passage].passage.text, qtype)
                     if qtype in ("date", "number") else None)
            if wanted is not None or (qtype in ("date", "number") and typed is None):
                heuristic = self.choose_heuristic(question, hits, search_query=search_query)
                listed = heuristic is not None and heuristic.chosen[0].is_item(wanted)
                untyped = qtype in ("date", "number") and typed is None
                if listed or (untyped and heuristic is not None and heuristic.answer_span is not None):
                    return self._with_margin(heuristic, spans)
            if typed is not None:
                best = typed
        return self._span_choice(question, shown, hits, best, search_query=search_query)

    def _cross_best(self, question: str, shown: list[Hit], hits: Sequence[Hit], spans: Sequence[Span],
                    *, search_query: str) -> Span:
        """Across languages the model (trained on same-language pairs) and the earlier reader's
        multilingual sentence scoring err on different questions: each passage's best span is scored
        by its sentence's score plus ``cross_weight`` × its margin, beside the best-scored sentence
        with the model's span held to it; the highest wins."""
        candidates = self.candidates(hits)
        if not candidates:
            return max(spans, key=lambda sp: sp.margin)

        def holder(sp: Span) -> int | None:
            p = shown[sp.passage].passage
            return next((i for i, c in enumerate(candidates)
                         if c.source == p.source and c.start <= p.start + sp.start < c.end), None)

        # Each span's sentence among the candidates; a span in a line the earlier reader leaves out
        # (a list's lead-in "…على ست فئات، هي:") is scored by its own sentence.
        scored, sentence_of = list(candidates), []
        for sp in spans:
            i = holder(sp)
            if i is None:
                p = shown[sp.passage].passage
                cs, ce = self._sentence_around(p.text, sp.start, sp.end)
                scored.append(_Candidate(sp.passage + 1, p.start + cs, p.start + ce, p.text[cs:ce], p.source,
                                         shown[sp.passage].rank))
                i = len(scored) - 1
            sentence_of.append(i)
        scores, _ = self.score(question, search_query or question, scored)
        options = [(float(scores[i]) + self.cross_weight * sp.margin, sp) for sp, i in zip(spans, sentence_of)]
        best_known = int(np.argmax(scores[: len(candidates)]))
        top = candidates[best_known]
        where = top.n - 1   # candidates come from the shown hits
        if best_known not in sentence_of:
            p = shown[where].passage
            read = self.span_model.spans(model_question(question, search_query), [p.text],
                                         within=[(top.start - p.start, top.end - p.start)])
            if read:
                options.append((float(scores[best_known]) + self.cross_weight * read[0].margin,
                                replace(read[0], passage=where)))
        return max(options, key=lambda o: o[0])[1]

    @staticmethod
    def _with_margin(choice: Choice, spans: Sequence[Span]) -> Choice:
        """A heuristic choice with the model's margin for the passage it quotes (the abstention signal)."""
        own = next((sp.margin for sp in spans if sp.passage == choice.chosen[0].n - 1),
                   max(sp.margin for sp in spans))
        return replace(choice, signals=replace(choice.signals, margin=own))

    @staticmethod
    def _typed_in(question: str, search_query: str, span: Span, passage: str, qtype: str) -> Span | None:
        """The date or number inside the model's span (the one nearest the question's words when it
        holds several, else the first: where the model put the answer's start); ``None`` without one.
        A how-many question's number is a quantity, never a label ("القرار رقم 678"): the words
        before the span in ``passage`` say which."""
        typed = [(a - span.start, b - span.start)
                 for a, b in typed_spans(passage[:span.end], qtype, counting=asks_count(question))
                 if a >= span.start]
        if not typed:
            return None
        pick = typed[0]
        if len(typed) > 1:
            near, distance = span_near_question(question, search_query, span.text, typed)
            if near is not None and distance <= _NEAR:
                pick = near
        if pick == (0, len(span.text)):
            return span
        a, b = clean_span(span.text, *pick)
        return replace(span, start=span.start + a, end=span.start + b, text=span.text[a:b])

    def _span_choice(self, question: str, shown: list[Hit], hits: Sequence[Hit], best: Span,
                     *, search_query: str) -> Choice:
        hit = shown[best.passage]
        p = hit.passage
        # The sentence (or sentences) holding the span, markdown trimmed.
        cs, ce = self._sentence_around(p.text, best.start, best.end)
        sentence = p.text[cs:ce]
        a0, a1 = best.start - cs, best.end - cs
        qs, qe = 0, len(sentence)
        if len(sentence.split()) > self.max_quote_words:
            qvec = self.embedder.embed_queries([search_query or question])[0]
            qs, qe = self.quote_window(sentence, search_query or question, (a0, a1), qvec)
            qs, qe = min(qs, a0), max(qe, a1)
        quote = display_text(sentence[qs:qe])
        if qs > 0:
            quote = "… " + quote
        if qe < len(sentence):
            quote = quote + " …"
        short = display_text(best.text)
        number = list_number(p.text, cs)
        cand = _Candidate(best.passage + 1, p.start + cs, p.start + ce, sentence, p.source, hit.rank, number)
        source_lang = detect_language(sentence)
        query_lang = detect_language(search_query or question)
        qtype = question_type(question)
        # Similarity of the evidence sentence to the question, and how it stands among the others.
        others = [h.passage.text for h in shown]
        qv = self.embedder.embed_queries([search_query or question])[0]
        sims = self._embed([sentence] + others) @ qv
        dense = float(sims[0])
        sig = signals(question, search_query or question, hits, p.text, dense=dense,
                      dense_mean=float(sims[1:].mean()), typed=qtype in ("date", "number"),
                      typed_found=_typed_within(question, sentence, a0, a1),
                      cross=source_lang in ("ar", "en") and query_lang in ("ar", "en") and source_lang != query_lang,
                      evidence_sentence=sentence, margin=best.margin)
        answer_span: tuple[int, int] | None = (p.start + best.start, p.start + best.end)
        if _repeats_question(question, best.text):
            short, answer_span = "", None   # the quote answers; a short answer would only echo the question
        return Choice((cand,), (p.start + cs + qs, p.start + cs + qe), answer_span, short, quote, dense, source_lang,
                      sig)

    def evidence_sentences(self, question: str, hits: Sequence[Hit], *, search_query: str, n: int
                           ) -> list[tuple[int, int, int, str]]:
        """The sentences around the trained model's ``n`` best spans (one per passage, best first):
        ``(hit index, document start, document end, text)`` — what a generative reader is shown."""
        shown = list(hits[: self.max_passages])
        if not shown or self.span_model is None:
            return []
        spans = self.span_model.spans(model_question(question, search_query), [h.passage.text for h in shown])
        out: list[tuple[int, int, int, str]] = []
        for sp in sorted(spans, key=lambda x: -x.margin)[:n]:
            p = shown[sp.passage].passage
            a, b = self._sentence_around(p.text, sp.start, sp.end)
            out.append((sp.passage, p.start + a, p.start + b, display_text(p.text[a:b])))
        return out

    @staticmethod
    def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
        """The sentence(s) of ``text`` holding ``[start, end)``, markdown trimmed, never cutting the span."""
        sents = sentences(text) or [(0, len(text))]
        ss = next((a for a, b in sents if a <= start < b), start)
        se = next((b for a, b in sents if a < end <= b), end)
        cs, ce = clean_span(text, min(ss, start), max(se, end))
        return min(cs, start), max(ce, end)

    def choose_heuristic(self, question: str, hits: Sequence[Hit], *, search_query: str) -> Choice | None:
        """The earlier reader: sentences scored by similarity and cues, typed spans inside."""
        candidates = self.candidates(hits)
        if not candidates:
            return None
        query = search_query or question
        scores, dense = self.score(question, query, candidates)
        order = np.argsort(-scores, kind="stable")
        best = candidates[int(order[0])]
        qtype = question_type(question)
        qvec = None

        def query_vector() -> np.ndarray:
            nonlocal qvec
            if qvec is None:
                qvec = self.embedder.embed_queries([query])[0]
            return qvec

        # The short answer inside the best sentence (offsets relative to the sentence).
        span: tuple[int, int] | None = None
        typed = typed_spans(best.text, qtype, counting=asks_count(question))
        if best.is_item(ordinal(question)):
            span = (0, len(best.text))   # the list item asked for is the answer
        elif typed:
            # The user's own words first (a follow-up's previous question may sit near another date).
            near, distance = span_near_question(question, "", best.text, typed)
            if near is None or distance > _NEAR:
                near, distance = span_near_question(question, query, best.text, typed)
            if near is not None and distance <= _NEAR:
                span = near
            else:
                # Across languages (or far from the question's words): the span whose surrounding
                # words are most like the question.
                # The words that lead into a date or number say what it is ("…انتهاء العمليات العسكرية في
                # 27 فبراير"), so the context leans left; a follow-up's own words count as much as the
                # joined query (they say which of the sentence's dates is asked for).
                contexts = [_around(best.text, s, e, before=6, after=2) for s, e in typed]
                target = query_vector()
                if query.strip() != question.strip():
                    target = target + self.embedder.embed_queries([question])[0]
                sims = self._embed(contexts) @ target
                span = typed[int(np.argmax(sims))]
        else:
            span = short_span(question, query, best.text)
        # The quote: the whole sentence, or in a long one the clauses that answer.
        qs, qe = 0, len(best.text)
        if len(best.text.split()) > self.max_quote_words:
            qs, qe = self.quote_window(best.text, query, span, query_vector())
        quote = display_text(best.text[qs:qe])
        if qs > 0:
            quote = "… " + quote
        if qe < len(best.text):
            quote = quote + " …"
        short = ""
        answer_span = None
        if span is not None and (span != (0, len(best.text)) or best.list_number is not None):
            s, e = clean_span(best.text, *span)
            short = display_text(best.text[s:e])
            answer_span = (best.start + s, best.start + e)
        chosen = [best]
        if (not short and len(order) > 1 and scores[order[0]] - scores[order[1]] <= self.weights.second_within
                and len(best.text.split()) + len(candidates[int(order[1])].text.split()) <= 2 * self.max_quote_words):
            chosen.append(candidates[int(order[1])])
        best_lang = detect_language(best.text)
        query_lang = detect_language(query)
        sig = signals(question, query, hits, hits[best.n - 1].passage.text, dense=float(dense[order[0]]),
                      dense_mean=float(dense.mean()), typed=qtype in ("date", "number"), typed_found=bool(typed),
                      cross=best_lang in ("ar", "en") and query_lang in ("ar", "en") and best_lang != query_lang,
                      evidence_sentence=best.meaning)
        return Choice(tuple(chosen), (best.start + qs, best.start + qe), answer_span, short, quote,
                      float(dense[order[0]]), best_lang, sig)

    def quote_window(self, sentence: str, query: str, span: tuple[int, int] | None, qvec: np.ndarray
                     ) -> tuple[int, int]:
        """The words to quote from a long sentence: the clause most like the question (holding
        the short answer when there is one), widened to ``max_quote_words`` — to the right first,
        where an answer usually follows the words that match the question."""
        pieces = [w for w in windows(sentence, self.max_quote_words // 2)
                  if span is None or (w[0] <= span[0] and span[1] <= w[1])] or windows(sentence, self.max_quote_words)
        sims = self._embed([sentence[a:b] for a, b in pieces]) @ qvec
        qtokens = set(tokenize(query, stem=True, stopwords=True))
        lex = np.array([_lexical(qtokens, sentence[a:b]) for a, b in pieces], np.float32)
        core = pieces[int(np.argmax(sims + self.weights.lexical * lex))]
        wide = [w for w in windows(sentence, self.max_quote_words) if w[0] <= core[0] and core[1] <= w[1]] or [core]
        best = max(wide, key=lambda w: (len(sentence[w[0]:w[1]].split()), -(core[0] - w[0])))
        return clean_span(sentence, *best)

    def stream(self, question: str, hits: Sequence[Hit], *, lang: str, search_query: str) -> Iterator[ReadingChunk]:
        choice = self.choose(question, hits, search_query=search_query)
        if choice is None:
            yield ReadingChunk(reading=Reading(text="", abstained=True, support="weak"))
            return
        support = ""
        confidence = choice.confidence
        # "How many…?" answered without a quantity ("الدول", or the 678 of "resolution 678") is not
        # an answer, whatever the evidence's other signals say.
        uncounted = self.question_form and asks_count(question) and bool(choice.signals.type_missing)
        if self.abstention is not None or uncounted:
            decision = self.abstention.decide(choice.signals) if self.abstention is not None else None
            if decision is None or not decision.answer or uncounted:
                # An answer without a quantity is not one: no confidence in it, whatever the evidence's p.
                yield ReadingChunk(reading=Reading(text="", confidence=decision.p if decision and not uncounted else 0.0,
                                                   abstained=True, support="weak", signals=choice.signals.to_dict()))
                return
            support, confidence = decision.strength, decision.p
        if self.question_form and asks_yes_no(question) and choice.short:
            # A span cannot say yes or no: the quoted sentence answers, and no words of it are put
            # forward as the answer ("Does the Charter mention peacekeeping?" → not «قوات حفظ السلام»).
            choice = replace(choice, short="", answer_span=None)
        best = choice.chosen[0]
        quotes = [f"«{choice.quote}» [{best.n}]"] + [f"«{display_text(c.text)}» [{c.n}]" for c in choice.chosen[1:]]
        text = " ".join(quotes)
        # Dates and numbers in the asker's language (29 نوفمبر 1990 → 29 November 1990).
        short = render_short(choice.short, lang, question=question)
        if choice.short == choice.quote:   # the whole quote is the answer (a list item): say it once
            text = " ".join([f"{short} [{best.n}]"] + quotes[1:])
        elif short:
            text = f"{short} — {text}"
        note = language_note(choice.source_lang, lang)
        if note:
            text += "\n" + note
        a0, a1 = choice.answer_span or (None, None)
        evidence = (Evidence(best.n, *choice.quote_span, answer_start=a0, answer_end=a1),) + tuple(
            Evidence(c.n, c.start, c.end) for c in choice.chosen[1:])
        # One chunk: the quote is only worth showing once it has been scored (and not abstained on).
        yield ReadingChunk(delta=text, reading=Reading(
            text=text, short=short, confidence=confidence, evidence=evidence, support=support,
            signals=choice.signals.to_dict()))


def _repeats_question(question: str, answer: str) -> bool:
    """Whether ``answer`` is only the question's own words ("ما عمليات حفظ السلام؟" → «عمليات حفظ
    السلام»), and the question offers no choice between them ("…X or Y?", "…أم…")."""
    words = set(tokenize(answer, stem=True, stopwords=True))
    if not words or not words <= set(tokenize(question, stem=True, stopwords=True)):
        return False
    return not offers_choice(question)


def _typed_within(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` holds an answer of the question's type: a date for "when",
    a quantity (not a label such as "رقم 678") for "how many", a number for "which resolution"."""
    qtype = question_type(question)
    return qtype in ("date", "number") and any(
        a < end and b > start for a, b in typed_spans(sentence, qtype, counting=asks_count(question)))


def _around(text: str, start: int, end: int, words: int = 8, *, before: int | None = None,
            after: int | None = None) -> str:
    """``text[start:end]`` with up to ``words`` words on each side (or ``before``/``after``)."""
    left = text[:start].split()[-(words if before is None else before):] if (before is None or before) else []
    right = text[end:].split()[:(words if after is None else after)] if (after is None or after) else []
    return " ".join(left + [text[start:end]] + right)


def _mark_last_items(candidates: list[_Candidate]) -> list[_Candidate]:
    """Mark the last item of every run of numbered list items (1, 2, 3 … in document order)."""
    order = sorted(range(len(candidates)), key=lambda i: (candidates[i].source, candidates[i].start))
    last: set[int] = set()
    for pos, i in enumerate(order):
        c = candidates[i]
        if c.list_number is None:
            continue
        nxt = candidates[order[pos + 1]] if pos + 1 < len(order) else None
        if nxt is None or nxt.source != c.source or nxt.list_number != c.list_number + 1:
            last.add(i)
    return [replace(c, list_last=True) if i in last else c for i, c in enumerate(candidates)]


def _is_list_item(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[line_start:start].strip()
    return bool(prefix) and (prefix.rstrip(".)").isdigit() or prefix in ("-", "*", "+", "•"))


def _lead_in(hits: Sequence[Hit], source: str, start: int, reach: int = 600) -> str:
    """The line introducing the numbered list an item at ``start`` belongs to: the nearest line
    before it, within ``reach`` characters, that ends with a colon (in any shown passage of the
    same document)."""
    best, best_start = "", -1
    for h in hits:
        p = h.passage
        if p.source != source or p.start >= start or p.end < start - reach:
            continue
        for s, e in sentences(p.text):
            a = p.start + s
            line = p.text[s:e].strip()
            if a < start and a >= start - reach and line.endswith((":", "：")) and a > best_start:
                best, best_start = line, a
    return best

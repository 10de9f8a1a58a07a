"""The LLM reader: a generative model writes a short answer in the asker's language — also when
the source is in the other language — and names the passage it comes from.

The model is shown the top retrieved passages, numbered, and its reply is constrained to JSON
``{"answer": …, "passage": n}`` (``qa.prompts``). The answer text is streamed as it is
generated (read out of the partial JSON). The passage number is then checked against the
passages' words: when the answer's words are in another shown passage rather than the one named,
the citation is moved there (``check="repaired"``); when no shown passage shares them, the answer
is flagged (``check="unsupported"``). Across languages words cannot be compared, and the model's
number is kept (``check="unchecked"``). ``passage: 0`` or an empty answer is an abstention.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from collections.abc import Iterator, Sequence

import numpy as np

from index.types import Hit
from qa import prompts
from qa.citations import markers, strip_markers
from qa.llm.base import ChatModel, Generation
from qa.readers.base import Evidence, Reader, Reading, ReadingChunk
from qa.readers.extractive import language_note
from qa.markdown import display_text
from qa.readers.spans import snap
from sources.chunking import sentences
from sources.text import detect_language, normalize, tokenize

if TYPE_CHECKING:
    from qa.readers.extractive import ExtractiveReader

log = logging.getLogger(__name__)
_PARTIAL_ANSWER = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)', re.S)
_NOT_FOUND = ("not in the sources", "not in the passages", "does not contain", "do not contain", "no answer",
              "لا تتضمن", "لا يتضمن", "لا توجد", "غير موجود", "ليست في المقاطع", "لم يرد", "لا تحتوي", "لا يحتوي")
SUPPORTED = 0.5   # share of the answer's content words that must appear in the cited passage


_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|question|rules|prompt|above|previous)"
    r"|\b(?:you must|you should|always)\s+(?:answer|reply|respond|say|write)"
    r"|\b(?:answer|reply|respond)\s+(?:only\s+)?(?:with|by saying)\b|\bsystem prompt\b|\bnew instructions\b"
    r"|\binstead,?\s+(?:answer|say|reply|write)\b|\bdo not answer the question\b"
    r"|تجاهل\s+(?:\S+\s+){0,3}?(?:التعليمات|تعليمات|السؤال|الاسئله|ما\s+سبق|كل\s+ما)"
    r"|(?:^|\s)و?اجب\s+(?:فقط\s+|دايما\s+)?(?:ب|بان|ان)|لا\s+تجب\s+عن|بدلا\s+من\s+ذلك\s+(?:اجب|قل)"
    r"|قل\s+ان\s+الاجابه|التعليمات\s+الجديده",
    re.IGNORECASE | re.DOTALL)
_REMOVED = "[…]"


def neutralise_instructions(text: str) -> tuple[str, int]:
    """``text`` with every sentence that reads as an instruction to the model (prompt injection:
    "ignore the question and answer …", "تجاهل التعليمات …") replaced by ``[…]``; and how many."""
    out, pos, removed = [], 0, 0
    for s, e in sentences(text):
        if _INSTRUCTION.search(normalize(text[s:e])):
            out.append(text[pos:s] + _REMOVED)
            pos, removed = e, removed + 1
    out.append(text[pos:])
    return "".join(out), removed


def partial_answer(raw: str) -> str:
    """The ``answer`` string of a possibly unfinished JSON reply, decoded as far as it goes."""
    m = _PARTIAL_ANSWER.search(raw)
    if not m:
        return ""
    body = m.group(1)  # never ends with a lone backslash: the pattern needs a character after one
    cut = re.search(r"(\\+)u[0-9a-fA-F]{0,3}$", body)
    if cut and len(cut.group(1)) % 2:  # a \uXXXX escape cut off mid-way
        body = body[:cut.start() + len(cut.group(1)) - 1]
    try:
        return json.loads(f'"{body}"')
    except json.JSONDecodeError:
        return ""


def parse_reply(raw: str) -> tuple[str, int | None]:
    """(answer, passage number or ``None``) from the model's reply. A reply that is not the JSON
    asked for (a server without schema support) is read as free text with ``[n]`` markers."""
    text = raw.strip()
    if text.startswith("```"):
        text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    try:
        obj = json.loads(text)
        if isinstance(obj, dict) and isinstance(obj.get("answer"), str):
            n = obj.get("passage")
            if isinstance(n, str) and n.strip().isdigit():
                n = int(n)
            return obj["answer"].strip(), n if isinstance(n, int) and not isinstance(n, bool) else None
    except json.JSONDecodeError:
        pass
    if text.startswith("{"):
        return partial_answer(text).strip(), None
    found = markers(text)
    return strip_markers(text), (found[0] if found else None)


def _content(text: str) -> set[str]:
    return set(tokenize(text, stem=True, stopwords=True))


def support(answer: str, passage: str) -> float:
    """The share of the answer's content words found in the passage (1.0 for an answer without
    content words that appears verbatim, after normalisation)."""
    words = _content(answer)
    if not words:
        return 1.0 if normalize(answer).strip() and normalize(answer).strip() in normalize(passage) else 0.0
    return len(words & _content(passage)) / len(words)


def is_not_found(answer: str) -> bool:
    a = normalize(answer).lower()
    return any(normalize(p).lower() in a for p in _NOT_FOUND)


class LLMReader:
    """A ``Reader`` over any ``ChatModel``: ``MistralRsChat`` (the bundled local model) or an
    OpenAI-compatible server (``qa.chain.OpenAIChat``). ``passages``: how many of the top
    retrieved passages the model reads (each costs prompt-processing time on a CPU)."""

    def __init__(self, chat: ChatModel, *, passages: int = 3, max_tokens: int = 96, abstain: bool = True,
                 gate: Reader | None = None, selector: ExtractiveReader | None = None, sentences: int = 6,
                 name: str = "llm", defend: bool = True) -> None:
        """``gate``: a reader whose abstention decides first (the extractive reader with its calibrated
        decision): when it abstains the model is not asked — a small model rarely says "not in
        the passages" on its own (README, Benchmarks). Its confidence becomes the answer's.
        ``selector``: an extractive reader whose best-scored ``sentences`` the model is shown
        (numbered) instead of ``passages`` whole passages (measured on the bundled set: no shorter,
        and less accurate — README, Benchmarks — so the named readers leave it off by default)."""
        if passages < 1 or sentences < 1:
            raise ValueError(f"passages={passages} and sentences={sentences} must be at least 1.")
        self.chat = chat
        self.gate = gate
        self.selector = selector
        self.passages = passages
        self.sentences = sentences
        self.max_tokens = max_tokens
        self.abstain = abstain
        self.name = name
        self.defend = defend   # passages between unforgeable markers, instruction-like sentences neutralised

    def warm_up(self) -> None:
        """Load the model now, so the first question does not wait for it, and run each (constant)
        system prompt once, which a runtime with a prefix cache can reuse."""
        warm = getattr(self.chat, "warm_up", None)
        if callable(warm):
            warm([prompts.answer_messages("?", ["."], lang)[0] for lang in ("ar", "en")])

    # ------------------------------------------------------------------ follow-ups

    def condense(self, question: str, history: Sequence[tuple[str, str]], lang: str) -> str:
        """A stand-alone version of a follow-up question, written by the model (for retrieval)."""
        if not history:
            return question
        text = "".join(g.text for g in self.chat.stream(prompts.condense_messages(question, history, lang),
                                                         max_tokens=64))
        text = text.strip().strip('"').strip()
        return text.splitlines()[0].strip() if text else question

    # ------------------------------------------------------------------ reading

    def _shown(self, hits: Sequence[Hit]) -> list[int]:
        """0-based positions in ``hits`` of the passages the model reads: retrieved ones first."""
        retrieved = [i for i, h in enumerate(hits) if h.via != "context"]
        rest = [i for i, h in enumerate(hits) if h.via == "context"]
        return (retrieved + rest)[: self.passages]

    def _shown_texts(self, question: str, hits: Sequence[Hit], search_query: str
                     ) -> list[tuple[int, int, int, str]]:
        """What the model reads, numbered from 1: ``(hit index, start, end, text)`` — the selector's
        best sentences (document offsets), else the top retrieved passages whole."""
        if self.selector is not None and getattr(self.selector, "span_model", None) is not None:
            # The trained reader's best spans, each shown with its sentence.
            return self.selector.evidence_sentences(question, hits, search_query=search_query, n=self.sentences)
        if self.selector is not None:
            cands = self.selector.candidates(hits)
            if cands:
                query = search_query or question
                scores, _ = self.selector.score(question, query, cands)
                top = [cands[int(i)] for i in np.argsort(-scores, kind="stable")[: self.sentences]]
                out, qvec = [], None
                for c in top:
                    s, e = 0, len(c.text)
                    if len(c.text.split()) > self.selector.max_quote_words:   # a long sentence: its best clauses
                        if qvec is None:
                            qvec = self.selector.embedder.embed_queries([query])[0]
                        s, e = self.selector.quote_window(c.text, query, None, qvec)
                    out.append((c.n - 1, c.start + s, c.start + e, display_text(c.text[s:e])))
                return out
        return [(i, hits[i].passage.start, hits[i].passage.end, hits[i].passage.text) for i in self._shown(hits)]

    def stream(self, question: str, hits: Sequence[Hit], *, lang: str, search_query: str) -> Iterator[ReadingChunk]:
        shown = self._shown_texts(question, hits, search_query)
        if not shown:
            yield ReadingChunk(reading=Reading(text="", abstained=True))
            return
        gate_confidence, support_label = None, ""
        if self.gate is not None and self.abstain:
            gated = [c.reading for c in self.gate.stream(question, hits, lang=lang, search_query=search_query)
                     if c.reading is not None][-1]
            if gated.abstained:
                yield ReadingChunk(reading=Reading(text="", confidence=gated.confidence, abstained=True,
                                                   support="weak", signals=gated.signals))
                return
            gate_confidence, support_label = gated.confidence, gated.support
        if self.defend:
            cleaned = [(i, a, b, neutralise_instructions(text)) for i, a, b, text in shown]
            if any(n for *_, (_, n) in cleaned):
                log.info("neutralised %d instruction-like sentences in the passages",
                         sum(n for *_, (_, n) in cleaned))
            shown = [(i, a, b, text) for i, a, b, (text, _) in cleaned]
        messages = prompts.answer_messages(question, [text for *_, text in shown], lang, guarded=self.defend)
        raw, streamed, last = "", "", Generation()
        for piece in self.chat.stream(messages, max_tokens=self.max_tokens,
                                      json_schema=prompts.answer_schema(len(shown))):
            last = piece
            if not piece.text:
                continue
            raw += piece.text
            so_far = partial_answer(raw).lstrip() if raw.lstrip().startswith("{") else ""
            if len(so_far) > len(streamed) and so_far.startswith(streamed):
                delta, streamed = so_far[len(streamed):], so_far
                yield ReadingChunk(delta=delta)
        answer, local_n = parse_reply(raw)
        reading = self._reading(answer, local_n, hits, shown, question, lang)
        if gate_confidence is not None and not reading.abstained:
            reading = replace(reading, confidence=gate_confidence, support=support_label)
        yield ReadingChunk(reading=_with_tokens(reading, last))

    def _reading(self, answer: str, local_n: int | None, hits: Sequence[Hit], shown: list[tuple[int, int, int, str]],
                 question: str, lang: str) -> Reading:
        answer = answer.strip()
        if not answer or local_n == 0 or is_not_found(answer):
            return Reading(text="", abstained=True) if self.abstain else Reading(
                text=answer or "", short=answer, confidence=0.0, check="unsupported")
        texts = [text for *_, text in shown]
        scores = [support(answer, t) for t in texts]
        named = local_n - 1 if local_n is not None and 1 <= local_n <= len(shown) else None
        best = max(range(len(shown)), key=lambda i: (scores[i], -i))
        if named is not None and scores[named] >= SUPPORTED:
            chosen, check = named, "supported"
        elif scores[best] >= SUPPORTED and (named is None or scores[best] > scores[named]):
            chosen, check = best, "repaired"
        elif named is not None and hits[shown[named][0]].passage.lang != lang and _numbers_agree(answer, texts[named]):
            chosen, check = named, "unchecked"      # a translated answer: its words are not the source's
        elif named is not None:
            chosen, check = named, "unsupported"
        else:  # no valid number, no passage holding the answer's words
            chosen, check = (best if scores[best] > 0 else None), "unsupported"
        if check == "unsupported" and self.abstain:
            # Words found in no shown passage: the model answered from its own memory (or was misled).
            return Reading(text="", abstained=True, check=check)
        if chosen is None:
            return Reading(text=answer, short=answer, confidence=0.0, check=check)
        hit_i, start, end, _ = shown[chosen]
        p = hits[hit_i].passage
        if (start, end) == (p.start, p.end):
            # The supporting sentence, or the whole passage when it is one sentence.
            evidence = _evidence(hits[hit_i], answer, question, hit_i + 1) or Evidence(hit_i + 1, p.start, p.end)
        else:
            evidence = Evidence(n=hit_i + 1, start=start, end=end)
        if evidence is not None:
            span = snap(answer, p.text, evidence.start - p.start, evidence.end - p.start, same_language=check != "unchecked")
            if span is not None:
                a0, a1 = span
                evidence = replace(evidence, answer_start=p.start + a0, answer_end=p.start + a1)
                if check != "unchecked":
                    answer = display_text(p.text[a0:a1])   # the source's exact words
        confidence = scores[chosen] if check != "unchecked" else 0.5
        short = answer if len(answer.split()) <= 8 else ""
        text = f"{answer} [{hit_i + 1}]"
        written_in = detect_language(answer, threshold=0.5)
        if written_in in ("ar", "en") and written_in != lang and written_in == p.lang:
            # The model kept the source's words instead of translating: say so, as a quote would.
            text += "\n" + language_note(written_in, lang)
        return Reading(text=text, short=short, confidence=confidence,
                       evidence=(evidence,) if evidence else (), check=check)


def _with_tokens(reading: Reading, last: Generation) -> Reading:
    return replace(reading, prompt_tokens=last.prompt_tokens, generated_tokens=last.completion_tokens)


def _evidence(hit: Hit, answer: str, question: str, n: int) -> Evidence | None:
    """The sentence of the cited passage that best supports the answer (ties: the question's words)."""
    p = hit.passage
    spans = sentences(p.text)
    if len(spans) <= 1:
        return None
    a, q = _content(answer), _content(question)
    scored = [(len(a & (w := _content(p.text[s:e]))), len(q & w), -k, s, e) for k, (s, e) in enumerate(spans)]
    best = max(scored)
    if best[0] == 0 and best[1] == 0:
        return None
    return Evidence(n=n, start=p.start + best[3], end=p.start + best[4])



def _numbers_agree(answer: str, source: str) -> bool:
    """Every number in a (translated) answer also appears in the source it cites."""
    nums = set(re.findall(r"\d+", normalize(answer)))
    return nums <= set(re.findall(r"\d+", normalize(source)))

"""The chat's conversation as HTML (answer cards, citation chips, per-message sources) and as
Markdown (copy and export). Pure functions of the turns and the interface language: no Gradio.

Every piece of text from a user or a document is escaped; bidi isolation (``<bdi>``, ``dir``)
keeps Arabic quotes in English answers (and the reverse) from flipping parentheses and numbers.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

from qa.citations import MARKER, marker_numbers
from qa.types import Answer, Citation
from qa.ui_text import BUNDLED, passages_words, t
from sources.text import detect_language

_MARKER = MARKER
# A «quote» with the citation markers right after it: they stay with the quote, inside its isolate,
# so an Arabic quote's chip sits at the quote's end (its left), not before its last line.
_QUOTED = re.compile(r"«[^»]*»(?:[ \t]*" + MARKER.pattern + r")*")
_LEAD = re.compile(r"^[\s—–:،,.-]+")


@dataclass(frozen=True)
class ChatTurn:
    """One question and what came back: a finished ``answer``, or ``partial`` text that was
    stopped, or an ``error`` message."""

    question: str
    answer: Answer | None = None
    partial: str = ""
    error: str = ""


def source_name(source: str) -> str:
    """What a person calls a source: its file name (uploaded files have full paths)."""
    return Path(source).name or source


def text_dir(text: str) -> str:
    return "rtl" if detect_language(text, threshold=0.5) == "ar" else "ltr"


def _lang_dir(lang: str) -> str:
    return "rtl" if lang == "ar" else "ltr"


def _isolated(text: str) -> str:
    """Escaped text whose «quotes» are each isolated in their own direction; a quote that is a
    line of its own becomes a block, aligned to its own script's side (an Arabic quote in an
    English answer wraps from the right)."""
    pieces, pos = [], 0
    for m in _QUOTED.finditer(text):
        pieces.append(html.escape(text[pos:m.start()]))
        alone = (text[:m.start()].rstrip(" \t").endswith("\n") or not text[:m.start()].strip()) and \
            (m.end() == len(text) or text[m.end()] == "\n")
        line = ' class="line"' if alone else ""
        pieces.append(f'<bdi dir="{text_dir(m.group(0))}"{line}>{html.escape(m.group(0))}</bdi>')
        pos = m.end() + (1 if alone and m.end() < len(text) else 0)   # a block ends its line
    pieces.append(html.escape(text[pos:]))
    return "".join(pieces).replace("\n", "<br>")


def _span_parts(answer: Answer, c: Citation) -> tuple[str, str, str, str, str, str]:
    """The cited passage cut around the supporting words and the answer inside them:
    (before, support-before-answer, answer, support-after-answer, after, passage direction)."""
    hit = next((h for h in answer.hits if h.passage.id == c.passage_id), None)
    if hit is None:
        return "", c.quote, "", "", "", text_dir(c.quote)
    p = hit.passage
    text = p.text
    a, b = max(0, c.start - p.start), min(len(text), c.end - p.start)
    x = y = b
    if c.answer_start is not None and c.answer_end is not None:
        x, y = max(a, c.answer_start - p.start), min(b, c.answer_end - p.start)
        if y <= x:
            x = y = b
    return text[:a], text[a:x], text[x:y], text[y:b], text[b:], text_dir(text)


def _chip(key: str, n: int, c: Citation | None, answer: Answer, ui: str) -> str:
    if c is None:
        return f"[{n}]"
    _, s1, ans, s2, _, direction = _span_parts(answer, c)
    preview = html.escape(s1) + (f"<b>{html.escape(ans)}</b>" if ans else "") + html.escape(s2)
    label = html.escape(f"{t(ui, 'source_n', n=n)}: {source_name(c.source)}")
    return (f'<a class="cite" href="#{key}-s{n}" data-target="{key}-s{n}" aria-label="{label}">{n}'
            f'<span class="preview" role="tooltip" dir="{direction}">{preview}</span></a>')


def _with_chips(text: str, key: str, answer: Answer, ui: str) -> str:
    by_n = {c.n: c for c in answer.citations}
    body = _isolated(text)
    return _MARKER.sub(lambda m: "".join(_chip(key, n, by_n.get(n), answer, ui) for n in marker_numbers(m)), body)


def _sources_list(key: str, answer: Answer, ui: str) -> str:
    items = []
    for c in answer.citations:
        before, s1, ans, s2, after, direction = _span_parts(answer, c)
        marked = (html.escape(s1) + (f'<mark class="answer">{html.escape(ans)}</mark>' if ans else "")
                  + html.escape(s2))
        page = f" · {t(ui, 'page', n=c.page)}" if c.page else ""
        items.append(f'<li class="source" id="{key}-s{c.n}"><div class="src-head">{c.n} · '
                     f'<bdi>{html.escape(source_name(c.source))}</bdi>{page}</div>'
                     f'<div class="passage" dir="{direction}">{html.escape(before)}<mark class="support">{marked}'
                     f'</mark>{html.escape(after)}</div></li>')
    return (f'<details class="sources" data-key="{key}"><summary>{t(ui, "sources")} ({len(answer.citations)})'
            f'</summary><ol>{"".join(items)}</ol></details>')


def _nearest_list(key: str, answer: Answer, ui: str) -> str:
    items = []
    for i, h in enumerate(answer.hits[:3], start=1):
        p = h.passage
        items.append(f'<li class="source" id="{key}-n{i}"><div class="src-head"><bdi>'
                     f'{html.escape(source_name(p.source))}</bdi></div>'
                     f'<div class="passage" dir="{text_dir(p.text)}">{html.escape(p.text)}</div></li>')
    if not items:
        return ""
    return (f'<details class="nearest" data-key="{key}"><summary>{t(ui, "closest")}</summary>'
            f'<ol>{"".join(items)}</ol></details>')


def _copy(key: str, markdown: str, ui: str) -> str:
    return (f'<div class="actions"><button type="button" class="copy" data-target="{key}" '
            f'data-label="{t(ui, "copy")}" data-done="{t(ui, "copied")}">{t(ui, "copy")}</button></div>'
            f'<textarea class="copy-text" readonly hidden aria-hidden="true">{html.escape(markdown)}</textarea>')


def answer_card(key: str, turn: ChatTurn, ui: str) -> str:
    """One answer as a card: the short answer first, then the quote with its citation chips, how
    strong the evidence is, the message's own sources (a drawer), and a Copy button."""
    a = turn.answer
    head = f'<article class="card" id="{key}" dir="{_lang_dir(ui)}" aria-label="{t(ui, "answer")}">'
    if a is None:
        if turn.error:
            body = f'<p class="notfound">{t(ui, "error")}</p><div class="body" dir="auto">{_isolated(turn.error)}</div>'
        else:
            body = (f'<div class="body" dir="{text_dir(turn.partial or turn.question)}">{_isolated(turn.partial)}'
                    f'</div><p class="note">{t(ui, "stopped")}</p>')
        return head + body + _copy(key, turn_markdown(turn, ui), ui) + "</article>"
    adir = _lang_dir(a.lang)
    if a.abstained:
        body = (f'<p class="notfound">{t(ui, "not_found")}</p>'
                f'<div class="body" dir="{adir}">{_isolated(a.text)}</div>' + _nearest_list(key, a, ui))
        return head.replace('class="card"', 'class="card abstained"') + body + _copy(
            key, turn_markdown(turn, ui), ui) + "</article>"
    rest = a.text
    short = ""
    if a.short and a.text.startswith(a.short):
        short = a.short
        rest = _LEAD.sub("", a.text[len(a.short):])
    elif a.short:
        short = a.short
    level = a.support if a.support in ("strong", "partial", "weak") else ""
    meta = (f'<div class="meta"><span class="evidence evidence-{level or "none"}">{t(ui, level)}</span></div>'
            if level else "")
    parts = [meta]
    if short:
        parts.append(f'<p class="short" dir="{adir}"><bdi>{html.escape(short)}</bdi></p>')
    if a.citations and "«" not in rest:
        # A generated answer says it in its own words: the supporting quote still comes right after
        # (with the chips, when the answer's text is nothing but its markers).
        _, s1, ans, s2, _, qdir = _span_parts(a, a.citations[0])
        marked = html.escape(s1) + (f'<mark class="answer">{html.escape(ans)}</mark>' if ans else "") + html.escape(s2)
        chips = ""
        if not _MARKER.sub("", rest).strip():
            chips, rest = " " + _with_chips(rest.strip(), key, a, ui), ""
        parts.append(f'<blockquote class="quote" dir="{qdir}">«{marked}»{chips}</blockquote>')
    if rest.strip():
        parts.append(f'<div class="body" dir="{adir}">{_with_chips(rest, key, a, ui)}</div>')
    if a.check == "unsupported":
        parts.append(f'<p class="note">⚠ {t(ui, "unverified")}</p>')
    if a.citations:
        parts.append(_sources_list(key, a, ui))
    return head + "".join(parts) + _copy(key, turn_markdown(turn, ui), ui) + "</article>"


def pending_card(key: str, partial: str, ui: str) -> str:
    """The answer being written: a thinking line with the seconds counted in the page, and the
    words streamed so far."""
    body = f'<div class="body" dir="{text_dir(partial)}">{_isolated(partial)}</div>' if partial else ""
    return (f'<article class="card pending" id="{key}" dir="{_lang_dir(ui)}" aria-busy="true">'
            f'<p class="thinking" data-key="{key}" data-unit="{t(ui, "seconds")}" role="status">'
            f'<span class="dots"></span>{t(ui, "thinking")} <span class="elapsed"></span></p>{body}</article>')


def empty_state(documents: Sequence[tuple[str, int]], ui: str, bundled_name: str) -> str:
    names = "".join(f"<li><bdi>{html.escape(source_name(s))}</bdi> · {passages_words(n, ui)}</li>"
                    for s, n in documents[:8])
    about = f"<p>{html.escape(BUNDLED[ui])}</p>" if any(source_name(s) == bundled_name for s, _ in documents) else ""
    return (f'<div class="empty" dir="{_lang_dir(ui)}"><h2>{t(ui, "empty_title")}</h2>{about}'
            f'<ul class="docs">{names}</ul><p>{t(ui, "empty_hint")}</p></div>')


def conversation_html(conv_key: str, turns: Sequence[ChatTurn], ui: str, *, pending: str | None = None,
                      partial: str = "", documents: Sequence[tuple[str, int]] = (), bundled_name: str = "") -> str:
    """The whole conversation: each question, then its answer card; ``pending`` is a question
    whose answer is being written (``partial`` so far)."""
    out = [f'<div class="bayyina-conv" dir="{_lang_dir(ui)}" role="log" aria-live="polite">']
    if not turns and pending is None:
        out.append(empty_state(documents, ui, bundled_name))
    for i, turn in enumerate(turns, start=1):
        out.append(_question(turn.question, ui))
        out.append(answer_card(f"{conv_key}-m{i}", turn, ui))
    if pending is not None:
        out.append(_question(pending, ui))
        out.append(pending_card(f"{conv_key}-m{len(turns) + 1}", partial, ui))
    out.append("</div>")
    return "".join(out)


def _question(text: str, ui: str) -> str:
    return f'<div class="turn-q" dir="{text_dir(text)}" aria-label="{t(ui, "you")}">{html.escape(text)}</div>'


def turn_markdown(turn: ChatTurn, ui: str) -> str:
    """A turn as Markdown: the question, the answer with its ``[n]`` markers, and a sources list
    (what Copy puts on the clipboard and Export writes)."""
    lines = [f"**{t(ui, 'you')}:** {turn.question}", ""]
    a = turn.answer
    if a is None:
        lines.append(turn.error or (turn.partial + " " + t(ui, "stopped")).strip())
        return "\n".join(lines)
    if a.abstained:
        lines.append(f"**{t(ui, 'not_found')}.** {a.text}")
        return "\n".join(lines)
    level = f" _({t(ui, a.support)})_" if a.support in ("strong", "partial", "weak") else ""
    lines.append(f"**{t(ui, 'answer')}:** {a.text}{level}")
    if a.citations:
        lines += ["", f"{t(ui, 'sources')}:"]
        for c in a.citations:
            page = f", {t(ui, 'page', n=c.page)}" if c.page else ""
            quote = " ".join(c.quote.split())
            lines.append(f"[{c.n}] {source_name(c.source)}{page} — «{quote}»")
    return "\n".join(lines)


def conversation_markdown(title: str, turns: Sequence[ChatTurn], ui: str) -> str:
    """A conversation as one Markdown document with every answer's sources."""
    return f"# {title}\n\n" + "\n\n---\n\n".join(turn_markdown(turn, ui) for turn in turns) + "\n"


def documents_list_html(documents: Sequence[tuple[str, int, bool]], ui: str) -> str:
    """The side list of documents: (source, passages, uploaded by this browser) each."""
    if not documents:
        return '<p class="docs">—</p>'
    items = "".join(
        f'<li><bdi>{html.escape(source_name(source))}</bdi> <span class="count">· {passages_words(n, ui)}'
        f'</span>{" <span class=yours>" + t(ui, "yours") + "</span>" if mine else ""}</li>'
        for source, n, mine in documents)
    return f'<ul class="docs" dir="{"rtl" if ui == "ar" else "ltr"}">{items}</ul>'

"""The chat's HTML and Markdown: answer cards, chips bound to their own message, bidi isolation,
plain-text copy. Fake embedder and reader: no model, no browser."""

import re

import qa
from qa.readers.base import Evidence
from qa.ui_render import ChatTurn, answer_card, conversation_html, conversation_markdown, turn_markdown
from tests.qa.fakes import FakeReader


def _answer(index, text="678 — «resolution 678» [{n}]", q="resolution 678"):
    hits = index.search(q, 5)
    n = next(i for i, h in enumerate(hits, 1) if "resolution 678" in h.passage.text)
    p = hits[n - 1].passage
    start = p.start + p.text.index("resolution 678")
    a0 = start + len("resolution ")
    bot = qa.Assistant(index, FakeReader(text.format(n=n), evidence=(Evidence(n, start, start + 14, a0, a0 + 3),)))
    return bot.ask(q)


def test_card_leads_with_the_short_answer_and_marks_the_answer_inside_the_quote(fake_embedder, bilingual_docs):
    from index.hybrid import build

    answer = _answer(build(bilingual_docs, fake_embedder))
    card = answer_card("c1-m2", ChatTurn("resolution 678", answer), "en")
    assert '<p class="short" dir="ltr"><bdi>678</bdi></p>' in card
    # The chip points at this message's own source and previews the cited words with the answer in bold.
    assert 'href="#c1-m2-s1" data-target="c1-m2-s1"' in card
    assert '<span class="preview" role="tooltip" dir="ltr">resolution <b>678</b></span>' in card
    assert '<li class="source" id="c1-m2-s1">' in card
    assert '<mark class="support">resolution <mark class="answer">678</mark></mark>' in card
    assert "0.0" not in re.sub(r"<[^>]+>", "", card)          # no raw scores in what a person reads
    assert 'class="evidence evidence-' in card or answer.support == ""


def test_two_messages_never_share_source_ids(fake_embedder, bilingual_docs):
    from index.hybrid import build

    answer = _answer(build(bilingual_docs, fake_embedder))
    page = conversation_html("c3", [ChatTurn("q1", answer), ChatTurn("q2", answer)], "en")
    ids = re.findall(r'id="(c3-m\d-s\d)"', page)
    assert ids == ["c3-m1-s1", "c3-m2-s1"]
    assert 'data-target="c3-m1-s1"' in page and 'data-target="c3-m2-s1"' in page


def test_an_abstention_shows_closest_passages_not_citations(fake_embedder, bilingual_docs):
    from index.hybrid import build

    index = build(bilingual_docs, fake_embedder)
    answer = qa.Assistant(index, FakeReader("x", abstain=True)).ask("من هو رئيس فرنسا؟")
    assert answer.abstained
    card = answer_card("c1-m1", ChatTurn("من هو رئيس فرنسا؟", answer), "ar")
    assert "لم يُعثر على الإجابة في مستنداتك" in card and "أقرب المقاطع" in card
    assert 'class="cite"' not in card and "evidence-" not in card


def test_quotes_in_the_other_script_are_isolated_and_everything_is_escaped(fake_embedder, bilingual_docs):
    from index.hybrid import build

    answer = _answer(build(bilingual_docs, fake_embedder),
                     text="678 — «لكن القرار رقم 678 …» [{n}]\n(Quoted in Arabic, as written in the source.)")
    card = answer_card("c1-m1", ChatTurn("<script>alert(1)</script>", answer), "en")
    # The quote is a line of its own: a right-aligned block, its chip inside it at the quote's end.
    assert re.search(r'<bdi dir="rtl" class="line">«لكن القرار رقم 678 …» <a class="cite"[^>]*>\d+<span .*?</a></bdi>'
                     r'\(Quoted in Arabic', card)
    inline = answer_card("c1-m1", ChatTurn("q", _answer(build(bilingual_docs, fake_embedder),
                                                       text="It says «لكن القرار» [{n}] and more.")), "en")
    assert '<bdi dir="rtl">«لكن القرار» <a class="cite"' in inline      # inside a sentence it stays inline
    page = conversation_html("c1", [ChatTurn("<script>alert(1)</script>", answer)], "en")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_copy_and_export_are_plain_markdown_with_sources(fake_embedder, bilingual_docs):
    from index.hybrid import build

    answer = _answer(build(bilingual_docs, fake_embedder))
    md = turn_markdown(ChatTurn("resolution 678", answer), "en")
    assert "<" not in md and "[1]" in md and "Sources:" in md and "[1] un.en.txt — «resolution 678»" in md
    ar = conversation_markdown("محادثة", [ChatTurn("القرار؟", answer), ChatTurn("ثم؟", partial="نص")], "ar")
    assert ar.startswith("# محادثة") and "المصادر:" in ar and "أُوقف." in ar


def test_empty_conversation_says_what_the_corpus_is():
    ar = conversation_html("c1", [], "ar", documents=[("collective_security.ar.txt", 24)],
                           bundled_name="collective_security.ar.txt")
    assert "الأمن الجماعي" in ar and "24 مقطعًا" in ar and "مقطع واحد" in conversation_html("c1", [], "ar", documents=[("a.txt", 1)]) and 'dir="rtl"' in ar
    en = conversation_html("c1", [], "en", documents=[("/data/x/notes.md", 3)], bundled_name="collective_security.ar.txt")
    assert "notes.md" in en and "/data/x" not in en and "collective security" not in en


def test_a_pending_answer_shows_a_thinking_line_and_the_words_so_far():
    page = conversation_html("c1", [], "ar", pending="ما القرار؟", partial="القرار 678")
    assert 'class="thinking" data-key="c1-m1" data-unit="ث"' in page and "يفكّر…" in page and "القرار 678" in page


def test_a_generated_answer_without_a_quote_still_shows_the_supporting_words(fake_embedder, bilingual_docs):
    from index.hybrid import build

    answer = _answer(build(bilingual_docs, fake_embedder), text="The answer is 678 [{n}]")
    bare = answer_card("c1-m3", ChatTurn("q", _answer(build(bilingual_docs, fake_embedder), text="678 [{n}]")), "en")
    assert "»  <a class=\"cite\"" in bare or "» <a class=\"cite\"" in bare      # the chips follow the quote
    card = answer_card("c1-m1", ChatTurn("resolution 678", answer), "en")
    assert '<blockquote class="quote" dir="ltr">«resolution <mark class="answer">678</mark>»</blockquote>' in card
    quoted = _answer(build(bilingual_docs, fake_embedder))          # already quotes: no second quote
    assert "blockquote" not in answer_card("c1-m2", ChatTurn("resolution 678", quoted), "en")


def test_arabic_digit_and_joined_markers_become_chips_and_annotations(fake_embedder, bilingual_docs):
    """One marker pattern for the chat, the HTTP API and the citation checks: [١] and [1، 1] count."""
    from dataclasses import replace

    from index.hybrid import build
    from qa.citations import markers
    from qa.server import annotations

    answer = _answer(build(bilingual_docs, fake_embedder))
    for text in ("678 [١]", "678 [1، ١]"):
        arabic = replace(answer, text=text)
        card = answer_card("c1-m2", ChatTurn("resolution 678", arabic), "en")
        assert 'href="#c1-m2-s1"' in card and "[" not in re.sub(r"<[^>]+>", "", card).split("678", 1)[1][:8]
        notes = annotations(arabic)
        assert notes and all(n["url_citation"]["start_index"] == text.index("[") for n in notes)
        assert set(markers(text)) == {1}

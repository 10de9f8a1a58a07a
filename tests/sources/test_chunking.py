import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.chunking import ChunkConfig, approximate_tokens, chunk, sentences
from sources.types import Document, Span

AR_WORDS = ["مجلس", "الأمن", "القرار", "الدولي", "وبالتالي", "السلام", "١٩٩٠", "الأمم", "المتحدة", "الحرب"]
EN_WORDS = ["council", "security", "resolution", "1990", "peace", "war", "United", "Nations", "force"]
PUNCT = [".", "؟", "،", "؛", "!", "?", ",", "\n", "\n\n", " ", " ", " ", "  "]


def _count(text: str) -> int:
    return len(text.split())


texts = st.lists(st.sampled_from(AR_WORDS + EN_WORDS + PUNCT), min_size=0, max_size=300).map(
    lambda parts: "".join(p if p in PUNCT else p + " " for p in parts))


@settings(max_examples=200, deadline=None)
@given(text=texts, max_tokens=st.integers(8, 60), overlap=st.integers(0, 7))
def test_chunk_invariants(text, max_tokens, overlap):
    doc = Document("doc.txt", text)
    passages = chunk(doc, ChunkConfig(max_tokens, overlap), _count)
    # Offsets map back to the original text, exactly.
    for p in passages:
        assert p.text == text[p.start:p.end]
        assert p.text == p.text.strip() and p.text
        assert _count(p.text) <= max_tokens
    # Nothing is lost: every non-space character is inside some passage.
    covered = [False] * len(text)
    for p in passages:
        for i in range(p.start, p.end):
            covered[i] = True
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))
    # Passages advance through the document.
    starts = [p.start for p in passages]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert len({p.id for p in passages}) == len(passages)


def test_sentences_split_on_arabic_and_latin_punctuation():
    text = "ما هو مجلس الأمن؟ إنه جهاز رئيسي. Is it? Yes!\nسطر جديد"
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ["ما هو مجلس الأمن؟", "إنه جهاز رئيسي.", "Is it?", "Yes!", "سطر جديد"]


def test_numbers_with_decimal_points_are_not_sentence_ends():
    text = "The rate was 3.5 percent. Next."
    assert [text[s:e] for s, e in sentences(text)] == ["The rate was 3.5 percent.", "Next."]


def test_packing_overlap_and_metadata():
    sents = [f"الجملة رقم {i} عن مجلس الأمن." for i in range(12)]
    text = " ".join(sents)
    passages = chunk(Document("a.txt", text), ChunkConfig(max_tokens=20, overlap_tokens=7), _count)
    assert len(passages) > 1
    for a, b in zip(passages, passages[1:]):
        assert b.start < a.end, "consecutive passages overlap by a sentence"
        assert b.start > a.start
    assert all(p.lang == "ar" and p.page is None and p.source == "a.txt" for p in passages)


def test_long_sentence_is_cut_at_clauses_then_words():
    text = "، ".join(["مجلس الأمن الدولي يجتمع"] * 30) + "."
    passages = chunk(Document("long.txt", text), ChunkConfig(max_tokens=10, overlap_tokens=0), _count)
    assert all(_count(p.text) <= 10 for p in passages)
    assert "".join(re.sub(r"\s", "", p.text) for p in passages) == re.sub(r"\s", "", text)


def test_headings_start_passages_and_label_them():
    text = "# الفصل الأول\nنص الفصل الأول هنا.\n## Section two\nBody of section two. More text."
    h1 = text.index("# الفصل")
    h2 = text.index("## Section")
    doc = Document("h.md", text, headings=(Span(h1, text.index("\n")), Span(h2, text.index("\n", h2))))
    passages = chunk(doc, ChunkConfig(max_tokens=50, overlap_tokens=0), _count)
    assert [p.heading for p in passages] == ["الفصل الأول", "Section two"]
    assert passages[0].text.startswith("# الفصل الأول") and passages[1].text.startswith("## Section two")


def test_pdf_pages_are_recorded():
    text = "صفحة أولى فيها نص.\n\nPage two has text."
    doc = Document("p.pdf", text, kind="pdf", page_starts=(0, text.index("Page")))
    passages = chunk(doc, ChunkConfig(max_tokens=8, overlap_tokens=0), _count)
    assert [(p.page, p.lang) for p in passages] == [(1, "ar"), (2, "en")]


def test_ids_are_stable_and_depend_on_source():
    doc = Document("a.txt", "مجلس الأمن. Security Council.")
    assert [p.id for p in chunk(doc)] == [p.id for p in chunk(doc)]
    assert chunk(doc)[0].id != chunk(Document("b.txt", doc.text))[0].id


def test_config_validation_names_the_value():
    with pytest.raises(ValueError, match="overlap_tokens=50"):
        ChunkConfig(max_tokens=40, overlap_tokens=50)
    with pytest.raises(ValueError, match="max_tokens=2"):
        ChunkConfig(max_tokens=2, overlap_tokens=0)


def test_approximate_tokens():
    assert approximate_tokens("") == 0
    assert approximate_tokens("مجلس الأمن") == 3

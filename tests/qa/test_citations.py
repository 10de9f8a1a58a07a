from index.types import Hit
from qa.citations import cite, markers
from qa.readers.base import Evidence
from sources.types import Passage


def _hits(*texts):
    out, pos = [], 0
    for i, t in enumerate(texts):
        out.append(Hit(Passage(f"p{i}", t, "doc.txt", pos, pos + len(t), "ar"), score=1.0 / (i + 1), rank=i + 1,
                       via="hybrid"))
        pos += len(t) + 1
    return out


HITS = _hits("أصدر مجلس الأمن القرار 678 في عام 1990.", "The Cold War paralysed the council.",
             "حفظ السلام عملية أممية.")


def test_markers_parse_lists_and_arabic_digits():
    assert markers("a [1] b [2, 3] c [٣] d [1،2]") == [1, 2, 3, 3, 1, 2]


def test_invalid_markers_are_dropped_and_valid_ones_renumbered():
    text, cites = cite("First [3]. Second [2][9]. Again [3] and [0].", HITS)
    assert text == "First [1]. Second [2]. Again [1] and."
    assert [(c.n, c.passage_id) for c in cites] == [(1, "p2"), (2, "p1")]


def test_markers_inside_quotes_are_source_text_not_citations():
    text, cites = cite("«as noted [7] in the source» [1]", HITS)
    assert text == "«as noted [7] in the source» [1]"
    assert [c.passage_id for c in cites] == ["p0"]


def test_uncited_answer_is_repaired_from_the_supporting_passage():
    text, cites = cite("The Cold War paralysed it.", HITS)
    assert text.endswith("[1]") and cites[0].passage_id == "p1"


def test_unsupported_uncited_answer_stays_uncited():
    text, cites = cite("Nothing in common here xyz.", HITS)
    assert cites == () and "[" not in text


def test_evidence_span_becomes_the_quote_with_document_offsets():
    p = HITS[0].passage
    start = p.start + p.text.index("القرار")
    end = p.start + p.text.index(" في")
    _, cites = cite("678 [1]", HITS, [Evidence(1, start, end)])
    c = cites[0]
    assert (c.start, c.end, c.quote) == (start, end, "القرار 678")
    assert c.source == "doc.txt" and c.score == 1.0


def test_evidence_outside_the_passage_falls_back_to_the_passage():
    _, cites = cite("x [2]", HITS, [Evidence(2, 0, 5)])
    assert cites[0].quote == HITS[1].passage.text


def test_nested_quotes_stay_verbatim():
    text, cites = cite("«he said «see [4]» and [5] there» [1]", HITS)
    assert text == "«he said «see [4]» and [5] there» [1]"
    assert [c.passage_id for c in cites] == ["p0"]

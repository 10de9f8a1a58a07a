import pytest

from qa.readers.spans import question_type, short_span


@pytest.mark.parametrize("q, t", [
    ("متى صدر القرار؟", "date"), ("في أي عام انتهت الحرب؟", "date"), ("When did the war end?", "date"),
    ("What year was it founded?", "date"), ("كم عدد الأعضاء؟", "number"), ("How many members are there?", "number"),
    ("من هو الأمين العام؟", "person"), ("Who proposed the plan?", "person"), ("ما هو الأمن الجماعي؟", "other"),
    ("What is collective security?", "other"),
])
def test_question_type(q, t):
    assert question_type(q) == t


def _span(q, s):
    r = short_span(q, q, s)
    return s[r[0]:r[1]] if r else None


def test_number_and_date_spans():
    s = "أصدر مجلس الأمن القرار رقم 678 في 29 نوفمبر 1990 بشأن الكويت."
    assert _span("ما رقم القرار الذي أصدره مجلس الأمن بشأن الكويت؟", s) == "678"
    assert _span("متى أصدر مجلس الأمن القرار بشأن الكويت؟", s) == "29 نوفمبر 1990"
    e = "The Panthers defense gave up just 308 points, ranking sixth in the league."
    assert _span("How many points did the Panthers defense give up?", e) == "308"


def test_person_and_other_spans():
    s = "The plan was proposed by Dag Hammarskjöld in 1956."
    assert _span("Who proposed the plan?", s) == "Dag Hammarskjöld"
    assert _span("What is the capital?", "Nothing in common.") is None
    # Other questions, and names in Arabic, are answered with the whole sentence (measured better).
    assert _span("What did the council adopt?", "The council adopted resolution 678.") is None
    assert _span("من اقترح الخطة؟", "اقترح الخطة داغ همرشولد عام 1956.") is None

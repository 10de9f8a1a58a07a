import pytest

from qa.markdown import clean_span, display_text, is_heading_line
from qa.question_form import LAST, asks_count, asks_yes_no, offers_choice, ordinal, question_type
from qa.readers.spans import clause_spans, short_span, snap, span_near_question, typed_spans, windows
from qa.terms import key_terms


@pytest.mark.parametrize("q, t", [
    ("متى صدر القرار؟", "date"), ("في أي عام انتهت الحرب؟", "date"), ("When did the war end?", "date"),
    ("What year was it founded?", "date"), ("كم عدد الأعضاء؟", "number"), ("How many members are there?", "number"),
    ("من هو الأمين العام؟", "person"), ("Who proposed the plan?", "person"), ("ما هو الأمن الجماعي؟", "other"),
    ("What is collective security?", "other"),
])
def test_question_type(q, t):
    assert question_type(q) == t


@pytest.mark.parametrize("q, counts", [
    ("كم عدد الأعضاء الدائمين؟", True), ("وكم دولة صوتت لصالحه؟", True), ("How many countries voted for it?", True),
    ("How much did it cost?", True), ("ما رقم القرار الذي أتاح استخدام القوة؟", False),
    ("Which resolution authorised the use of force?", False), ("أي مادة من الميثاق؟", False),
    ("متى صدر القرار؟", False), ("What is collective security?", False),
])
def test_a_how_many_question_asks_for_a_quantity_not_a_label(q, counts):
    assert asks_count(q) is counts


@pytest.mark.parametrize("q, yes_no", [
    ("هل ذكر الميثاق عمليات حفظ السلام؟", True), ("وهل صوتت فرنسا لصالحه؟", True), ("أليس المجلس هو المسؤول؟", True),
    ("Does the UN Charter mention peacekeeping operations?", True), ("Isn’t it the Council?", True),
    ("Did the Council adopt it in 1990?", True),
    # A choice is answered by the thing chosen.
    ("هل كانت فرنسا أم إسبانيا؟", False), ("Was it France or Spain?", False),
    ("ما الأمن الإنساني؟", False), ("What does it urge member states to do?", False), ("Who is it?", False),
    ("هلال الأحمر ما هو؟", False), ("", False),
])
def test_a_yes_no_question_is_told_from_one_a_span_answers(q, yes_no):
    assert asks_yes_no(q) is yes_no


def test_a_choice_is_offered_by_or_and_am():
    assert offers_choice("هل كانت فرنسا أم إسبانيا؟") and offers_choice("Was it France or Spain?")
    assert offers_choice("أيهما أسبق: القرار 660 أو القرار 678؟")
    assert not offers_choice("ما الأمن الإنساني؟") and not offers_choice("Which order did Bush call for?")


def test_counting_leaves_labels_out():
    ar = "وذلك عبر قراره الشهير رقم 678 بعد أن اتخذ 12 قرارا استنادا إلى المادة 43 من الميثاق في عام 1990."
    assert [_text(ar, s) for s in typed_spans(ar, "number")] == ["678", "12", "43"]
    assert [_text(ar, s) for s in typed_spans(ar, "number", counting=True)] == ["12"]
    en = "Resolution 678 was adopted by 12 votes under Article 42 and paragraph 3 in 1990."
    assert [_text(en, s) for s in typed_spans(en, "number", counting=True)] == ["12"]
    # A how-many question's short answer is the quantity, a which-resolution question's the label.
    assert _span("How many votes adopted resolution 678?", en) == "12"
    assert _span("كم قرارا اتخذ؟", ar) == "12"
    assert _span("ما رقم القرار الشهير؟", ar) == "678"


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


P7 = ("ولم يعد لمجلس الأمن أي قدرة على التأثير على مسار الأزمة منذ صدور هذا القرار في 29 نوفمبر 1990 وحتى "
      "انتهاء العمليات العسكرية في 27 فبراير 1991، وعلى الرغم من أن مجلس الأمن هو الذي صرح بهذه الحرب")


def _text(s, span):
    return s[span[0]:span[1]]


def test_dates_in_a_long_arabic_sentence_and_the_one_the_question_asks_for():
    spans = typed_spans(P7, "date")
    assert [_text(P7, s) for s in spans] == ["29 نوفمبر 1990", "27 فبراير 1991"]
    end, _ = span_near_question("متى انتهت العمليات العسكرية ضد العراق؟", "", P7, spans)
    issued, _ = span_near_question("متى صدر القرار 678؟", "", P7, spans)
    assert _text(P7, end) == "27 فبراير 1991" and _text(P7, issued) == "29 نوفمبر 1990"
    # Arabic clitics: وحتى/بهذه/للدول are matched through their stems.
    assert [_text("بلغ عدد الأعضاء ٥١ دولة.", s) for s in typed_spans("بلغ عدد الأعضاء ٥١ دولة.", "number")] == ["٥١"]


def test_numbers_written_as_words():
    s = "He kept the lamp burning for forty-one years."
    assert [_text(s, x) for x in typed_spans(s, "number")] == ["forty-one"]


def test_markdown_never_reaches_a_quote_or_short_answer():
    for raw, clean in [("# The Aral Sea", "The Aral Sea"), ("## **Kok-Aral** dam", "**Kok-Aral** dam"),
                       ("5. الإرهاب", "الإرهاب"), ("- item one", "item one"), ("> quoted line.", "quoted line"),
                       ("**bold**", "bold"), ("(لجنة أركان الحرب- المادة 43)", "لجنة أركان الحرب- المادة 43")]:
        assert _text(raw, clean_span(raw, 0, len(raw))) == clean
    assert display_text("The **dam** was `done` in _2005_.") == "The dam was done in 2005."
    assert is_heading_line("# The Aral Sea") and is_heading_line("الأمن الجماعي بعد انتهاء الحرب الباردة:")
    assert is_heading_line("The Aral Sea", "Geography / The Aral Sea") and not is_heading_line("The sea shrank.")


def test_clauses_and_quote_windows_stay_short():
    assert [_text(P7, s) for s in clause_spans(P7)][-1] == "الذي صرح بهذه الحرب"
    for s, e in windows(P7, 12):
        assert len(P7[s:e].split()) <= 12
    assert any("27 فبراير 1991" in P7[s:e] for s, e in windows(P7, 12))


def test_snap_to_the_sources_own_words():
    en = "The Kok-Aral Dam was completed in August 2005, and the North Aral rose."
    assert _text(en, snap("in August, 2005", en, 0, len(en))) == "August 2005"
    assert _text(en, snap("the Kok-Aral dam", en, 0, len(en))) == "Kok-Aral Dam"
    assert snap("Mars", en, 0, len(en)) is None
    # Across languages only digits can be matched: the date that holds them.
    assert _text(P7, snap("27 February 1991", P7, 0, len(P7), same_language=False)) == "27 فبراير 1991"
    assert snap("the coalition", P7, 0, len(P7), same_language=False) is None


def test_key_terms_are_numbers_and_names():
    assert key_terms("What did resolution 660 demand from Saddam Hussein?") == {"660", "saddam", "hussein"}
    assert key_terms("متى صدر القرار ٦٧٨؟") == {"678"}


@pytest.mark.parametrize("question, position", [
    ("ما الفئة الخامسة من التهديدات؟", 5), ("وما الفئة الأخيرة؟", LAST), ("ما آخر الفئات؟", None),
    ("What is the fifth category?", 5), ("Which one comes last?", LAST), ("What was the final category?", LAST),
    ("What is collective security?", None), ("ما الأمن الجماعي؟", None),
])
def test_the_position_a_question_asks_for(question, position):
    assert ordinal(question) == position

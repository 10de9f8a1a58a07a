import pytest

from qa.conversation import condense, is_follow_up, validate_history
from qa.errors import BayyinaError


@pytest.mark.parametrize("q", ["When was it issued?", "وما وحدته الأساسية؟", "And why?", "متى صدر ذلك القرار؟",
                               "Who proposed this?"])
def test_follow_ups(q):
    assert is_follow_up(q)


@pytest.mark.parametrize("q", ["ومتى صدر؟", "وما الخامسة منها؟", "وكم دولة صوتت لصالحه؟", "فما سببه؟",
                               "What was its main feature?", "Which one comes last?", "What about France?",
                               "Why?", "لماذا؟", "And in 1991?"])
def test_follow_ups_in_both_languages(q):
    assert is_follow_up(q, "Which resolution authorised the use of force against Iraq?")


@pytest.mark.parametrize("q", ["Which Security Council resolution authorised force against Iraq in 1990?",
                               "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟",
                               # short, but complete on their own: never condensed with an unrelated turn
                               "What is human security?", "ما الأمن الإنساني؟", "What is resolution 678?",
                               "ما القرار 678؟", "من هو جورج بوش؟", "What are peacekeeping operations?",
                               # a pronoun that points inside the question itself
                               "List the forms that peacekeeping operations took.",
                               "ما التهديدات التي تجمعها الفئة الثانية؟",
                               "كم فئة من التهديدات يواجهها نظام الأمن الجماعي اليوم؟",
                               "ما السمة الأساسية للنظام الدولي الجديد الذي تحدث عنه بوش؟"])
def test_self_contained_questions(q):
    assert not is_follow_up(q, "Which resolution authorised the use of force against Iraq?")
    assert condense(q, [("Which resolution authorised the use of force against Iraq?", "678 [1]")]) == q


def test_condense_joins_the_previous_question_only_for_follow_ups():
    h = [("Which resolution authorised force against Iraq?", "678 [1]")]
    assert condense("When was it issued?", h) == "Which resolution authorised force against Iraq? When was it issued?"
    assert condense("ما هو نظام الأمن الجماعي في ميثاق الأمم المتحدة؟", h).startswith("ما هو")
    assert condense("When was it issued?", []) == "When was it issued?"


@pytest.mark.parametrize("bad, msg", [
    ("just a string", "list of \\[question, answer\\] pairs"),
    ([("q",)], "turn 0"),
    ([("q", "a"), ["q", 3]], "turn 1"),
    (42, "not int"),
])
def test_malformed_history_names_the_turn(bad, msg):
    with pytest.raises(BayyinaError, match=msg):
        validate_history(bad)


def test_history_accepts_lists_and_keeps_the_last_turns():
    assert validate_history([["q", "a"]]) == (("q", "a"),)
    assert len(validate_history([("q", "a")] * 500)) == 50

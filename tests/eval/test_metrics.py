import pytest

from eval.metrics import contains_gold, exact_match, f1, mrr, normalize_answer, percentile, recall_at_k


@pytest.mark.parametrize("a, b", [
    ("القرارُ ٦٧٨", "قرار 678"),           # diacritics, article, Arabic digits
    ("والأمم المتحدة", "أمم متحدة"),        # leading و and ال, hamza
    ("مكتبـــة", "مكتبه"),                  # tatweel, ta marbuta
    ("The Eiffel Tower!", "eiffel tower"),  # SQuAD English normalisation
    ("«الكويت»،", "الكويت"),
])
def test_normalisation_makes_equal(a, b):
    assert normalize_answer(a) == normalize_answer(b)
    assert exact_match(a, [b]) == 1.0


def test_squad_official_behaviour_english():
    # Hand-computed against SQuAD v1.1's evaluate script semantics.
    assert exact_match("the Denver Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    assert f1("Denver Broncos won", ["Denver Broncos"]) == pytest.approx(0.8)  # P=2/3, R=1
    assert f1("Carolina", ["Denver Broncos"]) == 0.0
    assert f1("a", ["the"]) == 1.0  # both normalise to nothing


def test_f1_arabic_hand_computed():
    # prediction tokens: [مجلس, امن, دولي]; gold: [مجلس, امن] → P=2/3, R=1, F1=0.8
    assert f1("مجلس الأمن الدولي", ["مجلسُ الأمن"]) == pytest.approx(0.8)
    assert f1("نوفمبر 1990", ["29 نوفمبر 1990", "1990"]) == pytest.approx(0.8)  # best of .8 and .667


def test_contains_gold_respects_token_boundaries():
    assert contains_gold("صدر القرار 678 في 1990", ["678"]) == 1.0
    assert contains_gold("صدر القرار 6789", ["678"]) == 0.0
    assert contains_gold("In 1990 the Council acted", ["the council"]) == 1.0


def test_retrieval_metrics_and_percentiles():
    ranks = [1, 3, None, 7]
    assert recall_at_k(ranks, 1) == 0.25 and recall_at_k(ranks, 5) == 0.5
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 1 / 7) / 4)
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([], 95) == 0.0

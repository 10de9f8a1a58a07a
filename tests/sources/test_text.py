import pytest

from sources.text import detect_language, normalize, strip_arabic_prefix, strip_invisible, strip_marks, tokenize, words


@pytest.mark.parametrize("raw, expected", [
    ("مُحَمَّدٌ", "محمد"),                 # harakat, shadda, tanwin
    ("العـــربية", "العربيه"),             # tatweel, ta marbuta
    ("أحمد إلى آخر", "احمد الي اخر"),      # hamza-alef forms, alef maqsura
    ("ٱلقرآن", "القران"),                  # alef wasla, madda
    ("القرار ٦٧٨", "القرار 678"),          # Arabic-Indic digits
    ("ﻻ", "لا"),                           # presentation-form ligature (NFKC)
    ("Security COUNCIL", "security council"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_strip_marks_keeps_the_letters_as_written():
    assert strip_marks("أَصْدَرَ مجلسُ الأمـــنِ القرارَ ٦٧٨") == "أصدر مجلس الأمن القرار ٦٧٨"
    assert strip_marks("Security Council") == "Security Council"
    assert normalize(strip_marks("مُؤْتَمَر")) == normalize("مُؤْتَمَر")


def test_strip_invisible_drops_format_marks_and_keeps_what_is_written():
    marked = "\u200fمتى صدر \u202bالقرار\u202c ٦٧٨\u061c؟ \u2067Resolution\u2069\u200b 678\ufeff"
    assert strip_invisible(marked) == "متى صدر القرار ٦٧٨؟ Resolution 678"   # digits and letters as written
    assert strip_invisible("مُؤْتَمَر «الأب»") == "مُؤْتَمَر «الأب»"
    # The joiners and direction marks among them normalize drops for matching, as before.
    assert normalize("\u200fمتى صدر\u200c القرار\ufeff") == normalize("متى صدر القرار") == "متي صدر القرار"


def test_normalize_is_idempotent_on_mixed_text():
    s = "أصدر مجلسُ الأمنِ القرارَ 678 (Resolution 678)"
    assert normalize(normalize(s)) == normalize(s)


@pytest.mark.parametrize("text, lang", [
    ("ما هو مجلس الأمن؟", "ar"),
    ("What is the Security Council?", "en"),
    ("مجلس الأمن Security Council الدولي", "mixed"),
    ("1990 — 678", "unknown"),
    ("أصدر مجلس الأمن الدولي القرار رقم 678 (Resolution) بالإجماع", "ar"),  # mostly Arabic words
    ("The council cited it in its القرار", "en"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize("word, stem", [
    ("الامن", "امن"), ("والامن", "امن"), ("بالقرار", "قرار"), ("كالعاده", "عاده"),
    ("فالمجلس", "مجلس"), ("للسلام", "سلام"), ("ال", "ال"), ("الي", "الي"),  # too short to strip
])
def test_strip_arabic_prefix(word, stem):
    assert strip_arabic_prefix(word) == stem


def test_tokenize_arabic_matches_across_clitics_and_spelling():
    a = tokenize("وبالقرارِ الأمميّ")
    b = tokenize("القرار الاممي")
    assert a == b == ["قرار", "اممي"]


def test_tokenize_english_stemming_and_stopwords():
    assert tokenize("The Councils adopted resolutions", stem=True, stopwords=True) == ["council", "adopt", "resolut"]
    assert tokenize("The Councils", stem=False) == ["the", "councils"]


def test_tokenize_drops_arabic_stopwords_only_when_asked():
    assert "في" in tokenize("في مجلس الأمن")
    assert tokenize("في مجلس الأمن", stopwords=True) == ["مجلس", "امن"]


def test_words_keep_digits_and_drop_punctuation():
    assert words("القرار ٦٧٨، (1990)!") == ["القرار", "678", "1990"]


def test_soft_overlap_matches_close_arabic_derivations_only():
    from sources.text import soft_overlap

    q = set(tokenize("متى صدر القرار وانتهت الحرب"))
    t = set(tokenize("منذ صدور هذا القرار وحتى انتهاء الحرب"))
    assert soft_overlap(q, t) == 4
    assert soft_overlap(set(tokenize("الكويت")), set(tokenize("الكونغو"))) == 0
    assert soft_overlap({"war"}, {"wars"}) == 0        # English goes through the stemmer instead
    assert soft_overlap(set(tokenize("الفئة")), set(tokenize("ست فئات"))) == 1     # a feminine plural


def test_token_spans_are_offsets_into_the_original_text():
    from sources.text import token_spans

    text = "اعتمدَ «مجلسُ الأمن» القرار 678، بأغلبية 1990 صوتٍ؛ forty-one (votes)."
    spans = token_spans(text)
    got = [text[a:b] for a, b in spans]
    assert got == ["اعتمدَ", "مجلسُ", "الأمن", "القرار", "678", "بأغلبية", "1990", "صوتٍ", "forty-one", "votes"]


def test_match_key_strips_article_clitics_conjunctions_and_plural():
    from sources.text import match_key

    assert match_key("والقرارُ") == match_key("القرار") == match_key("قرار") == "قرار"
    assert match_key("بمجلس") == match_key("مجلس")
    assert match_key("Resolutions") == "resolution" and match_key("veto") == "veto"
    assert match_key("١٢") == "12"

"""Short answers rendered for the asker: dates, months and digits, both ways."""

import pytest

from qa.render import is_date_or_number, render_short, same_answer, to_arabic_digits, to_ascii_digits


@pytest.mark.parametrize("source, lang, question, expected", [
    ("29 نوفمبر 1990", "en", "When was it adopted?", "29 November 1990"),
    ("في 29 نوفمبر 1990", "en", "", "29 November 1990"),
    ("عام 1991", "en", "", "1991"),
    ("تشرين الثاني 1990", "en", "", "November 1990"),
    ("٢٧ فبراير ١٩٩١", "en", "", "27 February 1991"),
    ("١٢", "en", "How many resolutions?", "12"),
    ("27 February 1991", "ar", "متى انتهت؟", "27 فبراير 1991"),
    ("Aug. 2005", "ar", "", "أغسطس 2005"),
    ("12", "ar", "كم قرارا اتخذ المجلس؟", "12"),
    ("12", "ar", "كم قرارا اتخذ المجلس بين ١٩٩٠ و١٩٩١؟", "١٢"),     # the asker writes Arabic-Indic digits
    ("ست", "en", "Into how many categories?", "6"),                   # a count word of the other language
    ("عشر", "en", "", "10"), ("اثنا عشر", "en", "", "12"),
    ("six", "ar", "كم فئة؟", "6"), ("Six", "ar", "كم فئة؟ ٣", "٦"),
    ("ست", "ar", "كم فئة؟", "ست"), ("six", "en", "", "six"),          # the asker's own language: as written
])
def test_dates_and_numbers_follow_the_asker(source, lang, question, expected):
    assert render_short(source, lang, question=question) == expected


@pytest.mark.parametrize("text", ["الاتحاد السوفيتي وفرنسا", "the Soviet Union", "عمليات حفظ السلام", ""])
def test_other_answers_are_left_as_written(text):
    assert render_short(text, "en") == text and render_short(text, "ar") == text


def test_digits_both_ways_and_the_same_answer():
    assert to_ascii_digits("١٢ و٦٧٨") == "12 و678" and to_arabic_digits("12 and 678") == "١٢ and ٦٧٨"
    assert to_ascii_digits(to_arabic_digits("1990")) == "1990"
    assert same_answer("29 نوفمبر 1990", "29 November 1990") and not same_answer("29 نوفمبر 1990", "29 May 1990")
    assert is_date_or_number("678") and is_date_or_number("27 فبراير 1991") and not is_date_or_number("القرار")

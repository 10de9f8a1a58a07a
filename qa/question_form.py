"""What a question's form settles, from Arabic and English cue words (through the shared normaliser,
``sources.text``): the kind of answer it asks for (a number, a date, a person, other) and the
position in a numbered list it names ("the fifth", "the last")."""

from __future__ import annotations

from typing import Literal

from sources.text import normalize

QuestionType = Literal["number", "date", "person", "other"]

_DATE_CUES_EN = ("when", "what year", "which year", "what date", "what century", "which century", "what decade",
                 "what month", "which month", "what day")
_NUMBER_CUES_EN = ("how many", "how much", "what percentage", "what percent", "what number", "how long",
                   "how old", "how far", "how large", "how big", "what is the population", "what was the population")
_PERSON_CUES_EN = ("who", "whom", "whose")
# Normalised Arabic cues (ة→ه, ى→ي, أ→ا).
_DATE_CUES_AR = ("متي", "اي عام", "اي سنه", "اي قرن", "اي شهر", "اي يوم", "ما تاريخ", "اي تاريخ", "اي عقد")
_NUMBER_CUES_AR = ("كم", "ما عدد", "ما نسبه", "ما مقدار", "ما حجم", "ما مساحه", "ما طول", "ما عمر", "ما مدي",
                   "ما رقم", "اي رقم", "اي قرار", "اي ماده", "ما القرار الذي", "اي ماده من")
# "Which resolution/article…" is answered by a number in this kind of text.
_NUMBERED_EN = ("which resolution", "what resolution", "which article", "what article", "which security council "
                "resolution", "resolution number", "article number")
# A number question with these cues asks which numbered thing, not how many: "رقم 678" answers it.
_LABEL_CUES = _NUMBERED_EN + ("ما رقم", "اي رقم", "اي قرار", "اي ماده", "ما القرار الذي")
_PERSON_CUES_AR = ("من هو", "من هي", "من هم", "من كان", "من كانت", "من الذي", "من التي")


def question_type(question: str) -> QuestionType:
    q = " " + normalize(question).strip() + " "
    words = q.split()
    first = words[0] if words else ""
    if any(f" {c} " in q or q.startswith(f" {c}") for c in _DATE_CUES_EN + _DATE_CUES_AR) or first in ("ومتي", "فمتي"):
        return "date"
    if any(f" {c} " in q for c in _NUMBER_CUES_EN + _NUMBER_CUES_AR + _NUMBERED_EN) or first in ("وكم", "فكم"):
        return "number"
    if first in _PERSON_CUES_EN or any(q.startswith(f" {c} ") for c in _PERSON_CUES_AR) or first in ("من", "ومن"):
        return "person"
    return "other"


def asks_count(question: str) -> bool:
    """Whether a number question asks how many or how much ("كم دولة…", "How many resolutions…")
    rather than which numbered thing ("Which resolution…", "ما رقم القرار…"): its answer is a
    quantity, never a label such as the 678 of "القرار رقم 678"."""
    if question_type(question) != "number":
        return False
    q = " " + normalize(question).strip() + " "
    return not any(f" {c} " in q for c in _LABEL_CUES)


_ORDINALS = {
    1: ("first", "1st", "الاول", "الاولي"), 2: ("second", "2nd", "الثاني", "الثانيه"),
    3: ("third", "3rd", "الثالث", "الثالثه"), 4: ("fourth", "4th", "الرابع", "الرابعه"),
    5: ("fifth", "5th", "الخامس", "الخامسه"), 6: ("sixth", "6th", "السادس", "السادسه"),
    7: ("seventh", "7th", "السابع", "السابعه"), 8: ("eighth", "8th", "الثامن", "الثامنه"),
    9: ("ninth", "9th", "التاسع", "التاسعه"), 10: ("tenth", "10th", "العاشر", "العاشره"),
}
LAST = -1   # what ``ordinal`` returns for "the last one" ("last", "final", "الأخير", "الأخيرة")
_ORDINALS[LAST] = ("last", "final", "الاخير", "الاخيره")
_ORDINAL_OF = {normalize(w): n for n, ws in _ORDINALS.items() for w in ws}


def ordinal(question: str) -> int | None:
    """The position a question asks about ("the fifth category", "الفئة الخامسة"; ``LAST`` for
    "the last one", "الأخيرة"), if any."""
    for w in normalize(question).replace("؟", " ").replace("?", " ").split():
        w = w[1:] if w[:1] in ("و", "ف") and w[1:] in _ORDINAL_OF else w
        if w in _ORDINAL_OF:
            return _ORDINAL_OF[w]
    return None


# A yes/no question opens with an auxiliary (English) or هل (Arabic); "…X or Y?" / "…أم…" offers a
# choice instead, which a span can answer.
_YES_NO_EN = ("is", "are", "was", "were", "am", "do", "does", "did", "can", "could", "has", "have", "had", "will",
              "would", "shall", "should", "may", "might", "must", "isn't", "aren't", "wasn't", "weren't", "don't",
              "doesn't", "didn't", "can't", "couldn't", "hasn't", "haven't", "hadn't", "won't", "wouldn't",
              "shouldn't")
_YES_NO_AR = ("هل", "وهل", "فهل", "اليس", "اليست", "واليس", "اليسوا")
_CHOICE = frozenset(("or", "ام", "او", "either", "whether"))


def _words(question: str) -> list[str]:
    return normalize(question).replace("؟", " ").replace("?", " ").replace("’", "'").split()


def offers_choice(question: str) -> bool:
    """Whether a question offers a choice between things it names ("Was it France or Spain?",
    "هل … أم …؟"): its answer is one of them, so it may be made of the question's own words."""
    return any(w in _CHOICE for w in _words(question))


def asks_yes_no(question: str) -> bool:
    """Whether a question asks yes or no ("Does the Charter mention peacekeeping?", "هل ذكر الميثاق
    عمليات حفظ السلام؟") rather than for a thing a span can name — a question that offers a choice
    is answered by the one chosen (``offers_choice``), so it does not count."""
    words = _words(question)
    return bool(words) and (words[0] in _YES_NO_EN or words[0] in _YES_NO_AR) and not offers_choice(question)

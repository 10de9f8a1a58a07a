"""Conversation: validating history and condensing follow-ups into a retrieval query.

A follow-up ("When was it issued?", "وما وحدته الأساسية؟") is recognised by what makes it lean on
the previous turn — a pronoun (it, its, ذلك, an attached ـه/ـها), an opener (And…, What about…, a
question word glued to و/ف), or no content word of its own — never by its length alone, so a short
complete question ("What is human security?") asked after an unrelated turn stays as it is.
Without an LLM the follow-up is joined with the previous question for retrieval only — the answer
is still to the user's own question, in the user's language; an LLM reader rewrites it instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.errors import BayyinaError
from qa.types import Turn
from sources.text import normalize, tokenize

# Personal pronouns point back at something; demonstratives and attached Arabic pronouns often
# point inside the question itself ("the forms that…", "التهديدات التي تجمعها…"), so they count
# only in a short question without a relative clause of its own.
_PRONOUNS_EN = set("it its it's itself they them their theirs themselves he him his she her hers".split())
_WEAK_EN = set("this that these those there then such".split())
# هو/هي are left out: in "ما هو …؟" they are the copula of a self-contained question.
_WEAK_AR = set("ذلك تلك هذا هذه هؤلاء هناك عندئذ حينها حينئذ ذاك".split())
_RELATIVE = set("الذي التي الذين اللذان اللتان اللواتي اللاتي which who whom whose that".split())
_OPENERS_EN = ("and ", "but ", "so ", "also ", "what about", "how about", "what else", "which one", "the other",
               "the latter", "the former", "how so", "why so")
_QUESTION_WORDS_AR = ("متى", "ما", "ماذا", "كم", "من", "أين", "كيف", "لماذا", "هل", "أي", "في", "إلى", "على", "عن",
                      "لم", "علام", "بم", "فيم", "مم", "عم", "بماذا", "لمن", "أين")
# A question opened by و/ف glued to a question word continues the conversation ("ومتى صدر؟").
_OPENERS_AR = frozenset(normalize(c + w) for c in "وف" for w in _QUESTION_WORDS_AR)
# Arabic words that end in ه/ها/هم without being a pronoun suffix.
_NOT_SUFFIXED = set("الله اتجاه مياه وجه شبه انتباه اشتباه نزيه فقيه تنبيه توجيه تشبيه".split())
# Question words the stop-word lists keep: alone they ask nothing ("لماذا؟", "Why not?").
_QUESTION_ONLY = frozenset(normalize(w) for w in "لماذا ماذا كيف أين أي متى كم why how where which not else".split())
_SHORT = 3   # content words at most, for a weak cue to count
MAX_HISTORY_TURNS = 50
MAX_TURN_CHARS = 20_000


def _has_pronoun_suffix(raw_word: str) -> bool:
    """An Arabic word ending in an attached pronoun (ـه ـها ـهم ـهما ـهن), e.g. صدوره، منها."""
    w = raw_word.strip("؟?!.،,؛;:()«»\"'")
    if len(w) < 3 or not ("\u0600" <= w[0] <= "\u06ff") or normalize(w) in _NOT_SUFFIXED:
        return False
    return w.endswith(("ه", "ها", "هم", "هما", "هن"))


def follow_up_cues(question: str) -> tuple[str, ...]:
    """Why ``question`` reads as a continuation: ``pronoun`` (it, its, they…; or, in a short question
    without a relative clause, this/that, ذلك, an attached ـه/ـها…), ``opener`` (And…, What about…,
    ومتى…, فما…) or ``incomplete`` (no content word of its own)."""
    cues = []
    norm = normalize(question).strip()
    words = norm.replace("؟", " ").replace("?", " ").replace("،", " ").replace(",", " ").split()
    content = [w for w in tokenize(question, stopwords=True) if w not in _QUESTION_ONLY]
    weak = (set(words) & (_WEAK_EN | _WEAK_AR)) or any(_has_pronoun_suffix(w) for w in question.split())
    if set(words) & _PRONOUNS_EN or (weak and len(content) <= _SHORT and not set(words[1:]) & _RELATIVE):
        cues.append("pronoun")
    if norm.startswith(_OPENERS_EN) or (words and words[0] in _OPENERS_AR):
        cues.append("opener")
    if not content:
        cues.append("incomplete")
    return tuple(cues)


def is_follow_up(question: str, previous: str | None = None) -> bool:
    """Whether ``question`` needs the previous turn to be understood. A question that is complete
    on its own ("What is human security?") is never a follow-up, however short, and neither is
    anything asked after an empty previous question."""
    if previous is not None and not previous.strip():
        return False
    return bool(follow_up_cues(question))


def validate_history(history: object) -> tuple[Turn, ...]:
    """History as ``((question, answer), …)``; raise naming the first bad turn."""
    if history is None:
        return ()
    if isinstance(history, (str, bytes)) or not hasattr(history, "__iter__"):
        raise BayyinaError(f"history must be a list of [question, answer] pairs, not {type(history).__name__}.")
    turns = []
    for i, turn in enumerate(history):  # type: ignore[union-attr]
        if (not isinstance(turn, (list, tuple)) or len(turn) != 2
                or not all(isinstance(x, str) for x in turn)):
            shown = repr(turn)
            shown = shown if len(shown) <= 80 else shown[:77] + "…"
            raise BayyinaError(f"history turn {i} is {shown}: each turn must be a [question, answer] pair of strings.")
        if len(turn[0]) > MAX_TURN_CHARS or len(turn[1]) > MAX_TURN_CHARS:
            raise BayyinaError(f"history turn {i} is {max(len(turn[0]), len(turn[1])):,} characters long; a turn may "
                               f"hold at most {MAX_TURN_CHARS:,} (send the answers as Bayyina gave them).")
        turns.append((turn[0], turn[1]))
    return tuple(turns[-MAX_HISTORY_TURNS:])


def condense(question: str, history: Sequence[Turn]) -> str:
    """The query to retrieve with: the question, joined with the previous one for a follow-up."""
    if not history or not is_follow_up(question, history[-1][0]):
        return question
    return f"{history[-1][0]} {question}"

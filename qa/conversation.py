"""Conversation: validating history and condensing follow-ups into a retrieval query.

Without an LLM, a follow-up ("When was it issued?", "وما وحدته الأساسية؟") is recognised by its
few content words or its pronouns, and joined with the previous question for retrieval only —
the answer is still to the user's own question, in the user's language.
"""

from __future__ import annotations

from typing import Sequence

from qa.errors import BayyinaError
from qa.types import Turn
from sources.text import normalize, tokenize

_ANAPHORA_EN = set("it its it's they them their theirs he him his she her hers this that these those there "
                   "then such one".split())
# هو/هي are left out: in "ما هو …؟" they are the copula of a self-contained question.
_ANAPHORA_AR = set("ذلك تلك هذا هذه هؤلاء هناك عندئذ حينها".split())
_FOLLOW_UP_MAX_CONTENT = 3
MAX_HISTORY_TURNS = 50


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
            raise BayyinaError(f"history turn {i} is {turn!r}: each turn must be a [question, answer] pair of strings.")
        turns.append((turn[0], turn[1]))
    return tuple(turns[-MAX_HISTORY_TURNS:])


def is_follow_up(question: str) -> bool:
    content = tokenize(question, stopwords=True)
    words = set(normalize(question).split())
    return len(content) <= _FOLLOW_UP_MAX_CONTENT or bool(words & (_ANAPHORA_EN | _ANAPHORA_AR))


def condense(question: str, history: Sequence[Turn]) -> str:
    """The query to retrieve with: the question, joined with the previous one for a follow-up."""
    if not history or not is_follow_up(question):
        return question
    return f"{history[-1][0]} {question}"

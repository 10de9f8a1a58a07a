"""The words of questions and answer sentences as matching keys, with their offsets.

Built on ``sources.text``: tokens are its ``token_spans`` of the original text (so offsets point
into quotes) and each token's key is its ``match_key`` (the shared normaliser, Arabic clitics and
conjunctions stripped, an English plural dropped). The span finder, the reader and the abstention
decision all match words through these keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sources.text import match_key, normalize, token_spans

NUM = r"\d[\d.,٫٬]*\d|\d"
WORD_NUMBERS = frozenset(("one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                          "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty hundred thousand "
                          "million billion واحد اثنان اثنين ثلاث ثلاثه اربع اربعه خمس خمسه ست سته سبع سبعه "
                          "ثماني ثمانيه تسع تسعه عشر عشره عشرين ثلاثين اربعين خمسين مائه مئه الف مليون "
                          "مليار").split())
# Words a span never starts or ends with (they carry no answer), normalised.
STOP_EDGE = frozenset(("the a an of in on at to for by and or with from as is was were are be been its their his "
                       "her في من علي الي عن مع و او ثم ب ل ك قد كان كانت هو هي هذا هذه ذلك التي الذي ان").split())


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    raw: str
    key: str     # ``match_key(raw)``


def key_of(word: str) -> str:
    return match_key(word)


def tokens(text: str) -> list[Token]:
    return [Token(a, b, text[a:b], match_key(text[a:b])) for a, b in token_spans(text)]


def is_number(tok: Token) -> bool:
    key = tok.key.lower()
    return (bool(re.fullmatch(NUM, normalize(tok.raw))) or key in WORD_NUMBERS
            or ("-" in key and all(part in WORD_NUMBERS for part in key.split("-"))))   # forty-one


def key_terms(question: str) -> set[str]:
    """The question's words that an answer passage must contain to be about the same thing:
    numbers, and capitalised words after the first (names) — normalised."""
    out = set()
    toks = tokens(question)
    for i, t in enumerate(toks):
        if is_number(t) and re.search(r"\d", t.raw):
            out.add(normalize(t.raw))
        elif i > 0 and t.raw[:1].isupper() and t.raw.isalpha() and t.key not in STOP_EDGE and len(t.raw) > 1:
            out.add(t.key)
    return out


def term_keys(text: str) -> set[str]:
    """The keys ``key_terms`` are matched against: every word of ``text``, normalised."""
    return {k for t in tokens(text) for k in (t.key, normalize(t.raw))}

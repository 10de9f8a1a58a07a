"""Abstention: when the sources do not support an answer, say so in the asker's language.

The extractive reader's confidence is its best sentence score (dense cosine + lexical overlap +
rank prior). The threshold below was calibrated on XQuAD (``bayyina eval abstention``; README):
questions asked against the corpus without their gold paragraph should abstain, with it should
answer.
"""

from __future__ import annotations

EXTRACTIVE_THRESHOLD = 0.90

MESSAGES = {
    "ar": "لا تتضمن المصادر إجابة عن هذا السؤال.",
    "en": "The sources don't answer this question.",
}
NEAREST = {"ar": "أقرب المقاطع:", "en": "Nearest passages:"}


def message(lang: str) -> str:
    return MESSAGES.get(lang, MESSAGES["en"])

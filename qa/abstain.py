"""What an abstention says, in the asker's language ("the sources don't answer this question"),
and the notes shown beside answers. Whether to abstain is decided in ``qa.abstention``.
"""

from __future__ import annotations

MESSAGES = {
    "ar": "لا تتضمن المصادر إجابة عن هذا السؤال.",
    "en": "The sources don't answer this question.",
}
NEAREST = {"ar": "أقرب المقاطع:", "en": "Nearest passages:"}
UNVERIFIED = {"en": "Unverified: no shown passage contains the words of this answer.",
              "ar": "غير مُتحقَّق منها: لا يتضمن أي مقطع معروض كلمات هذه الإجابة."}


def message(lang: str) -> str:
    return MESSAGES.get(lang, MESSAGES["en"])


def nearest_label(lang: str) -> str:
    return NEAREST.get(lang, NEAREST["en"])


def unverified_note(lang: str) -> str:
    """Shown under an answer whose ``check`` is ``unsupported``."""
    return UNVERIFIED.get(lang, UNVERIFIED["en"])

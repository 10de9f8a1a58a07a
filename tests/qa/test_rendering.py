"""The extracted answer first, then the model's rendering in the asker's language (a fake model)."""

from __future__ import annotations

import numpy as np
import pytest

import qa
from index.hybrid import build
from qa.readers.base import Evidence, Reading, ReadingChunk
from qa.readers.rendering import RenderingReader, needs_rendering
from sources.types import Document
from tests.qa.fakes import FakeChat

AR = "وأتاحت الأزمة فرصة لإحياء ترتيبات الأمن الجماعي، خاصة مع حماس الاتحاد السوفيتي وفرنسا لهذه الفكرة."


class Extracted:
    """A reader that found «الاتحاد السوفيتي وفرنسا» in passage 1."""

    name = "extractive"

    def __init__(self, short: str = "الاتحاد السوفيتي وفرنسا", abstained: bool = False) -> None:
        self.short, self.abstained = short, abstained

    def stream(self, question, hits, *, lang, search_query):
        p = hits[0].passage
        a = p.text.index(self.short) if self.short in p.text else 0
        text = f"{self.short} — «{p.text}» [1]"
        yield ReadingChunk(delta=text, reading=Reading(
            text=text, short=self.short, abstained=self.abstained,
            evidence=(Evidence(1, p.start, p.end, p.start + a, p.start + a + len(self.short)),)))


class Meanings:
    """An embedder where texts of one meaning share a vector and all others are orthogonal."""

    def __init__(self, *groups: tuple[str, ...]) -> None:
        self.group = {t: i for i, g in enumerate(groups) for t in g}

    def embed_queries(self, texts):
        out = np.zeros((len(texts), 64), np.float32)
        for row, t in enumerate(texts):
            out[row, self.group.get(t, 32 + row)] = 1.0
        return out


SAME = Meanings(("الاتحاد السوفيتي وفرنسا", "the Soviet Union and France"))


def _bot(reader, fake_embedder):
    index = build([Document("cs.ar.txt", AR)], fake_embedder)
    return qa.Assistant(index, reader, context=0)


def test_an_arabic_answer_for_an_english_asker_is_rendered_after_it(fake_embedder):
    chat = FakeChat("the Soviet Union and France")
    bot = _bot(RenderingReader(Extracted(), chat, embedder=SAME), fake_embedder)
    chunks = list(bot.stream("Which two countries showed enthusiasm?"))
    deltas = "".join(c.delta for c in chunks)
    answer = chunks[-1].answer
    assert deltas.index("الاتحاد السوفيتي") < deltas.index("Soviet Union")         # extracted first, then rendered
    assert answer.short == "the Soviet Union and France" and answer.text.endswith("→ the Soviet Union and France [1]")
    assert answer.check == "unchecked" and answer.citations[0].answer_text == "الاتحاد السوفيتي وفرنسا"
    prompt = chat.calls[0]["messages"][1].content
    assert "الاتحاد السوفيتي وفرنسا" in prompt and "English" in prompt and len(prompt) < 600   # span and sentence only


def test_no_model_call_when_the_answer_is_already_in_the_askers_language(fake_embedder):
    chat = FakeChat("x")
    bot = _bot(RenderingReader(Extracted(), chat, embedder=SAME), fake_embedder)
    a = bot.ask("أي الدول أظهرت حماسا؟")
    assert a.short == "الاتحاد السوفيتي وفرنسا" and not chat.calls
    assert not needs_rendering("1990", "en") and needs_rendering("فرنسا", "en") and needs_rendering("France", "ar")


def test_an_unusable_rendering_leaves_the_extracted_answer(fake_embedder):
    chat = FakeChat("الاتحاد السوفيتي")                     # not English: not a rendering
    a = _bot(RenderingReader(Extracted(), chat, embedder=SAME), fake_embedder).ask("Which two countries showed enthusiasm?")
    assert a.short == "الاتحاد السوفيتي وفرنسا" and "→" not in a.text


@pytest.mark.parametrize("said, shown", [
    ("The answer in English is: the Soviet Union and France.", True),   # its lead-in dropped
    ('The answer is "the Soviet Union and France"', True),
    ("France and Spain", False),                                        # another meaning: refused
    ("the Soviet Union and France", True),
])
def test_a_rendering_is_shown_only_when_it_means_what_the_span_says(fake_embedder, said, shown):
    a = _bot(RenderingReader(Extracted(), FakeChat(said), embedder=SAME), fake_embedder).ask(
        "Which two countries showed enthusiasm?")
    if shown:
        assert a.short == "the Soviet Union and France" and a.text.endswith("→ the Soviet Union and France [1]")
    else:
        assert a.short == "الاتحاد السوفيتي وفرنسا" and "→" not in a.text and "Spain" not in a.text


def test_a_word_mixing_scripts_is_refused_and_unchecked_renderings_are_shown(fake_embedder):
    from qa.readers.rendering import faithful

    same = Meanings(("Broncos", "الBroncos", "البرونكوس"))
    assert not faithful("Broncos", "الBroncos", "ar", same) and faithful("Broncos", "البرونكوس", "ar", same)
    a = _bot(RenderingReader(Extracted(), FakeChat("France and Spain"), check=False), fake_embedder).ask(
        "Which two countries showed enthusiasm?")
    assert a.short == "France and Spain"
    with pytest.raises(ValueError, match="embedder"):
        RenderingReader(Extracted(), FakeChat("x"))

"""The training recipe's SQuAD draws (``bench/train_reader.py``): whole articles, the held-out
articles never trained on, and a later draw (``--squad-pass``) disjoint from the first."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def train():
    spec = importlib.util.spec_from_file_location("_bench_train_reader_draws", ROOT / "bench" / "train_reader.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _examples(train, n_articles: int = 40, per: int = 5):
    ex = []
    for a in range(n_articles):
        for q in range(per + a % 3):
            ex.append(train.Example(f"{a}-{q}", f"question {q}?", "context", 0, "c", f"article{a}", "en"))
    return ex


def test_draws_take_whole_articles_and_never_the_held_out(train):
    data = _examples(train)
    first, rest = train.split_articles(data, 30, random.Random(13))
    held = random.Random(13).sample(rest, 10)
    second = train.later_draw(rest, held, 30, 1)
    third = train.later_draw(rest, held, 30, 2)
    arts = lambda xs: {e.article for e in xs}  # noqa: E731
    assert arts(first).isdisjoint(arts(second)) and arts(second).isdisjoint(arts(third))
    assert arts(second).isdisjoint(arts(held)) and arts(third).isdisjoint(arts(held))
    for draw in (second, third):
        assert len(draw) >= 30
        for a in arts(draw):      # whole articles: every question of a drawn article is in the draw
            assert sum(e.article == a for e in data) == sum(e.article == a for e in draw)
    # The same arguments give the same draw.
    assert [e.id for e in train.later_draw(rest, held, 30, 1)] == [e.id for e in second]


def test_a_draw_past_the_end_is_refused_with_the_number_there_is(train):
    data = _examples(train, n_articles=12)
    _, rest = train.split_articles(data, 30, random.Random(1))
    with pytest.raises(SystemExit, match="--squad-pass 9"):
        train.later_draw(rest, [], 30, 9)

"""Shared fixtures: a deterministic fake embedder, tiny bilingual documents, the real embedder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from sources.text import tokenize
from sources.types import Document

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BENCH = SHARED / "bench"


class FakeEmbedder:
    """Hashes normalised tokens into a fixed-size bag-of-words vector (deterministic, no model).
    A few bilingual synonyms map to one bucket so cross-lingual behaviour can be tested."""

    name = "fake-hash-64"
    dim = 64
    query_prompt = "query: "
    passage_prompt = "passage: "
    _SYNONYMS = {"council": "مجلس", "security": "امن", "resolution": "قرار", "war": "حرب", "cold": "بارد"}

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        for tok in tokenize(text, stem=False):
            tok = self._SYNONYMS.get(tok, tok)
            h = int(hashlib.md5(tok.encode()).hexdigest(), 16)
            v[h % self.dim] += 1.0 if (h >> 64) % 2 else -1.0
        n = np.linalg.norm(v)
        if n == 0:
            v[0] = 1.0
            n = 1.0
        return v / n

    def embed_queries(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts, *, progress=False):
        return self.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


AR_DOC = (
    "مجلس الأمن الدولي هو أحد أجهزة الأمم المتحدة الرئيسية. يتحمل المجلس المسؤولية الرئيسية عن حفظ السلم "
    "والأمن الدوليين.\n"
    "أصدر مجلس الأمن القرار 678 في عام 1990، وأجاز فيه استخدام القوة لإخراج القوات العراقية من الكويت.\n"
    "هل نجح نظام الأمن الجماعي؟ يرى بعض الباحثين أن الحرب الباردة شلّت عمل المجلس لعقود طويلة."
)
EN_DOC = (
    "The Security Council is one of the principal organs of the United Nations. It has primary responsibility "
    "for the maintenance of international peace and security.\n"
    "In 1990 the Council adopted resolution 678, which authorised the use of force to expel Iraqi forces "
    "from Kuwait.\n"
    "Did collective security work? Some scholars argue that the Cold War paralysed the Council for decades."
)


@pytest.fixture
def bilingual_docs() -> list[Document]:
    return [Document("un.ar.txt", AR_DOC), Document("un.en.txt", EN_DOC)]


@pytest.fixture(scope="session")
def real_embedder(tmp_path_factory):
    """The bundled multilingual-e5-small, loaded through a cache folder of this test session's own:
    the model ``make model`` prepared is linked in (read, never written); without it, it is
    converted there, not into the user's cache."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.convert_e5 import is_converted
    from index.embed import DEFAULT_EMBEDDER, cache_dir
    from qa import load_embedder

    own = tmp_path_factory.mktemp("bayyina-cache")
    prepared = cache_dir() / "models" / DEFAULT_EMBEDDER
    if is_converted(prepared):
        (own / "models").mkdir()
        (own / "models" / DEFAULT_EMBEDDER).symlink_to(prepared.resolve(), target_is_directory=True)
    before = os.environ.get("BAYYINA_CACHE")
    os.environ["BAYYINA_CACHE"] = str(own)
    try:
        return load_embedder(quiet=True)
    finally:
        if before is None:
            os.environ.pop("BAYYINA_CACHE", None)
        else:
            os.environ["BAYYINA_CACHE"] = before


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "real_embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)

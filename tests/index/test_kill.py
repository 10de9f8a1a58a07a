"""kill -9 at random moments while an index is saved, and while documents are added (fault suite):
every time, what is left loads — the state before or after, never half of one — and the next
writer takes over the dead one's lock."""

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.hybrid import Index

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

_WRITER = r"""
import sys, itertools
sys.path.insert(0, {root!r})
from tests.conftest import FakeEmbedder, AR_DOC, EN_DOC
from index.hybrid import Index, IndexConfig, build
from sources.chunking import ChunkConfig
from sources.types import Document
folder, mode = sys.argv[1], sys.argv[2]
emb = FakeEmbedder()
print("ready", flush=True)
for i in itertools.count():
    if mode == "save":
        build([Document("un.ar.txt", AR_DOC), Document("un.en.txt", EN_DOC)], emb,
              IndexConfig(chunk=ChunkConfig(30, 8))).save(folder)
    else:
        with Index.writer(folder):
            index = Index.load(folder, emb)
            index.add_documents([Document(f"doc-{{i}}-{{len(index.sources)}}.txt", AR_DOC + " " + str(i))])
            index.save(folder)
"""


def _kill_cycles(folder: Path, mode: str, cycles: int, fake_embedder) -> tuple[int, list[int]]:
    script = _WRITER.format(root=str(ROOT))
    rng = random.Random(7)
    survived, sizes = 0, []
    for _ in range(cycles):
        proc = subprocess.Popen([sys.executable, "-c", script, str(folder), mode], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.02, 0.6))
        proc.kill()
        proc.wait()
        index = Index.load(folder, fake_embedder)        # must load, whatever the moment of the kill
        sizes.append(len(index.sources))
        survived += 1
    return survived, sizes


def test_kill_9_during_save(tmp_path, fake_embedder, bilingual_docs):
    from index.hybrid import IndexConfig, build
    from sources.chunking import ChunkConfig

    folder = tmp_path / "idx"
    build(bilingual_docs, fake_embedder, IndexConfig(chunk=ChunkConfig(30, 8))).save(folder)
    survived, sizes = _kill_cycles(folder, "save", 20, fake_embedder)
    assert survived == 20 and set(sizes) == {2}
    assert len(list(tmp_path.glob("idx.tmp-*"))) <= 1 and len(list(tmp_path.glob("idx.old-*"))) <= 1


def test_kill_9_during_add_loses_nothing_committed(tmp_path, fake_embedder, bilingual_docs):
    from index.hybrid import IndexConfig, build
    from sources.chunking import ChunkConfig

    folder = tmp_path / "idx"
    build(bilingual_docs, fake_embedder, IndexConfig(chunk=ChunkConfig(30, 8))).save(folder)
    survived, sizes = _kill_cycles(folder, "add", 20, fake_embedder)
    assert survived == 20
    assert sizes == sorted(sizes) and sizes[-1] > 2       # never went back; some adds were committed
    with Index.writer(folder, ):                           # the dead writer's lock is taken over
        pass

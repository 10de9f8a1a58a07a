"""A tampered index is refused with a message — never a crash, never a silent load (fault suite)."""

import json
import math
import os
import shutil

import pytest

from index.hybrid import Index, IndexConfig, build
from sources.chunking import ChunkConfig
from sources.errors import BayyinaError

SECRET = "root:$6$SECRET-HASH-THAT-MUST-NOT-LEAK:19000:0:99999:7:::"


def _saved(tmp_path_factory, dense_kind: str):
    from tests.conftest import AR_DOC, EN_DOC, FakeEmbedder
    from sources.types import Document

    folder = tmp_path_factory.mktemp("tamper") / "idx"
    build([Document("un.ar.txt", AR_DOC), Document("un.en.txt", EN_DOC)], FakeEmbedder(),
          IndexConfig(chunk=ChunkConfig(30, 8), dense_kind=dense_kind)).save(folder)
    return folder


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return _saved(tmp_path_factory, "auto")


@pytest.fixture(scope="module")
def saved_compressed(tmp_path_factory):
    """An index whose shard is compressed: its int8 vectors and scales are files to tamper with too."""
    return _saved(tmp_path_factory, "ivfpq")


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, path + (k,))
    else:
        yield path


def _manifest_variants(manifest):
    """Every manifest field replaced by values of other types and out of bounds, or removed."""
    for path in _leaves(manifest):
        for bad in ("abc", [], None, -5, 1e308, True, {"x": 1}):
            yield f"{'.'.join(path)}={bad!r}", path, bad
        yield f"{'.'.join(path)} removed", path, KeyError
    for key in manifest:
        yield f"{key}=[]", (key,), []


def _set(d, path, value):
    for k in path[:-1]:
        d = d[k]
    if value is KeyError:
        d.pop(path[-1])
    else:
        d[path[-1]] = value


def _file_variants(folder):
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    for rel in files:
        if rel in ("COMPLETE",):
            continue
        yield f"{rel} truncated", rel, "truncate"
        yield f"{rel} garbage", rel, "garbage"
        yield f"{rel} symlink to a secret", rel, "symlink"
    yield "extra file", "shards/s00000/bm25/extra.npy", "extra"
    yield "passages.jsonl start > end", "shards/s00000/passages.jsonl", "offsets"


def _load_must_refuse(folder, fake_embedder):
    try:
        Index.load(folder, fake_embedder)
    except BayyinaError as exc:
        assert str(exc) and SECRET not in str(exc) and "SECRET" not in str(exc)
        return str(exc)
    pytest.fail("a tampered index loaded")


def test_every_manifest_field_tampered_is_refused(saved, tmp_path, fake_embedder):
    base = json.loads((saved / "manifest.json").read_text())
    tried = refused = 0
    for i, (label, path, bad) in enumerate(_manifest_variants(base)):
        if path[0] == "created":   # informational only: when the index was written
            continue
        folder = tmp_path / f"v{i}"
        shutil.copytree(saved, folder)
        m = json.loads((folder / "manifest.json").read_text())
        _set(m, path, bad)
        if m == base:
            continue
        (folder / "manifest.json").write_text(json.dumps(m))
        tried += 1
        try:
            msg = _load_must_refuse(folder, fake_embedder)
        except BaseException:
            print("LOADED:", label)
            raise
        refused += bool(msg)
    assert tried >= 100 and refused == tried


@pytest.mark.parametrize("which", ["saved", "saved_compressed"])
def test_every_index_file_tampered_is_refused(which, request, tmp_path, fake_embedder):
    saved = request.getfixturevalue(which)
    if which == "saved_compressed":
        assert (saved / "shards/s00000/dense.int8.npy").is_file() and (saved / "shards/s00000/dense.scale.npy").is_file()
    secret = tmp_path / "shadow"
    secret.write_text(SECRET)
    tried = 0
    for _label, rel, how in _file_variants(saved):
        folder = tmp_path / f"f{tried}"
        shutil.copytree(saved, folder)
        target = folder / rel
        if how == "truncate":
            target.write_bytes(target.read_bytes()[: max(1, target.stat().st_size // 2)])
        elif how == "garbage":
            target.write_bytes(os.urandom(64))
        elif how == "symlink":
            target.unlink()
            os.symlink(secret, target)
        elif how == "extra":
            target.write_bytes(b"\x93NUMPY")
        elif how == "offsets":
            lines = target.read_text(encoding="utf-8").splitlines()
            first = json.loads(lines[0])
            first["start"], first["end"] = first["end"], first["start"]
            target.write_text("\n".join([json.dumps(first, ensure_ascii=False)] + lines[1:]) + "\n", encoding="utf-8")
        tried += 1
        _load_must_refuse(folder, fake_embedder)
    assert tried >= 15


def test_non_finite_vectors_and_another_faiss_type_are_refused(saved, tmp_path, fake_embedder):
    import faiss
    import numpy as np

    from index import integrity

    for variant in ("nan", "l2"):
        folder = tmp_path / variant
        shutil.copytree(saved, folder)
        raw = faiss.read_index(str(folder / "shards" / "s00000" / "dense.faiss"))
        vecs = raw.reconstruct_n(0, raw.ntotal)
        if variant == "nan":
            vecs[0, 0] = math.nan
            new = faiss.IndexFlatIP(raw.d)
        else:
            new = faiss.IndexFlatL2(raw.d)
        new.add(np.ascontiguousarray(vecs, dtype=np.float32))
        faiss.write_index(new, str(folder / "shards" / "s00000" / "dense.faiss"))
        m = json.loads((folder / "manifest.json").read_text())   # a consistent forgery: checksums updated
        m["checksums"] = integrity.file_checksums(folder)
        (folder / "manifest.json").write_text(json.dumps(m))
        msg = _load_must_refuse(folder, fake_embedder)
        assert ("not finite" in msg) if variant == "nan" else ("IndexFlatL2" in msg)

"""Assembling a model split into pip packages: order, checksum, atomicity, clear errors."""

import hashlib

import pytest

import qa
from qa.llm.models import LocalModel, local_model_path


def _fake_model(tmp_path, monkeypatch, chunks: list[bytes], *, prefix="fakechunk", sha=None) -> LocalModel:
    site = tmp_path / "site"
    for i, data in enumerate(chunks, start=1):
        pkg = site / f"{prefix}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("BAYYINA_CACHE", str(tmp_path / "cache"))
    whole = b"".join(chunks)
    return LocalModel(name=f"{prefix}-model", description="test", licence="test", package=prefix,
                      distribution=prefix.replace("_", "-"), version="1.0", parts=len(chunks),
                      sha256=sha or hashlib.sha256(whole).hexdigest(), size=len(whole))


def test_parts_are_concatenated_in_numeric_order_and_verified(tmp_path, monkeypatch):
    chunks = [bytes([i]) * (1000 + i) for i in range(1, 12)]  # 11 parts: part10 must follow part9
    model = _fake_model(tmp_path, monkeypatch, chunks, prefix="fakeorder")
    path = local_model_path(model)
    assert path == tmp_path / "cache" / "models" / "fakeorder-model" / "model.gguf"
    assert path.read_bytes() == b"".join(chunks)
    assert local_model_path(model) == path          # found again, not re-assembled
    assert [p.name for p in path.parent.iterdir()] == ["model.gguf"]


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"abc", b"def"], prefix="fakebad", sha="0" * 64)
    with pytest.raises(qa.ModelError, match="does not match its published checksum.*--force-reinstall"):
        local_model_path(model)
    assert not any((tmp_path / "cache" / "models" / "fakebad-model").iterdir())


def test_missing_packages_name_the_pip_line(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"abc"], prefix="fakemissing")
    model = LocalModel(**{**model.__dict__, "parts": 3})
    with pytest.raises(qa.MissingDependencyError, match="2 are missing") as err:
        local_model_path(model)
    assert "fakemissing2==1.0" in err.value.pip_line and "bayyina[llm]" in err.value.pip_line


def test_a_truncated_file_is_assembled_again(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"abc", b"def"], prefix="faketrunc")
    path = local_model_path(model)
    path.write_bytes(b"ab")
    assert local_model_path(model).read_bytes() == b"abcdef"


def test_unknown_model_names_the_choices():
    with pytest.raises(qa.ModelError, match="choose one of qwen2.5-coder-1.5b-instruct-q4_k_m"):
        local_model_path("gpt-5")
    assert qa.DEFAULT_LOCAL_MODEL in qa.LOCAL_MODELS

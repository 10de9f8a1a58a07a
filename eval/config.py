"""Run configuration: a TOML file, validated, paths relative to the file.

```toml
name = "xquad-extractive"        # the report folder's name
seed = 0                          # for sampling and bootstrap
limit = 200                       # questions per task for answers (0 = all); retrieval always uses all
stratify = true                   # sample evenly across articles instead of taking the first N

[embedder]
name = "multilingual-e5-small"

[index]                           # IndexConfig fields
max_tokens = 100
overlap_tokens = 30
lang_quota = 1

[reader]
name = "extractive"
k = 5
context = 1
abstain = true                    # false: answer every question (to study the confidence curve)
# llm / openai readers (qa.ReaderOptions): model, base_url, threads, passages, max_tokens, timeout

[[tasks]]
name = "ar→ar"
questions = "../shared/bench/xquad.ar.json"          # SQuAD v1/v2 JSON, or our conversation JSONL
corpus = ["../shared/bench/xquad.ar.json"]           # default: the questions file's own paragraphs
retrieval = true                                     # recall@k / MRR
answers = true                                       # EM, F1, citations, latency
remove_gold = true                                   # also ask with the gold paragraph removed (abstention)
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from eval.datasets import DatasetError


class ConfigError(DatasetError):
    """The run configuration is malformed; the message names the key and the fix."""


@dataclass(frozen=True)
class Task:
    name: str
    questions: Path
    corpus: tuple[Path, ...]
    retrieval: bool = True
    answers: bool = True
    remove_gold: bool = False


@dataclass(frozen=True)
class RunConfig:
    name: str
    tasks: tuple[Task, ...]
    seed: int = 0
    limit: int = 0
    stratify: bool = True
    embedder: str = "multilingual-e5-small"
    index: dict = field(default_factory=dict)
    reader: str = "extractive"
    k: int = 5
    context: int = 1
    abstain: bool = True
    reader_options: dict = field(default_factory=dict)   # qa.ReaderOptions fields
    source: str = ""          # the TOML text, recorded in results.json

    def to_dict(self) -> dict:
        return {"name": self.name, "seed": self.seed, "limit": self.limit, "stratify": self.stratify,
                "embedder": self.embedder, "index": dict(self.index), "reader": self.reader, "k": self.k,
                "context": self.context, "abstain": self.abstain, "reader_options": dict(self.reader_options),
                "tasks": [{"name": t.name, "questions": str(t.questions), "corpus": [str(c) for c in t.corpus],
                           "retrieval": t.retrieval, "answers": t.answers, "remove_gold": t.remove_gold}
                          for t in self.tasks]}


_READER_OPTIONS = {"model": (str,), "base_url": (str,), "threads": (int,), "passages": (int,), "sentences": (int,),
                   "max_tokens": (int,), "timeout": (int, float), "gate": (bool,),
                   "render": (bool,)}
_INDEX_KEYS = {"max_tokens", "overlap_tokens", "dense_kind", "rrf_k", "dense_weight", "bm25_weight", "candidates",
               "lang_quota", "quota_window", "shard_passages"}


def _get(table: dict, key: str, kind: type, default, where: str):
    value = table.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{key}' must be {kind.__name__}, not {value!r}.")
    return value


def load_config(path: str | Path) -> RunConfig:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such file; give a TOML run configuration (see eval/config.py).")
    text = p.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}).") from None
    base = p.resolve().parent
    raw_tasks = data.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise ConfigError(f"{p}: needs at least one [[tasks]] table with 'questions'.")
    tasks = []
    for i, t in enumerate(raw_tasks):
        where = f"{p}: tasks[{i}]"
        if not isinstance(t, dict) or not isinstance(t.get("questions"), str):
            raise ConfigError(f"{where}: 'questions' (a file path) is required.")
        questions = (base / t["questions"]).resolve()
        corpus = t.get("corpus", [])
        if isinstance(corpus, str):
            corpus = [corpus]
        if not isinstance(corpus, list) or not all(isinstance(c, str) for c in corpus):
            raise ConfigError(f"{where}: 'corpus' must be a path or a list of paths.")
        tasks.append(Task(
            name=_get(t, "name", str, f"task{i}", where), questions=questions,
            corpus=tuple((base / c).resolve() for c in corpus) or (questions,),
            retrieval=_get(t, "retrieval", bool, True, where), answers=_get(t, "answers", bool, True, where),
            remove_gold=_get(t, "remove_gold", bool, False, where)))
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ConfigError(f"{p}: task names must be unique (got {names}).")
    index = data.get("index", {})
    if not isinstance(index, dict) or set(index) - _INDEX_KEYS:
        raise ConfigError(f"{p}: [index] accepts only {sorted(_INDEX_KEYS)}; got {sorted(index)}.")
    embedder = data.get("embedder", {})
    reader = data.get("reader", {})
    if not isinstance(embedder, dict) or not isinstance(reader, dict):
        raise ConfigError(f"{p}: [embedder] and [reader] must be tables.")
    unknown = set(reader) - {"name", "k", "context", "abstain"} - set(_READER_OPTIONS)
    if unknown:
        raise ConfigError(f"{p}: [reader] does not accept {sorted(unknown)}; it accepts name, k, context, abstain, "
                          f"{', '.join(_READER_OPTIONS)}.")
    options = {key: reader[key] for key in _READER_OPTIONS if key in reader}
    for key, value in options.items():
        if not isinstance(value, _READER_OPTIONS[key]) or (isinstance(value, bool) and key not in ("gate", "render")):
            raise ConfigError(f"{p}: [reader] {key} = {value!r} must be {_READER_OPTIONS[key][0].__name__}.")
    return RunConfig(
        name=_get(data, "name", str, p.stem, str(p)), tasks=tuple(tasks), seed=_get(data, "seed", int, 0, str(p)),
        limit=_get(data, "limit", int, 0, str(p)), stratify=_get(data, "stratify", bool, True, str(p)),
        embedder=_get(embedder, "name", str, "multilingual-e5-small", f"{p}: [embedder]"), index=dict(index),
        reader=_get(reader, "name", str, "extractive", f"{p}: [reader]"),
        k=_get(reader, "k", int, 5, f"{p}: [reader]"), context=_get(reader, "context", int, 1, f"{p}: [reader]"),
        abstain=_get(reader, "abstain", bool, True, f"{p}: [reader]"), reader_options=options,
        source=text)

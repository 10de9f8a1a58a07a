"""The trained answer-span model: multilingual-e5-small's encoder fine-tuned to point at answers.

The network is the bundled embedder's BERT encoder (``index.convert_e5``) with a start/end head:
``[CLS] question [SEP][SEP] passage [SEP]`` → a start and an end score per token. The score of
"no answer" is the start+end score of the ``[CLS]`` token (SQuAD 2.0 style), so every span found
comes with the margin by which the model prefers it to answering nothing.

Only what training changed ships with Bayyina (``qa/data/reader/``): the transformer layers and
the head, in fp16 safetensors, with a card (``reader.json``: data, licences, command, steps,
held-out figures and the file's SHA-256, checked at every load). The word and position embeddings
stayed frozen in training and are the embedder's own: with the embedder loaded they are *shared*
in memory, not copied. Loading needs torch and transformers only (no training dependency).
``bench/train_reader.py`` writes these files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from collections.abc import Sequence

import numpy as np

from sources.errors import MissingDependencyError, ModelError
from sources.text import strip_invisible

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
WEIGHTS_FILE = "reader.safetensors"
CARD_FILE = "reader.json"
# Parameters that training leaves alone and that come from the embedder (never shipped).
FROZEN_PREFIX = "bert.embeddings."


def shipped_dir() -> Path:
    """The folder of the shipped reader weights and card (``qa/data/reader``)."""
    return Path(str(resources.files("qa") / "data" / "reader"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _torch():
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError:
        raise MissingDependencyError("The trained reader needs torch and transformers.",
                                     "pip install torch==2.13.0 transformers") from None
    return torch


def build_network(config: dict, *, embeddings: Any = None) -> Any:
    """The span network (``bert`` + ``qa`` head) from a BERT ``config`` dict. ``embeddings``: an
    existing ``BertEmbeddings`` module to share (the embedder's); otherwise the module is created
    empty (training loads it with the encoder: ``load_base_weights``)."""
    torch = _torch()
    from transformers import BertConfig, BertModel

    settings = {k: v for k, v in config.items() if k not in ("architectures", "torch_dtype")}
    if embeddings is not None:
        settings["vocab_size"] = 8  # the shared embeddings replace these: don't allocate 250k rows
    cfg = BertConfig(**settings)

    class SpanNetwork(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel(cfg, add_pooling_layer=False)
            self.qa = torch.nn.Linear(cfg.hidden_size, 2)

        def forward(self, input_ids, attention_mask, context_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            logits = self.qa(hidden)
            start, end = logits[..., 0], logits[..., 1]
            # Only passage tokens and [CLS] (no answer) can be pointed at.
            allowed = context_mask.clone()
            allowed[:, 0] = True
            neg = torch.finfo(start.dtype).min / 4
            return start.masked_fill(~allowed, neg), end.masked_fill(~allowed, neg)

    net = SpanNetwork()
    if embeddings is not None:
        net.bert.embeddings = embeddings
    return net


def load_base_weights(net: Any, model_dir: Path) -> None:
    """Initialise ``net.bert`` from the embedder: its embeddings and every transformer layer (the
    starting point of training; only the head starts random)."""
    from safetensors import safe_open

    torch = _torch()
    state = {}
    with safe_open(str(Path(model_dir) / "model.safetensors"), framework="pt") as fh:
        for key in fh.keys():  # noqa: SIM118 - a safetensors handle, not a dict
            if key.startswith(("embeddings.", "encoder.")):
                state[key] = fh.get_tensor(key)
    missing = [k for k in net.bert.state_dict() if k not in state and "position_ids" not in k]
    if missing:
        raise ModelError(f"{model_dir}: the embedder's weights lack {missing[:3]}; rebuild it (make model).")
    with torch.no_grad():
        net.bert.load_state_dict(state, strict=False)


def file_embeddings(config: dict, model_dir: Path) -> Any:
    """A ``BertEmbeddings`` module holding the converted embedder's embedding weights, read from
    ``model_dir`` without allocating a randomly initialised copy first."""
    torch = _torch()
    from safetensors import safe_open
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

    settings = {k: v for k, v in config.items() if k not in ("architectures", "torch_dtype")}
    module = BertEmbeddings(BertConfig(**{**settings, "vocab_size": 8}))
    path = Path(model_dir) / "model.safetensors"
    if not path.is_file():
        raise ModelError(f"{path} is missing: prepare the embedder first (make model).")
    with safe_open(str(path), framework="pt") as fh:
        state = {k[len("embeddings."):]: fh.get_tensor(k) for k in fh.keys()  # noqa: SIM118
                 if k.startswith("embeddings.")}
    words = state.pop("word_embeddings.weight", None)
    if words is None:
        raise ModelError(f"{path}: no word embeddings; rebuild the embedder (make model).")
    module.word_embeddings = torch.nn.Embedding.from_pretrained(words, freeze=True, padding_idx=config.get("pad_token_id"))
    module.load_state_dict(state, strict=False)
    module.requires_grad_(False)
    return module


def load_tokenizer(model_dir: Path) -> Any:
    """The embedder's tokenizer (its ``tokenizer.json``; 1 s, where AutoTokenizer takes 6)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_file=str(Path(model_dir) / "tokenizer.json"), bos_token="<s>",
                                   eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                   pad_token="<pad>", mask_token="<mask>")


def embedder_embeddings(embedder: Any) -> Any:
    """The embedder's ``BertEmbeddings`` module when it is the bundled e5 model (shared), else None."""
    try:
        model = embedder._model[0].auto_model  # SentenceTransformer → Transformer module → BertModel
        emb = model.embeddings
        return emb if model.config.hidden_size == 384 and model.config.num_hidden_layers == 12 else None
    except (AttributeError, IndexError, TypeError):
        return None


@dataclass(frozen=True)
class Card:
    """The shipped model's card: what it is, how it was made and how it scores."""

    format_version: int
    base: str
    sha256: str
    max_length: int
    stride: int
    max_answer_tokens: int
    config: dict
    raw: dict

    @classmethod
    def read(cls, folder: Path) -> Card:
        path = Path(folder) / CARD_FILE
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            card = cls(int(d["format_version"]), str(d["base"]), str(d["sha256"]), int(d["max_length"]),
                       int(d["stride"]), int(d["max_answer_tokens"]), dict(d["config"]), d)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: cannot read the reader's card ({exc!r}); reinstall Bayyina or retrain with "
                             "python bench/train_reader.py.") from None
        if card.format_version != FORMAT_VERSION:
            raise ModelError(f"{path}: reader format {card.format_version}, this Bayyina reads {FORMAT_VERSION}; "
                             "retrain with python bench/train_reader.py or upgrade Bayyina.")
        return card


@dataclass(frozen=True)
class Span:
    """The best answer span the model found in ``texts[passage]``: characters ``[start, end)``,
    its score (start + end logits), the no-answer score of the window it was read in, and
    ``margin = score - null`` (> 0: the model prefers this answer to none)."""

    passage: int
    start: int
    end: int
    text: str
    score: float
    null: float

    @property
    def margin(self) -> float:
        return self.score - self.null


class SpanModelLike(Protocol):
    """What the extractive reader needs of a span model (the trained one, or a fake in tests)."""

    def spans(self, question: str, texts: Sequence[str], *,
              within: Sequence[tuple[int, int] | None] | None = None) -> list[Span]: ...


def model_question(question: str, search_query: str = "") -> str:
    """What the model is asked: the user's question, and for a follow-up (whose retrieval query
    is the previous question joined before it, ``qa.conversation.condense``) the previous question
    after it, so the new question's words lead."""
    q, sq = question.strip(), (search_query or "").strip()
    if not sq or sq == q:
        return q
    if sq.endswith(q):
        previous = sq[: -len(q)].strip()
        return f"{q} {previous}" if previous else q
    return f"{q} {sq}"


# Question/passage pairs whose scores a model keeps (a question reads ~5–20 passages).
_REMEMBERED = 64

_EDGE = " \t\n\r\u00a0.,;:!?،؛؟«»\"'()[]{}“”‘’-–—…*#"


class SpanModel:
    """The trained span reader. ``embedder``: the loaded bundled embedder, whose embeddings are
    shared (otherwise they are read from the converted embedder folder). ``folder``: weights and
    card (default: the shipped ones); a file whose SHA-256 differs from its card is refused."""

    def __init__(self, embedder: Any = None, *, folder: str | Path | None = None, threads: int | None = None,
                 model_dir: str | Path | None = None) -> None:
        torch = _torch()
        from safetensors.torch import load_file

        folder = Path(folder) if folder else shipped_dir()
        self.card = Card.read(folder)
        weights = folder / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelError(f"{weights} is missing: reinstall Bayyina or retrain with python bench/train_reader.py.")
        digest = sha256_file(weights)
        if digest != self.card.sha256:
            raise ModelError(f"{weights}: SHA-256 {digest[:12]}… does not match its card ({self.card.sha256[:12]}…): "
                             "the weights were changed or damaged; reinstall Bayyina or retrain.")
        if threads:
            torch.set_num_threads(int(threads))
        if model_dir is None:
            from index.embed import default_model_path

            model_dir = default_model_path(quiet=True)
        model_dir = Path(model_dir)
        shared = embedder_embeddings(embedder) if embedder is not None else None
        self.net = build_network(self.card.config,
                                 embeddings=shared if shared is not None else file_embeddings(self.card.config, model_dir))
        state = {k: v.float() for k, v in load_file(str(weights)).items()}
        bad = [k for k in state if k.startswith(FROZEN_PREFIX)]
        missing = [k for k in self.net.state_dict() if not k.startswith(FROZEN_PREFIX) and k not in state]
        if bad or missing:
            raise ModelError(f"{weights}: unexpected tensors {bad[:3]} or missing {missing[:3]}; retrain with "
                             "python bench/train_reader.py.")
        self.net.load_state_dict(state, strict=False)
        self.net.eval()
        self._read: OrderedDict[tuple[str, str], list[tuple]] = OrderedDict()
        self._read_lock = threading.Lock()
        tok = getattr(getattr(embedder, "_model", None), "tokenizer", None)
        self.tokenizer = tok if tok is not None else load_tokenizer(model_dir)

    @classmethod
    def from_parts(cls, net: Any, tokenizer: Any, card: Card) -> SpanModel:
        """A model around an already built network (training evaluates its checkpoints this way).
        Reads are remembered: make a new one after the network's weights change."""
        self = cls.__new__(cls)
        self.net, self.tokenizer, self.card = net, tokenizer, card
        self._read, self._read_lock = OrderedDict(), threading.Lock()
        return self

    def encode(self, questions: Sequence[str], texts: Sequence[str]) -> Any:
        """Tokenise question/passage pairs into windows (long passages overflow into several)."""
        return self.tokenizer(list(questions), list(texts), truncation="only_second", max_length=self.card.max_length,
                              stride=self.card.stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                              padding=True, return_tensors="pt")

    def logits(self, enc: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start, end, context mask) per window, as numpy arrays."""
        torch = _torch()
        context = torch.tensor([[s == 1 for s in enc.sequence_ids(i)] for i in range(len(enc["input_ids"]))])
        with torch.inference_mode():
            start, end = self.net(enc["input_ids"], enc["attention_mask"], context)
        return start.float().numpy(), end.float().numpy(), context.numpy()

    def spans(self, question: str, texts: Sequence[str], *, batch: int = 32,
              within: Sequence[tuple[int, int] | None] | None = None) -> list[Span]:
        """The best span of each passage in ``texts`` (one batch of windows for them all), in the
        order of ``texts``; a passage without any readable token gets no entry. ``within``: per
        passage, the characters ``[a, b)`` the span must lie in (the passage is still read whole).
        The scores of the last few question/passage pairs are remembered, so reading a passage again
        with the same question (a span held to a sentence, the evidence for a generative reader)
        does not run the network again."""
        if not texts:
            return []
        question = strip_invisible(question).strip()   # never the passages: their offsets are quoted
        windows = self._windows(question, texts, batch)
        out: list[Span] = []
        for i, text in enumerate(texts):
            best: Span | None = None
            for start, end, context, offsets in windows[i]:
                allowed = context
                bounds = within[i] if within is not None else None
                if bounds is not None:
                    a, b = bounds
                    allowed = allowed & np.array([a <= o[0] and o[1] <= b for o in offsets])
                span = self._best_in_window(start, end, allowed, offsets, text)
                if span is None:
                    continue
                s, e, score, null = span
                if best is None or score - null > best.margin:
                    best = Span(i, s, e, text[s:e], score, null)
            if best is not None:
                out.append(best)
        return out

    def _windows(self, question: str, texts: Sequence[str], batch: int) -> list[list[tuple]]:
        """Per text, its windows' (start logits, end logits, context mask, offsets), from the
        remembered pairs or one batched run of the network over the others."""
        keys = [(question, t) for t in texts]
        with self._read_lock:
            have = {k: self._read[k] for k in keys if k in self._read}
        missing = list(dict.fromkeys(k for k in keys if k not in have))
        for lo in range(0, len(missing), batch):
            chunk = [t for _, t in missing[lo: lo + batch]]
            enc = self.encode([question] * len(chunk), chunk)
            start, end, context = self.logits(enc)
            owners = enc["overflow_to_sample_mapping"].tolist()
            offsets = enc["offset_mapping"].tolist()
            for t in chunk:
                have[(question, t)] = []
            for w, owner in enumerate(owners):
                n = int(np.flatnonzero(context[w]).max()) + 2 if context[w].any() else 1   # padding cut
                have[(question, chunk[owner])].append((start[w][:n], end[w][:n], context[w][:n], offsets[w][:n]))
        with self._read_lock:
            for k in keys:
                self._read[k] = have[k]
                self._read.move_to_end(k)
            while len(self._read) > _REMEMBERED:
                self._read.popitem(last=False)
        return [have[k] for k in keys]

    def _best_in_window(self, start: np.ndarray, end: np.ndarray, context: np.ndarray, offsets: list,
                        text: str) -> tuple[int, int, float, float] | None:
        idx = np.flatnonzero(context)
        if idx.size == 0:
            return None
        null = float(start[0] + end[0])
        top_s = idx[np.argsort(-start[idx])[:20]]
        top_e = idx[np.argsort(-end[idx])[:20]]
        found: tuple[float, int, int] | None = None
        for i in top_s:
            for j in top_e:
                if j < i or j - i + 1 > self.card.max_answer_tokens:
                    continue
                sc = float(start[i] + end[j])
                if found is None or sc > found[0]:
                    found = (sc, int(i), int(j))
        if found is None:
            return None
        sc, i, j = found
        s, e = _trim(text, offsets[i][0], offsets[j][1])
        if e <= s:
            return None
        return s, e, sc, null


_PAIRS = {"(": ")", "[": "]", "{": "}", "«": "»", "“": "”", "‘": "’"}
_CLOSERS = {v: k for k, v in _PAIRS.items()}


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    """Offsets without surrounding spaces and punctuation; a bracket or quote mark opened inside the
    span keeps its closing partner (جورج بوش «الأب», not جورج بوش «الأب); a leading conjunction و
    before the article is left out."""
    while s < e and text[s] in _EDGE:
        s += 1
    while e > s and text[e - 1] in _EDGE:
        if text[e - 1] in _CLOSERS and _unclosed(text[s:e - 1], text[e - 1]):
            break
        e -= 1
    if e < len(text) and text[e] in _CLOSERS and _unclosed(text[s:e], text[e]):
        e += 1
    if text.startswith("وال", s):
        # An answer never opens on the conjunction و: "والخلايا الإرهابية" reads "and the terrorist
        # cells". Only before the article and a stem of 3+ letters (والد, والي are words of their own).
        w = s
        while w < e and not text[w].isspace():
            w += 1
        if w - s - 3 >= 3:
            s += 1
    return s, e


def _unclosed(span: str, closer: str) -> bool:
    """Whether ``span`` opens ``closer``'s partner more often than it closes it."""
    return span.count(_CLOSERS[closer]) > span.count(closer)

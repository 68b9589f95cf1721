"""Latency of the web app under parallel users: N gradio_client clients ask at the same moment.

    python benchmarks/bench_web_concurrency.py --url http://127.0.0.1:7860/ [--clients 8]
    python benchmarks/bench_web_concurrency.py --index data [--clients 8] [--concurrency 4]

With --url it measures a running `regiostrat chat`; without, it starts the app in this process
(uvicorn on a free loopback port) over --index with the configured settings. Every client asks
--rounds questions through the `/frage` API (the same queue and concurrency limit as the chat);
all clients start together behind a barrier. Prints per-request latency median/p95/max, the
wall time and throughput, and the answers' own server-side timings (median total).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from pathlib import Path

from eval.metrics import percentile

QUESTIONS = [
    "Wie haben die Modellvorhaben ihre Regionalanalyse erstellt?",
    "Welche Erfahrungen gab es mit Online-Beteiligung?",
    "Was bedeutet SREK?",
    "Welche Modellvorhaben arbeiten grenzüberschreitend zusammen?",
    "Wie viele Menschen haben an der Online-Umfrage an der Westküste teilgenommen?",
    "Welche Rolle spielt der Lenkungskreis in der Lausitz?",
    "Wie wird die Mobilität im ländlichen Raum verbessert?",
    "Welche Probleme gab es bei der Fachkräftesicherung?",
]


def start_app(index: Path | None, concurrency: int | None) -> tuple[str, object]:
    import uvicorn

    from assistant.web.app import create_app
    from regiostrat.settings import Settings

    settings = Settings().with_data_dir(index)
    if concurrency:
        settings = settings.model_copy(
            update={"ui": settings.ui.model_copy(update={"concurrency": concurrency})}
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 120
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    print(f"App gestartet: http://127.0.0.1:{port}/ (ui.concurrency={settings.ui.concurrency})")
    return f"http://127.0.0.1:{port}/", server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="URL of a running app (default: start one in-process)")
    parser.add_argument("--index", type=Path, help="index directory for the in-process app")
    parser.add_argument("--concurrency", type=int, help="ui.concurrency for the in-process app")
    parser.add_argument("--clients", type=int, default=8, help="parallel clients (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="questions per client (default 3)")
    args = parser.parse_args()

    from gradio_client import Client

    server = None
    url = args.url
    if not url:
        url, server = start_app(args.index, args.concurrency)

    clients = [Client(url, verbose=False) for _ in range(args.clients)]
    Client(url, verbose=False).predict(QUESTIONS[0], api_name="/frage")  # warm-up
    barrier = threading.Barrier(args.clients)
    latencies: list[float] = []
    server_totals: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        for r in range(args.rounds):
            question = QUESTIONS[(i + r) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                answer = clients[i].predict(question, api_name="/frage")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                total = (answer.get("timings") or {}).get("total")
                if total is not None:
                    server_totals.append(float(total))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.clients)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall

    n = len(latencies)
    print(f"Clients: {args.clients}, Fragen je Client: {args.rounds}, Antworten: {n}, "
          f"Fehler: {len(errors)}")  # fmt: skip
    if n:
        print(f"Latenz Median: {statistics.median(latencies):.2f} s")
        print(f"Latenz p95:    {percentile(latencies, 95):.2f} s")
        print(f"Latenz max:    {max(latencies):.2f} s")
        print(f"Gesamtzeit:    {wall:.2f} s, Durchsatz {n / wall:.2f} Antworten/s")
    if server_totals:
        print(f"Server-Rechenzeit je Antwort (Median): {statistics.median(server_totals):.2f} s")
    for error in errors[:5]:
        print(f"  Fehler: {error}")
    if server is not None:
        server.should_exit = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

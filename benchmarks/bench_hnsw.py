"""Recall and latency of Chroma's HNSW search against exact nearest neighbours, per `ef_search`.

    python benchmarks/bench_hnsw.py [--index bundled omos documents 100k] [--ef 100 200 400]
        [--processes 3] [--out FILE | --no-write]

Chroma answers a dense query from its HNSW graph: approximate. Each (index, ef_search) pair is
measured in `--processes` fresh processes, because the graph Chroma loads can differ from one
process to the next (observed: the nearest chunk of an OMoS-QA question found in one process,
missed in the next, with ef_search 100). Exact neighbours are computed with numpy over all
vectors of the collection (cosine, as the collection's space).

Indexes (each copied to a temporary folder, so that setting ef_search leaves it untouched):

* `bundled`: `regiostrat ingest corpus/documents` with the default embedder, in data/bench/hnsw-
  bundled (built when missing); questions: the gold dev and test questions.
* `omos`: the OMoS-QA index `regiostrat eval omos-qa` builds (data/benchmarks/omos-qa/…);
  questions: its dev and test queries.
* `documents`: ../shared/documents ingested with the default embedder (data/bench/hnsw-
  documents, built when missing); questions: the gold questions.
* `100k`: the query benchmark's 100k index (`bench_query.py`, fake 384-dim vectors: the graph
  and its size are real, the vector values are not); questions: its revosax questions.

Reported per index and ef_search: recall@10 and recall@40 (40 = `retrieval.candidates`) averaged
over questions, the share of questions whose nearest chunk was found, the worst process, and the
latency of `collection.query` (p50/p95 over all questions and processes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from common import (  # noqa: E402
    BENCH_DATA,
    BUNDLED_CORPUS,
    OMOS,
    REPO,
    SHARED_DOCUMENTS,
    machine_lines,
    missing_note,
    percentile,
    run_worker,
    table,
    write_results,
)

K_VALUES = (10, 40)


def gold_questions() -> list[str]:
    from eval.gold import load_gold

    folder = REPO / "eval" / "questions"
    return [
        item.question for name in ("dev.yaml", "test.yaml") for item in load_gold(folder / name)
    ]


def index_for(name: str) -> tuple[Path, str, str] | str:
    """(index dir, collection, embedder) of a named index, or why it is missing."""
    from regiostrat.embedders import create_embedder
    from regiostrat.settings import Settings

    settings = Settings().with_data_dir(REPO / "data")
    if name == "omos":
        from eval.benchmarks import get_benchmark

        if note := missing_note(OMOS, "OMoS-QA"):
            return note
        # the index `regiostrat eval omos-qa` uses (built when missing or outdated)
        bench, _ = get_benchmark("omos-qa").ensure_index(
            settings, create_embedder(settings.embedder)
        )
        return Path(bench.paths.data_dir), bench.chroma.collection, "default"
    if name == "100k":
        path = BENCH_DATA / "query-100k" / "index"
        if not (path / "chroma").is_dir():
            return "no 100k index: run `python benchmarks/bench_query.py --size 100k` first"
        return path, settings.chroma.collection, "fake384"
    corpus = BUNDLED_CORPUS if name == "bundled" else SHARED_DOCUMENTS
    if note := missing_note(corpus, name):
        return note
    path = BENCH_DATA / f"hnsw-{name}"
    if not (path / "registry.sqlite").is_file():
        from ingest.pipeline import ingest_paths

        print(f"… ingesting {corpus} into {path}", file=sys.stderr)
        ingest_paths([corpus], settings.with_data_dir(path), create_embedder(settings.embedder))
    return path, settings.chroma.collection, "default"


def questions_for(name: str) -> list[str]:
    if name == "omos":
        from eval.benchmarks import get_benchmark

        bench = get_benchmark("omos-qa")
        return [item.question for split in ("dev", "test") for item in bench.items(split)]
    if name == "100k":
        from bench_query import questions_for as revosax

        return revosax("100k")
    return gold_questions()


# -- one process: one index copy at one ef_search --
def worker(
    index: str, collection: str, embedder: str, ef: int, queries_file: str
) -> dict[str, Any]:
    import chromadb

    from regiostrat.embedders import create_embedder
    from regiostrat.embedders.fake import FakeEmbedder
    from regiostrat.settings import Settings

    questions = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    model = FakeEmbedder(384) if embedder == "fake384" else create_embedder(Settings().embedder)
    vectors = np.asarray([model.embed_query(q) for q in questions], dtype=np.float32)
    client = chromadb.PersistentClient(
        path=str(Path(index) / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    col = client.get_collection(collection)
    col.modify(configuration={"hnsw": {"ef_search": ef}})
    everything = col.get(include=["embeddings"])
    ids = np.asarray(everything["ids"])
    matrix = np.asarray(everything["embeddings"], dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    k_max = max(K_VALUES)
    recalls: dict[int, list[float]] = {k: [] for k in K_VALUES}
    top1: list[bool] = []
    latencies: list[float] = []
    for vector in vectors:
        exact = ids[np.argsort(-(matrix @ (vector / np.linalg.norm(vector))))[:k_max]]
        started = time.perf_counter()
        found = col.query(query_embeddings=[vector.tolist()], n_results=k_max)["ids"][0]
        latencies.append((time.perf_counter() - started) * 1000)
        for k in K_VALUES:
            recalls[k].append(len(set(found[:k]) & set(exact[:k])) / k)
        top1.append(bool(found) and found[0] == exact[0])
    return {
        "chunks": len(ids),
        "recall": {k: float(np.mean(v)) for k, v in recalls.items()},
        "top1": float(np.mean(top1)),
        "latencies_ms": latencies,
    }


def measure(name: str, efs: list[int], processes: int) -> dict[str, Any] | str:
    found = index_for(name)
    if isinstance(found, str):
        return found
    path, collection, embedder = found
    questions = questions_for(name)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        queries = Path(tmp) / "questions.json"
        queries.write_text(json.dumps(questions), encoding="utf-8")
        for ef in efs:
            copy = Path(tmp) / f"ef{ef}"
            shutil.copytree(path / "chroma", copy / "chroma")
            runs = [
                run_worker(
                    Path(__file__),
                    ["--worker", str(copy), collection, embedder, str(ef), str(queries)],
                )
                for _ in range(processes)
            ]
            latencies = [x for run in runs for x in run["latencies_ms"]]
            rows.append(
                {
                    "ef": ef,
                    "chunks": runs[0]["chunks"],
                    "recall": {
                        k: float(np.mean([r["recall"][str(k)] for r in runs])) for k in K_VALUES
                    },
                    "worst_recall40": min(r["recall"][str(max(K_VALUES))] for r in runs),
                    "top1": float(np.mean([r["top1"] for r in runs])),
                    "worst_top1": min(r["top1"] for r in runs),
                    "p50": percentile(latencies, 50),
                    "p95": percentile(latencies, 95),
                }
            )
            shutil.rmtree(copy)
    return {"index": name, "questions": len(questions), "embedder": embedder, "rows": rows}


def render(results: list[dict[str, Any]], notes: list[str]) -> str:
    lines = []
    body = []
    for result in results:
        vectors = "fake 384-dim" if result["embedder"] == "fake384" else "multilingual-e5-small"
        for row in result["rows"]:
            body.append(
                [
                    result["index"],
                    f"{row['chunks']:,}",
                    vectors,
                    result["questions"],
                    row["ef"],
                    f"{row['recall'][10]:.3f}",
                    f"{row['recall'][40]:.3f} (worst {row['worst_recall40']:.3f})",
                    f"{row['top1']:.3f} (worst {row['worst_top1']:.3f})",
                    f"{row['p50']:.1f} / {row['p95']:.1f}",
                ]
            )
    headers = [
        "index",
        "chunks",
        "vectors",
        "questions",
        "ef_search",
        "recall@10",
        "recall@40 (worst process)",
        "nearest found (worst process)",
        "query ms p50 / p95",
    ]
    lines += [table(headers, body), ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--index",
        nargs="+",
        choices=["bundled", "omos", "documents", "100k"],
        default=["bundled", "omos"],
    )
    parser.add_argument("--ef", nargs="+", type=int, default=[100, 200, 400])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        index, collection, embedder, ef, queries = args.worker
        print(json.dumps(worker(index, collection, embedder, int(ef), queries)))
        return
    results, notes = [], []
    for name in args.index:
        print(f"… {name}", file=sys.stderr)
        result = measure(name, args.ef, args.processes)
        if isinstance(result, str):
            notes.append(f"{name}: skipped, {result}")
        else:
            results.append(result)
    text = render(results, notes)
    print("\n".join(machine_lines()) + "\n\n" + text)
    if not args.no_write:
        path = write_results("hnsw.md", "HNSW recall and latency per ef_search", text, args.out)
        print(f"written: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Choose the fusion weights of hybrid retrieval by measurement on dev splits.

For each (dense_weight, lexical_weight) pair: document hit@1, hit@5 and MRR on the answerable
questions of OMoS-QA dev (its cached benchmark index, built by `regiostrat eval omos-qa`) and of
the corpus's gold dev set (an index of corpus/documents). Query vectors are computed once.

    python benchmarks/tune_fusion.py \
        --omos-index data/benchmarks/omos-qa/index-multilingual-e5-small \
        --corpus-index data [--split dev]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from assistant.retrieval import HybridRetriever
from regiostrat.embedders import create_embedder
from regiostrat.index.store import IndexStore
from regiostrat.settings import Settings

WEIGHTS = [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.5), (1.0, 0.3), (1.0, 0.7), (0.7, 1.0)]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "omos-qa"


def omos_questions(split: str) -> list[tuple[str, set[str]]]:
    out = []
    for line in (SHARED / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q.get("split") == split and q.get("answerable", True):
            out.append((q["question"], {f"{d}.txt" for d in q["relevant_doc_ids"]}))
    return out


def gold_questions(split: str) -> list[tuple[str, set[str]]]:
    items = yaml.safe_load(Path(f"eval/questions/{split}.yaml").read_text(encoding="utf-8"))
    return [
        (q["question"], {s["file"] for s in q["sources"]})
        for q in items
        if q["kind"] not in ("unanswerable", "followup") and q["sources"]
    ]


def evaluate(
    index: str, questions: list[tuple[str, set[str]]], label: str, collection: str | None = None
) -> None:
    settings = Settings().with_data_dir(index)
    if collection:
        settings.chroma.collection = collection
    store = IndexStore.open(settings, create_embedder(settings.embedder))
    vectors = [store.embedder.embed_query(q) for q, _ in questions]
    print(f"\n{label}: {len(questions)} answerable questions ({index})")
    print("| dense | lexical | doc hit@1 | doc hit@5 | MRR |\n|---|---|---|---|---|")
    for dense, lexical in WEIGHTS:
        retrieval = settings.retrieval.model_copy(
            update={"dense_weight": dense, "lexical_weight": lexical, "per_document_cap": 1}
        )
        retriever = HybridRetriever(store, retrieval)
        hit1 = hit5 = rr = 0.0
        for (question, gold), vector in zip(questions, vectors, strict=True):
            docs: list[str] = []
            for p in retriever.retrieve(question, k=10, query_embedding=vector):
                if p.chunk.source not in docs:
                    docs.append(p.chunk.source)
            ranks = [i for i, d in enumerate(docs, 1) if any(d.endswith(g) for g in gold)]
            hit1 += bool(ranks and ranks[0] == 1)
            hit5 += bool(ranks and ranks[0] <= 5)
            rr += 1 / ranks[0] if ranks else 0.0
        n = len(questions)
        print(f"| {dense} | {lexical} | {hit1 / n:.3f} | {hit5 / n:.3f} | {rr / n:.3f} |")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--omos-index")
    parser.add_argument("--corpus-index")
    parser.add_argument("--split", default="dev")
    args = parser.parse_args()
    if args.omos_index:
        evaluate(
            args.omos_index,
            omos_questions(args.split),
            f"OMoS-QA {args.split}",
            collection="regiostrat-omos-qa",  # as eval/benchmarks.py names it
        )
    if args.corpus_index:
        evaluate(args.corpus_index, gold_questions(args.split), f"Gold {args.split}")


if __name__ == "__main__":
    main()

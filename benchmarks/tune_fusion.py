"""Choose the fusion weights of hybrid retrieval by measurement on dev splits.

For each (dense_weight, lexical_weight) pair: document hit@1, hit@5 and MRR on the answerable
questions of OMoS-QA (its benchmark index, built on first use as `regiostrat eval omos-qa` does)
and of the corpus's gold set (the index of `paths.data_dir`, or --corpus-index). Query vectors
are computed once per question.

    python benchmarks/tune_fusion.py [--split dev] [--no-omos] [--corpus-index data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.retrieval import HybridRetriever
from eval.benchmarks import get_benchmark
from eval.gold import EvalItem, load_gold
from eval.metrics import source_matches
from regiostrat.embedders import create_embedder
from regiostrat.index.store import IndexStore
from regiostrat.settings import Settings

WEIGHTS = [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.5), (1.0, 0.3), (1.0, 0.7), (0.7, 1.0)]


def evaluate(settings: Settings, items: list[EvalItem], label: str) -> None:
    questions = [i for i in items if i.answerable and i.sources and not i.history]
    store = IndexStore.open(settings, create_embedder(settings.embedder))
    vectors = [store.embedder.embed_query(q.question) for q in questions]
    print(f"\n{label}: {len(questions)} answerable questions ({settings.paths.data_dir})")
    print("| dense | lexical | doc hit@1 | doc hit@5 | MRR |\n|---|---|---|---|---|")
    for dense, lexical in WEIGHTS:
        retrieval = settings.retrieval.model_copy(
            update={"dense_weight": dense, "lexical_weight": lexical, "per_document_cap": 1}
        )
        retriever = HybridRetriever(store, retrieval)
        hit1 = hit5 = rr = 0.0
        for item, vector in zip(questions, vectors, strict=True):
            docs: list[str] = []
            for p in retriever.retrieve(item.question, k=10, query_embedding=vector):
                if p.chunk.source not in docs:
                    docs.append(p.chunk.source)
            ranks = [
                rank
                for rank, doc in enumerate(docs, 1)
                if any(source_matches(doc, gold.file) for gold in item.sources)
            ]
            hit1 += bool(ranks and ranks[0] == 1)
            hit5 += bool(ranks and ranks[0] <= 5)
            rr += 1 / ranks[0] if ranks else 0.0
        n = len(questions)
        print(f"| {dense} | {lexical} | {hit1 / n:.3f} | {hit5 / n:.3f} | {rr / n:.3f} |")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev")
    parser.add_argument("--corpus-index", help="index of corpus/documents (default: data_dir)")
    parser.add_argument("--no-omos", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    if not args.no_omos:
        omos = get_benchmark("omos-qa")
        omos_settings, _ = omos.ensure_index(settings, create_embedder(settings.embedder))
        evaluate(omos_settings, omos.items(args.split), f"OMoS-QA {args.split}")
    gold = load_gold(Path("eval/questions"), args.split)
    evaluate(settings.with_data_dir(args.corpus_index), gold, f"Gold {args.split}")


if __name__ == "__main__":
    main()

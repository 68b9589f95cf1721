"""Calibrate the extractive answerer's abstention on the dev splits.

Answers every question of the gold dev set (index: `paths.data_dir`) and of OMoS-QA dev (its
benchmark index, as `regiostrat eval omos-qa` builds it) without abstaining, records the
evidence (best sentence score) and the closest passage's cosine similarity, and sweeps both
thresholds: abstention precision/recall on unanswerable questions and the share of answerable
questions still answered.

    python benchmarks/calibrate_abstention.py [--no-omos]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.service import Assistant
from eval.benchmarks import get_benchmark
from eval.gold import EvalItem, load_gold
from regiostrat.embedders import create_embedder
from regiostrat.settings import Settings


def collect(settings: Settings, items: list[EvalItem]) -> list[dict]:
    assistant = Assistant.open(settings)
    assistant.extractive.threshold = -1.0  # never abstain: we want the raw signals
    assistant.extractive.min_passage_similarity = 0.0
    rows = []
    for item in items:
        answer = assistant.ask(item.question, history=item.history)
        if answer.answerer != "extractive" or not answer.passages:
            continue  # comparisons and empty results have no single evidence value
        rows.append(
            {
                "evidence": answer.extra.get("evidence", 0.0),
                "closest": max(p.dense_score or 0.0 for p in answer.passages),
                "unanswerable": not item.answerable,
            }
        )
    assistant.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-omos", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    rows = collect(settings, load_gold(Path("eval/questions"), "dev"))
    if not args.no_omos:
        omos = get_benchmark("omos-qa")
        omos_settings, _ = omos.ensure_index(settings, create_embedder(settings.embedder))
        rows += collect(omos_settings, omos.items("dev"))
    unanswerable = sum(r["unanswerable"] for r in rows)
    answerable = len(rows) - unanswerable
    print(f"{len(rows)} questions ({unanswerable} unanswerable)")
    print("| evidence < | closest < | abstention P | abstention R | answerable answered |")
    print("|---|---|---|---|---|")
    for evidence in (0.86, 0.88, 0.90):
        for closest in (0.0, 0.84, 0.85, 0.86, 0.87):
            abstained = [r for r in rows if r["evidence"] < evidence or r["closest"] < closest]
            hits = sum(r["unanswerable"] for r in abstained)
            precision = hits / len(abstained) if abstained else 0.0
            recall = hits / unanswerable if unanswerable else 0.0
            kept = 1 - (len(abstained) - hits) / answerable
            print(f"| {evidence} | {closest} | {precision:.2f} | {recall:.2f} | {kept:.3f} |")


if __name__ == "__main__":
    main()

"""Calibrate the extractive answerer's abstention on the dev splits.

Answers every question of the gold dev set (index: `paths.data_dir`) and of OMoS-QA dev (the
index `regiostrat eval omos-qa` caches) without abstaining, records the evidence (best sentence
score) and the closest passage's cosine similarity, and sweeps both thresholds: abstention
precision/recall on unanswerable questions and the share of answerable questions still answered.

    python benchmarks/calibrate_abstention.py \\
        [--omos-index data/benchmarks/omos-qa/index-multilingual-e5-small]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from assistant.service import Assistant
from regiostrat.settings import Settings
from regiostrat.types import Turn

OMOS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "omos-qa" / "queries.jsonl"


def features(assistant: Assistant, question: str, history: list[Turn]) -> dict | None:
    answer = assistant.ask(question, history=history)
    if answer.answerer != "extractive" or not answer.passages:
        return None  # comparisons and empty results have no single evidence value
    return {
        "evidence": answer.extra.get("evidence", 0.0),
        "closest": max(p.dense_score or 0.0 for p in answer.passages),
    }


def collect(settings: Settings, items: list[tuple[str, list[Turn], bool]]) -> list[dict]:
    assistant = Assistant.open(settings)
    assistant.extractive.threshold = -1.0  # never abstain: we want the raw signals
    assistant.extractive.min_passage_similarity = 0.0
    rows = []
    for question, history, unanswerable in items:
        f = features(assistant, question, history)
        if f:
            rows.append({**f, "unanswerable": unanswerable})
    assistant.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--omos-index", default="data/benchmarks/omos-qa/index-multilingual-e5-small"
    )
    args = parser.parse_args()
    gold = yaml.safe_load(Path("eval/questions/dev.yaml").read_text(encoding="utf-8"))
    rows = collect(
        Settings(),
        [
            (
                q["question"],
                [Turn(**t) for t in q.get("history") or []],
                q["kind"] == "unanswerable",
            )
            for q in gold
        ],
    )
    if Path(args.omos_index).is_dir() and OMOS.is_file():
        omos = Settings().with_data_dir(args.omos_index)
        omos.chroma.collection = "regiostrat-omos-qa"  # as eval/benchmarks.py names it
        queries = [json.loads(line) for line in OMOS.read_text(encoding="utf-8").splitlines()]
        rows += collect(
            omos, [(q["question"], [], not q["answerable"]) for q in queries if q["split"] == "dev"]
        )
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

"""Calibrate the extractive answerer on the corpus's gold dev set.

Prints, for the evidence threshold candidates, abstention precision/recall on unanswerable
questions and answer rate on answerable ones; and document hit@1/@5 for several fusion weights.

    python benchmarks/calibrate.py --index data [--split dev]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from assistant.service import Assistant
from regiostrat.settings import Settings
from regiostrat.types import Turn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default="data")
    parser.add_argument("--split", default="dev")
    args = parser.parse_args()
    questions = yaml.safe_load(Path(f"eval/questions/{args.split}.yaml").read_text("utf-8"))
    settings = Settings().with_data_dir(args.index)
    assistant = Assistant.open(settings)
    assistant.extractive.threshold = -1.0  # never abstain: we want the raw evidence
    rows = []
    for q in questions:
        history = [Turn(**t) for t in q.get("history") or []]
        answer = assistant.ask(q["question"], history=history)
        gold = {s["file"] for s in q.get("sources") or []}
        docs = []
        for p in answer.passages:
            rel = p.chunk.source.split("corpus/documents/")[-1]
            if rel not in docs:
                docs.append(rel)
        rows.append(
            {
                "kind": q["kind"],
                "evidence": answer.extra.get("evidence"),
                "hit1": bool(gold) and bool(set(docs[:1]) & gold),
                "hit5": bool(gold) and bool(set(docs[:5]) & gold),
                "answerable": q["kind"] != "unanswerable",
            }
        )
    scored = [r for r in rows if r["evidence"] is not None]
    print(f"{len(rows)} questions, {len(scored)} with evidence (comparisons have none)")
    print("threshold  abstain_P  abstain_R  answered(answerable)")
    for t in [0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.90]:
        abst = [r for r in scored if r["evidence"] < t]
        unans = [r for r in scored if not r["answerable"]]
        tp = sum(1 for r in abst if not r["answerable"])
        prec = tp / len(abst) if abst else 0.0
        rec = tp / len(unans) if unans else 0.0
        answered = sum(1 for r in scored if r["answerable"] and r["evidence"] >= t)
        n_ans = sum(1 for r in scored if r["answerable"])
        print(f"{t:9.2f}  {prec:9.2f}  {rec:9.2f}  {answered}/{n_ans}")
    answerable = [r for r in rows if r["answerable"]]
    hit1 = sum(r["hit1"] for r in answerable) / len(answerable)
    hit5 = sum(r["hit5"] for r in answerable) / len(answerable)
    print(f"document hit@1 {hit1:.2f}  hit@5 {hit5:.2f}  (answerable, n={len(answerable)})")


if __name__ == "__main__":
    main()

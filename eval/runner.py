"""Running an evaluation: ask every question, score it, append the result to a JSONL file.

The out dir holds ``results.jsonl`` (one line per finished question, flushed at once) and
``run-meta.json`` (dataset and settings). A run started again with the same out dir skips the
questions already answered, so an interrupted run resumes where it stopped; results of another
configuration are refused (``--fresh`` starts over). Metrics are recomputed from the stored raw
results at the end, so every question is scored by the same code.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, SecretStr

from eval.gold import EvalInputError, EvalItem, FeedbackRow
from eval.metrics import (
    Retrieved,
    abstention_scores,
    answer_claims,
    citation_scores,
    fact_coverage,
    mean,
    percentile,
    retrieval_metrics,
    sentence_f1,
    token_f1,
)
from regiostrat.errors import user_message
from regiostrat.settings import Settings
from regiostrat.types import Answer, Filters, Passage, Turn

RESULTS_FILE = "results.jsonl"
META_FILE = "run-meta.json"
RUN_FILE = "run.json"
REPORT_FILE = "report.html"
RETRIEVED_K = 10


class AssistantLike(Protocol):
    retriever: Any

    def ask(
        self, question: str, history: list[Turn] | None = None, filters: Filters | None = None
    ) -> Answer: ...


# -- settings ----------------------------------------------------------------------------------
def _public(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    dumped = model.model_dump(mode="json")
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            continue
        out[name] = _public(value) if isinstance(value, BaseModel) else dumped[name]
    return out


def settings_json(settings: Settings) -> dict[str, Any]:
    """`Settings().model_dump(mode="json")` without secrets (API keys, passwords)."""
    return _public(settings)


# -- asking ------------------------------------------------------------------------------------
def retrieved_passages(
    assistant: AssistantLike,
    answer: Answer,
    filters: Filters | None = None,
    k: int = RETRIEVED_K,
) -> list[Passage]:
    """The passages the answer considered, filled up to `k` from the retriever when fewer."""
    passages: list[Passage] = []
    seen: set[str] = set()
    for passage in answer.passages:
        if passage.chunk.id not in seen:
            seen.add(passage.chunk.id)
            passages.append(passage)
    if len(passages) < k and answer.question:
        query = answer.resolved_question or answer.question
        for passage in assistant.retriever.retrieve(query, filters, k=k):
            if passage.chunk.id not in seen:
                seen.add(passage.chunk.id)
                passages.append(passage)
    return passages


def citation_json(answer: Answer) -> list[dict[str, Any]]:
    return [
        {
            "n": c.n,
            "source": c.source,
            "title": c.title,
            "page": c.page,
            "quote": c.quote,
            "highlight": c.highlight,
            "score": c.score,
        }
        for c in answer.citations
    ]


def passage_json(passage: Passage) -> dict[str, Any]:
    chunk = passage.chunk
    return {
        "source": chunk.source,
        "title": chunk.title,
        "page": chunk.page_start,
        "page_end": chunk.page_end,
        "score": round(passage.score, 6),
    }


def ask_item(assistant: AssistantLike, item: EvalItem) -> dict[str, Any]:
    """Ask one question; the raw result (no metrics yet). Errors are recorded, not raised."""
    base: dict[str, Any] = {
        "id": item.id,
        "question": item.question,
        "kind": item.kind,
        "split": item.split,
        "gold": item.gold_json(),
    }
    started = time.perf_counter()
    try:
        answer = assistant.ask(item.question, history=item.history or None, filters=item.filters)
        passages = retrieved_passages(assistant, answer, item.filters)
    except Exception as exc:  # one failing question must not stop the run
        return {**base, "error": user_message(exc), "latency": time.perf_counter() - started}
    return {
        **base,
        "answer": answer.text,
        "abstained": answer.abstained,
        "abstain_reason": answer.abstain_reason,
        "answerer": answer.answerer,
        "resolved_question": answer.resolved_question,
        "citations": citation_json(answer),
        "retrieved": [passage_json(p) for p in passages],
        "timings": answer.timings,
        "latency": answer.timings.get("total", time.perf_counter() - started),
        "error": None,
    }


# -- scoring -----------------------------------------------------------------------------------
def score_result(result: dict[str, Any], item: EvalItem) -> dict[str, Any]:
    """Per-question metrics from a raw result and its gold item."""
    if result.get("error"):
        return {"error": True}
    metrics: dict[str, Any] = {
        "answerable": item.answerable,
        "abstained": bool(result.get("abstained")),
        "latency": result.get("latency"),
    }
    ranking = [
        Retrieved(r["source"], int(r.get("page") or 1), r.get("page_end"), r.get("score", 0.0))
        for r in result.get("retrieved") or []
    ]
    for level in ("doc", "page"):
        values = retrieval_metrics(ranking, item.sources, level)
        for name, value in (values or {}).items():
            metrics[f"{level}.{name}"] = value
    answer = str(result.get("answer") or "")
    abstained = metrics["abstained"]
    metrics["fact_coverage"] = fact_coverage(answer, item.facts) if item.answerable else None
    metrics["token_f1"] = token_f1(answer, item.references) if item.answerable else None
    metrics["sentence_f1"] = (
        sentence_f1([c.text for c in answer_claims(answer)], item.reference_sentences)
        if item.answerable and not abstained
        else (0.0 if item.reference_sentences and item.answerable else None)
    )
    if abstained:
        metrics["citation_precision"] = metrics["groundedness"] = None
    else:
        scores = citation_scores(answer, result.get("citations") or [])
        metrics["citation_precision"] = scores["citation_precision"]
        metrics["groundedness"] = scores["groundedness"]
    metrics["abstention_correct"] = 1.0 if abstained == (not item.answerable) else 0.0
    metrics["score"] = question_score(metrics)
    return metrics


def question_score(metrics: dict[str, Any]) -> float | None:
    """One number per question to rank the worst: the mean of answer quality, retrieval and
    grounding where known, and of whether it (correctly) abstained."""
    retrieval = metrics.get("page.mrr", metrics.get("doc.mrr"))
    answer = metrics.get("fact_coverage")
    if answer is None:
        answer = metrics.get("sentence_f1")
    if answer is None:
        answer = metrics.get("token_f1")
    parts = [answer, retrieval, metrics.get("groundedness"), metrics.get("abstention_correct")]
    return mean(parts)


METRIC_ORDER = [
    "doc.hit@1", "doc.hit@3", "doc.hit@5", "doc.hit@10",
    "doc.recall@1", "doc.recall@3", "doc.recall@5", "doc.recall@10", "doc.mrr", "doc.ndcg@10",
    "page.hit@1", "page.hit@3", "page.hit@5", "page.hit@10",
    "page.recall@1", "page.recall@3", "page.recall@5", "page.recall@10", "page.mrr",
    "page.ndcg@10",
    "fact_coverage", "token_f1", "sentence_f1", "citation_precision", "groundedness",
    "abstention_correct", "score",
]  # fmt: skip


def aggregate_group(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means of every metric (over the questions where it is defined), abstention P/R, latency."""
    ok = [r for r in rows if not r.get("error")]
    out: dict[str, Any] = {"n": len(rows), "errors": len(rows) - len(ok)}
    keys = [k for k in METRIC_ORDER if any(r.get(k) is not None for r in ok)]
    for key in keys:
        out[key] = mean(r.get(key) for r in ok)
    out.update(abstention_scores((bool(r["answerable"]), bool(r["abstained"])) for r in ok))
    out["abstention_rate"] = mean(1.0 if r["abstained"] else 0.0 for r in ok)
    latencies = [float(r["latency"]) for r in ok if r.get("latency") is not None]
    out["latency_p50"] = percentile(latencies, 50)
    out["latency_p95"] = percentile(latencies, 95)
    out["latency_mean"] = mean(latencies)
    return out


def aggregate(per_question: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rows = [{**q["metrics"], "kind": q.get("kind")} for q in per_question]
    kinds = sorted({str(r["kind"]) for r in rows})
    return {
        "overall": aggregate_group(rows),
        "by_kind": {k: aggregate_group([r for r in rows if str(r["kind"]) == k]) for k in kinds},
    }


# -- the run -----------------------------------------------------------------------------------
def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """Finished results by id; a line cut off by a kill is dropped."""
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "id" in row:
            done[str(row["id"])] = row
    return done


class RunDir:
    """The out dir of a run: meta, appended results, final JSON and report."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.results_path = out / RESULTS_FILE
        self.meta_path = out / META_FILE

    def prepare(self, meta: dict[str, Any], fresh: bool) -> dict[str, dict[str, Any]]:
        """Create or reopen the out dir; the results already there (none with `fresh`)."""
        self.out.mkdir(parents=True, exist_ok=True)
        if fresh:
            for name in (RESULTS_FILE, META_FILE, RUN_FILE, REPORT_FILE):
                (self.out / name).unlink(missing_ok=True)
        if self.meta_path.is_file():
            try:
                old = json.loads(self.meta_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                old = {}
            for key in ("dataset", "settings"):
                if old.get(key) != meta.get(key):
                    raise EvalInputError(
                        f"Im Ordner {self.out} liegt ein Lauf mit anderem Wert für '{key}'. "
                        "Neu beginnen mit --fresh oder ein anderes --out wählen."
                    )
        else:
            self.meta_path.write_text(
                json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        done = read_results(self.results_path)
        self._rewrite_clean(done)
        return done

    def _rewrite_clean(self, done: dict[str, dict[str, Any]]) -> None:
        """Drop a half-written last line so appends start on a fresh line."""
        if not self.results_path.is_file():
            return
        text = self.results_path.read_text(encoding="utf-8")
        if text and not text.endswith("\n") or len(text.splitlines()) != len(done):
            tmp = self.results_path.with_suffix(".tmp")
            tmp.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in done.values()),
                encoding="utf-8",
            )
            tmp.replace(self.results_path)

    def append(self, result: dict[str, Any]) -> None:
        with self.results_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(result, ensure_ascii=False) + "\n")
            handle.flush()


def pending_items(items: Iterable[EvalItem], done: dict[str, dict[str, Any]]) -> list[EvalItem]:
    """Items without a finished, error-free result for the same question text."""
    return [
        item
        for item in items
        if not (
            item.id in done
            and not done[item.id].get("error")
            and done[item.id].get("question") == item.question
        )
    ]


def run_items(
    assistant: AssistantLike,
    items: Sequence[EvalItem],
    run_dir: RunDir,
    on_result: Callable[[EvalItem, dict[str, Any]], None] | None = None,
) -> None:
    """Ask each item and append its result at once."""
    for item in items:
        result = ask_item(assistant, item)
        result["metrics"] = score_result(result, item)
        run_dir.append(result)
        if on_result:
            on_result(item, result)


def finish_run(items: Sequence[EvalItem], run_dir: RunDir, meta: dict[str, Any]) -> dict[str, Any]:
    """run.json's content: settings, aggregate and per-question results (rescored)."""
    done = read_results(run_dir.results_path)
    per_question = []
    for item in items:
        result = done.get(item.id)
        if result is None:
            continue
        result = dict(result)
        result["metrics"] = score_result(result, item)
        per_question.append(result)
    return {
        "dataset": meta.get("dataset"),
        "split": meta.get("split"),
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "settings": meta.get("settings"),
        "n_questions": len(items),
        "n_done": len(per_question),
        "aggregate": aggregate(per_question),
        "per_question": per_question,
    }


# -- feedback from the web app -----------------------------------------------------------------
def feedback_run(rows: Sequence[FeedbackRow], source: str) -> dict[str, Any]:
    """run.json for a feedback export: share of thumbs-down, grounding of the rated answers."""
    per_question: list[dict[str, Any]] = []
    for row in rows:
        scores = (
            citation_scores(row.answer, row.citations) if row.answer and not row.abstained else {}
        )
        per_question.append(
            {
                "id": row.id,
                "question": row.question,
                "kind": row.rating or "ohne Bewertung",
                "answer": row.answer,
                "citations": row.citations,
                "rating": row.rating,
                "abstained": row.abstained,
                "comment": row.comment,
                "timestamp": row.timestamp,
                "retrieved": [],
                "error": None,
                "metrics": {
                    "citation_precision": scores.get("citation_precision"),
                    "groundedness": scores.get("groundedness"),
                    "thumbs_down": 1.0 if row.rating == "down" else 0.0,
                },
            }
        )
    rated = [q for q in per_question if q["rating"]]
    down = [q for q in rated if q["rating"] == "down"]
    overall = {
        "n": len(per_question),
        "rated": len(rated),
        "thumbs_up": len(rated) - len(down),
        "thumbs_down": len(down),
        "thumbs_down_share": len(down) / len(rated) if rated else None,
        "citation_precision": mean(q["metrics"]["citation_precision"] for q in per_question),
        "groundedness": mean(q["metrics"]["groundedness"] for q in per_question),
    }
    return {
        "dataset": f"feedback:{source}",
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "settings": None,
        "n_questions": len(per_question),
        "n_done": len(per_question),
        "aggregate": {"overall": overall, "by_kind": {}},
        "feedback": {"thumbs_down": [q["id"] for q in down]},
        "per_question": per_question,
    }

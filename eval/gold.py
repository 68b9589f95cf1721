"""Evaluation items in one shape, whatever they come from: the corpus's gold YAML, a public
benchmark (see `eval.benchmarks`) or feedback exported from the web app."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from eval.metrics import GoldSource
from regiostrat.errors import RegioStratError
from regiostrat.types import Filters, Turn

UNANSWERABLE_KINDS = {"unanswerable", "unbeantwortbar"}


class EvalInputError(RegioStratError):
    """A gold set or feedback file that cannot be read; the message names file and entry."""


@dataclass
class EvalItem:
    """One question to evaluate, with everything known about the right answer."""

    id: str
    question: str
    kind: str = "fact"
    split: str | None = None
    history: list[Turn] = field(default_factory=list)
    sources: list[GoldSource] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    reference_sentences: list[str] = field(default_factory=list)
    answerable: bool = True
    filters: Filters | None = None
    origin: str = ""

    def gold_json(self) -> dict[str, Any]:
        """The gold side as JSON (stored with each result for the report)."""
        return {
            "sources": [{"file": s.file, "pages": list(s.pages)} for s in self.sources],
            "facts": self.facts,
            "references": self.references,
            "answerable": self.answerable,
        }


def subsample(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    """`limit` items spread evenly over the list (deterministic), so that a quick run sees all
    kinds of questions even when a file is sorted by kind; all items without a limit."""
    if not limit or limit >= len(items):
        return list(items)
    return [items[i * len(items) // limit] for i in range(limit)]


def gold_files(path: Path) -> list[Path]:
    """The YAML files of a gold set: the file itself, or all *.yaml/*.yml under a folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml"))
        if not files:
            raise EvalInputError(f"Im Ordner {path} gibt es keine Fragen-Dateien (*.yaml).")
        return files
    if not path.is_file():
        raise EvalInputError(f"Fragen-Datei nicht gefunden: {path}")
    return [path]


def _entries(path: Path) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{path}: Datei ist nicht UTF-8-kodiert.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", Zeile {mark.line + 1}" if mark is not None else ""
        raise EvalInputError(f"{path}{where}: kein gültiges YAML ({exc}).") from exc
    if data is None:
        return []
    if isinstance(data, dict) and isinstance(data.get("questions"), list):
        data = data["questions"]
    if not isinstance(data, list):
        raise EvalInputError(f"{path}: erwartet wird eine Liste von Fragen.")
    return data


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [str(value)]
    return [str(v) for v in value if v is not None and str(v).strip()]


def item_from_entry(entry: Any, path: Path, index: int) -> EvalItem:
    where = f"{path}, Eintrag {index + 1}"
    if not isinstance(entry, dict):
        raise EvalInputError(f"{where}: erwartet wird ein Objekt mit 'id' und 'question'.")
    for key in ("id", "question"):
        if not str(entry.get(key) or "").strip():
            raise EvalInputError(f"{where}: Feld '{key}' fehlt.")
    item_id = str(entry["id"])
    where = f"{path}, Frage {item_id}"
    kind = str(entry.get("kind") or "fact")
    sources = []
    for source in entry.get("sources") or []:
        if not isinstance(source, dict) or not source.get("file"):
            raise EvalInputError(f"{where}: Feld 'sources' braucht Einträge mit 'file'.")
        try:
            pages = tuple(int(p) for p in source.get("pages") or [])
        except (TypeError, ValueError) as exc:
            raise EvalInputError(f"{where}: Feld 'pages' muss Seitenzahlen enthalten.") from exc
        sources.append(GoldSource(str(source["file"]), pages))
    facts = []
    for fact in entry.get("facts") or []:
        alternatives = _str_list(fact)
        if alternatives:
            facts.append(alternatives)
    history = []
    for turn in entry.get("history") or []:
        if not isinstance(turn, dict) or not turn.get("question"):
            raise EvalInputError(f"{where}: Feld 'history' braucht Einträge mit 'question'.")
        history.append(Turn(question=str(turn["question"]), answer=str(turn.get("answer") or "")))
    answerable = entry.get("answerable")
    if answerable is None:
        answerable = kind.casefold() not in UNANSWERABLE_KINDS
    references = _str_list(entry.get("answers") or entry.get("answer"))
    filters = None
    if entry.get("filters"):
        try:
            filters = Filters.model_validate(entry["filters"])
        except ValueError as exc:
            raise EvalInputError(f"{where}: Feld 'filters' ungültig ({exc}).") from exc
    return EvalItem(
        id=item_id,
        question=str(entry["question"]).strip(),
        kind=kind,
        split=str(entry["split"]) if entry.get("split") else None,
        history=history,
        sources=sources,
        facts=facts,
        references=references,
        answerable=bool(answerable),
        filters=filters,
        origin=str(path),
    )


def load_gold(path: Path, split: str | None = None) -> list[EvalItem]:
    """All questions of a gold file or folder (optionally one split), ids unique."""
    items: list[EvalItem] = []
    seen: dict[str, tuple[str, str]] = {}
    for file in gold_files(path):
        for index, entry in enumerate(_entries(file)):
            item = item_from_entry(entry, file, index)
            if item.id in seen:
                first_file, first_question = seen[item.id]
                if first_question == item.question:
                    continue  # the same question in a combined file and its part
                raise EvalInputError(
                    f"{file}: Frage-ID {item.id} kommt doppelt vor (auch in {first_file})."
                )
            seen[item.id] = (str(file), item.question)
            if split is None or item.split == split:
                items.append(item)
    return items


# -- feedback from the web app -----------------------------------------------------------------
@dataclass
class FeedbackRow:
    """One rating given in the web app: the question, the answer shown, its citations."""

    id: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    rating: str  # "up", "down" or "" (unknown)
    comment: str = ""
    timestamp: str = ""
    abstained: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


_UP = {"up", "+1", "1", "true", "gut", "positive", "positiv", "like", "👍", "thumbs_up"}
_DOWN = {
    "down",
    "-1",
    "0",
    "false",
    "schlecht",
    "negative",
    "negativ",
    "dislike",
    "👎",
    "thumbs_down",
}


def normalize_rating(value: Any) -> str:
    if isinstance(value, bool):
        return "up" if value else "down"
    if isinstance(value, int | float):
        return "up" if value > 0 else "down"
    text = str(value or "").strip().casefold()
    if text in _UP:
        return "up"
    if text in _DOWN:
        return "down"
    return ""


def jsonl_objects(
    text: str, path: Path, error: type[RegioStratError] = EvalInputError
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of a JSONL text read from `path`; `error`
    naming the file and line for a line that is not a JSON object."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{path}, Zeile {number}: kein gültiges JSON ({exc.msg}).") from exc
        if not isinstance(row, dict):
            raise error(f"{path}, Zeile {number}: erwartet wird ein JSON-Objekt.")
        rows.append((number, row))
    return rows


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{path}: Datei ist nicht UTF-8-kodiert.") from exc
    return jsonl_objects(text, path)


def is_feedback_file(path: Path) -> bool:
    """A .jsonl whose first row has a `rating` field."""
    if path.suffix.lower() != ".jsonl" or not path.is_file():
        return False
    rows = _read_jsonl(path)
    return bool(rows) and "rating" in rows[0][1]


def _citations(value: Any) -> list[dict[str, Any]]:
    out = []
    for index, citation in enumerate(value or [], 1):
        if isinstance(citation, dict):
            c = dict(citation)
            c.setdefault("n", index)
            out.append(c)
    return out


def load_feedback(path: Path) -> list[FeedbackRow]:
    """Rows of a feedback export: question, answer, citations, rating up/down, comment (the
    web app's `FeedbackStore.export_jsonl`: rating +1/-1, created_at, abstained, settings)."""
    rows = []
    known = {
        "id",
        "question",
        "answer",
        "citations",
        "rating",
        "comment",
        "timestamp",
        "time",
        "created_at",
        "abstained",
    }
    for number, row in _read_jsonl(path):
        if not str(row.get("question") or "").strip():
            raise EvalInputError(f"{path}, Zeile {number}: Feld 'question' fehlt.")
        answer = row.get("answer")
        if isinstance(answer, dict):  # an exported Answer object
            citations = answer.get("citations") or row.get("citations")
            answer = answer.get("text") or ""
        else:
            citations = row.get("citations")
        rows.append(
            FeedbackRow(
                id=str(row.get("id") or number),
                question=str(row["question"]),
                answer=str(answer or ""),
                citations=_citations(citations),
                rating=normalize_rating(row.get("rating")),
                comment=str(row.get("comment") or ""),
                timestamp=str(
                    row.get("created_at") or row.get("timestamp") or row.get("time") or ""
                ),
                abstained=bool(row.get("abstained")),
                extra={k: v for k, v in row.items() if k not in known},
            )
        )
    return rows

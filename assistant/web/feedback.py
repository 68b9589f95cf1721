"""Feedback from practitioners on answers, stored for staff review (and read by `eval`).

One SQLite file (default `<data_dir>/feedback.sqlite`), one row per rated answer. A row holds
everything needed to judge the answer later without the app: the question, the answer text, its
citations (JSON), the rating (+1 thumbs up, -1 thumbs down), an optional comment, the settings
that produced the answer (JSON) and the time (ISO 8601, UTC).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from regiostrat.types import Citation

FEEDBACK_FILE = "feedback.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations_json TEXT NOT NULL DEFAULT '[]',
    settings_json TEXT NOT NULL DEFAULT '{}',
    abstained INTEGER NOT NULL DEFAULT 0,
    session TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created_at);
"""

_COLUMNS = (
    "id, created_at, updated_at, rating, comment, question, answer, citations_json, "
    "settings_json, abstained, session"
)


@dataclass(frozen=True)
class FeedbackRecord:
    """One stored rating. `rating` is +1 (hilfreich) or -1 (nicht hilfreich)."""

    id: int
    created_at: str
    updated_at: str
    rating: int
    comment: str
    question: str
    answer: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    abstained: bool = False
    session: str = ""

    @property
    def helpful(self) -> bool:
        return self.rating > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _rating(value: int | bool) -> int:
    if isinstance(value, bool):
        return 1 if value else -1
    if value not in (1, -1):
        raise ValueError("rating muss +1 (hilfreich) oder -1 (nicht hilfreich) sein")
    return int(value)


def _citations_json(citations: Iterable[Citation | Mapping[str, Any]]) -> str:
    dumped = [c.model_dump(mode="json") if isinstance(c, Citation) else dict(c) for c in citations]
    return json.dumps(dumped, ensure_ascii=False, default=str)


class FeedbackStore:
    """Thread-safe: one connection shared by the app's worker threads, guarded by a lock."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)

    def add(
        self,
        *,
        question: str,
        answer: str,
        rating: int | bool,
        citations: Sequence[Citation | Mapping[str, Any]] = (),
        comment: str = "",
        settings: Mapping[str, Any] | None = None,
        abstained: bool = False,
        session: str = "",
        created_at: str | None = None,
    ) -> int:
        """Store a rating; returns the row id (to attach a comment or change the rating)."""
        stamp = created_at or _now()
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO feedback (created_at, updated_at, rating, comment, question, answer, "
                "citations_json, settings_json, abstained, session) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stamp,
                    stamp,
                    _rating(rating),
                    comment.strip(),
                    question,
                    answer,
                    _citations_json(citations),
                    json.dumps(dict(settings or {}), ensure_ascii=False, default=str),
                    int(abstained),
                    session,
                ),
            )
            return int(cursor.lastrowid or 0)

    def update(
        self, feedback_id: int, *, rating: int | bool | None = None, comment: str | None = None
    ) -> bool:
        """Change the rating or the comment of a stored row; False when it does not exist."""
        sets, args = ["updated_at=?"], [_now()]
        if rating is not None:
            sets.append("rating=?")
            args.append(str(_rating(rating)))
        if comment is not None:
            sets.append("comment=?")
            args.append(comment.strip())
        with self._lock:
            cursor = self._conn.execute(
                f"UPDATE feedback SET {', '.join(sets)} WHERE id=?", (*args, feedback_id)
            )
            return cursor.rowcount > 0

    def get(self, feedback_id: int) -> FeedbackRecord | None:
        rows = self._select("WHERE id=?", (feedback_id,))
        return rows[0] if rows else None

    def all(self) -> list[FeedbackRecord]:
        """Every row, oldest first."""
        return self._select("", ())

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def export_jsonl(self, path: Path | str) -> int:
        """Write all rows as JSON lines (UTF-8); returns the number of rows written."""
        records = self.all()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        return len(records)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _select(self, where: str, args: tuple[Any, ...]) -> list[FeedbackRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM feedback {where} ORDER BY id", args
            ).fetchall()
        return [
            FeedbackRecord(
                id=r[0],
                created_at=r[1],
                updated_at=r[2],
                rating=int(r[3]),
                comment=r[4],
                question=r[5],
                answer=r[6],
                citations=json.loads(r[7]),
                settings=json.loads(r[8]),
                abstained=bool(r[9]),
                session=r[10],
            )
            for r in rows
        ]

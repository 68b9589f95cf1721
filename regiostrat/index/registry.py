"""The document registry (SQLite): which files are indexed as which document, with which chunks.

Documents are keyed by content (file hash + chunking signature), sources by absolute path. A
document is `pending` while its chunks are being stored and `complete` afterwards, so a run killed
half-way is finished by the next one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from regiostrat.index import sqlite
from regiostrat.types import DocumentMeta

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    meta_json TEXT NOT NULL,
    meta_hash TEXT NOT NULL,
    n_pages INTEGER NOT NULL,
    n_chunks INTEGER NOT NULL,
    status TEXT NOT NULL,
    warnings_json TEXT NOT NULL DEFAULT '[]',
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_doc ON sources(doc_id);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    title: str
    format: str
    meta: DocumentMeta
    meta_hash: str
    n_pages: int
    n_chunks: int
    status: str
    warnings: list[str]
    ingested_at: float
    sources: list[str]


@dataclass(frozen=True)
class SourceRecord:
    path: str
    source: str
    doc_id: str
    file_hash: str
    size: int
    mtime: float


class Registry:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite.connect(path)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite.transaction(self._conn, self._lock)

    def close(self) -> None:
        self._conn.close()

    # -- info -------------------------------------------------------------------------------
    def info(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT key, value FROM info").fetchall())

    def set_info(self, values: dict[str, str]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO info(key, value) VALUES (?, ?)", list(values.items())
            )

    def clear_info(self) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM info")

    # -- sources ----------------------------------------------------------------------------
    def source(self, path: str) -> SourceRecord | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT path, source, doc_id, file_hash, size, mtime FROM sources WHERE path=?",
                (path,),
            ).fetchone()
        return SourceRecord(*row) if row else None

    def all_sources(self) -> list[SourceRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT path, source, doc_id, file_hash, size, mtime FROM sources ORDER BY source"
            ).fetchall()
        return [SourceRecord(*r) for r in rows]

    def set_source(self, record: SourceRecord) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.path,
                    record.source,
                    record.doc_id,
                    record.file_hash,
                    record.size,
                    record.mtime,
                ),
            )

    def remove_source(self, path: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM sources WHERE path=?", (path,))

    def source_count(self, doc_id: str) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM sources WHERE doc_id=?", (doc_id,)
            ).fetchone()
        return int(row[0])

    # -- documents --------------------------------------------------------------------------
    def document(self, doc_id: str) -> DocumentRecord | None:
        docs = self._documents("WHERE d.doc_id=?", (doc_id,))
        return docs[0] if docs else None

    def documents(self) -> list[DocumentRecord]:
        return self._documents("", ())

    def _documents(self, where: str, args: tuple[str, ...]) -> list[DocumentRecord]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT d.doc_id, d.title, d.format, d.meta_json, d.meta_hash, d.n_pages, "
                "d.n_chunks, d.status, d.warnings_json, d.ingested_at, "
                "(SELECT json_group_array(s.source) FROM "
                " (SELECT source FROM sources WHERE doc_id=d.doc_id ORDER BY source) s) "
                f"FROM documents d {where} ORDER BY d.title",
                args,
            ).fetchall()
        return [
            DocumentRecord(
                doc_id=r[0],
                title=r[1],
                format=r[2],
                meta=DocumentMeta.model_validate_json(r[3]),
                meta_hash=r[4],
                n_pages=r[5],
                n_chunks=r[6],
                status=r[7],
                warnings=json.loads(r[8]),
                ingested_at=r[9],
                sources=json.loads(r[10]),
            )
            for r in rows
        ]

    def begin_document(
        self,
        doc_id: str,
        title: str,
        fmt: str,
        meta: DocumentMeta,
        meta_hash: str,
        n_pages: int,
        chunk_ids: list[str],
        warnings: list[str],
    ) -> None:
        """Record a document as pending, with the chunk ids about to be stored."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (
                    doc_id,
                    title,
                    fmt,
                    meta.model_dump_json(),
                    meta_hash,
                    n_pages,
                    len(chunk_ids),
                    json.dumps(warnings, ensure_ascii=False),
                    time.time(),
                ),
            )
            conn.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            conn.executemany(
                "INSERT OR REPLACE INTO chunks VALUES (?, ?)", [(c, doc_id) for c in chunk_ids]
            )

    def complete_document(self, doc_id: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE documents SET status='complete', ingested_at=? WHERE doc_id=?",
                (time.time(), doc_id),
            )

    def chunk_ids(self, doc_id: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,)
            ).fetchall()
        return [r[0] for r in rows]

    def all_chunk_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._conn.execute("SELECT chunk_id FROM chunks")}

    def delete_document(self, doc_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            conn.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            conn.execute("DELETE FROM sources WHERE doc_id=?", (doc_id,))

    def pending_documents(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT doc_id FROM documents WHERE status='pending'"
            ).fetchall()
        return [r[0] for r in rows]

"""The lexical (keyword) index: SQLite FTS5 over the German analyzer's terms, ranked with BM25.

It holds the same chunks as Chroma, under the same ids, and is updated by every ingest run. Each
chunk is one row of `chunks` (its metadata for filtering and its analysed text as space-separated
terms) and one row of `chunk_texts` (its text, under the same rowid: a table of its own keeps the
rows the searches read small). The texts live here rather than in Chroma, whose full-text index
of stored documents doubled the cost of writing a chunk and is never used. `chunks_fts` is an
external-content FTS5 index over the terms, kept in step by triggers, so inserting, replacing or
deleting a row is all it takes. FTS5 only splits the terms on spaces (tokenizer unicode61); all
linguistics happen in `regiostrat.index.analyzer`, for chunks and queries alike.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from regiostrat.errors import IndexMismatchError
from regiostrat.index import sqlite
from regiostrat.index.analyzer import analyze
from regiostrat.types import Chunk, Filters

SCHEMA_VERSION = 3  # 3: chunk texts here (in `chunk_texts`); 1 kept them in Chroma
# Queries are cut to this many distinct terms (a pasted document must not become a huge query).
MAX_QUERY_TERMS = 256
# Filters whose matching chunk ids are kept in memory (until the index changes).
ID_CACHE_SIZE = 64

_DELETE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS chunks_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, terms) VALUES ('delete', old.rowid, old.terms);
    DELETE FROM chunk_texts WHERE rowid = old.rowid;
END;
"""

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    project TEXT,
    doc_type TEXT NOT NULL,
    date TEXT,
    themes TEXT NOT NULL,
    terms TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunk_texts (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc_id ON chunks (doc_id);
CREATE INDEX IF NOT EXISTS chunks_project ON chunks (project, id);
CREATE INDEX IF NOT EXISTS chunks_doc_type ON chunks (doc_type, id);
CREATE INDEX IF NOT EXISTS chunks_date ON chunks (date, id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 (
    terms, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS chunks_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, terms) VALUES (new.rowid, new.terms);
END;
CREATE TRIGGER IF NOT EXISTS chunks_update AFTER UPDATE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, terms) VALUES ('delete', old.rowid, old.terms);
    INSERT INTO chunks_fts (rowid, terms) VALUES (new.rowid, new.terms);
END;
"""
    + _DELETE_TRIGGER
)

_UPSERT = """
INSERT INTO chunks (id, doc_id, source, project, doc_type, date, themes, terms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    doc_id = excluded.doc_id, source = excluded.source, project = excluded.project,
    doc_type = excluded.doc_type, date = excluded.date, themes = excluded.themes,
    terms = excluded.terms
"""
_UPSERT_TEXT = """
INSERT OR REPLACE INTO chunk_texts (rowid, text) SELECT rowid, ? FROM chunks WHERE id = ?
"""
_TEXTS_PER_QUERY = 500  # ids per `IN (...)` (SQLite allows 32766 parameters)


def index_terms(text: str, split_compounds: bool = True) -> str:
    """A chunk text as the lexical index stores it: its analysed terms, space-separated."""
    return " ".join(analyze(text, split_compounds))


class LexicalIndex:
    """A persistent BM25 keyword index of chunks in one SQLite file.

    One connection serves all threads, behind a lock; other processes (an ingest run beside the
    web app) may read and write the same file, as SQLite's WAL mode allows.
    """

    def __init__(
        self,
        path: Path,
        split_compounds: bool = True,
        legacy_texts: Callable[[Sequence[str]], dict[str, str]] | None = None,
    ) -> None:
        """`legacy_texts` reads chunk texts by id from where schema 1 kept them (Chroma): an
        index of that version is then brought to this one in place, without re-embedding (see
        `_migrate`)."""
        self.path = Path(path)
        self.split_compounds = split_compounds
        self._legacy_texts = legacy_texts
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._id_cache: OrderedDict[str, tuple[tuple[int, int], list[str]]] = OrderedDict()
        self._conn = sqlite.connect(self.path, timeout=30.0)
        try:
            self._check_schema()
        except BaseException:
            self._conn.close()
            raise

    def _analyzer_name(self) -> str:
        return "de-snowball-compounds" if self.split_compounds else "de-snowball"

    def _check_schema(self) -> None:
        """Create the tables if missing; refuse a file of another schema or analyzer."""
        expected = {"schema_version": str(SCHEMA_VERSION), "analyzer": self._analyzer_name()}
        with self._lock:
            self._conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
        self._migrate()
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", expected.items()
            )
            found = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        for key, value in expected.items():
            if found[key] != value:
                raise IndexMismatchError(
                    f"Der Stichwortindex {self.path} passt nicht zu dieser Version ({key}: "
                    f"{found[key]!r} statt {value!r}). Bitte den Index neu aufbauen."
                )

    def _migrate(self) -> None:
        """Bring an index of an earlier schema to this one in place: 1 kept the chunk texts in
        Chroma only (copied over by `legacy_texts`), 2 in a column of `chunks`."""
        if self._schema_version() not in ("1", "2"):
            return  # the usual case: no write lock taken just to look
        with self._transaction() as conn:
            version = self._schema_version()
            if version == "1" and self._legacy_texts is not None:
                ids = [r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY rowid")]
                for start in range(0, len(ids), _TEXTS_PER_QUERY):
                    texts = self._legacy_texts(ids[start : start + _TEXTS_PER_QUERY])
                    conn.executemany(_UPSERT_TEXT, [(t, i) for i, t in texts.items()])
            elif version == "2":
                conn.execute("INSERT INTO chunk_texts (rowid, text) SELECT rowid, text FROM chunks")
                conn.execute("ALTER TABLE chunks DROP COLUMN text")
            else:
                return
            conn.execute("DROP TRIGGER IF EXISTS chunks_delete")  # now deletes the text too
            conn.execute(_DELETE_TRIGGER)
            conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
            )
        with self._lock, contextlib.suppress(sqlite3.OperationalError):  # busy: another time
            self._conn.execute("VACUUM")  # the rewritten rows left a third of the file empty

    def _schema_version(self) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
        return str(row[0]) if row else None

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite.transaction(self._conn, self._lock)

    def upsert(self, chunks: list[Chunk], terms: Sequence[str] | None = None) -> None:
        """Add chunks, replacing those with the same id. `terms`: each chunk's `index_terms`,
        when computed already (by a parse worker)."""
        if terms is None:
            terms = [index_terms(chunk.text, self.split_compounds) for chunk in chunks]
        rows = [
            (
                chunk.id,
                chunk.doc_id,
                chunk.source,
                chunk.meta.project,
                chunk.meta.doc_type,
                chunk.meta.date.isoformat() if chunk.meta.date else None,
                json.dumps(chunk.meta.themes, ensure_ascii=False),
                chunk_terms,
            )
            for chunk, chunk_terms in zip(chunks, terms, strict=True)
        ]
        with self._transaction() as conn:
            conn.executemany(_UPSERT, rows)
            conn.executemany(_UPSERT_TEXT, [(chunk.text, chunk.id) for chunk in chunks])

    def delete_ids(self, ids: list[str]) -> None:
        """Remove chunks by id (unknown ids are ignored)."""
        with self._transaction() as conn:
            conn.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in ids])

    def delete_documents(self, doc_ids: list[str]) -> None:
        """Remove all chunks of the given documents."""
        with self._transaction() as conn:
            conn.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in doc_ids])

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """The texts of the chunks with these ids (unknown ids are left out)."""
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(ids), _TEXTS_PER_QUERY):
                part = list(ids[start : start + _TEXTS_PER_QUERY])
                marks = ",".join("?" * len(part))
                query = (
                    "SELECT c.id, t.text FROM chunks AS c JOIN chunk_texts AS t "
                    f"ON t.rowid = c.rowid WHERE c.id IN ({marks})"
                )
                found.update(self._conn.execute(query, part).fetchall())
        return found

    def ids(self) -> set[str]:
        """The ids of all indexed chunks."""
        with self._lock:
            return {row[0] for row in self._conn.execute("SELECT id FROM chunks")}

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def matching_ids(self, filters: Filters) -> list[str]:
        """The ids of all chunks that pass `filters`, in a stable order.

        Remembered per filter until this index changes (in this process or another one), so
        the dense search of the next question with the same filter does not ask SQLite again.
        """
        key = filters.model_dump_json()
        with self._lock:
            # `data_version` counts other connections' commits, `total_changes` this one's rows
            data_version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            version = (data_version, self._conn.total_changes)
            cached = self._id_cache.get(key)
            if cached is not None and cached[0] == version:
                self._id_cache.move_to_end(key)
                return cached[1]
            where, params = _filter_sql(filters)
            ids = [
                row[0]
                for row in self._conn.execute(
                    f"SELECT c.id FROM chunks AS c WHERE 1{where} ORDER BY c.id", params
                )
            ]
            self._id_cache[key] = (version, ids)
            while len(self._id_cache) > ID_CACHE_SIZE:
                self._id_cache.popitem(last=False)
            return ids

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The best `k` chunks for `query` as (chunk id, BM25 score), best first.

        Any of the query's terms may match. A query of stop words or punctuation only finds
        nothing. With a date filter, chunks without a date are left out.
        """
        terms = list(dict.fromkeys(analyze(query, self.split_compounds)))[:MAX_QUERY_TERMS]
        if not terms or k <= 0:
            return []
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        where, params = _filter_sql(filters or Filters())
        sql = (
            "SELECT c.id, -bm25(chunks_fts) AS score FROM chunks_fts "
            "JOIN chunks AS c ON c.rowid = chunks_fts.rowid "
            f"WHERE chunks_fts MATCH ?{where} ORDER BY score DESC, c.id LIMIT ?"
        )
        with self._lock:
            rows = self._conn.execute(sql, [match, *params, k]).fetchall()
        return [(chunk_id, float(score)) for chunk_id, score in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> LexicalIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _filter_sql(filters: Filters) -> tuple[str, list[str]]:
    """SQL conditions on `chunks AS c` (each starting with AND) and their parameters."""
    where: list[str] = []
    params: list[str] = []

    def any_of(column: str, values: list[str]) -> None:
        where.append(f"{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)

    if filters.projects:
        any_of("c.project", filters.projects)
    if filters.doc_types:
        any_of("c.doc_type", filters.doc_types)
    if filters.themes:
        where.append(
            "EXISTS (SELECT 1 FROM json_each(c.themes) WHERE value IN "
            f"({', '.join('?' * len(filters.themes))}))"
        )
        params.extend(filters.themes)
    if filters.date_from:
        where.append("c.date >= ?")
        params.append(filters.date_from.isoformat())
    if filters.date_to:
        where.append("c.date <= ?")
        params.append(filters.date_to.isoformat())
    return "".join(f" AND {w}" for w in where), params

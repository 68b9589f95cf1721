"""The SQLite set-up the registry and the lexical index share."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """One connection for all threads (callers serialise with a lock), in WAL mode, so other
    processes (an ingest run beside the web app) may read and write the same file.

    WAL with NORMAL sync cannot corrupt the file; a power cut may lose the last transactions,
    which the pending-document recovery of the next ingest run handles.
    """
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """One write transaction (taken at once, so concurrent writers wait, not fail later)."""
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def remove(path: Path) -> None:
    """Delete a database file with its WAL and shared-memory files (none may be open)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

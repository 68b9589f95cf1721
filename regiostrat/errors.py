"""Errors the product reports to people, and the one place that turns them into messages.

Every error a user can cause (a bad file, a bad manifest, a missing index, an unreachable server)
is a `RegioStratError` with a German message naming the file or field. `user_message` renders any
exception for the CLI and the web app, so no stack trace reaches a practitioner.
"""

from __future__ import annotations

from pathlib import Path


class RegioStratError(Exception):
    """Base class: `str(error)` is a complete German message for the user."""


class IngestError(RegioStratError):
    """A file could not be ingested. The run continues with the other files."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[IngestError], tuple[str, str]]:
        # rebuilt from both fields when it crosses from a parse worker (see ingest.prefetch)
        return type(self), (self.path, self.reason)


class NotSearchableError(IngestError):
    """A scan without a text layer (and no OCR available): reported, not a failure."""


class ManifestError(RegioStratError):
    """An invalid manifest entry, with the line and field named."""

    def __init__(self, path: Path | str, line: int | None, field: str | None, reason: str) -> None:
        self.path, self.line, self.field, self.reason = str(path), line, field, reason
        where = f"{self.path}" + (f", Zeile {line}" if line else "")
        what = f", Feld '{field}'" if field else ""
        super().__init__(f"Manifest {where}{what}: {reason}")


class IndexMismatchError(RegioStratError):
    """The index was built with another embedder or chunking than the one configured."""


class IndexMissingError(RegioStratError):
    """There is no index yet."""


class ConfigError(RegioStratError):
    """A setting has a value that cannot work."""


class LLMError(RegioStratError):
    """The LLM server failed, timed out or answered garbage."""


def user_message(exc: BaseException) -> str:
    """A German message for any exception, without a stack trace."""
    if isinstance(exc, RegioStratError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"Datei nicht gefunden: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"Keine Berechtigung: {exc.filename or exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "Abgebrochen."
    return f"Unerwarteter Fehler ({type(exc).__name__}): {exc}"

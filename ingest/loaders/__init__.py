"""Turn a file into a `Document`: one entry point that dispatches on the file suffix.

Every problem with a file (too large, empty, encrypted, corrupt, undecodable, no text) is an
`IngestError` with a short German reason; the ingestion run reports it and goes on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from regiostrat.errors import IngestError
from regiostrat.settings import IngestSettings
from regiostrat.types import Document

from .docx import load_docx
from .html import load_html
from .pdf import load_pdf
from .text import load_text

_FORMATS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_FORMATS)
"""Lower-case file suffixes `load_document` reads."""

_LABELS = {
    "pdf": "PDF",
    "docx": "DOCX-Datei",
    "html": "HTML-Datei",
    "md": "Markdown-Datei",
    "txt": "Textdatei",
}
_MAX_DETAIL = 160


def load_document(path: Path, settings: IngestSettings, source: str | None = None) -> Document:
    """Load a supported file as an uncleaned `Document` (see `ingest.clean`).

    `source` is recorded as the document's source; it defaults to the path in POSIX form.
    """
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(path, f"Dateiformat '{path.suffix or path.name}' wird nicht unterstützt")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(path, f"Datei nicht lesbar ({exc.strerror or exc})") from exc
    limit = settings.max_file_mb * 1024 * 1024
    if size > limit:
        actual, allowed = _mb(size / 1024 / 1024), _mb(settings.max_file_mb)
        raise IngestError(path, f"Datei zu groß ({actual} MB, Grenze {allowed} MB)")
    if size == 0:
        raise IngestError(path, "Datei ist leer")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"Datei nicht lesbar ({exc.strerror or exc})") from exc

    try:
        document = _parse(fmt, path, data, settings)
    except IngestError:
        raise
    except Exception as exc:  # any parser failure means the file is damaged
        detail = " ".join(str(exc).split())[:_MAX_DETAIL] or type(exc).__name__
        raise IngestError(path, f"{_LABELS[fmt]} ist beschädigt: {detail}") from exc

    if not any(block.text.strip() for page in document.pages for block in page.blocks):
        raise IngestError(path, "kein Text im Dokument gefunden")
    return document.model_copy(
        update={
            "source": source if source is not None else path.as_posix(),
            "title": " ".join(document.title.split()) or path.stem,
            "content_hash": hashlib.sha256(data).hexdigest(),
        }
    )


def _parse(fmt: str, path: Path, data: bytes, settings: IngestSettings) -> Document:
    match fmt:
        case "pdf":
            return load_pdf(path, data, settings)
        case "docx":
            return load_docx(path, data)
        case "html":
            return load_html(path, data)
        case _:
            return load_text(path, data, markdown=fmt == "md")


def _mb(value: float) -> str:
    """A size in MB the German way: "123", "1,5", "0,001"."""
    return (f"{value:.0f}" if value >= 10 else f"{value:.2g}").replace(".", ",")

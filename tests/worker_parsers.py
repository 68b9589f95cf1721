"""Parse functions for `ParsePrefetcher` tests; a module of their own, so spawned workers can
import them by name."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.prefetch import parse_file
from regiostrat.settings import IngestSettings
from regiostrat.types import Document


def crash_on_marked_files(path: Path, settings: IngestSettings, source: str) -> Document:
    """`parse_file`, but the process dies (as on a parser segfault) on files named crash*."""
    if path.name.startswith("crash"):
        os._exit(3)
    return parse_file(path, settings, source)


def report_priority(path: Path, settings: IngestSettings, source: str) -> Document:
    """`parse_file`, with the worker's nice value as the document title."""
    document = parse_file(path, settings, source)
    return document.model_copy(update={"title": str(os.nice(0))})

"""State shared by all browser sessions: the Assistant, the feedback store and file links.

`WebBackend` opens the shared `Assistant` lazily (and retries every `RETRY_OPEN_S` seconds while
the index is missing), so the app starts without an index and shows how to build one. It also
answers what the UI needs to know about the index: documents, filter choices, the status line and
the settings stored with feedback. Safe to call from the queue's worker threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.web import render
from assistant.web.feedback import FEEDBACK_FILE, FeedbackStore
from assistant.web.files import FileLinker
from assistant.web.filters import FilterChoices, filter_choices
from regiostrat.errors import IndexMissingError, user_message
from regiostrat.index.registry import DocumentRecord
from regiostrat.settings import Settings
from regiostrat.types import Filters

log = logging.getLogger(__name__)

RETRY_OPEN_S = 5.0

AssistantFactory = Callable[[Settings], Any]


def build_command(settings: Settings) -> str:
    command = render.BUILD_COMMAND
    if Path(settings.paths.data_dir) != Path("data"):
        command += f" --index {settings.paths.data_dir}"
    return command


class WebBackend:
    """The shared Assistant (opened lazily, retried while the index is missing), feedback store
    and file links. All methods are safe to call from the queue's worker threads."""

    def __init__(self, settings: Settings, assistant_factory: AssistantFactory | None = None):
        self.settings = settings
        self._factory = assistant_factory or _open_assistant
        self._lock = threading.Lock()
        self._assistant: Any = None
        self._error: BaseException | None = None
        self._tried_at = 0.0
        self._linker: FileLinker | None = None
        self.feedback = FeedbackStore(Path(settings.paths.data_dir) / FEEDBACK_FILE)

    # the assistant --------------------------------------------------------------------------
    def assistant(self) -> Any:
        """The open Assistant, or None (then `status()` says why)."""
        if self._assistant is not None:
            return self._assistant
        with self._lock:
            if self._assistant is None and time.monotonic() - self._tried_at >= RETRY_OPEN_S:
                self._tried_at = time.monotonic()
                try:
                    self._assistant = self._factory(self.settings)
                    self._error = None
                    self._linker = None
                except Exception as exc:  # noqa: BLE001 - shown to the user as a status
                    if not isinstance(exc, IndexMissingError):
                        log.exception("Assistent konnte nicht geöffnet werden")
                    self._error = exc
        return self._assistant

    def close(self) -> None:
        with self._lock:
            if self._assistant is not None and hasattr(self._assistant, "close"):
                self._assistant.close()
            self._assistant = None
        self.feedback.close()

    # what the index holds ------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        assistant = self.assistant()
        if assistant is None:
            return []
        try:
            return list(assistant.store.registry.documents())
        except Exception:  # noqa: BLE001
            log.exception("Dokumentliste nicht lesbar")
            return []

    def index_info(self) -> dict[str, str]:
        assistant = self.assistant()
        if assistant is None:
            return {}
        try:
            return dict(assistant.store.info())
        except Exception:  # noqa: BLE001
            return {}

    def choices(self) -> FilterChoices:
        return filter_choices(self.documents())

    def linker(self) -> FileLinker:
        if self._linker is None:
            known: dict[str, str] = {}
            assistant = self.assistant()
            if assistant is not None:
                try:
                    known = {s.source: s.path for s in assistant.store.registry.all_sources()}
                except Exception:  # noqa: BLE001
                    known = {}
            self._linker = FileLinker(
                self.settings.paths.corpus_dirs, self.settings.ui.root_path, known
            )
        return self._linker

    def link(self, source: str, page: int | None) -> str | None:
        return self.linker().url(source, page)

    def status(self) -> str:
        """The status line: ready (with counts), index missing/empty (with the build command)."""
        assistant = self.assistant()
        command = build_command(self.settings)
        if assistant is None:
            if self._error is None or isinstance(self._error, IndexMissingError):
                return render.status_html(
                    "warnung",
                    "Noch kein Index vorhanden: Fragen können erst beantwortet werden, wenn die "
                    "Dokumente eingelesen sind. Index aufbauen mit",
                    command,
                )
            return render.status_html(
                "fehler", f"Der Index kann nicht geöffnet werden: {user_message(self._error)}"
            )
        docs = self.documents()
        if not docs:
            return render.status_html(
                "warnung", "Der Index ist leer. Dokumente einlesen mit", command
            )
        projects = {d.meta.project for d in docs if d.meta.project}
        stamp = render.format_timestamp(self.index_info().get("updated_at"))
        text = f"Bereit: {len(docs)} Dokumente"
        if projects:
            text += f" aus {len(projects)} Modellvorhaben"
        if stamp:
            text += f", Index vom {stamp}"
        return render.status_html("ok", text + ".")

    def not_ready_message(self) -> str:
        """Why a question cannot be answered yet (index missing or not readable)."""
        error = self._error
        if error is None or isinstance(error, IndexMissingError):
            return (
                "Es gibt noch keinen Index, deshalb kann ich noch nicht antworten. "
                f"Index aufbauen mit: {build_command(self.settings)}"
            )
        return f"Der Index kann nicht geöffnet werden: {user_message(error)}"

    def relevant_settings(self, filters: Filters | None = None) -> dict[str, Any]:
        """The settings that shaped an answer, stored with feedback."""
        s = self.settings
        info = self.index_info()
        values: dict[str, Any] = {
            "embedder": {"backend": s.embedder.backend, "name": info.get("embedder_name")},
            "retrieval": s.retrieval.model_dump(mode="json"),
            "answer": s.answer.model_dump(mode="json"),
            "chunking": info.get("chunking"),
            "index_updated_at": info.get("updated_at"),
        }
        if s.answer.backend == "llm":
            values["llm"] = {"model": s.llm.model, "base_url": s.llm.base_url}
        if filters is not None and not filters.is_empty():
            values["filters"] = filters.model_dump(mode="json")
        return values


def _open_assistant(settings: Settings) -> Any:
    from assistant.service import Assistant

    return Assistant.open(settings)

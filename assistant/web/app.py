"""The browser app for practitioners: a Gradio UI mounted on FastAPI, next to the file route.

The Gradio layer holds no retrieval or answer logic: handlers call the shared `Assistant` and
format its `Answer` with `assistant.web.render`. Each browser session has its own conversation
(`gr.State`); the queue runs up to `settings.ui.concurrency` answers at the same time, so one slow
answer does not block other users. Exceptions become German messages (`user_message`), never a
stack trace in the page.

    app = create_app(settings)            # FastAPI app: Gradio UI at "/", originals at /datei/…
    blocks = build_app(settings)          # only the gr.Blocks (for tests or custom wiring)
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request

from assistant.web import render
from assistant.web.feedback import FEEDBACK_FILE, FeedbackStore
from assistant.web.files import FileLinker, file_router
from assistant.web.filters import FilterChoices, filter_choices, parse_filters
from regiostrat.errors import ConfigError, IndexMissingError, user_message
from regiostrat.index.registry import DocumentRecord
from regiostrat.settings import Settings
from regiostrat.types import Answer, Filters, Turn

log = logging.getLogger(__name__)

APP_TITLE = "RegioStrat-Assistent"
EXAMPLE_QUESTIONS = [
    "Wie haben die Modellvorhaben ihre Regionalanalyse erstellt?",
    "Welche Erfahrungen gab es mit Online-Beteiligung?",
    "Was bedeutet SREK?",
    "Welche Erfahrungen gibt es mit Rufbussen?",
]
RETRY_OPEN_S = 5.0
CSS_PATH = Path(__file__).with_name("style.css")
CONCURRENCY_ID = "antworten"
AUTH_MESSAGE = "Bitte melden Sie sich an. Zugangsdaten erhalten Sie von der Programmbegleitung."

AssistantFactory = Callable[[Settings], Any]

# Click on [n] in an answer: open the source in the panel (also inside collapsed earlier answers),
# scroll it into view and let it light up briefly.
HEAD_JS = """
<script>
(function () {
  function zeigeQuelle(id) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    var d = el.closest('details');
    while (d) { d.open = true; d = d.parentElement ? d.parentElement.closest('details') : null; }
    var box = el.closest('.quellen');
    if (box && box.scrollHeight > box.clientHeight + 2) {
      var top = el.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTo({top: box.scrollTop + top - 8, behavior: 'smooth'});
      var r = box.getBoundingClientRect();
      if (r.top < 0 || r.top > window.innerHeight - 120) {
        box.scrollIntoView({behavior: 'smooth', block: 'nearest'});
      }
    } else {
      el.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    }
    el.classList.remove('aufleuchten');
    void el.offsetWidth;
    el.classList.add('aufleuchten');
    return true;
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#quelle-"]') : null;
    if (!a) { return; }
    if (zeigeQuelle(a.getAttribute('href').slice(1))) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }, true);
})();
</script>
"""


def build_command(settings: Settings) -> str:
    command = render.BUILD_COMMAND
    if Path(settings.paths.data_dir) != Path("data"):
        command += f" --index {settings.paths.data_dir}"
    return command


# -- state shared by all sessions ------------------------------------------------------------------
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

    @property
    def error(self) -> BaseException | None:
        """Why the assistant could not be opened (None: not tried yet or open)."""
        return self._error

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


# -- per-session conversation ----------------------------------------------------------------------
@dataclass
class TurnRecord:
    question: str
    message_index: int
    answer: Answer | None = None
    filters: Filters | None = None
    feedback_id: int | None = None


class Conversation:
    """One browser session's conversation (kept server-side in gr.State)."""

    def __init__(self) -> None:
        self.session = uuid.uuid4().hex[:12]
        self.turns: list[TurnRecord] = []
        self.feedback_target: int | None = None

    def history(self) -> list[Turn]:
        return [
            Turn(question=t.question, answer=t.answer.text)
            for t in self.turns
            if t.answer is not None and not t.answer.abstained
        ]

    def views(self) -> list[render.TurnView]:
        return [render.TurnView(t.question, t.answer, i) for i, t in enumerate(self.turns)]

    def turn_at_message(self, index: int) -> TurnRecord | None:
        for turn in self.turns:
            if turn.message_index == index:
                return turn
        return None


def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


# -- the handlers: per-session conversation in, formatted output out -------------------------------
class ChatHandlers:
    """What the UI's events do. No retrieval or answer logic: calls the Assistant, formats."""

    def __init__(self, backend: WebBackend) -> None:
        self.backend = backend

    def answer(
        self,
        text: str,
        chat: list[dict[str, Any]] | None,
        conv: Conversation | None,
        projects: list[str] | None = None,
        doc_types: list[str] | None = None,
        themes: list[str] | None = None,
        start: str | None = None,
        end: str | None = None,
        shown: bool = False,
    ) -> Iterator[tuple[list[dict[str, Any]], Conversation, str | None]]:
        """Streams (chat messages, conversation, new header or None) while answering.

        `shown`: the chat already ends with this question and the waiting message (`show`)."""
        backend = self.backend
        conv = conv if conv is not None else Conversation()
        text = (text or "").strip()
        chat = list(chat or [])
        if not text:
            return
        if not shown:
            chat = self.show(text, chat)
        turn = TurnRecord(question=text, message_index=len(chat) - 1)
        history = conv.history()
        conv.turns.append(turn)

        def show(content: str) -> None:
            chat[-1] = _message("assistant", content)

        filters, errors = parse_filters(projects, doc_types, themes, start, end)
        if errors:
            show(render.error_message("Filter ungültig: " + " ".join(errors)))
            yield list(chat), conv, None
            return
        turn.filters = filters
        assistant = backend.assistant()
        if assistant is None:
            show(render.error_message(_not_ready_message(backend)))
            yield list(chat), conv, render.header_html(backend.status())
            return
        yield list(chat), conv, None
        try:
            final: Answer | None = None
            for event in assistant.ask_stream(text, history, filters):
                if isinstance(event, Answer):
                    final = event
                else:
                    show(render.streaming_message(str(event)))
                    yield list(chat), conv, None
            if final is None:
                raise RuntimeError("keine Antwort erhalten")
            turn.answer = final
            show(render.answer_message(final, len(conv.turns) - 1, backend.link))
        except Exception as exc:  # noqa: BLE001 - becomes a German message, no stack trace
            log.exception("Fehler beim Beantworten")
            show(render.error_message(user_message(exc)))
        yield list(chat), conv, None

    @staticmethod
    def show(text: str, chat: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The chat with the question and a waiting message appended (before queueing)."""
        return [
            *(chat or []),
            _message("user", render.question_message(text.strip())),
            _message("assistant", render.streaming_message("")),
        ]

    def sources(self, conv: Conversation | None) -> str:
        if conv is None:
            return render.empty_sources_panel()
        return render.sources_panel(conv.views(), self.backend.link)

    def rate(
        self, conv: Conversation | None, message_index: int, liked: object
    ) -> tuple[bool, str]:
        """Store a thumbs up/down for the answer at `message_index`: (show comment box, note)."""
        turn = conv.turn_at_message(message_index) if conv is not None else None
        if conv is None or turn is None or turn.answer is None:
            return False, ""
        if liked is True or liked == "Like":
            rating = 1
        elif liked is False or liked == "Dislike":
            rating = -1
        else:  # rating withdrawn: keep the row, hide the comment box
            return False, ""
        store = self.backend.feedback
        try:
            if turn.feedback_id is None:
                turn.feedback_id = store.add(
                    question=turn.question,
                    answer=turn.answer.text,
                    citations=turn.answer.citations,
                    rating=rating,
                    settings=self.backend.relevant_settings(turn.filters),
                    abstained=turn.answer.abstained,
                    session=conv.session,
                )
            else:
                store.update(turn.feedback_id, rating=rating)
        except Exception as exc:  # noqa: BLE001
            log.exception("Rückmeldung nicht gespeichert")
            return True, render.error_message(
                "Die Rückmeldung konnte nicht gespeichert werden: " + user_message(exc)
            )
        conv.feedback_target = turn.feedback_id
        return True, render.feedback_thanks(rating, turn.question)

    def comment(self, text: str, conv: Conversation | None) -> tuple[bool, str]:
        """Attach a comment to the last rating: (saved, note)."""
        if conv is None or conv.feedback_target is None:
            return False, render.error_message(
                "Bitte bewerten Sie zuerst eine Antwort mit Daumen hoch oder runter."
            )
        if not (text or "").strip():
            return False, render.error_message("Der Kommentar ist leer.")
        try:
            self.backend.feedback.update(conv.feedback_target, comment=text)
        except Exception as exc:  # noqa: BLE001
            log.exception("Kommentar nicht gespeichert")
            return False, render.error_message(user_message(exc))
        return True, '<div class="danke">Kommentar gespeichert. Vielen Dank!</div>'

    def filters_line(
        self,
        projects: list[str] | None,
        doc_types: list[str] | None,
        themes: list[str] | None,
        start: str | None,
        end: str | None,
    ) -> str:
        filters, errors = parse_filters(projects, doc_types, themes, start, end)
        line = render.filters_line(filters, self.backend.choices().project_labels)
        return line + render.filter_errors_html(errors)

    def corpus(self, query: str) -> str:
        return _corpus(self.backend, query)

    def frage(
        self,
        question: str,
        projects: list[str] | None = None,
        doc_types: list[str] | None = None,
        themes: list[str] | None = None,
        start: str = "",
        end: str = "",
    ) -> dict[str, Any]:
        """The API: the Answer as a JSON dict; problems raise gr.Error with a German message."""
        filters, errors = parse_filters(projects, doc_types, themes, start, end)
        if errors:
            raise gr.Error(" ".join(errors), print_exception=False)
        assistant = self.backend.assistant()
        if assistant is None:
            raise gr.Error(_not_ready_message(self.backend), print_exception=False)
        try:
            answer = assistant.ask(question, None, filters)
        except Exception as exc:  # noqa: BLE001
            log.exception("Fehler in /frage")
            raise gr.Error(user_message(exc), print_exception=False) from None
        return answer.model_dump(mode="json")


# -- the UI ----------------------------------------------------------------------------------------
def build_app(
    settings: Settings | None = None,
    assistant_factory: AssistantFactory | None = None,
    backend: WebBackend | None = None,
) -> gr.Blocks:
    """The Gradio Blocks of the app (queue configured; theme and CSS come with `create_app`)."""
    settings = settings or Settings()
    backend = backend or WebBackend(settings, assistant_factory)
    backend.assistant()  # open eagerly: the first question should not wait for the model
    handlers = ChatHandlers(backend)

    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, fill_width=True) as blocks:
        conversation = gr.State(None)  # a Conversation, created with the first question
        pending = gr.State("")
        blocks.backend = backend  # type: ignore[attr-defined]
        blocks.handlers = handlers  # type: ignore[attr-defined]

        status = gr.HTML(render.header_html(backend.status()), elem_id="kopf")

        with gr.Tabs(elem_id="reiter"):
            with (
                gr.Tab("Assistent", id="fragen"),
                gr.Row(equal_height=False, elem_id="arbeitsbereich"),
            ):
                with gr.Column(scale=3, min_width=420, elem_id="chatspalte"):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        label="Unterhaltung",
                        show_label=False,
                        height="62vh",
                        min_height=420,
                        placeholder=(
                            "<div class='willkommen'><h2>Was möchten Sie wissen?</h2>"
                            "<p>Der Assistent antwortet ausschließlich aus den eingelesenen "
                            "Dokumenten der Modellvorhaben und belegt jede Aussage mit einer "
                            "nummerierten Quelle. Findet er nichts Belastbares, sagt er das."
                            "</p><p>Beispiele zum Ausprobieren:</p></div>"
                        ),
                        examples=[{"text": q, "display_text": q} for q in EXAMPLE_QUESTIONS],
                        feedback_options=["Like", "Dislike"],
                        sanitize_html=True,
                        allow_tags=False,
                        render_markdown=True,
                        line_breaks=True,
                        layout="bubble",
                        buttons=["copy"],
                        autoscroll=True,
                    )
                    with gr.Group(visible=False, elem_id="rueckmeldung") as feedback_box:
                        feedback_note = gr.HTML("")
                        with gr.Row():
                            comment = gr.Textbox(
                                show_label=False,
                                placeholder="Optional: Was war gut, was fehlte, was war falsch?",
                                lines=2,
                                max_lines=6,
                                scale=6,
                                elem_id="kommentar",
                            )
                            comment_send = gr.Button(
                                "Kommentar senden",
                                scale=1,
                                size="sm",
                                min_width=150,
                                elem_id="kommentar-senden",
                            )
                    with gr.Row(elem_id="eingabe"):
                        question = gr.Textbox(
                            show_label=False,
                            placeholder="Ihre Frage an die Dokumente … (Enter zum Senden)",
                            lines=1,
                            max_lines=6,
                            scale=8,
                            autofocus=True,
                            elem_id="frage",
                            max_length=2000,
                        )
                        ask_button = gr.Button(
                            "Fragen",
                            variant="primary",
                            scale=1,
                            min_width=110,
                            elem_id="fragen-knopf",
                        )
                    with gr.Row(elem_id="werkzeuge", equal_height=True):
                        new_button = gr.Button(
                            "Neue Unterhaltung",
                            variant="secondary",
                            size="sm",
                            elem_id="neue-unterhaltung",
                            scale=0,
                            min_width=170,
                        )
                        filters_active = gr.HTML(
                            render.filters_line(Filters()), elem_id="aktive-filter"
                        )
                    with gr.Accordion("Filter", open=False, elem_id="filter"):
                        choices = backend.choices()
                        with gr.Row():
                            project_filter = gr.Dropdown(
                                choices=choices.projects,
                                multiselect=True,
                                label="Modellvorhaben",
                                elem_id="filter-modellvorhaben",
                            )
                            type_filter = gr.Dropdown(
                                choices=choices.doc_types,
                                multiselect=True,
                                label="Dokumenttyp",
                                elem_id="filter-dokumenttyp",
                            )
                            theme_filter = gr.Dropdown(
                                choices=choices.themes,
                                multiselect=True,
                                label="Thema",
                                elem_id="filter-thema",
                            )
                        with gr.Row():
                            date_from = gr.Textbox(
                                label="Datum von",
                                placeholder="JJJJ-MM-TT",
                                elem_id="filter-von",
                            )
                            date_to = gr.Textbox(
                                label="Datum bis",
                                placeholder="JJJJ-MM-TT",
                                elem_id="filter-bis",
                            )
                        reset_filters = gr.Button(
                            "Filter zurücksetzen", size="sm", elem_id="filter-zuruecksetzen"
                        )
                with gr.Column(scale=2, min_width=340, elem_id="quellenspalte"):
                    sources = gr.HTML(
                        render.empty_sources_panel(),
                        elem_id="quellenpanel",
                        padding=False,
                    )
            with gr.Tab("Dokumente im Index", id="korpus"):
                corpus_search = gr.Textbox(
                    label="In Titeln suchen",
                    placeholder="z. B. Zwischenbericht, Lausitz …",
                    elem_id="korpus-suche",
                )
                corpus = gr.HTML(
                    _corpus(backend, ""),
                    elem_id="korpus",
                )
            with gr.Tab("Hinweise", id="hinweise"):
                gr.HTML(_help_html(settings), elem_id="hilfe")

        filter_inputs: list[Any] = [project_filter, type_filter, theme_filter, date_from, date_to]

        # -- event functions: thin adapters from Gradio values to ChatHandlers ----------------
        def take_question(text: str, chat: list[dict[str, Any]] | None) -> tuple[Any, ...]:
            """Runs at once (not queued): the question and a waiting message appear while the
            answer waits for a free worker."""
            if not (text or "").strip():
                return gr.skip(), "", gr.skip()
            return "", text, handlers.show(text, chat)

        def example_selected(data: gr.SelectData, chat: list[dict[str, Any]] | None) -> tuple:
            value = data.value
            text = str(value.get("text", "")) if isinstance(value, dict) else str(value or "")
            return text, handlers.show(text, chat)

        def answer_question(text, chat, conv, projects, doc_types, themes, start, end):  # type: ignore[no-untyped-def]
            if not (text or "").strip():
                yield gr.skip(), gr.skip()
                return
            for messages, conversation_, _header in handlers.answer(
                text, chat, conv, projects, doc_types, themes, start, end, shown=True
            ):
                yield messages, conversation_

        def new_conversation() -> tuple[Any, ...]:
            return (
                [],
                Conversation(),
                render.empty_sources_panel(),
                "",
                gr.update(visible=False),
                "",
            )

        def on_like(conv: Conversation | None, data: gr.LikeData) -> tuple[Any, ...]:
            index = data.index[0] if isinstance(data.index, list | tuple) else data.index
            visible, note = handlers.rate(conv, int(index), data.liked)
            return conv, gr.update(visible=visible), note

        def send_comment(text: str, conv: Conversation | None) -> tuple[Any, ...]:
            saved, note = handlers.comment(text, conv)
            return ("" if saved else gr.skip()), note

        def clear_filters() -> tuple[Any, ...]:
            return [], [], [], "", "", render.filters_line(Filters())

        def on_load() -> tuple[Any, ...]:
            choices = backend.choices()
            return (
                render.header_html(backend.status()),
                gr.update(choices=choices.projects),
                gr.update(choices=choices.doc_types),
                gr.update(choices=choices.themes),
                handlers.corpus(""),
            )

        # -- wiring -----------------------------------------------------------------------------
        ui: dict[str, Any] = {"api_visibility": "private"}
        answer_inputs = [pending, chatbot, conversation, *filter_inputs]
        answer_outputs = [chatbot, conversation]
        answer_kwargs: dict[str, Any] = {
            "concurrency_limit": settings.ui.concurrency,
            "concurrency_id": CONCURRENCY_ID,
            "show_progress": "minimal",
            **ui,
        }

        def refresh_header() -> str:
            return render.header_html(backend.status())

        quiet: dict[str, Any] = {"queue": False, "show_progress": "hidden", **ui}
        for trigger in (question.submit, ask_button.click, chatbot.example_select):
            first = (
                trigger(example_selected, chatbot, [pending, chatbot], **quiet)
                if trigger == chatbot.example_select
                else trigger(
                    take_question, [question, chatbot], [question, pending, chatbot], **quiet
                )
            )
            first.then(answer_question, answer_inputs, answer_outputs, **answer_kwargs).then(
                handlers.sources, conversation, sources, **quiet
            ).then(refresh_header, None, status, **quiet)

        reset_outputs = [chatbot, conversation, sources, question, feedback_box, comment]
        new_button.click(new_conversation, None, reset_outputs, queue=False, **ui)
        chatbot.clear(new_conversation, None, reset_outputs, queue=False, **ui)
        chatbot.like(
            on_like, conversation, [conversation, feedback_box, feedback_note], queue=False, **ui
        )
        comment_send.click(
            send_comment, [comment, conversation], [comment, feedback_note], queue=False, **ui
        )
        comment.submit(
            send_comment, [comment, conversation], [comment, feedback_note], queue=False, **ui
        )
        for widget in filter_inputs:
            widget.change(handlers.filters_line, filter_inputs, filters_active, queue=False, **ui)
        reset_filters.click(
            clear_filters, None, [*filter_inputs, filters_active], queue=False, **ui
        )
        corpus_search.change(handlers.corpus, corpus_search, corpus, queue=False, **ui)
        blocks.load(
            on_load,
            None,
            [status, project_filter, type_filter, theme_filter, corpus],
            queue=False,
            **ui,
        )

        # -- the API for programs: ask with citations, the Answer as JSON -----------------------
        def frage(
            frage: str,
            modellvorhaben: list[str] | None = None,
            dokumenttyp: list[str] | None = None,
            thema: list[str] | None = None,
            von: str = "",
            bis: str = "",
        ) -> dict[str, Any]:
            """Beantwortet eine Frage aus den Dokumenten und gibt die Antwort als JSON zurück:
            text, citations (Dokument, Seite, Zitat, markierter Satz), abstained, passages,
            timings. Filter: Modellvorhaben-IDs, Dokumenttypen, Themen, Datum von/bis
            (JJJJ-MM-TT)."""
            return handlers.frage(frage, modellvorhaben, dokumenttyp, thema, von, bis)

        gr.api(
            frage,
            api_name="frage",
            concurrency_limit=settings.ui.concurrency,
            concurrency_id=CONCURRENCY_ID,
        )

    blocks.queue(default_concurrency_limit=settings.ui.concurrency, max_size=256)
    return blocks


def _not_ready_message(backend: WebBackend) -> str:
    error = backend.error
    if error is None or isinstance(error, IndexMissingError):
        return (
            "Es gibt noch keinen Index, deshalb kann ich noch nicht antworten. "
            f"Index aufbauen mit: {build_command(backend.settings)}"
        )
    return f"Der Index kann nicht geöffnet werden: {user_message(error)}"


def _corpus(backend: WebBackend, query: str) -> str:
    if backend.assistant() is None:
        return render.status_html(
            "warnung",
            "Noch kein Index vorhanden. Aufbauen mit",
            build_command(backend.settings),
        )
    return render.corpus_html(
        backend.documents(), query or "", backend.index_info().get("updated_at"), backend.link
    )


def _help_html(settings: Settings) -> str:
    return (
        '<div class="hilfe">'
        "<h3>So arbeitet der Assistent</h3>"
        "<ul>"
        "<li>Er sucht zu Ihrer Frage die passendsten Abschnitte in den eingelesenen Dokumenten "
        "(Zwischenberichte, Protokolle, Konzepte, Programmunterlagen) und antwortet nur mit "
        "Aussagen, die dort stehen.</li>"
        "<li>Jede Aussage trägt eine Nummer wie [1]. Ein Klick darauf zeigt rechts die Quelle: "
        "Dokument, Modellvorhaben, Dokumenttyp, Datum, Seite und den zitierten Abschnitt; der "
        "belegende Satz ist markiert. „Original öffnen“ zeigt das Dokument an dieser Seite.</li>"
        "<li>Findet er nichts Belastbares, sagt er das ausdrücklich und zeigt die "
        "nächstliegenden Stellen aufklappbar an – bitte dann die Frage anders formulieren oder "
        "Filter lockern.</li>"
        "<li>Nachfragen beziehen sich auf die bisherige Unterhaltung (z. B. „Und in der "
        "Lausitz?“). „Neue Unterhaltung“ beginnt von vorn.</li>"
        "<li>Mit den Filtern grenzen Sie die Suche auf Modellvorhaben, Dokumenttypen, Themen "
        "oder einen Zeitraum ein (Datum als JJJJ-MM-TT oder TT.MM.JJJJ).</li>"
        "</ul>"
        "<h3>Rückmeldungen</h3>"
        "<p>Mit Daumen hoch oder runter unter einer Antwort und einem optionalen Kommentar "
        "helfen Sie, den Assistenten zu verbessern. Gespeichert werden Frage, Antwort, Quellen, "
        "Ihre Bewertung und der Kommentar – keine Namen oder Anmeldedaten.</p>"
        "<h3>Für Programme</h3>"
        "<p>Die Funktion <code>frage</code> ist über die Gradio-API erreichbar (z. B. mit "
        '<code>gradio_client</code>: <code>Client(url).predict("Was bedeutet SREK?", '
        'api_name="/frage")</code>) und liefert die Antwort mit Quellen als JSON.</p>'
        "</div>"
    )


# -- FastAPI wiring --------------------------------------------------------------------------------
def _mounted_gradio_app(app: FastAPI) -> Any:
    from gradio.routes import App as GradioApp

    for route in app.routes:
        mounted = getattr(route, "app", None)
        if isinstance(mounted, GradioApp):
            return mounted
    return None


def _theme() -> gr.themes.Base:
    system_fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
                    "Arial", "sans-serif"]  # fmt: skip
    return gr.themes.Soft(
        primary_hue="blue",
        secondary_hue="slate",
        neutral_hue="slate",
        font=system_fonts,
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_text_color="white",
        button_primary_text_color_hover="white",
    )


def create_app(
    settings: Settings | None = None,
    assistant_factory: AssistantFactory | None = None,
) -> FastAPI:
    """The FastAPI app: the Gradio UI at "/" and the originals at /datei/{k}/{path}."""
    settings = settings or Settings()
    backend = WebBackend(settings, assistant_factory)
    blocks = build_app(settings, backend=backend)
    auth: tuple[str, str] | None = None
    if bool(settings.ui.auth_user) != bool(settings.ui.auth_password):
        raise ConfigError(
            "Für die Anmeldung müssen Benutzername und Passwort gesetzt sein "
            "(REGIOSTRAT_UI__AUTH_USER und REGIOSTRAT_UI__AUTH_PASSWORD); gesetzt ist nur eines."
        )
    if settings.ui.auth_user and settings.ui.auth_password:
        auth = (settings.ui.auth_user, settings.ui.auth_password.get_secret_value())

    app = FastAPI(title=APP_TITLE, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.backend = backend
    app.state.blocks = blocks

    def logged_in(request: Request) -> bool:
        """Gradio's own session check (its login cookie), reused for the file route."""
        if auth is None:
            return True
        gradio_app = _mounted_gradio_app(app)
        tokens = getattr(gradio_app, "tokens", None)
        cookie_id = getattr(gradio_app, "cookie_id", None)
        if tokens is None or cookie_id is None:
            return False  # fail closed when Gradio's session store is not where we expect it
        token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{cookie_id}"
        )
        return token is not None and token in tokens

    app.include_router(file_router(settings.paths.corpus_dirs, logged_in))
    css = CSS_PATH.read_text(encoding="utf-8") if CSS_PATH.is_file() else ""
    gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=auth,
        auth_message=AUTH_MESSAGE,
        root_path=settings.ui.root_path or None,
        show_error=True,
        footer_links=["api"],
        run_history=False,
        ssr_mode=False,
        theme=_theme(),
        css=css,
        head=HEAD_JS,
        server_name=settings.ui.host,
        server_port=settings.ui.port,
    )
    return app

"""The Gradio layer: the page's components and which handler each event calls.

No retrieval, answer or formatting logic lives here: the event functions below only translate
between Gradio values (`gr.update`, `gr.skip`, `SelectData`, `LikeData`) and `ChatHandlers`. Each
browser session has its own `Conversation` (`gr.State`); answers run on the queue with up to
`ui.concurrency` at the same time, so one slow answer does not block other users. The question
and a waiting message appear at once, before the answer waits for a free worker.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.web import render
from assistant.web.api import CONCURRENCY_ID, register_api
from assistant.web.backend import AssistantFactory, WebBackend
from assistant.web.conversation import Conversation
from assistant.web.handlers import ChatHandlers
from assistant.web.texts import APP_TITLE, EXAMPLE_QUESTIONS, HELP_HTML, WELCOME_HTML
from regiostrat.settings import Settings
from regiostrat.types import Filters


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
                        placeholder=WELCOME_HTML,
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
                    handlers.corpus(""),
                    elem_id="korpus",
                )
            with gr.Tab("Hinweise", id="hinweise"):
                gr.HTML(HELP_HTML, elem_id="hilfe")

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
        register_api(handlers, settings.ui.concurrency)

    blocks.queue(default_concurrency_limit=settings.ui.concurrency, max_size=256)
    return blocks

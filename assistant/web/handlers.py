"""What the UI's events do: plain Python, values in, formatted HTML and chat messages out.

`ChatHandlers` holds no retrieval or answer logic: it calls the shared `Assistant` (through
`WebBackend`), keeps the session's `Conversation` and formats with `assistant.web.render`.
Exceptions become German messages (`user_message`), never a stack trace in the page. The only
Gradio name used is `gradio.Error`, which the `/frage` API raises so that clients get the
German message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from gradio import Error as GradioError

from assistant.web import render
from assistant.web.backend import WebBackend, build_command
from assistant.web.conversation import Conversation, TurnRecord
from assistant.web.filters import parse_filters
from regiostrat.errors import user_message
from regiostrat.types import Answer

log = logging.getLogger(__name__)


def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


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
            show(render.error_message(backend.not_ready_message()))
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
        """The corpus tab: the documents in the index whose title matches `query`."""
        backend = self.backend
        if backend.assistant() is None:
            return render.status_html(
                "warnung",
                "Noch kein Index vorhanden. Aufbauen mit",
                build_command(backend.settings),
            )
        return render.corpus_html(
            backend.documents(), query or "", backend.index_info().get("updated_at"), backend.link
        )

    def frage(
        self,
        question: str,
        projects: list[str] | None = None,
        doc_types: list[str] | None = None,
        themes: list[str] | None = None,
        start: str = "",
        end: str = "",
    ) -> dict[str, Any]:
        """The API: the Answer as a JSON dict; problems raise gradio.Error with a German message."""
        filters, errors = parse_filters(projects, doc_types, themes, start, end)
        if errors:
            raise GradioError(" ".join(errors), print_exception=False)
        assistant = self.backend.assistant()
        if assistant is None:
            raise GradioError(self.backend.not_ready_message(), print_exception=False)
        try:
            answer = assistant.ask(question, None, filters)
        except Exception as exc:  # noqa: BLE001
            log.exception("Fehler in /frage")
            raise GradioError(user_message(exc), print_exception=False) from None
        return answer.model_dump(mode="json")

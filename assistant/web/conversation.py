"""One browser session's conversation, kept server-side in `gr.State`.

Each question becomes a `TurnRecord` (the answer, the filters it was asked with, where it stands
in the chat and the id of its feedback row). The history passed to the Assistant holds only the
turns that were answered (no abstentions); `views()` feeds the sources panel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from assistant.web import render
from regiostrat.types import Answer, Filters, Turn


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

"""The API for programs: `/frage` answers a question with citations and returns the Answer as JSON.

Registered inside the app's `gr.Blocks`, so it runs on the same queue as the chat: UI and API
answers share the workers of `CONCURRENCY_ID` (at most `ui.concurrency` at the same time).

    Client(url).predict("Was bedeutet SREK?", api_name="/frage")
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.web.handlers import ChatHandlers

CONCURRENCY_ID = "antworten"


def register_api(handlers: ChatHandlers, concurrency: int) -> None:
    """Add `/frage` to the Blocks being built (call inside `with gr.Blocks()`)."""

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
        concurrency_limit=concurrency,
        concurrency_id=CONCURRENCY_ID,
    )

"""Questions about a meeting's place, date and participants are answered from the header fields
of its minutes ("Ort: …", "Datum | …"), which are no sentences and name neither the meeting nor
the question's words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.record_fields import asked_field_kinds, field_kind
from assistant.service import Assistant

MINUTES = """# Protokoll der 3. Sitzung des Lenkungskreises Sauerland

Datum: Mittwoch, 25. Juni 2025, 15:00 bis 18:00 Uhr

Ort: Kreishaus Meschede, Sitzungsraum 1

Teilnehmende: Landrat des Hochsauerlandkreises, Landrätin des Kreises Olpe, fünf Bürgermeister

## TOP 1: Rufbus

Der Lenkungskreis beschließt, den Rufbus im Hochsauerland ab 2026 auszuweiten.
"""
REPORT = """# Zwischenbericht Sauerland

## Gremien

Der Lenkungskreis tagt viermal im Jahr und bereitet die Beschlüsse der Kreistage vor.
Im Jahr 2025 hat er zwei Förderanträge für Mobilitätsprojekte auf den Weg gebracht.
"""


@pytest.fixture
def assistant(open_assistant: Callable[[Path], Assistant], tmp_path: Path) -> Assistant:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "protokoll-lenkungskreis.md").write_text(MINUTES, encoding="utf-8")
    (docs / "zwischenbericht.md").write_text(REPORT, encoding="utf-8")
    return open_assistant(docs)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wo fand die 3. Sitzung des Lenkungskreises statt?", "Ort: Kreishaus Meschede"),
        ("Wann war die 3. Sitzung des Lenkungskreises?", "Datum: Mittwoch, 25. Juni 2025"),
        ("Wer hat an der Sitzung des Lenkungskreises teilgenommen?", "Teilnehmende: Landrat"),
    ],
)
def test_the_minutes_header_field_answers(
    assistant: Assistant, question: str, expected: str
) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained
    assert answer.text.startswith(expected), answer.text
    cited = answer.citations[0]
    assert cited.source.endswith("protokoll-lenkungskreis.md")
    assert expected in cited.highlight and cited.highlight in MINUTES


def test_header_fields_are_not_quoted_for_other_questions(assistant: Assistant) -> None:
    answer = assistant.ask("Was hat der Lenkungskreis zum Rufbus beschlossen?")
    assert "ausweiten" in answer.text or "auszuweiten" in answer.text
    assert "Ort:" not in answer.text and "Datum:" not in answer.text


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("Ort: Bonn, Tagungsraum des BBSR", "place"),
        ("« Ort: Bonn, Tagungsraum des BBSR", "place"),  # a bullet as OCR reads it
        ("Datum | Mittwoch, 26. Februar 2025", "time"),  # a row of a header table
        ("Sitzungsleitung: Erste Beigeordnete", "people"),
        ("Hinweis: Das Treffen fand in Bonn statt.", None),
        ("Ort und Zeit werden noch bekannt gegeben.", None),
        ("Ort: " + "Bonn, " * 100, None),  # too long to be a header field
    ],
)
def test_field_kinds(line: str, kind: str | None) -> None:
    assert field_kind(line) == kind


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("Wo und wann fand das Auftakttreffen statt?", {"place", "time"}),
        ("In welcher Stadt tagte der Beirat?", {"place"}),
        ("Wer moderierte die Werkstatt?", {"people"}),
        ("Woran ist der Rufbus gescheitert?", set()),
        ("Wer ist zuständig für Fördermittel?", set()),
    ],
)
def test_what_a_question_asks_for(question: str, kinds: set[str]) -> None:
    assert asked_field_kinds(question) == kinds

"""A list introduced by a colon ("Als Datengrundlagen dienen:") is quoted as a whole: its items
alone name nothing of the question, so one by one they were never chosen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from factories import make_chunk

from assistant.extractive import MAX_LIST_CHARS, cited, quotable_units
from assistant.service import Assistant

REPORT = """# Zwischenbericht Vorpommern

## Vorgehen bei der Regionalanalyse

Die Regionalanalyse erstellt das Amt für Kreisentwicklung selbst. Als Datengrundlagen dienen:

Bevölkerungs- und Wanderungsdaten des Statistischen Amtes;

Ergebnisse des Zensus 2022 zu Wohnungsbestand und Leerstand;

leitfadengestützte Interviews, von denen bis November zwölf von geplanten 24 geführt wurden.

Fertig werden soll sie im März 2025.
"""


def _units(text: str) -> list[str]:
    chunk = make_chunk("c1", text)
    return [text[start:end] for start, end in quotable_units(chunk)]


def test_an_unnumbered_list_ends_with_its_item_ending_in_a_period() -> None:
    text = REPORT.split("\n\n", 2)[2]  # from the first paragraph on
    units = _units(text)
    listing = next(u for u in units if u.startswith("Als Datengrundlagen dienen:"))
    assert "Zensus 2022" in listing and listing.endswith("24 geführt wurden.")
    assert units[-1] == "Fertig werden soll sie im März 2025."


def test_a_numbered_list_goes_on_while_its_items_are_numbered() -> None:
    text = (
        "Die Verzögerung von fünf Monaten hat drei Ursachen:\n\n"
        "1. Dolmetsch- und Übersetzungsaufwand.\n\n"
        "2. Unterschiedliche Datenbestände beiderseits der Grenze.\n\n"
        "3. Eine lange Krankheit im Projektteam.\n\n"
        "Die Kosten lagen bei 31.500 Euro."
    )
    units = _units(text)
    assert units[0].endswith("3. Eine lange Krankheit im Projektteam.")
    assert units[1] == "Die Kosten lagen bei 31.500 Euro."


def test_a_list_too_long_to_quote_is_cut_where_it_fits() -> None:
    items = "\n\n".join(f"Maßnahme {n} für die Dörfer im Hinterland der Region;" for n in range(60))
    units = _units(f"Geplant sind folgende Maßnahmen:\n\n{items}")
    assert units[0].startswith("Geplant sind folgende Maßnahmen:")
    assert len(units[0]) <= MAX_LIST_CHARS and len(units) > 1


def test_a_numbered_list_keeps_its_numbers_on_lines_of_their_own() -> None:
    unit = "Die Verzögerung hat zwei Ursachen:\n\n1. Dolmetschen.\n\n2. Daten."
    assert cited(unit, 3, as_lines=True) == (
        "Die Verzögerung hat zwei Ursachen: [3]\n1. Dolmetschen. [3]\n2. Daten. [3]"
    )
    inline = "Die Verzögerung hat zwei Ursachen: [3] 1. Dolmetschen. [3] 2. Daten. [3]"
    assert cited(unit, 3) == inline  # as a comparison quotes it, on its project's line


def test_a_colon_inside_a_line_introduces_no_list() -> None:
    units = _units("Ergebnis: Die Werkstatt war gut besucht.\n\nDanach fuhren alle nach Hause.")
    assert units == ["Ergebnis: Die Werkstatt war gut besucht.", "Danach fuhren alle nach Hause."]


@pytest.fixture
def assistant(open_assistant: Callable[[Path], Assistant], tmp_path: Path) -> Assistant:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zwischenbericht.md").write_text(REPORT, encoding="utf-8")
    return open_assistant(docs)


def test_the_answer_to_a_which_question_quotes_the_whole_list(assistant: Assistant) -> None:
    answer = assistant.ask("Welche Datengrundlagen dienen der Regionalanalyse?")
    assert not answer.abstained
    for item in ("Statistischen Amtes", "Zensus 2022", "24 geführt"):
        assert item in answer.text, answer.text
    assert "Zensus 2022" in answer.citations[0].highlight
    # each item on a line of its own, as Markdown shows a list
    assert "Als Datengrundlagen dienen: [1]\n- Bevölkerungs- und Wanderungsdaten" in answer.text
    assert "\n- Ergebnisse des Zensus 2022 zu Wohnungsbestand und Leerstand; [1]\n" in answer.text

"""A list introduced by a colon ("Als Datengrundlagen dienen:") or led by a heading
("Schwerpunktthemen", a table under "3.1 Themenwerkstätten") is quoted as a whole: its items
alone name nothing of the question, so one by one they were never chosen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from factories import make_chunk

from assistant.extractive import cited
from assistant.quotable import MAX_LIST_CHARS, quotable_units
from assistant.service import Assistant

REPORT = """# Zwischenbericht Vorpommern

## Vorgehen bei der Regionalanalyse

Die Regionalanalyse erstellt das Amt für Kreisentwicklung selbst. Als Datengrundlagen dienen:

Bevölkerungs- und Wanderungsdaten des Statistischen Amtes;

Ergebnisse des Zensus 2022 zu Wohnungsbestand und Leerstand;

leitfadengestützte Interviews, von denen bis November zwölf von geplanten 24 geführt wurden.

Fertig werden soll sie im März 2025.
"""


def _units(text: str, section: str = "", heading_lists: bool = True) -> list[str]:
    chunk = make_chunk("c1", text).model_copy(update={"section": section})
    return [text[start:end] for start, end in quotable_units(chunk, heading_lists=heading_lists)]


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


TOPICS = (
    "Schwerpunktthemen\n\n"
    "die Rolle der Regionalanalyse als Grundlage strategischer Entscheidungen;\n\n"
    "regionale Lösungsansätze zu Energie, Mobilität und Wohnen;\n\n"
    "Anforderungen an eine strategisch angelegte Akteursbeteiligung."
)
WORKSHOPS = (
    "3.1 Themenwerkstätten\n\n"
    "Themenwerkstatt | Ort | Teilnehmende\n"
    "Energie und Wasserstoff | Brunsbüttel | 52\n"
    "Fachkräfte und Ausbildung | Husum | 44\n\n"
    "Insgesamt nahmen 96 Personen teil, vor allem aus Verwaltung und Unternehmen."
)


def test_a_heading_is_quoted_with_the_list_it_leads() -> None:
    units = _units(TOPICS, section="Dokumentation Heilbronn › Schwerpunktthemen")
    assert units[0] == TOPICS
    # each item stays quotable on its own ("Was war das zweite Thema?")
    assert units[1:] == TOPICS.split("\n\n")[1:]


def test_a_table_under_a_heading_ends_with_its_last_row() -> None:
    units = _units(WORKSHOPS, section="3. Beteiligung › 3.1 Themenwerkstätten")
    assert units[0].startswith("3.1 Themenwerkstätten\n\nThemenwerkstatt | Ort")
    assert units[0].endswith("Husum | 44")
    table = WORKSHOPS.split("\n\n")[1]
    assert units[1:4] == [table, *table.split("\n")[1:]]  # as a whole, and row by row
    assert units[-1].startswith("Insgesamt nahmen 96 Personen teil")


def test_a_tables_header_row_is_no_answer_of_its_own() -> None:
    # "Welche Projekte hat die Westküste seit 2024 neu aufgenommen?" was answered with the
    # column names "Schlüsselprojekt | Stand 2024 | Stand 2025"
    text = (
        "Zwei Projekte entfallen, drei kommen neu hinzu.\n\n"
        "Schlüsselprojekt | Stand 2024 | Stand 2025\n"
        "Wohnraumagentur Westküste | – | neu, Start Juli 2026\n"
        "Azubiwohnen Heide | – | neu, 48 Plätze"
    )
    table = text.split("\n\n")[1]
    assert _units(text) == [
        "Zwei Projekte entfallen, drei kommen neu hinzu.",
        table,  # the whole table, led by its header row
        "Wohnraumagentur Westküste | – | neu, Start Juli 2026",
        "Azubiwohnen Heide | – | neu, 48 Plätze",
    ]
    # comparisons quote row by row
    assert table not in _units(text, heading_lists=False)
    # a chunk that is the table (tables start chunks): the same
    assert _units(table) == _units(text)[1:]


def test_a_subheading_ends_the_list_of_the_heading_above() -> None:
    text = "5. Governance\n\n5.1 Gremien\n\nDas Gremium hat zwölf Mitglieder aus vier Kreisen."
    assert _units(text, section="5. Governance › 5.1 Gremien") == [
        "Das Gremium hat zwölf Mitglieder aus vier Kreisen."
    ]


def test_a_heading_over_prose_or_over_an_introduced_list_leads_no_list() -> None:
    prose = "Methodik\n\nDie Analyse wurde vom Amt erstellt.\n\nBegonnen wurde im September."
    assert _units(prose, section="Bericht › Methodik") == [
        "Die Analyse wurde vom Amt erstellt.",
        "Begonnen wurde im September.",
    ]
    introduced = "Vorgehen\n\nAls Datengrundlagen dienen:\n\nZensus 2022;\n\nInterviews."
    assert _units(introduced, section="Bericht › Vorgehen") == [
        "Als Datengrundlagen dienen:\n\nZensus 2022;\n\nInterviews."
    ]


def test_a_line_that_is_no_heading_of_the_chunk_leads_no_list() -> None:
    # the same text, but "Schwerpunktthemen" is not among the chunk's headings
    assert TOPICS not in _units(TOPICS, section="Dokumentation Heilbronn › Programm")
    # comparisons quote rows and items one by one
    assert TOPICS not in _units(TOPICS, "Dokumentation › Schwerpunktthemen", heading_lists=False)


def test_a_heading_leads_its_list_as_a_label_without_a_marker() -> None:
    assert cited(TOPICS, 2, as_lines=True) == (
        "Schwerpunktthemen:\n"
        "- die Rolle der Regionalanalyse als Grundlage strategischer Entscheidungen; [2]\n"
        "- regionale Lösungsansätze zu Energie, Mobilität und Wohnen; [2]\n"
        "- Anforderungen an eine strategisch angelegte Akteursbeteiligung. [2]"
    )


def _assistant_on(
    report: str, open_assistant: Callable[[Path], Assistant], tmp_path: Path
) -> Assistant:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zwischenbericht.md").write_text(report, encoding="utf-8")
    return open_assistant(docs)


@pytest.fixture
def assistant(open_assistant: Callable[[Path], Assistant], tmp_path: Path) -> Assistant:
    return _assistant_on(REPORT, open_assistant, tmp_path)


def test_the_answer_to_a_which_question_quotes_the_whole_list(assistant: Assistant) -> None:
    answer = assistant.ask("Welche Datengrundlagen dienen der Regionalanalyse?")
    assert not answer.abstained
    for item in ("Statistischen Amtes", "Zensus 2022", "24 geführt"):
        assert item in answer.text, answer.text
    assert "Zensus 2022" in answer.citations[0].highlight
    # each item on a line of its own, as Markdown shows a list
    assert "Als Datengrundlagen dienen: [1]\n- Bevölkerungs- und Wanderungsdaten" in answer.text
    assert "\n- Ergebnisse des Zensus 2022 zu Wohnungsbestand und Leerstand; [1]\n" in answer.text


WESTKUESTE = """# Zwischenbericht Westküste

## Themenwerkstätten

| Themenwerkstatt | Ort | Teilnehmende |
|---|---|---|
| Energie und Wasserstoff | Brunsbüttel | 52 |
| Fachkräfte und Ausbildung | Husum | 44 |
| Wohnen und Ortsentwicklung | Heide | 49 |

Insgesamt nahmen 145 Personen teil, vor allem aus Verwaltung und Unternehmen.

## Kosten

Die Werkstätten kosteten zusammen 21.300 Euro aus dem Beteiligungsbudget.
"""


@pytest.fixture
def westkueste(open_assistant: Callable[[Path], Assistant], tmp_path: Path) -> Assistant:
    return _assistant_on(WESTKUESTE, open_assistant, tmp_path)


def test_the_answer_quotes_the_table_a_heading_leads(westkueste: Assistant) -> None:
    answer = westkueste.ask("Welche Themenwerkstätten gab es?")
    assert not answer.abstained
    assert answer.text.startswith("Themenwerkstätten:\n- Themenwerkstatt | Ort"), answer.text
    for topic in ("Energie und Wasserstoff", "Fachkräfte und Ausbildung", "Wohnen und Orts"):
        assert f"\n- {topic}" in answer.text, answer.text
        assert topic in answer.citations[0].highlight


def test_a_list_under_a_heading_is_no_appendix_to_another_answer(westkueste: Assistant) -> None:
    # the table holds the question's words too, but the sentence answers it
    answer = westkueste.ask("Wie viele Personen nahmen an den Themenwerkstätten teil?")
    assert "Insgesamt nahmen 145 Personen teil" in answer.text
    assert "Brunsbüttel" not in answer.text, answer.text


WESTPFALZ = """# Zwischenbericht Westpfalz

## Schlüsselprojekte

Vier Verbandsgemeinden bereiten eine gemeinsame Vergabestelle für Ausschreibungen vor.

| Schlüsselprojekt | Start | Stand August 2025 |
|---|---|---|
| Leerstandsbörse und Ortskernlotsen | 01.07.2025 | 137 Objekte, 11 vermittelt |
| Wärmeplanung im Konvoi | Oktober 2025 | Kostenschlüssel beschlossen |
| Interkommunale Vergabestelle | 01.01.2026 | Zweckvereinbarung im Entwurf |

Als viertes Vorhaben wird ein gemeinsames Förderprogramm für Altbauten geprüft.
"""


def test_the_answer_quotes_a_table_led_by_its_header_row(
    open_assistant: Callable[[Path], Assistant], tmp_path: Path
) -> None:
    # no heading leads the table (its section starts with prose): its header row names it
    answer = _assistant_on(WESTPFALZ, open_assistant, tmp_path).ask(
        "Wie ist der Stand der Schlüsselprojekte?"
    )
    assert not answer.abstained
    assert answer.text.startswith("- Schlüsselprojekt | Start | Stand August 2025 [1]\n")
    for project in ("Leerstandsbörse", "Wärmeplanung im Konvoi", "Interkommunale Vergabestelle"):
        assert f"\n- {project}" in answer.text, answer.text
        assert project in answer.citations[0].highlight

"""Cross-project comparisons over a small real index (fake embedder): one line per project with
the sentence that answers the question, "keine Angaben" where a project's documents don't cover
it, and no disclaimers, funding notices or running heads quoted as answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from factories import make_chunk, make_passage

from assistant import compare
from assistant.boilerplate import boilerplate_signature, recurring_signatures
from assistant.comparison_text import comparison_units
from assistant.dialogue import answer_kind, comparison_focus
from assistant.quotable import is_page_furniture
from assistant.service import Assistant
from ingest.pipeline import ingest_paths
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.sentences import split_sentences
from regiostrat.settings import Settings
from regiostrat.types import Passage


def _report(name: str, body: str) -> str:
    # every report opens like the real ones: a running head, a disclaimer and a funding notice
    # that differ only in the project's name
    return f"""# Zwischenbericht {name}

Zwischenbericht · Modellvorhaben „{name}“ · Stand: 30.09.2025

Hinweis: Das Modellvorhaben „{name}“ sowie alle Inhalte, Zahlen und Ergebnisse dieses Berichts \
sind für das Demonstrationskorpus erfunden.

Das Modellvorhaben „{name}“ wird im Bundesprogramm RegioStrat gefördert und vom Bundesinstitut \
fachlich begleitet.

{body}
"""


DOCS = {
    "westkueste/bericht.md": _report(
        "Zukunftsregion Westküste",
        """## Akteursbeteiligung und Netzwerkbildung

Die Beteiligung lief über vier Themenwerkstätten in Heide und Husum mit Fachleuten aus der Region.

## Regionalanalyse

Die Regionalanalyse wurde vom Projektteam der Entwicklungsagentur erstellt. Sie dauerte sieben \
Monate, von Mai bis November 2024.

## Finanzen

Das Vorhaben erhält Fördergeld in Höhe von 450.000 Euro für drei Jahre.
""",
    ),
    "altmark/bericht.md": _report(
        "Altmark vernetzt",
        """## Akteursbeteiligung und Netzwerkbildung

Kern der Beteiligung in der Altmark sind Dorfgespräche in 22 Ortschaften mit den Bewohnern.

## Regionalanalyse

Die Regionalanalyse wurde an ein Planungsbüro vergeben. Sie dauerte elf Monate, bis Juni 2025.

## Finanzen

Das Vorhaben erhält Fördergeld in Höhe von 380.000 Euro für drei Jahre.
""",
    ),
    "sauerland/bericht.md": _report(
        "Sauerland stark",
        """## Mobilität

Ein Rufbus verbindet die Dörfer mit dem Mittelzentrum Meschede an allen Werktagen.

## Wohnen

Leerstehende Häuser in den Ortskernen werden über eine Börse an junge Familien vermittelt.
""",
    ),
}
MANIFEST = """documents:
  - file: westkueste/bericht.md
    project: mv01-westkueste
    project_name: "Zukunftsregion Westküste"
    doc_type: Zwischenbericht
    date: 2025-09-30
  - file: altmark/bericht.md
    project: mv05-altmark
    project_name: "Altmark vernetzt"
    doc_type: Zwischenbericht
    date: 2025-09-30
  - file: sauerland/bericht.md
    project: mv13-sauerland
    project_name: "Sauerland stark"
    doc_type: Zwischenbericht
    date: 2025-10-15
"""


@pytest.fixture
def assistant(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    root = tmp_path / "docs"
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    # calibrated for the fake embedder's cosines, which spread wider than a model's
    settings.answer.abstain_threshold = 0.15
    monkeypatch.setattr(compare, "COMPARE_MARGIN", 0.3)
    report = ingest_paths([root], settings, FakeEmbedder())
    assert not report.failed
    instance = Assistant.open(settings, FakeEmbedder())
    yield instance
    instance.close()


def _lines(text: str) -> dict[str, str]:
    """The answer's line per project label."""
    lines = {}
    for line in text.splitlines()[1:]:
        label, _, rest = line.removeprefix("- **").partition("**: ")
        lines[label] = rest
    return lines


def _assert_no_boilerplate(text: str) -> None:
    assert "erfunden" not in text
    assert "Bundesprogramm" not in text
    assert " · " not in text


def test_each_project_line_quotes_its_own_answer_or_says_keine_angaben(
    assistant: Assistant,
) -> None:
    answer = assistant.ask("Wie gehen die Modellvorhaben bei der Akteursbeteiligung vor?")
    assert answer.answerer == "extractive-compare"
    lines = _lines(answer.text)
    assert set(lines) == {"Zukunftsregion Westküste", "Altmark vernetzt", "Sauerland stark"}
    assert "Themenwerkstätten" in lines["Zukunftsregion Westküste"]
    assert "Dorfgespräche" in lines["Altmark vernetzt"]
    assert lines["Sauerland stark"].startswith("keine Angaben in den Dokumenten von Sauerland")
    _assert_no_boilerplate(answer.text)
    # every quoted sentence is cited from its own project's documents
    assert {c.project for c in answer.citations} == {"mv01-westkueste", "mv05-altmark"}
    for citation in answer.citations:
        assert citation.highlight in citation.quote


def test_amounts_are_quoted_and_the_shared_funding_notice_is_not(assistant: Assistant) -> None:
    answer = assistant.ask("Wie viel Fördergeld bekommen die Modellvorhaben jeweils?")
    lines = _lines(answer.text)
    assert "450.000 Euro" in lines["Zukunftsregion Westküste"]
    assert "380.000 Euro" in lines["Altmark vernetzt"]
    # the Sauerland report only has the notice every report carries: no answer there
    assert lines["Sauerland stark"].startswith("keine Angaben")
    _assert_no_boilerplate(answer.text)


def test_a_sentence_leaning_on_the_one_before_is_quoted_with_it(assistant: Assistant) -> None:
    answer = assistant.ask("Wie lange dauerte die Regionalanalyse in Westküste und Altmark?")
    lines = _lines(answer.text)
    assert set(lines) == {"Zukunftsregion Westküste", "Altmark vernetzt"}
    # the antecedent comes along, each sentence with its marker
    assert re.search(
        r"vom Projektteam der Entwicklungsagentur erstellt\. \[(\d)\] Sie dauerte sieben "
        r"Monate, von Mai bis November 2024\. \[\1\]",
        lines["Zukunftsregion Westküste"],
    )
    assert re.search(
        r"an ein Planungsbüro vergeben\. \[(\d)\] Sie dauerte elf Monate", lines["Altmark vernetzt"]
    )


def test_a_disclaimer_found_in_one_project_only_is_recognised_in_the_index(
    assistant: Assistant,
) -> None:
    # a comparison of two projects whose retrieved passages hold the notice only once: the
    # notice's twin in the other projects' documents gives it away
    text = (
        "Das Modellvorhaben „Altmark vernetzt“ wird im Bundesprogramm RegioStrat gefördert "
        "und vom Bundesinstitut fachlich begleitet."
    )
    assert assistant.comparer.boilerplate.recurs_elsewhere(text, "mv05-altmark")
    assert not assistant.comparer.boilerplate.recurs_elsewhere(
        "Kern der Beteiligung in der Altmark sind Dorfgespräche in 22 Ortschaften mit den "
        "Bewohnern.",
        "mv05-altmark",
    )


def _passage(text: str, project: str, title: str = "Zwischenbericht 2025") -> Passage:
    return make_passage(make_chunk(f"{project}-1", text, project, title, project=project))


def test_units_skip_boilerplate_and_furniture_and_join_anaphora() -> None:
    a = _passage(
        "Zwischenbericht · Modellvorhaben „Nord: Daseinsvorsorge gemeinsam neu denken“ · "
        "Stand: 30.09.2025\n\n"
        "Hinweis: Das Modellvorhaben „Nord“ sowie alle Inhalte, Zahlen, Gremien und Ergebnisse "
        "dieses Berichts sind für das Demonstrationskorpus erfunden. Sie beschreiben keine "
        "tatsächliche Zusammenarbeit.\n\n"
        "Die Regionalanalyse wurde vom Projektteam erstellt. Sie dauerte neun Monate.",
        "nord",
    )
    b = _passage(
        "Hinweis: Das Modellvorhaben „Süd“ sowie alle Inhalte, Zahlen, Gremien und Ergebnisse "
        "dieses Berichts sind für das Demonstrationskorpus erfunden.\n\n"
        "Fördersumme | 450.000 Euro",
        "sued",
    )
    boilerplate = recurring_signatures(
        [
            (p.chunk.meta.project, boilerplate_signature(p.chunk.text[start:end]))
            for p in (a, b)
            for start, end in split_sentences(p.chunk.text)
        ]
    )
    units = comparison_units([a], {"regionalanalys"}, "duration", boilerplate)
    assert [u.text for u in units] == [
        "Die Regionalanalyse wurde vom Projektteam erstellt. Sie dauerte neun Monate."
    ]
    assert units[0].bonus > 0  # names a duration, as asked
    # table rows alike across projects are data, not boilerplate; kept when naming the amount
    rows = comparison_units([b], {"fordergeld"}, "money", boilerplate)
    assert [u.text for u in rows] == ["Fördersumme | 450.000 Euro"]


def test_page_furniture() -> None:
    assert is_page_furniture("Zwischenbericht · Modellvorhaben „Nord“ · Stand: 30.09.2025", "")
    assert is_page_furniture("Zwischenbericht 2025 – Nord", "Zwischenbericht 2025 – Nord")
    assert not is_page_furniture("Die Analyse dauerte neun Monate.", "Zwischenbericht 2025")
    # the document's top heading is its title line; a lower heading may answer ("GRW – …")
    top = "Zwischenbericht 2025 – Modellvorhaben „Altmark vernetzt“"
    assert is_page_furniture(top, "Zwischenbericht 2025 – Altmark vernetzt", top)
    glossary = "Begriffe von A bis Z › GRW – Gemeinschaftsaufgabe „Verbesserung der Wirtschaft“"
    assert not is_page_furniture(glossary.split(" › ")[1], "Glossar", glossary)


@pytest.mark.parametrize(
    ("question", "focus", "kind"),
    [
        (
            "Wie gehen die Modellvorhaben bei der Akteursbeteiligung vor?",
            "Akteursbeteiligung",
            None,
        ),
        (
            "Wer hat für die Regionalanalyse länger gebraucht, oder die?",
            "Wer Regionalanalyse länger gebraucht",
            "duration",
        ),
        ("Wie viel Geld haben beide schon ausgegeben?", "Wie viel Geld schon ausgegeben?", "money"),
        ("Welches der beiden Vorhaben ist früher gestartet?", "früher gestartet?", "date"),
        ("Welches Lenkungsgremium ist größer?", "Lenkungsgremium größer?", "count"),
    ],
)
def test_comparison_focus_keeps_the_topic_and_the_kind_of_answer(
    question: str, focus: str, kind: str | None
) -> None:
    assert comparison_focus(question) == focus
    assert answer_kind(question) == kind


def test_the_subject_stays_in_the_focus_of_a_quantity() -> None:
    question = "Welches der beiden Vorhaben ist früher gestartet?"
    assert comparison_focus(question, keep_subject=True) == "Vorhaben früher gestartet?"


def test_single_answer_skips_running_heads_and_cross_project_boilerplate(
    assistant: Assistant,
) -> None:
    """The sentences most like a question about a project are often its disclaimer and running
    head, which name it too: neither is quoted, the project's own content is."""
    answer = assistant.ask("Was untersucht das Modellvorhaben „Altmark vernetzt“ im Bericht?")
    assert answer.answerer == "extractive"
    assert not answer.abstained, answer.abstain_reason
    assert "erfunden" not in answer.text
    assert "·" not in answer.text
    assert "gefördert" not in answer.text  # the funding notice every report carries
    assert all(c.project == "mv05-altmark" for c in answer.citations)


def test_single_answer_quotes_a_sentence_with_the_one_it_leans_on(assistant: Assistant) -> None:
    """A sentence like "Sie dauerte sieben Monate" only makes sense after the one before: both are
    quoted, each with its citation."""
    answer = assistant.ask("Wie lange dauerte die Regionalanalyse der Zukunftsregion Westküste?")
    assert answer.answerer == "extractive" and not answer.abstained, answer.abstain_reason
    assert re.search(r"erstellt\. \[(\d)\] Sie dauerte sieben Monate, [^[]*\[\1\]", answer.text)

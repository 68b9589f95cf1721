"""The assistant over a small real index (fake embedder): answers, citations, abstention,
filters, diversity, follow-ups, comparisons and the `ask` CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.service import Assistant
from regiostrat.cli import main
from regiostrat.settings import Settings
from regiostrat.types import Filters, Turn

DOCS = {
    "westkueste/bericht.md": """# Zwischenbericht Westküste

## Beteiligung

An der Online-Umfrage zur Regionalanalyse beteiligten sich 1.240 Menschen aus beiden Kreisen.
Zusätzlich fanden vier Themenwerkstätten in Heide und Husum statt.

## Energie

Die Region plant einen Elektrolyseur für grünen Wasserstoff mit 30 Megawatt Leistung.
""",
    "altmark/bericht.md": """# Zwischenbericht Altmark

## Beteiligung

Kern der Beteiligung in der Altmark sind Dorfgespräche in 22 Ortschaften.
Die Dorfgespräche wurden von einer Moderatorin des Regionalvereins geleitet.

## Mobilität

Ein Rufbus verbindet die Dörfer mit dem Mittelzentrum Salzwedel.
""",
    "programm/glossar.md": """# Glossar

SREK steht für Strategisches Regionalentwicklungskonzept, das jede Region im Programm erarbeitet.

Daseinsvorsorge umfasst die Grundversorgung mit Schulen, Ärzten und Nahverkehr.
""",
}
MANIFEST = """documents:
  - file: westkueste/bericht.md
    project: mv01-westkueste
    project_name: "Zukunftsregion Westküste"
    region: "Kreise Dithmarschen und Nordfriesland"
    doc_type: Zwischenbericht
    date: 2025-09-30
    themes: [Energie, Akteursbeteiligung]
  - file: altmark/bericht.md
    project: mv05-altmark
    project_name: "Altmark vernetzt"
    region: "Altmarkkreis Salzwedel und Landkreis Stendal"
    doc_type: Zwischenbericht
    date: 2024-12-01
    themes: [Mobilität, Akteursbeteiligung]
  - file: programm/glossar.md
    doc_type: Glossar
    date: 2025-01-15
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    return root


@pytest.fixture
def assistant(open_assistant: Callable[[Path], Assistant], corpus: Path) -> Assistant:
    return open_assistant(corpus)


def test_answer_quotes_the_document_and_cites_page_and_source(assistant: Assistant) -> None:
    answer = assistant.ask("Wie viele Menschen haben an der Online-Umfrage teilgenommen?")
    assert not answer.abstained
    assert "1.240" in answer.text and "[1]" in answer.text
    first = answer.citations[0]
    assert first.n == 1 and first.page == 1
    assert first.source.endswith("westkueste/bericht.md")
    assert first.project == "mv01-westkueste" and first.doc_type == "Zwischenbericht"
    # the quoted passage is exact document text and contains the highlighted sentence
    assert first.highlight in first.quote
    assert first.highlight in DOCS["westkueste/bericht.md"]
    assert answer.timings["total"] > 0


def test_every_answer_marker_has_a_citation(assistant: Assistant) -> None:
    answer = assistant.ask("Was bedeutet SREK?")
    numbers = {c.n for c in answer.citations}
    import re

    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == numbers


@pytest.mark.parametrize("question", ["", "   ", "?!? ...", "und oder aber"])
def test_empty_or_nonsense_input_gets_a_german_hint(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and answer.citations == []
    assert "Frage" in answer.text


def test_unrelated_question_abstains_with_related_passages(assistant: Assistant) -> None:
    assistant.extractive.threshold = 0.9
    answer = assistant.ask("Welche Fördersätze gelten für Kitas in Bayern?")
    assert answer.abstained
    assert "nichts Belastbares" in answer.text
    assert answer.citations == [] and answer.passages


def test_filters_restrict_the_sources(assistant: Assistant) -> None:
    answer = assistant.ask(
        "Wie wurde die Beteiligung organisiert?", filters=Filters(projects=["mv05-altmark"])
    )
    assert answer.citations
    assert all(c.project == "mv05-altmark" for c in answer.citations)
    dated = assistant.ask(
        "Wie wurde die Beteiligung organisiert?",
        filters=Filters(date_from=__import__("datetime").date(2025, 1, 1)),
    )
    assert all(p.chunk.meta.project != "mv05-altmark" for p in dated.passages)
    typed = assistant.retriever.retrieve("SREK", Filters(doc_types=["Glossar"]))
    assert typed and all(p.chunk.meta.doc_type == "Glossar" for p in typed)
    themed = assistant.retriever.retrieve("Beteiligung", Filters(themes=["Mobilität"]))
    assert themed and all("Mobilität" in p.chunk.meta.themes for p in themed)


def test_top_results_come_from_several_documents(assistant: Assistant) -> None:
    passages = assistant.retriever.retrieve("Beteiligung Dorfgespräche Online-Umfrage", k=4)
    per_doc: dict[str, int] = {}
    for p in passages:
        per_doc[p.chunk.doc_id] = per_doc.get(p.chunk.doc_id, 0) + 1
    assert len(per_doc) >= 2
    assert max(per_doc.values()) <= assistant.settings.retrieval.per_document_cap


def test_followup_is_resolved_against_the_previous_turn(assistant: Assistant) -> None:
    first = assistant.ask("Wie wurde die Beteiligung an der Westküste organisiert?")
    assert first.citations, first.abstain_reason
    assert first.citations[0].project == "mv01-westkueste"
    follow = assistant.ask(
        "Und wie war das in der Altmark?",
        history=[Turn(question=first.question, answer=first.text)],
    )
    assert "Beteiligung" in follow.resolved_question
    assert follow.citations and all(c.project == "mv05-altmark" for c in follow.citations)
    assert "Dorfgespräch" in follow.text


def test_comparison_fans_out_per_project(assistant: Assistant) -> None:
    answer = assistant.ask("Wie gehen die Modellvorhaben bei der Beteiligung vor?")
    assert answer.answerer == "extractive-compare"
    assert "**Zukunftsregion Westküste**" in answer.text and "**Altmark vernetzt**" in answer.text
    assert {c.project for c in answer.citations} == {"mv01-westkueste", "mv05-altmark"}


def test_comparison_says_when_a_project_has_nothing(assistant: Assistant) -> None:
    answer = assistant.ask("Welche Modellvorhaben planen einen Elektrolyseur für Wasserstoff?")
    assert "keine Angaben in den Dokumenten von Altmark vernetzt" in answer.text
    assert any(c.project == "mv01-westkueste" for c in answer.citations)


def test_ask_cli_prints_sources_and_json(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(settings.paths.data_dir))
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    monkeypatch.setenv("REGIOSTRAT_ANSWER__ABSTAIN_THRESHOLD", "0.15")
    assert main(["ingest", str(corpus)]) == 0
    capsys.readouterr()
    assert main(["ask", "Was ist ein Rufbus?", "--project", "mv05-altmark"]) == 0
    out = capsys.readouterr().out
    assert "Quellen:" in out and "altmark/bericht.md" in out and "S. 1" in out
    assert main(["ask", "Was ist ein Rufbus?", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["citations"][0]["source"].endswith("bericht.md")
    assert {"text", "abstained", "passages", "timings"} <= payload.keys()


def test_ask_without_index_names_the_build_command(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(settings.paths.data_dir))
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    assert main(["ask", "Was ist SREK?"]) == 2
    assert "regiostrat ingest" in capsys.readouterr().err


def test_a_new_short_question_is_not_taken_for_a_followup(assistant: Assistant) -> None:
    history = [Turn(question="Wie wurde die Beteiligung an der Westküste organisiert?")]
    answer = assistant.ask("Was bedeutet SREK?", history=history)
    assert answer.resolved_question == "Was bedeutet SREK?"
    assert any("glossar" in c.source for c in answer.citations)


def test_project_named_inside_a_compound_scopes_the_answer(assistant: Assistant) -> None:
    """ "Westküsten-Vorhaben" names the Westküste: only its documents are searched."""
    answer = assistant.ask("Wo fanden die Themenwerkstätten des Westküsten-Vorhabens statt?")
    assert answer.passages
    assert {p.chunk.meta.project for p in answer.passages} == {"mv01-westkueste"}
    assert "Heide und Husum" in answer.text

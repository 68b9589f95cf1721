"""`regiostrat batch` end to end on a tiny index (fake embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import openpyxl
import pytest

from assistant.service import Assistant
from ingest.pipeline import ingest_paths
from regiostrat.cli import main
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.settings import EmbedderSettings, PathSettings, Settings

TOWNS = ["Heide", "Husum", "Kiel", "Lübeck", "Flensburg", "Cottbus", "Guben", "Forst",
         "Schwedt", "Eberswalde", "Bautzen", "Görlitz"]  # fmt: skip


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch-index")
    docs = root / "docs"
    docs.mkdir()
    for i, town in enumerate(TOWNS):
        (docs / f"ort{i:02d}.md").write_text(
            f"# Bericht {town}\n\nIn {town} verbindet der Rufbus {i + 3} Ortschaften mit dem "
            f"Mittelzentrum. Die Fahrgastzahlen in {town} stiegen um {i + 10} Prozent.\n",
            encoding="utf-8",
        )
    settings = Settings(
        paths=PathSettings(data_dir=root / "index"), embedder=EmbedderSettings(backend="fake")
    )
    assert not ingest_paths([docs], settings, FakeEmbedder()).failed
    return root / "index"


@pytest.fixture
def questions(index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(index_dir))
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    monkeypatch.setenv("REGIOSTRAT_ANSWER__ABSTAIN_THRESHOLD", "0.3")
    path = tmp_path / "fragen.csv"
    path.write_text(
        "id;question;Notiz\n"
        "k1;Wie viele Ortschaften verbindet der Rufbus in Kiel?;wichtig\n"
        "k2;Wer ist Präsident von Frankreich?;\n"
        "k3;BUMM Frage, die scheitert;\n",
        encoding="utf-8",
    )
    original = Assistant.ask

    def failing(self: Assistant, question: str, *args: object, **kwargs: object) -> object:
        if question.startswith("BUMM"):
            raise RuntimeError("Testfehler")
        return original(self, question, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Assistant, "ask", failing)
    return path


def test_batch_jsonl(questions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bericht.jsonl"
    assert main(["batch", str(questions), "--out", str(out)]) == 1  # one question failed
    captured = capsys.readouterr()
    assert "3 Fragen: 1 beantwortet, 1 ohne belastbare Antwort, 1 mit Fehler" in captured.out
    assert "Testfehler" in captured.err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["k1", "k2", "k3"]
    kiel = rows[0]
    assert not kiel["abstained"] and "Kiel" in kiel["answer"] and kiel["Notiz"] == "wichtig"
    assert kiel["citations"][0]["n"] == 1 and kiel["citations"][0]["source"].endswith(".md")
    assert set(kiel["citations"][0]) == {"n", "source", "title", "page", "quote", "score"}
    assert len(kiel["retrieved"]) >= 10  # filled up from the retriever (k is 6)
    assert all(set(r) == {"source", "page", "score"} for r in kiel["retrieved"])
    assert kiel["timings"]["total"] > 0
    assert rows[1]["abstained"] is True and rows[1]["citations"] == []
    assert "Testfehler" in rows[2]["error"]


@pytest.mark.parametrize("suffix", [".md", ".html", ".docx", ".xlsx"])
def test_batch_reports(questions: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"bericht{suffix}"
    assert main(["batch", str(questions), "--out", str(out)]) == 1
    if suffix == ".docx":
        text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    elif suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out)["Antworten"]
        text = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
        assert [c.value for c in sheet[1]][-2:] == ["Bewertung", "Kommentar"]
    else:
        text = out.read_text(encoding="utf-8")
    for expected in ("Wie viele Ortschaften verbindet der Rufbus in Kiel?", "Bericht Kiel",
                     "Keine belastbare Antwort in den Dokumenten", "Testfehler"):  # fmt: skip
        assert expected in text
    if suffix != ".xlsx":
        assert "Frage" in text and "Antwort" in text and "Quellen" in text


def test_batch_txt_with_index_option(
    index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    monkeypatch.setenv("REGIOSTRAT_ANSWER__ABSTAIN_THRESHOLD", "0.3")
    path = tmp_path / "fragen.txt"
    path.write_text("# Kommentar\nWie stark stiegen die Fahrgastzahlen in Husum?\n", "utf-8")
    out = tmp_path / "b.md"
    assert main(["batch", str(path), "--out", str(out), "--index", str(index_dir)]) == 0
    assert "Husum" in out.read_text(encoding="utf-8")
    assert main(["batch", str(path), "--out", str(tmp_path / "b.pdf")]) == 2
    assert "b.pdf" in capsys.readouterr().err
    assert main(["batch", str(path), "--out", str(out), "--index", str(tmp_path / "leer")]) == 2
    assert "keinen Index" in capsys.readouterr().err


def test_batch_bad_input_is_a_clear_message(
    questions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("frage_text\nWas?\n", encoding="utf-8")
    assert main(["batch", str(bad), "--out", str(tmp_path / "x.md")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "'question' fehlt" in err
    assert main(["batch", str(tmp_path / "fehlt.txt"), "--out", str(tmp_path / "x.md")]) == 2
    assert "Datei nicht gefunden" in capsys.readouterr().err

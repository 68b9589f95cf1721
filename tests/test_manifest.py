"""The corpus manifest: YAML and CSV parse alike; every error names file, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.manifest import default_meta, find_manifest, load_manifest
from regiostrat.errors import ManifestError, user_message

YAML = """\
# Manifest des Demonstrationskorpus
documents:
  - file: mv01-westkueste/zwischenbericht-2024.pdf   # erster Bericht
    title: "Zwischenbericht 2024 – Zukunftsregion Westküste"
    project: mv01-westkueste
    project_name: "Zukunftsregion Westküste"
    region: "Kreise Dithmarschen und Nordfriesland"
    doc_type: Zwischenbericht
    date: 2024-12-15
    themes: [Energie, Wohnen]
  - file: programm/glossar.md
"""

CSV = """\
file,title,project,project_name,region,doc_type,date,themes
mv01-westkueste/zwischenbericht-2024.pdf,Zwischenbericht 2024 – Zukunftsregion Westküste,\
mv01-westkueste,Zukunftsregion Westküste,Kreise Dithmarschen und Nordfriesland,\
Zwischenbericht,2024-12-15,Energie; Wohnen
programm/glossar.md,,,,,,,
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    return info.value


@pytest.mark.parametrize(("name", "text"), [("manifest.yaml", YAML), ("manifest.csv", CSV)])
def test_yaml_and_csv_parse_alike(tmp_path: Path, name: str, text: str) -> None:
    manifest = load_manifest(write(tmp_path, name, text))
    assert len(manifest.entries) == 2
    meta = manifest.lookup(tmp_path / "mv01-westkueste" / "zwischenbericht-2024.pdf")
    assert meta is not None
    assert meta.title == "Zwischenbericht 2024 – Zukunftsregion Westküste"
    assert meta.project == "mv01-westkueste"
    assert meta.project_name == "Zukunftsregion Westküste"
    assert meta.region == "Kreise Dithmarschen und Nordfriesland"
    assert meta.doc_type == "Zwischenbericht"
    assert meta.date == dt.date(2024, 12, 15)
    assert meta.themes == ["Energie", "Wohnen"]
    glossary = manifest.lookup(tmp_path / "programm" / "glossar.md")
    assert glossary is not None
    assert (glossary.title, glossary.doc_type, glossary.date, glossary.themes) == (
        None,
        "unbekannt",
        None,
        [],
    )


def test_csv_with_semicolons_from_german_excel(tmp_path: Path) -> None:
    text = '\ufefffile;doc_type;themes\nbericht.pdf;Protokoll;"Energie;Mobilität"\n'
    manifest = load_manifest(write(tmp_path, "manifest.csv", text))
    meta = manifest.lookup(tmp_path / "bericht.pdf")
    assert meta is not None and meta.doc_type == "Protokoll"
    assert meta.themes == ["Energie", "Mobilität"]


def test_lookup_resolves_relative_and_unlisted_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = load_manifest(write(tmp_path / "corpus", "manifest.yaml", YAML))
    monkeypatch.chdir(tmp_path)
    assert manifest.lookup(Path("corpus/programm/../programm/glossar.md")) is not None
    assert manifest.lookup(Path("corpus/programm/andere.md")) is None
    assert manifest.lookup(Path("programm/glossar.md")) is None  # relative to cwd, not manifest


def test_yaml_values_kept_as_written(tmp_path: Path) -> None:
    text = 'documents:\n  - file: a.pdf\n    title: 2024\n    project: "0815"\n    date: ""\n'
    meta = load_manifest(write(tmp_path, "manifest.yaml", text)).lookup(tmp_path / "a.pdf")
    assert meta is not None and (meta.title, meta.project, meta.date) == ("2024", "0815", None)


def test_empty_document_list(tmp_path: Path) -> None:
    assert load_manifest(write(tmp_path, "manifest.yaml", "documents: []\n")).entries == []


def test_default_meta() -> None:
    meta = default_meta("Protokoll der Sitzung")
    assert (meta.title, meta.doc_type, meta.project, meta.themes) == (
        "Protokoll der Sitzung",
        "unbekannt",
        None,
        [],
    )


def entry(*lines: str) -> str:
    """A YAML manifest whose second entry (from line 4) has the given field lines."""
    first = "  - file: ok.pdf\n"
    return (
        "# Kopf\ndocuments:\n"
        + first
        + "".join(("  - " if i == 0 else "    ") + line + "\n" for i, line in enumerate(lines))
    )


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        (
            entry("file: b.pdf", "date: 2025-13-40"),
            5,
            "date",
            "Datum '2025-13-40' ist kein gültiges Datum (JJJJ-MM-TT)",
        ),
        (entry("file: b.pdf", "date: 15.12.2024"), 5, "date", "Datum '15.12.2024'"),
        (entry("title: Ohne Datei"), 4, "file", "Pflichtfeld 'file' fehlt"),
        (entry("file: b.pdf", "projekt: mv01"), 5, "projekt", "unbekanntes Feld 'projekt'"),
        (entry("file: b.pdf", "themes: Energie"), 5, "themes", "themes muss eine Liste sein"),
        (entry("file: b.pdf", "themes: [[Energie]]"), 5, "themes", "nur Texte"),
        (entry("file: b.pdf", "title: {a: b}"), 5, "title", "'title' muss ein Text sein"),
        (entry("file: b.pdf", "title: A", "title: B"), 6, "title", "doppelt angegeben"),
        (entry("file: ./ok.pdf"), 4, "file", "Datei './ok.pdf' ist doppelt eingetragen (zuerst"),
        (entry("file: /abs/b.pdf"), 4, "file", "muss relativ zum Ordner des Manifests"),
        (entry("file: b.pdf", "title: [a"), 5, None, "YAML-Syntaxfehler"),
        ("documents:\n  - file: a.pdf\n   title: b\n", 3, None, "YAML-Syntaxfehler"),
        ('documents:\n  - file: "a.pdf\n', 2, None, "YAML-Syntaxfehler"),  # opening quote
        ("documents:\n  - nur-ein-text\n", 2, None, "ein Eintrag muss Felder enthalten"),
        ("documents: a.pdf\n", 1, "documents", "documents muss eine Liste sein"),
        ("dokumente:\n  - file: a.pdf\n", 1, "dokumente", "unbekannter Schlüssel 'dokumente'"),
        ("# nur ein Kommentar\n", None, "documents", "Manifest ist leer"),
    ],
)
def test_yaml_errors_name_line_and_field(
    tmp_path: Path, text: str, line: int | None, field: str | None, reason: str
) -> None:
    path = write(tmp_path, "manifest.yaml", text)
    error = error_of(path)
    assert (error.line, error.field) == (line, field)
    assert reason in error.reason
    message = user_message(error)
    assert str(path) in message and (line is None or f"Zeile {line}" in message)


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        ("file,date\na.pdf,2024-12-15\nb.pdf,2025-02-30\n", 3, "date", "Datum '2025-02-30'"),
        ("file,projekt\na.pdf,x\n", 1, "projekt", "unbekanntes Feld 'projekt'"),
        ("title,date\nA,2024-12-15\n", 1, "file", "Pflichtspalte 'file' fehlt"),
        ("file,title\na.pdf,A\n\n,Ohne Datei\n", 4, "file", "Pflichtfeld 'file' fehlt"),
        ("file,title\na.pdf,A\nA.pdf,B\na.pdf,C\n", 4, "file", "doppelt eingetragen"),
        ("file,title\na.pdf,A,zu viel\n", 2, None, "hat 3 Werte, die Kopfzeile (Zeile 1) nur 2"),
        ('file,title\n"a.pdf","zwei\nZeilen"\nb.pdf,2025-13-01,x\n', 4, None, "hat 3 Werte"),
        ("file,file\na.pdf,b.pdf\n", 1, "file", "Spalte 'file' ist doppelt"),
    ],
)
def test_csv_errors_name_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, reason: str
) -> None:
    error = error_of(write(tmp_path, "manifest.csv", text))
    assert (error.line, error.field) == (line, field)
    assert reason in error.reason


def test_unreadable_manifests(tmp_path: Path) -> None:
    assert "nicht gefunden" in error_of(tmp_path / "manifest.yaml").reason
    assert "unbekanntes Format" in error_of(write(tmp_path, "manifest.json", "{}")).reason
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("file,title\nä.pdf,Grüße\n".encode("latin-1"))
    assert "UTF-8" in error_of(latin1).reason


def test_find_manifest_in_folder_or_up_to_two_levels(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    doc = write(corpus / "documents" / "mv01", "bericht.pdf", "x")
    assert find_manifest([doc]) is None
    csv_manifest = write(corpus, "manifest.csv", CSV)
    assert find_manifest([doc]) == csv_manifest.resolve()
    assert find_manifest([doc.parent]) == csv_manifest.resolve()
    yaml_manifest = write(corpus, "manifest.yaml", YAML)
    assert find_manifest([doc]) == yaml_manifest.resolve()  # YAML before CSV
    nearer = write(corpus / "documents", "manifest.yml", YAML)
    assert find_manifest([doc]) == nearer.resolve()
    deep = write(corpus / "documents" / "mv01" / "a" / "b", "c.pdf", "x")
    assert find_manifest([deep]) is None  # corpus/documents is three levels above
    assert find_manifest([deep, doc]) == nearer.resolve()

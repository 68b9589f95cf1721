# ruff: noqa: E501 - the documents keep their paragraphs on one line
"""A tiny RegioStrat corpus and index for the web app's tests (shared by test_web_*.py)."""

from __future__ import annotations

from pathlib import Path

from regiostrat.settings import AnswerSettings, EmbedderSettings, PathSettings, Settings, UISettings

WESTKUESTE = """# Erster Zwischenbericht der Zukunftsregion Westküste

## Regionalanalyse

Die Regionalanalyse der Zukunftsregion Westküste wurde von der Entwicklungsagentur in Heide selbst erstellt. Grundlage waren amtliche Statistiken, Energie-Szenarien für Wasserstoff und Offshore-Wind sowie eine Befragung von 120 Unternehmen zum Fachkräftebedarf.

Die Ergebnisse der Regionalanalyse wurden in vier Themenwerkstätten mit Kommunen, Kammern und Verbänden diskutiert.

## Beteiligung

An der Online-Umfrage der Westküste haben sich 1.240 Menschen beteiligt. Die Online-Beteiligung erreichte vor allem jüngere Menschen und Pendlerinnen, die zu Abendterminen nicht kommen können.
"""

LAUSITZ = """# Protokoll des Lenkungskreises Lausitz-Spree

## Beteiligung

Der Lenkungskreis bewertet die Online-Beteiligung als wenig wirksam: Auf die Online-Plattform gingen nur 96 Rückmeldungen ein. Künftig setzt das Modellvorhaben auf aufsuchende Formate direkt in den Dörfern.

## Regionalanalyse

Die Regionalanalyse der Lausitz beruht auf amtlicher Statistik und 38 Experteninterviews zum Kohleausstieg.
"""

GLOSSAR = """<!doctype html>
<html lang="de"><head><title>Glossar RegioStrat</title></head>
<body>
<h1>Glossar des Programms RegioStrat</h1>
<h2>SREK</h2>
<p>SREK steht für Strategisches Regionalentwicklungskonzept. Ein SREK bündelt die Ziele, Handlungsfelder und Schlüsselprojekte einer Region für die nächsten zehn Jahre.</p>
<h2>Lenkungskreis</h2>
<p>Der Lenkungskreis steuert ein Modellvorhaben und besteht aus Vertreterinnen und Vertretern der Landkreise, Kommunen und Kammern.</p>
</body></html>
"""

HOSTILE = """# Werkstattprotokoll Mobilität <script>alert('xss')</script>

## Rufbus

Der Rufbus <script>window.__xss = 1</script> verbindet 22 Ortschaften mit dem Mittelzentrum und fährt nach Bedarf. <b>Fett</b> & <i>kursiv</i> </div></td> stehen hier als Text.
"""

MANIFEST = """documents:
  - file: westkueste-zwischenbericht.md
    title: "1. Zwischenbericht 2024 – Zukunftsregion Westküste"
    project: mv01-westkueste
    project_name: "Zukunftsregion Westküste"
    region: "Kreise Dithmarschen und Nordfriesland"
    doc_type: Zwischenbericht
    date: 2024-12-16
    themes: [Regionalanalyse, Akteursbeteiligung]
  - file: lausitz/protokoll-lenkungskreis.md
    title: "Protokoll der 4. Sitzung des Lenkungskreises Lausitz-Spree"
    project: mv02-lausitz-spree
    project_name: "Strukturwandel gestalten – Lausitz-Spree"
    doc_type: Protokoll
    date: 2025-01-22
    themes: [Akteursbeteiligung, Governance]
  - file: glossar.html
    title: "Glossar des Programms RegioStrat"
    doc_type: Glossar
    date: 2024-03-01
    themes: [Programm]
  - file: schwarzwald/zwischenbericht-2025.pdf
    title: "2. Zwischenbericht 2025 Schwarzwald-Baar-Heuberg"
    project: mv06-schwarzwald-baar
    project_name: "Schwarzwald-Baar-Heuberg: Region der kurzen Wege"
    doc_type: Zwischenbericht
    date: 2025-06-30
    themes: [Fachkräftesicherung, Mobilität]
  - file: werkstatt-mobilitaet.md
    title: "Werkstatt <script>alert('titel')</script> Mobilität & Rufbus"
    project: mv05-altmark
    project_name: "Altmark <b>vernetzt</b>"
    doc_type: Protokoll
    date: 2025-02-03
    themes: [Mobilität]
"""

FILES = {
    "westkueste-zwischenbericht.md": WESTKUESTE,
    "lausitz/protokoll-lenkungskreis.md": LAUSITZ,
    "glossar.html": GLOSSAR,
    "werkstatt-mobilitaet.md": HOSTILE,
    "manifest.yaml": MANIFEST,
}

# A three-page PDF: the fact asked about in the tests stands on page 2.
PDF_PAGES = [
    [
        "Zweiter Zwischenbericht 2025",
        "Der Regionalverband Schwarzwald-Baar-Heuberg berichtet über das zweite Projektjahr. " * 4,
        "Die Lenkungsgruppe tagte viermal. Die Geschäftsstelle wurde personell verstärkt und "
        "ein Monitoring der Ziele eingeführt, das halbjährlich fortgeschrieben wird. " * 5,
    ],
    [
        "Fachkräfteallianz",
        "Die Fachkräfteallianz mit IHK und Handwerkskammer hat 41 Unternehmen als Mitglieder "
        "gewonnen. Gemeinsam bieten sie Probearbeitstage für Schülerinnen und Schüler an.",
    ],
    [
        "Ausblick",
        "Im dritten Projektjahr soll das betriebliche Mobilitätsmanagement auf weitere "
        "Gewerbegebiete ausgeweitet werden.",
    ],
]


def write_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for page in PDF_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", size=16)
        pdf.multi_cell(0, 9, page[0], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in page[1:]:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


# The fake (hashing) embedder scores real answers far above nonsense; see test below.
FAKE_ABSTAIN_THRESHOLD = 0.40


def write_corpus(folder: Path) -> Path:
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    write_pdf(folder / "schwarzwald" / "zwischenbericht-2025.pdf")
    return folder


def web_settings(tmp_path: Path, **ui: object) -> Settings:
    return Settings(
        paths=PathSettings(data_dir=tmp_path / "index", corpus_dirs=[tmp_path / "docs"]),
        embedder=EmbedderSettings(backend="fake"),
        answer=AnswerSettings(abstain_threshold=FAKE_ABSTAIN_THRESHOLD),
        ui=UISettings(**ui),  # type: ignore[arg-type]
    )


def build_index(tmp_path: Path, **ui: object) -> Settings:
    """Corpus in tmp_path/docs, index in tmp_path/index (fake embedder); returns the settings."""
    from ingest.pipeline import ingest_paths
    from regiostrat.embedders.fake import FakeEmbedder

    settings = web_settings(tmp_path, **ui)
    folder = write_corpus(tmp_path / "docs")
    report = ingest_paths([folder], settings, FakeEmbedder())
    assert not report.failed, [(r.source, r.reason) for r in report.failed]
    return settings

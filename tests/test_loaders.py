"""Loaders on real files: PDFs (fpdf2), DOCX (python-docx), HTML, Markdown, text, bad input."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import shared_path
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter

from ingest.clean import clean_document
from ingest.loaders import SUPPORTED_SUFFIXES, load_document
from ingest.loaders.pdf import _blocks, ocr_lines
from regiostrat.errors import IngestError
from regiostrat.settings import IngestSettings
from regiostrat.types import BlockKind, Document

MakeFile = Callable[..., Path]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

REPORT_PAGES = [
    [
        "# 1. Ausgangslage",
        "Die Modellregion setzt auf eine nachhaltige Regional-\nentwicklung und stärkt die Nord-\n"
        "Süd-Achse sowie die Stadt-\nund Umlandkooperation im ganzen Kreisgebiet.",
        "# 1.1 Regionalanalyse",
        "Die Regionalanalyse zeigt eine alternde Bevölkerung in den Dörfern.",
    ],
    [
        "# 2. Maßnahmen",
        "Die folgenden Maßnahmen sind im Haushalt eingeplant:",
        [
            ("Maßnahme", "Budget", "Status"),
            ("Radweg", "120.000 EUR", "laufend"),
            ("Dorfladen", "45.000 EUR", "abgeschlossen"),
        ],
    ],
    [
        "# 3. Beteiligung",
        "An der Online-Umfrage haben sich 1.240 Menschen aus der Region beteiligt.",
    ],
]


def load(path: Path, **settings: object) -> Document:
    return load_document(path, IngestSettings(**settings))


def block_texts(doc: Document, kind: BlockKind) -> list[str]:
    return [b.text for page in doc.pages for b in page.blocks if b.kind is kind]


def tesseract_reads_german() -> bool:
    if shutil.which("tesseract") is None:
        return False
    listing = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)
    return "deu" in (listing.stdout + listing.stderr).split()


def image_pdf(tmp_path: Path, name: str, text_pages: list[str | None]) -> Path:
    """A PDF whose pages are text (str) or an image of the words "Dorfentwicklung im Kreis"."""
    from fpdf import FPDF

    picture = Image.new("L", (1200, 300), 255)
    font = ImageFont.truetype(str(DEJAVU), 80) if DEJAVU.exists() else ImageFont.load_default(80)
    ImageDraw.Draw(picture).text((40, 100), "Dorfentwicklung im Kreis", fill=0, font=font)
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in text_pages:
        pdf.add_page()
        if text is None:
            pdf.image(picture, x=10, y=20, w=190)
        else:
            pdf.multi_cell(0, 6, text)
    path = tmp_path / name
    pdf.output(str(path))
    return path


# --- PDF -----------------------------------------------------------------------------------


@pytest.fixture
def report(make_pdf: MakeFile) -> Path:
    return make_pdf(
        "bericht.pdf",
        REPORT_PAGES,
        title="Zwischenbericht Westküste",
        header="Zwischenbericht Modellregion Westküste",
        footer="Seite {page} von 3",
    )


def test_pdf_pages_blocks_and_metadata(report: Path) -> None:
    doc = load(report)

    assert doc.format == "pdf"
    assert doc.title == "Zwischenbericht Westküste"
    assert doc.source == report.as_posix()
    assert doc.content_hash == hashlib.sha256(report.read_bytes()).hexdigest()
    assert [page.number for page in doc.pages] == [1, 2, 3]
    assert "Regionalanalyse zeigt" in doc.pages[0].text
    assert "Radweg" in doc.pages[1].text
    assert "Online-Umfrage" in doc.pages[2].text
    headings = [(b.text, b.level) for b in doc.pages[0].blocks if b.kind is BlockKind.heading]
    assert ("1. Ausgangslage", 1) in headings
    assert ("1.1 Regionalanalyse", 2) in headings


def test_pdf_source_can_be_given(report: Path) -> None:
    doc = load_document(report, IngestSettings(), source="berichte/bericht.pdf")
    assert doc.source == "berichte/bericht.pdf"


def test_pdf_table_rows_stay_lines(report: Path) -> None:
    doc = clean_document(load(report))

    tables = block_texts(doc, BlockKind.table)
    assert len(tables) == 1
    assert tables[0].split("\n") == [
        "Maßnahme | Budget | Status",
        "Radweg | 120.000 EUR | laufend",
        "Dorfladen | 45.000 EUR | abgeschlossen",
    ]


def placed_pdf(tmp_path: Path, lines: list[list[tuple[float, str]]], size: float = 9) -> Path:
    """A one-page PDF (core Helvetica, points) of lines whose texts start at the given x; each
    text is its own text object, as cells, list markers and numbers often are in real PDFs."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("Helvetica", size=size)
    for row, parts in enumerate(lines):
        for x, text in parts:
            pdf.set_xy(x, 80 + row * 1.6 * size)
            pdf.cell(text=text)
    path = tmp_path / "platziert.pdf"
    pdf.output(str(path))
    return path


def test_pdf_table_with_narrow_columns_keeps_its_cells(tmp_path: Path) -> None:
    # a cell's text nearly fills its column: the gap to the next column is narrower than the
    # estimated end of the text suggests; the columns' shared starts give the cells away
    rows = [
        ("Schlüsselprojekt", "Beteiligte", "Start", "Stand August 2025"),
        ("Leerstandsbörse und Ortskernlotsen", "9 Verbandsgemeinden", "01.07.2025", "137 Objekte"),
        ("Wärmeplanung im Konvoi", "9 Verbandsgemeinden", "Oktober 2025", "beschlossen"),
        ("Interkommunale Vergabestelle", "4 Verbandsgemeinden", "01.01.2026", "im Entwurf"),
    ]
    columns = (60, 236, 345, 415)
    path = placed_pdf(tmp_path, [list(zip(columns, row, strict=True)) for row in rows])

    tables = block_texts(clean_document(load(path)), BlockKind.table)

    assert tables == ["\n".join(" | ".join(row) for row in rows)]


def test_pdf_aligned_list_markers_and_numbers_are_no_columns(tmp_path: Path) -> None:
    lines = [
        [(60, "-"), (72, "Bevölkerungsdaten des Statistikamts")],
        [(60, "-"), (72, "Pendlerstatistik der Bundesagentur")],
        [(60, "-"), (72, "Wohnungsmarktdaten der Kreise")],
        [],
        [(60, "5.1"), (84, "Projektförderung")],
        [(60, "5.2"), (84, "Festbetragsfinanzierung")],
        [(60, "5.3"), (84, "Anteilsfinanzierung")],
        [],
        [(60, "Alarmumsetzer pro Stück"), (300, "4 "), (311, "500 Euro")],
        [(60, "Leitstellenausstattung"), (300, "7 "), (311, "500 Euro")],
        [(60, "Funkmeldeempfänger"), (300, "2 "), (311, "000 Euro")],
    ]
    doc = clean_document(load(placed_pdf(tmp_path, lines, size=12)))

    assert block_texts(doc, BlockKind.list_item) == [
        "Bevölkerungsdaten des Statistikamts",
        "Pendlerstatistik der Bundesagentur",
        "Wohnungsmarktdaten der Kreise",
    ]
    assert "5.2 Festbetragsfinanzierung" in doc.pages[0].text
    assert block_texts(doc, BlockKind.table) == [
        "Alarmumsetzer pro Stück | 4 500 Euro\n"
        "Leitstellenausstattung | 7 500 Euro\n"
        "Funkmeldeempfänger | 2 000 Euro"
    ]


def test_pdf_header_and_footer_removed_and_hyphenation_joined(report: Path) -> None:
    raw = load(report)
    assert all("Zwischenbericht Modellregion" in page.text for page in raw.pages)

    doc = clean_document(raw)

    for page in doc.pages:
        assert "Zwischenbericht Modellregion" not in page.text
        assert "Seite" not in page.text
    first = doc.pages[0].text
    assert "nachhaltige Regionalentwicklung und stärkt die Nord-Süd-Achse" in first
    assert "Stadt- und Umlandkooperation" in first


def test_pdf_without_metadata_title_uses_first_heading(make_pdf: MakeFile) -> None:
    path = make_pdf("ohne-titel.pdf", [["# Leitfaden Dorfentwicklung", "Ein kurzer Text."]])
    assert load(path).title == "Leitfaden Dorfentwicklung"


def test_pdf_with_empty_user_password_opens(make_pdf: MakeFile) -> None:
    path = make_pdf("nur-rechte.pdf", [["Geschützter, aber lesbarer Text."]], user_password="")
    assert "lesbarer Text" in load(path).pages[0].text


def test_pdf_with_password_is_refused(make_pdf: MakeFile) -> None:
    path = make_pdf("geheim.pdf", [["Vertraulich."]], user_password="geheim")
    with pytest.raises(IngestError, match="PDF ist verschlüsselt"):
        load(path)


def test_pdf_without_pages_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "leer.pdf"
    with path.open("wb") as file:
        PdfWriter().write(file)
    with pytest.raises(IngestError, match="PDF hat keine Seiten"):
        load(path)


def test_truncated_pdf_is_reported_corrupt(report: Path, tmp_path: Path) -> None:
    broken = tmp_path / "kaputt.pdf"
    broken.write_bytes(report.read_bytes()[: report.stat().st_size // 2])
    with pytest.raises(IngestError, match="PDF ist beschädigt: ") as caught:
        load(broken)
    assert caught.value.path == str(broken)


def test_scanned_pdf_without_ocr_is_refused(tmp_path: Path) -> None:
    path = image_pdf(tmp_path, "scan.pdf", [None])
    with pytest.raises(IngestError, match="keine Textebene, nicht durchsuchbar"):
        load(path, ocr="off")


def test_partly_scanned_pdf_keeps_text_pages_and_warns(tmp_path: Path) -> None:
    path = image_pdf(tmp_path, "gemischt.pdf", ["Die erste Seite hat eine Textebene.", None])

    doc = load(path, ocr="off")

    assert [page.number for page in doc.pages] == [1]
    assert doc.warnings == ["Seite 2 ohne Textebene übersprungen (gescannt, OCR ist abgeschaltet)"]


@pytest.mark.skipif(not tesseract_reads_german(), reason="tesseract with language 'deu' missing")
def test_scanned_page_is_ocred_when_tesseract_is_installed(tmp_path: Path) -> None:
    path = image_pdf(tmp_path, "scan.pdf", ["Die erste Seite hat eine Textebene.", None])

    doc = load(path, ocr="auto", ocr_language="deu")

    assert [page.number for page in doc.pages] == [1, 2]
    assert "Dorfentwicklung" in doc.pages[1].text
    assert doc.warnings == ["Seite 2 per OCR erkannt"]


def test_bullets_tesseract_reads_as_guillemets_stay_list_items() -> None:
    # tesseract's text of the bundled archive scan, whose bullets it read as » and «
    text = (
        "Aktennotiz: Auftakttreffen\n\n"
        "» Datum: 22. Oktober 2024, 10:00 bis 15:30 Uhr\n"
        "« Ort: Bonn, Tagungsraum des BBSR\n\n"
        "»Wir fangen nicht bei null an«, sagte die Referentin."
    )
    blocks = _blocks(ocr_lines(text), 0.0)

    items = [b.text for b in blocks if b.kind is BlockKind.list_item]
    assert items == [
        "Datum: 22. Oktober 2024, 10:00 bis 15:30 Uhr",
        "Ort: Bonn, Tagungsraum des BBSR",
    ]
    assert blocks[-1].text.startswith("»Wir fangen")  # a quotation is not a bullet


# --- DOCX, HTML, Markdown, text --------------------------------------------------------------


def test_docx_headings_lists_and_tables_in_body_order(make_docx: MakeFile) -> None:
    path = make_docx(
        "protokoll.docx",
        [
            ("h1", "Protokoll der Lenkungsgruppe"),
            ("p", "Die Lenkungsgruppe tagte am 3. März in Heide."),
            ("li", "Radweg an der Küste"),
            ("table", [("Maßnahme", "Budget"), ("Radweg", "120.000 EUR")]),
            ("h2", "Nächste Schritte"),
            ("p", "Die Beteiligung beginnt im Mai."),
        ],
        title="Lenkungsgruppe März",
    )

    doc = load(path)

    assert doc.format == "docx"
    assert doc.title == "Lenkungsgruppe März"
    assert [page.number for page in doc.pages] == [1]
    blocks = [(b.kind, b.level, b.text) for b in doc.pages[0].blocks]
    assert blocks == [
        (BlockKind.heading, 1, "Protokoll der Lenkungsgruppe"),
        (BlockKind.paragraph, 0, "Die Lenkungsgruppe tagte am 3. März in Heide."),
        (BlockKind.list_item, 0, "Radweg an der Küste"),
        (BlockKind.table, 0, "Maßnahme | Budget\nRadweg | 120.000 EUR"),
        (BlockKind.heading, 2, "Nächste Schritte"),
        (BlockKind.paragraph, 0, "Die Beteiligung beginnt im Mai."),
    ]


def test_docx_without_core_title_uses_first_heading(make_docx: MakeFile) -> None:
    path = make_docx("notiz.docx", [("p", "Vorweg."), ("h1", "Regionalstrategie"), ("p", "Text.")])
    assert load(path).title == "Regionalstrategie"


def test_corrupt_docx_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.docx"
    path.write_bytes(b"PK\x03\x04 kein echtes Archiv")
    with pytest.raises(IngestError, match="DOCX-Datei ist beschädigt"):
        load(path)


PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Modellvorhaben Westküste</title>
<style>p { color: red; }</style><script>var tracking = "Analysezeile";</script></head>
<body>
<header><a href="/">Startseite</a><nav><ul><li>Projekte</li><li>Kontakt</li></ul></nav></header>
<div id="cookie-banner">Wir verwenden Cookies. <button>Akzeptieren</button></div>
<div class="breadcrumb">Start &gt; Projekte</div>
<main>
  <article>
    <header><h1>Energiewende an der Küste</h1></header>
    <p>Die Region setzt auf <strong>Windenergie</strong> und Wasserstoff.<br>Ein Elektrolyseur
       ist geplant.</p>
    <h2>Beteiligung</h2>
    <ul><li>Online-Umfrage<ul><li>1.240 Antworten</li></ul></li><li>Themenwerkstätten</li></ul>
    <table><tr><th>Ort</th><th>Termin</th></tr><tr><td>Heide</td><td>3. März</td></tr></table>
    <aside>Verwandte Artikel</aside>
    <div>Stand: Februar 2025</div>
  </article>
</main>
<footer>Impressum Datenschutz</footer>
</body></html>
"""


def test_html_main_content_only(tmp_path: Path) -> None:
    path = tmp_path / "seite.html"
    path.write_text(PAGE, encoding="utf-8")

    doc = load(path)

    assert doc.format == "html"
    assert doc.title == "Modellvorhaben Westküste"
    text = doc.pages[0].text
    for noise in ("Startseite", "Projekte", "Cookies", "Impressum", "Analysezeile", "Verwandte"):
        assert noise not in text
    blocks = [(b.kind, b.level, b.text) for b in doc.pages[0].blocks]
    assert blocks == [
        (BlockKind.heading, 1, "Energiewende an der Küste"),
        (
            BlockKind.paragraph,
            0,
            "Die Region setzt auf Windenergie und Wasserstoff.\nEin Elektrolyseur ist geplant.",
        ),
        (BlockKind.heading, 2, "Beteiligung"),
        (BlockKind.list_item, 0, "Online-Umfrage"),
        (BlockKind.list_item, 0, "1.240 Antworten"),
        (BlockKind.list_item, 0, "Themenwerkstätten"),
        (BlockKind.table, 0, "Ort | Termin\nHeide | 3. März"),
        (BlockKind.paragraph, 0, "Stand: Februar 2025"),
    ]


def test_html_without_main_drops_page_chrome(tmp_path: Path) -> None:
    path = tmp_path / "alt.htm"
    path.write_text(
        "<html><body><nav>Menü</nav><h1>Dorfladen</h1><p>Der Laden öffnet im Mai.</p>"
        "<div class='footer-menu'>Links</div><footer>Kontakt</footer></body></html>",
        encoding="utf-8",
    )

    doc = load(path)

    assert doc.title == "Dorfladen"
    assert doc.pages[0].text == "Dorfladen\n\nDer Laden öffnet im Mai."


def test_html_with_only_navigation_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "leer.html"
    path.write_text("<html><body><nav>Start</nav><footer>Impressum</footer></body></html>")
    with pytest.raises(IngestError, match="kein Text"):
        load(path)


MARKDOWN = """---
title: Nicht der Titel
datum: 2025-02-18
---
# Vernetzungstreffen Heilbronn

Die 13 **Modellvorhaben** trafen sich
in [Heilbronn](https://example.org).

## Themen

- Regionalanalyse als Grundlage
* Governance
1. Beteiligung

| Thema | Leitung |
|-------|---------|
| Energie | Westküste |

```
# kein Heading
```
"""


def test_markdown_structure(tmp_path: Path) -> None:
    path = tmp_path / "treffen.md"
    path.write_text(MARKDOWN, encoding="utf-8")

    doc = load(path)

    assert doc.format == "md"
    assert doc.title == "Vernetzungstreffen Heilbronn"
    blocks = [(b.kind, b.level, b.text) for b in doc.pages[0].blocks]
    assert blocks == [
        (BlockKind.heading, 1, "Vernetzungstreffen Heilbronn"),
        (BlockKind.paragraph, 0, "Die 13 Modellvorhaben trafen sich\nin Heilbronn."),
        (BlockKind.heading, 2, "Themen"),
        (BlockKind.list_item, 0, "Regionalanalyse als Grundlage"),
        (BlockKind.list_item, 0, "Governance"),
        (BlockKind.list_item, 0, "Beteiligung"),
        (BlockKind.table, 0, "Thema | Leitung\nEnergie | Westküste"),
        (BlockKind.paragraph, 0, "# kein Heading"),
    ]


def test_plain_text_paragraphs_and_file_stem_title(tmp_path: Path) -> None:
    path = tmp_path / "notiz.txt"
    path.write_text("Erster Absatz,\nzweite Zeile.\n\n  • Punkt eins\n\nLetzter Absatz.\n")

    doc = load(path)

    assert doc.format == "txt"
    assert doc.title == "notiz"
    blocks = [(b.kind, b.text) for b in doc.pages[0].blocks]
    assert blocks == [
        (BlockKind.paragraph, "Erster Absatz,\nzweite Zeile."),
        (BlockKind.list_item, "Punkt eins"),
        (BlockKind.paragraph, "Letzter Absatz."),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Grüße aus Müßighausen – 5 €".encode("cp1252"), "Grüße aus Müßighausen – 5 €"),
        ("Straßenbau in Köln".encode("latin-1"), "Straßenbau in Köln"),
        ("Ökologische Dorfentwicklung".encode("utf-8-sig"), "Ökologische Dorfentwicklung"),
        ("Ökologische Dorfentwicklung".encode("utf-16"), "Ökologische Dorfentwicklung"),
    ],
)
def test_text_encodings(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "alt.txt"
    path.write_bytes(data)
    assert load(path).pages[0].text == expected


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 4, bytes(range(0x80, 0x100)) * 8],
    ids=["control-bytes", "high-bytes"],
)
def test_binary_garbage_is_reported(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "muell.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError, match="Textkodierung nicht erkannt"):
        load(path)


# --- every file -----------------------------------------------------------------------------


def test_supported_suffixes() -> None:
    assert {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"} == SUPPORTED_SUFFIXES


@pytest.mark.parametrize("name", ["leer.pdf", "leer.txt", "leer.docx"])
def test_empty_file_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.touch()
    with pytest.raises(IngestError, match="Datei ist leer"):
        load(path)


def test_whitespace_only_text_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "leer.md"
    path.write_text("\n   \n\t\n")
    with pytest.raises(IngestError, match="kein Text"):
        load(path)


def test_file_over_the_size_limit_is_refused_before_reading(
    report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(self: Path) -> bytes:
        raise AssertionError("the content must not be read")

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    with pytest.raises(IngestError, match=r"Datei zu groß \(0,\d+ MB, Grenze 0,001 MB\)"):
        load(report, max_file_mb=0.001)


def test_unsupported_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tabelle.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(IngestError, match="'.xlsx' wird nicht unterstützt"):
        load(path)


# --- real documents from ../shared ----------------------------------------------------------


@pytest.mark.shared
def test_real_scan_without_ocr_is_reported() -> None:
    path = shared_path("documents", "dorfwettbewerb-niedersachsen", "5094_1001_LangeWanne.pdf")
    with pytest.raises(IngestError, match="keine Textebene, nicht durchsuchbar"):
        load(path, ocr="off")


@pytest.mark.shared
def test_real_text_pdf_loads_german_pages() -> None:
    path = shared_path("documents", "dorfwettbewerb-niedersachsen", "leitfaden.pdf")

    doc = clean_document(load(path))

    assert len(doc.pages) >= 8
    assert all(page.blocks for page in doc.pages)
    text = "\n".join(page.text for page in doc.pages)
    assert "Niedersächsische Landwirtschaftsministerium" in text
    assert "Im Mittelpunkt stehen dabei immer die Menschen" in text  # "Mittel-\npunkt"
    assert "Gemeinsame Verantwortungsgemeinschaften setzen sich" in text
    assert "\ufffd" not in text
    assert any(b.kind is BlockKind.heading and b.text == "ZIELE" for b in doc.pages[3].blocks)

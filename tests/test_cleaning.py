"""Cleaning: characters, hyphenation at line breaks, line joining, running headers and footers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.clean import clean_document
from ingest.loaders import load_document
from regiostrat.settings import IngestSettings
from regiostrat.types import Block, BlockKind, Document, Page


def document(*pages: list[Block]) -> Document:
    return Document(
        source="test.pdf",
        format="pdf",
        title="Test",
        pages=[Page(number=n, blocks=blocks) for n, blocks in enumerate(pages, start=1)],
    )


def paragraph(text: str) -> Block:
    return Block(kind=BlockKind.paragraph, text=text)


def cleaned(text: str, kind: BlockKind = BlockKind.paragraph) -> str:
    doc = clean_document(document([Block(kind=kind, text=text)]))
    return doc.pages[0].blocks[0].text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Gru\u0308ße aus Mu\u0308nchen", "Grüße aus München"),  # NFC keeps umlauts and ß
        ("Regional\u00adentwicklung", "Regionalentwicklung"),
        ("Regional\u00ad\nentwicklung", "Regionalentwicklung"),
        ("Daseins\u200bvorsorge\ufeff", "Daseinsvorsorge"),
        ("Pro\u00a0Jahr  werden\t 20 Mio.   Euro ", "Pro Jahr werden 20 Mio. Euro"),
        ("\ufb01nanziert und ge\ufb02utet", "finanziert und geflutet"),
    ],
)
def test_characters(raw: str, expected: str) -> None:
    assert cleaned(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("nachhaltige Regional-\nentwicklung", "nachhaltige Regionalentwicklung"),
        ("im Mittel- \n  punkt", "im Mittelpunkt"),
        ("die Nord-\nSüd-Achse", "die Nord-Süd-Achse"),
        ("per E-\nMail", "per E-Mail"),
        ("Stadt-\nund Landkreis", "Stadt- und Landkreis"),
        ("Kreis-, Landes-\noder Bundesebene", "Kreis-, Landes- oder Bundesebene"),
        ("Stadt- und Umlandkooperation", "Stadt- und Umlandkooperation"),
        ("ist 2-\nstufig", "ist 2-stufig"),
        ("zulässig -\nGaragen", "zulässig - Garagen"),
        ("Erste Zeile\nzweite Zeile", "Erste Zeile zweite Zeile"),
    ],
)
def test_line_breaks_and_hyphenation(raw: str, expected: str) -> None:
    assert cleaned(raw) == expected


def test_headings_and_list_items_are_joined_too() -> None:
    assert cleaned("Regionale Entwick-\nlungsstrategie", BlockKind.heading) == (
        "Regionale Entwicklungsstrategie"
    )
    assert cleaned("Förderung der\nDorf-\ngemeinschaft", BlockKind.list_item) == (
        "Förderung der Dorfgemeinschaft"
    )


def test_tables_keep_their_rows() -> None:
    assert cleaned("Ort  |  Termin \n\nHeide | 3.\u00a0März\n", BlockKind.table) == (
        "Ort | Termin\nHeide | 3. März"
    )


def test_empty_blocks_are_dropped() -> None:
    doc = clean_document(document([paragraph(" \u200b\n "), paragraph("Text")]))
    assert [b.text for b in doc.pages[0].blocks] == ["Text"]


def test_metadata_and_page_numbers_stay() -> None:
    raw = document([paragraph("Eins")], [paragraph("Zwei")])
    raw.warnings.append("Seite 3 per OCR erkannt")

    doc = clean_document(raw)

    assert [page.number for page in doc.pages] == [1, 2]
    assert (doc.source, doc.title, doc.warnings) == (raw.source, raw.title, raw.warnings)


BODIES = ["Die Ausgangslage.", "Die Maßnahmen.", "Die Beteiligung.", "Der Ausblick."]


def page_with_margins(number: int, total: int = 4) -> list[Block]:
    body = BODIES[number - 1]
    return [
        paragraph(f"Zwischenbericht 2024 Modellregion\n{body}"),
        paragraph(f"Mehr zu: {body.lower()}\n- {number} -\nSeite {number} von {total}"),
    ]


def test_repeated_header_and_footer_lines_are_dropped() -> None:
    doc = clean_document(document(*(page_with_margins(n) for n in range(1, 5))))

    for page, body in zip(doc.pages, BODIES, strict=True):
        assert page.text == f"{body}\n\nMehr zu: {body.lower()}"


def test_header_of_three_lines_is_dropped() -> None:
    pages = [
        [paragraph(f"- Seite {n} von 3 -\nEin Service des Bundes\nwww.gesetze.de\n{body}")]
        for n, body in enumerate(BODIES[:3], start=1)
    ]
    doc = clean_document(document(*pages))
    assert [page.text for page in doc.pages] == BODIES[:3]


def test_lines_on_few_pages_or_inside_the_page_stay() -> None:
    pages = [
        [paragraph(f"{head}\n{body}\nZwischenzeile\n{body} (Fortsetzung)\nEnde: {body}")]
        for head, body in zip(["Kapitel 1", "Kapitel 2", "Anhang", "Anlagen"], BODIES, strict=True)
    ]
    doc = clean_document(document(*pages))
    # "Kapitel #" heads 2 of 4 pages (< 60 %); "Zwischenzeile" is never a margin line.
    assert doc.pages[0].text == (
        "Kapitel 1 Die Ausgangslage. Zwischenzeile Die Ausgangslage. (Fortsetzung) "
        "Ende: Die Ausgangslage."
    )


def test_short_documents_keep_their_headers() -> None:
    doc = clean_document(document(*(page_with_margins(n, total=2) for n in (1, 2))))
    assert all("Zwischenbericht 2024" in page.text for page in doc.pages)


def test_pdf_text_as_pypdf_extracts_it(make_pdf: Callable[..., Path]) -> None:
    path = make_pdf(
        "absatz.pdf",
        [
            [
                "Die Lenkungsgruppe begleitet die Regional-\nentwicklung in der Nord-\n"
                "Süd-Region, die Stadt-\nund Umlandkooperation und die Innen-\n"
                "entwicklung der Dörfer."
            ]
        ],
    )

    doc = clean_document(load_document(path, IngestSettings()))

    assert doc.pages[0].text == (
        "Die Lenkungsgruppe begleitet die Regionalentwicklung in der Nord-Süd-Region, "
        "die Stadt- und Umlandkooperation und die Innenentwicklung der Dörfer."
    )

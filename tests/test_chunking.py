"""Chunking: exact offsets, sections, sizes, whole-sentence overlap, German sentence splitting."""

from __future__ import annotations

import hashlib

import pytest

from ingest.chunking import chunk_document, split_sentences
from regiostrat.types import (
    PAGE_BLOCK_SEPARATOR,
    Block,
    BlockKind,
    Chunk,
    Document,
    DocumentMeta,
    Page,
)

SIZE = 400
OVERLAP = 120


def heading(text: str, level: int = 2) -> Block:
    return Block(kind=BlockKind.heading, text=text, level=level)


def para(text: str) -> Block:
    return Block(kind=BlockKind.paragraph, text=text)


def table(text: str) -> Block:
    return Block(kind=BlockKind.table, text=text)


def sentence(n: int, words: int = 10) -> str:
    """A distinct German sentence of about 8 * words characters."""
    return f"Satz {n} handelt " + " ".join(f"vom Thema{n}x{i}" for i in range(words)) + "."


def paragraph(first: int, count: int, words: int = 10) -> str:
    return " ".join(sentence(n, words) for n in range(first, first + count))


def document(*pages: list[Block], title: str = "Zwischenbericht 2025") -> Document:
    return Document(
        source="mv11/zwischenbericht-2025.pdf",
        format="pdf",
        title=title,
        pages=[Page(number=i + 1, blocks=blocks) for i, blocks in enumerate(pages)],
        meta=DocumentMeta(title=title, project="mv11-saale-holzland", doc_type="Zwischenbericht"),
    )


def chunk(doc: Document, size: int = SIZE, overlap: int = OVERLAP) -> list[Chunk]:
    return chunk_document(doc, "doc-1", size, overlap)


def page_of(doc: Document, c: Chunk) -> Page:
    return next(p for p in doc.pages if p.number == c.page_start)


@pytest.fixture
def report() -> Document:
    return document(
        [
            heading("Zwischenbericht 2025", level=1),
            heading("1. Ausgangslage"),
            heading("1.1 Die Region", level=3),
            para(paragraph(0, 3)),
            para(paragraph(10, 12)),
            heading("1.2 Vorgehen", level=3),
            para(paragraph(30, 2)),
            table("| Kreis | Gemeinden |\n|---|---|\n| Saale-Holzland | 84 |\n| Saale-Orla | 53 |"),
        ],
        [
            para(paragraph(40, 4)),
            heading("2. Ziele"),
            para(paragraph(50, 6)),
        ],
    )


def test_every_chunk_is_exact_page_text(report: Document) -> None:
    chunks = chunk(report)
    assert len(chunks) > 4
    for c in chunks:
        assert c.page_start == c.page_end
        assert page_of(report, c).text[c.char_start : c.char_end] == c.text
        assert c.text == c.text.strip() and c.text


def test_chunks_cover_all_body_text(report: Document) -> None:
    covered = {(c.page_start, i) for c in chunk(report) for i in range(c.char_start, c.char_end)}
    for page in report.pages:
        offset = 0
        for block in page.blocks:
            if block.kind is not BlockKind.heading:
                for i, char in enumerate(block.text, start=offset):
                    assert char.isspace() or (page.number, i) in covered
            offset += len(block.text) + len(PAGE_BLOCK_SEPARATOR)


def test_page_numbers_and_sections(report: Document) -> None:
    chunks = chunk(report)
    first = chunks[0]
    assert first.page_start == 1
    assert first.text.startswith("Zwischenbericht 2025\n\n1. Ausgangslage\n\n1.1 Die Region")
    assert first.section == "1. Ausgangslage › 1.1 Die Region"
    by_sentence = {n: c for c in chunks for n in range(60) if f"Satz {n} handelt" in c.text}
    assert by_sentence[31].section == "1. Ausgangslage › 1.2 Vorgehen"
    assert by_sentence[31].text.startswith("1.2 Vorgehen")
    assert by_sentence[40].page_start == 2
    assert by_sentence[40].section == "1. Ausgangslage › 1.2 Vorgehen"  # carried over the page
    assert by_sentence[50].section == "2. Ziele"  # the document title is not repeated


def test_no_chunk_mixes_sections_across_a_heading(report: Document) -> None:
    for c in chunk(report):
        inner_headings = [h for h in ("1.2 Vorgehen", "2. Ziele") if h in c.text]
        for h in inner_headings:
            assert c.text.startswith(h), c.text[:80]
    assert not any("Satz 2 " in c.text and "Satz 30 " in c.text for c in chunk(report))


def test_sizes_near_target() -> None:
    doc = document([heading("1. Text"), para(paragraph(0, 40))])
    chunks = chunk(doc)
    assert all(len(c.text) <= SIZE for c in chunks)
    assert all(len(c.text) >= SIZE / 2 for c in chunks[:-1])


def test_long_paragraph_is_split_at_sentences() -> None:
    text = paragraph(0, 20)
    doc = document([para(text)])
    chunks = chunk(doc, overlap=0)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text.startswith("Satz ") and c.text.endswith(".")
    assert " ".join(c.text for c in chunks) == text


def test_overlap_is_whole_sentences_within_limit() -> None:
    doc = document([para(paragraph(0, 20, words=3))])
    text = doc.pages[0].text
    sentence_starts = {s for s, _ in split_sentences(text)}
    sentence_ends = {e for _, e in split_sentences(text)}
    chunks = chunk(doc)
    assert len(chunks) > 3
    for previous, current in zip(chunks, chunks[1:], strict=False):
        assert current.char_start < previous.char_end  # the chunks overlap ...
        assert previous.char_end - current.char_start <= OVERLAP  # ... by at most OVERLAP
        assert current.char_start in sentence_starts and previous.char_end in sentence_ends


def test_no_overlap_into_a_new_section() -> None:
    doc = document([para(paragraph(0, 3)), heading("2. Neu"), para(paragraph(10, 3))])
    chunks = chunk(doc)
    new = [c for c in chunks if c.section == "2. Neu"]
    assert new[0].text.startswith("2. Neu")
    assert all("Satz 2 " not in c.text for c in new)


def test_overlap_zero_gives_disjoint_chunks() -> None:
    chunks = chunk(document([para(paragraph(0, 20))]), overlap=0)
    for previous, current in zip(chunks, chunks[1:], strict=False):
        assert current.char_start > previous.char_end


def test_sentence_longer_than_chunk_is_split_at_whitespace() -> None:
    text = sentence(1, words=120)
    doc = document([para(text)])
    chunks = chunk(doc)
    assert len(chunks) > 1
    for c in chunks:
        assert len(c.text) <= SIZE
        assert doc.pages[0].text[c.char_start : c.char_end] == c.text
        assert not c.text[0].isspace()
    # No overlap is taken from a sentence cut in pieces, and no word is cut.
    assert " ".join(c.text for c in chunks) == text


def test_table_kept_whole_when_it_fits() -> None:
    rows = "\n".join(f"| Gemeinde {i} | {i * 10} Einwohner |" for i in range(8))
    doc = document([para(paragraph(0, 3)), table(rows), para(paragraph(10, 1))])
    tables = [c for c in chunk(doc) if "| Gemeinde 0 |" in c.text]
    assert len(tables) == 1 and rows in tables[0].text


def test_a_data_table_is_a_chunk_of_its_own_with_its_introduction() -> None:
    # found by what its header row names, not diluted by the prose around it
    rows = "Schlüsselprojekt | Start | Stand\nBauhofverbund | Juni 2025 | unterzeichnet"
    intro = "Die Schlüsselprojekte stehen so:"
    doc = document([para(sentence(1)), para(intro), table(rows), para(sentence(2))])
    assert [c.text for c in chunk(doc)] == [sentence(1), f"{intro}\n\n{rows}", sentence(2)]


def test_a_table_of_two_columns_stays_with_its_context() -> None:
    # a record's fields ("Ort | Heide") belong with what the record is about
    fields = "Datum | 14. Mai 2025\nOrt | Heide, Kreishaus"
    doc = document([para(sentence(1)), table(fields), para(sentence(2))])
    assert [c.text for c in chunk(doc)] == [f"{sentence(1)}\n\n{fields}\n\n{sentence(2)}"]


def test_large_table_split_at_row_lines() -> None:
    rows = [f"| Gemeinde {i} | {i * 10} Einwohner | Bauhof ja |" for i in range(40)]
    doc = document([table("\n".join(rows))])
    chunks = chunk(doc)
    assert len(chunks) > 1
    for c in chunks:
        assert all(line in rows for line in c.text.split("\n"))
        assert len(c.text) <= SIZE * 1.2
    assert sum(c.text.count("\n") + 1 for c in chunks) == len(rows)


def test_chunks_never_cross_pages_or_documents() -> None:
    doc_a = document([para(paragraph(0, 2))], [para(paragraph(10, 2))])
    doc_b = document([para(paragraph(20, 2))], title="Protokoll")
    chunks_a = chunk_document(doc_a, "a", SIZE, OVERLAP)
    chunks_b = chunk_document(doc_b, "b", SIZE, OVERLAP)
    assert [c.page_start for c in chunks_a] == [1, 2]
    assert {c.doc_id for c in chunks_a} == {"a"} and {c.doc_id for c in chunks_b} == {"b"}
    assert all("Satz 1 " in c.text or "Satz 10 " in c.text for c in chunks_a)
    assert chunks_b[0].title == "Protokoll"


def test_tiny_trailing_fragment_merged() -> None:
    first, tiny = paragraph(0, 2, words=13), "Kurz gesagt: mehr Personal."
    assert len(first) <= SIZE < len(first) + 2 + len(tiny)
    doc = document([para(first), para(tiny), heading("2. Weiter"), para("Text.")])
    chunks = chunk(doc, overlap=0)
    assert [c.text for c in chunks] == [f"{first}\n\n{tiny}", "2. Weiter\n\nText."]


def test_whitespace_blocks_skipped_and_offsets_still_right() -> None:
    doc = document([para("  "), para("  Erster Absatz.  "), para(""), para("Zweiter Absatz.")])
    (only,) = chunk(doc)
    assert only.text == "Erster Absatz.  \n\n\n\nZweiter Absatz."
    assert doc.pages[0].text[only.char_start : only.char_end] == only.text


def test_heading_only_document_gives_no_chunks() -> None:
    assert chunk(document([heading("Titel", 1)], [])) == []


def test_ids_deterministic_and_fields_filled(report: Document) -> None:
    first, second = chunk(report), chunk(report)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    for ordinal, c in enumerate(first):
        content_hash = hashlib.sha256(c.text.encode()).hexdigest()
        assert c.content_hash == content_hash
        assert c.id == hashlib.sha256(f"doc-1:{ordinal}:{content_hash}".encode()).hexdigest()[:32]
        assert c.ordinal == ordinal
        assert c.source == report.source and c.title == report.title
        assert c.meta.project == "mv11-saale-holzland"
    assert chunk_document(report, "doc-2", SIZE, OVERLAP)[0].id != first[0].id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Das gilt z. B. für Bauhöfe, d. h. für alle. Sie tagte am 18. Februar 2025 in Jena.",
            [
                "Das gilt z. B. für Bauhöfe, d. h. für alle.",
                "Sie tagte am 18. Februar 2025 in Jena.",
            ],
        ),
        (
            "Im 1. Quartal 2025 begann es. Der Bericht vom 19.02.2025 liegt vor.",
            ["Im 1. Quartal 2025 begann es.", "Der Bericht vom 19.02.2025 liegt vor."],
        ),
        (
            "Siehe S. 12 bzw. Abs. 3 und Nr. 5. Der Verein e. V. hat ca. 40 Mitglieder.",
            ["Siehe S. 12 bzw. Abs. 3 und Nr. 5.", "Der Verein e. V. hat ca. 40 Mitglieder."],
        ),
        (
            "Die Zahl stieg auf 38. Danach sank sie bis 2024. Warum? Es fehlte Personal!",
            [
                "Die Zahl stieg auf 38.",
                "Danach sank sie bis 2024.",
                "Warum?",
                "Es fehlte Personal!",
            ],
        ),
        (
            "Er sagte: „Das reicht nicht.“ Dann ging er. Schulen usw. Die Gemeinden usw. und mehr.",
            [
                "Er sagte: „Das reicht nicht.“",
                "Dann ging er.",
                "Schulen usw.",
                "Die Gemeinden usw. und mehr.",
            ],
        ),
        ("1. Ausgangslage und Regionalanalyse", ["1. Ausgangslage und Regionalanalyse"]),
        (
            "Überschrift\n\nErster Satz. Zweiter Satz.",
            ["Überschrift", "Erster Satz.", "Zweiter Satz."],
        ),
        ("Punkte:\n- erstens\n- zweitens", ["Punkte:", "- erstens", "- zweitens"]),
        ("| a | b |\n|---|---|\n| 1 | 2 |", ["| a | b |", "|---|---|", "| 1 | 2 |"]),
        ("Die Kosten betragen 450.000 Euro. ", ["Die Kosten betragen 450.000 Euro."]),
        ("  ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in split_sentences(text)] == expected

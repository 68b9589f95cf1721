"""Content streams parse to exactly pypdf's operations (or pypdf's error), through the fast
tokenizer that ingestion installs (`ingest.loaders.content_stream`)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, shared_path
from pypdf import PdfReader, apply_configuration
from pypdf.generic import ContentStream

import ingest.loaders.pdf  # noqa: F401  (installs the parser, as ingestion does)

CORPUS = REPO / "corpus" / "documents"


def fast_parser() -> Any:
    return ContentStream._parse_content_stream


def pypdf_parser() -> Any:
    return ContentStream._parse_content_stream.__wrapped__  # type: ignore[attr-defined]


def canonical(value: Any) -> Any:
    """Types and values, recursively: equal only when both parsers built the same objects."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [canonical(item) for item in value])
    if isinstance(value, dict):
        items = sorted((str(key), canonical(item)) for key, item in value.items())
        return (type(value).__name__, items)
    return (type(value).__name__, repr(value))


def parse(parser: Any, data: bytes) -> Any:
    content = ContentStream(None, None)
    content.set_data(data)
    try:
        parser(content, BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - the error is part of what must agree
        return ("error", type(exc).__name__)
    return canonical(content._operations)


def assert_same(data: bytes) -> None:
    assert parse(fast_parser(), data) == parse(pypdf_parser(), data), data[:200]


def content_streams(pdf: Path) -> Iterator[bytes]:
    """The content of every page and of every form XObject a page draws."""
    for page in PdfReader(pdf).pages:
        contents = page.get_contents()
        if contents is not None:
            yield contents.get_data()
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        for xobject in (xobjects.get_object() if xobjects else {}).values():
            if xobject.get_object().get("/Subtype") == "/Form":
                yield xobject.get_object().get_data()


def test_the_fast_parser_is_installed_in_pypdf() -> None:
    # Fails when a pypdf upgrade renames the hook: text extraction would be slower again.
    assert getattr(fast_parser(), "_regiostrat_fast", False)


def test_bundled_pdfs_parse_to_pypdfs_operations() -> None:
    streams = [data for pdf in sorted(CORPUS.rglob("*.pdf")) for data in content_streams(pdf)]
    assert len(streams) > 100
    for data in streams:
        assert_same(data)


@pytest.mark.shared
def test_real_pdfs_parse_to_pypdfs_operations() -> None:
    # 26 PDFs from authorities' websites: tagged (BDC dictionaries), escaped strings, TJ arrays,
    # form XObjects, scans with inline images
    folder = shared_path("documents")
    pdfs = sorted(folder.rglob("*.pdf"))
    assert pdfs
    for pdf in pdfs:
        for data in content_streams(pdf):
            assert_same(data)


@pytest.mark.parametrize(
    "data",
    [
        b"BT /F1 12 Tf 72 712 Td (Regionalanalyse) Tj ET",
        b"BT [(Regional) -250 (analyse) 12.5 <0041>] TJ ET",
        b"/Span <</MCID 3 /ActualText (x)>> BDC (a) Tj EMC",  # a dictionary operand
        b"(Klammer \\( und \\) und \\\\ und \\101) Tj (a (b) c) Tj",  # escapes, nesting
        b"<48 65 6c> Tj <4865 6> Tj <> Tj",  # hex with whitespace, odd length, empty
        b"/A#20B gs",  # a #-escape in a name
        b"/\xc3\xa4 gs",  # a non-ASCII name
        b"/" + b"x" * 1500 + b" gs",  # a long name
        b"1,5 -.5 5. +3 - 0.000001 Tc",  # odd numbers
        b"12345678901234567890123 Tc",  # a long number
        b"% comment\r\n1 0 0 1 0 0 cm % trailing comment",
        b"[1 [2 [3]] (x)] TJ [] TJ",  # nested and empty arrays
        b"[1 % comment in an array\n 2] TJ",
        b"[null true false] TJ",
        b"BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI Q",  # an inline image
        b"1 0 R Do",  # an indirect reference where none may be
        b"[1 2",  # an array left open
        b"1 2\x0b3 Td [1\x0b2] TJ",  # a vertical tab: no whitespace for pypdf outside arrays
        b") Tj",  # garbage
        b"q " + b"A" * 130 + b" Q",  # an operator longer than pypdf allows
        b"",
    ],
)
def test_edge_cases_agree_with_pypdf(data: bytes) -> None:
    assert_same(data)


def test_spent_budget_is_pypdfs_error() -> None:
    data = b" ".join([b"1 2 Td"] * 50 + [b"[" + b"1 " * 50 + b"] TJ"])
    with apply_configuration(stream_parsing_work_maximum_count=100):
        assert parse(fast_parser(), data) == ("error", "LimitReachedError")
        assert parse(pypdf_parser(), data) == ("error", "LimitReachedError")
    with apply_configuration(array_maximum_element_count=10):
        assert parse(fast_parser(), data) == parse(pypdf_parser(), data)


def test_mutated_real_streams_agree_with_pypdf() -> None:
    # random bytes inserted into a real stream: any difference in the grammar shows up
    data = next(content_streams(CORPUS / "mv12-westpfalz" / "zwischenbericht-2025.pdf"))[:3000]
    alphabet = b" \n()<>[]{}/%#\\.-+0123456789aTJ\x00\x0b"
    chance = random.Random(7)
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(chance.randint(1, 4)):
            mutated.insert(chance.randrange(len(mutated)), chance.choice(alphabet))
        assert_same(bytes(mutated))

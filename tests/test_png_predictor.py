"""Scanned images stored with a PNG predictor decode to the same pixels, through Pillow's C code."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.filters import FlateDecode
from pypdf.generic import DictionaryObject, NameObject, NumberObject

import ingest.loaders.pdf  # noqa: F401  (installs the decoder, as ingestion does)
from ingest.loaders import png_predictor


def _paeth(left: int, up: int, up_left: int) -> int:
    p = left + up - up_left
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
    if pa <= pb and pa <= pc:
        return left
    return up if pb <= pc else up_left


def _filter_rows(raw: bytes, row_bytes: int, bpp: int, filters: list[int]) -> bytes:
    """PNG-filter `raw` row by row (what a PDF writer stores), filter type per row."""
    out = bytearray()
    previous = bytes(row_bytes)
    for index, kind in enumerate(filters):
        row = raw[index * row_bytes : (index + 1) * row_bytes]
        out.append(kind)
        for i, value in enumerate(row):
            left = row[i - bpp] if i >= bpp else 0
            up = previous[i]
            up_left = previous[i - bpp] if i >= bpp else 0
            predicted = [0, left, up, (left + up) // 2, _paeth(left, up, up_left)][kind]
            out.append((value - predicted) % 256)
        previous = row
    return bytes(out)


def _decode(filtered: bytes, columns: int, colors: int) -> bytes:
    parms = DictionaryObject(
        {
            NameObject("/Predictor"): NumberObject(15),
            NameObject("/Columns"): NumberObject(columns),
            NameObject("/Colors"): NumberObject(colors),
        }
    )
    return FlateDecode.decode(zlib.compress(filtered), parms)


def test_the_fast_decoder_is_installed_in_pypdf() -> None:
    # Fails when a pypdf upgrade renames the hook: scans would silently decode 10-50x slower.
    assert FlateDecode._decode_png_prediction is png_predictor.decode


@pytest.mark.parametrize("colors", [1, 2, 3, 4])
def test_every_filter_type_decodes_to_the_original_bytes(colors: int) -> None:
    rng = random.Random(colors)
    columns, rows = 37, 15
    row_bytes = columns * colors
    raw = bytes(rng.randrange(256) for _ in range(row_bytes * rows))
    filters = [i % 5 for i in range(rows)]  # None, Sub, Up, Average, Paeth, None, ...
    filtered = _filter_rows(raw, row_bytes, colors, filters)

    assert _decode(filtered, columns, colors) == raw
    assert png_predictor._decode_with_pillow(filtered, columns, row_bytes + 1) == raw  # no fallback
    assert png_predictor._original is not None
    assert png_predictor._original(filtered, columns, row_bytes + 1) == raw


def test_an_invalid_filter_byte_fails_as_pypdf_fails() -> None:
    filtered = bytearray(_filter_rows(bytes(30), 10, 1, [0, 0, 0]))
    filtered[11] = 9  # second row: no such filter
    with pytest.raises(PdfReadError):
        _decode(bytes(filtered), 10, 1)


def test_a_scanned_page_in_a_pdf_yields_its_original_pixels(tmp_path: Path) -> None:
    from fpdf import FPDF

    scan = Image.new("L", (600, 400), 255)
    draw = ImageDraw.Draw(scan)
    for y in range(20, 380, 24):
        draw.text((30, y), "Regionalanalyse Westküste 2025 Beteiligung", fill=0)
    rng = random.Random(0)
    for _ in range(3000):  # speckles, so the predictor rows differ
        scan.putpixel((rng.randrange(600), rng.randrange(400)), rng.randrange(256))
    png = tmp_path / "scan.png"
    scan.save(png)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(png), x=0, y=0, w=210)  # fpdf2 keeps the PNG's filtered rows (Predictor 15)
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))

    image = PdfReader(path).pages[0].images[0]
    parms = image.indirect_reference.get_object()["/DecodeParms"]  # type: ignore[union-attr]
    assert parms["/Predictor"] == 15  # the case this decoder exists for
    assert image.image is not None
    assert image.image.convert("L").tobytes() == scan.tobytes()

"""PNG-predicted image data of PDFs decoded by Pillow's C decoder instead of pypdf's Python loop.

Scanned pages and photos in PDFs are often stored as Flate streams with a PNG predictor: every
row starts with a filter byte (None, Sub, Up, Average, Paeth) and the bytes are differences to
their neighbours. pypdf undoes the filters byte by byte in Python, which costs ~1.5 s for one
A4 page scanned at 300 dpi (two such files of ../shared/documents spent 11 of the corpus's 22 s
of parsing there). The filtered rows are exactly a PNG image's IDAT data, so wrapping them into a
minimal PNG and letting Pillow decode it gives the same bytes at C speed.

`install()` replaces `FlateDecode._decode_png_prediction` (pypdf >= 7, private) with `decode`,
which falls back to pypdf's own code for anything it does not handle (bit depths other than 8,
more than four bytes per pixel, damaged rows). `tests/test_png_predictor.py` checks both give
the same bytes for every filter type, and that the hook is installed on the pypdf in use.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from io import BytesIO

from PIL import Image
from pypdf.filters import FlateDecode

# bytes per pixel -> (PNG colour type, Pillow raw mode); the unfiltering only depends on bpp
_PNG_TYPES = {1: (0, "L"), 2: (4, "LA"), 3: (2, "RGB"), 4: (6, "RGBA")}
_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_original: Callable[[bytes, int, int], bytes] | None = None


def decode(data: bytes, columns: int, row_length: int) -> bytes:
    """The unfiltered rows (without their filter bytes), as pypdf's decoder returns them."""
    fast = _decode_with_pillow(data, columns, row_length)
    if fast is not None:
        return fast
    assert _original is not None, "install() first"
    return _original(data, columns, row_length)


def _decode_with_pillow(data: bytes, columns: int, row_length: int) -> bytes | None:
    if columns <= 0 or row_length - 1 <= 0 or (row_length - 1) % columns:
        return None
    png_type = _PNG_TYPES.get((row_length - 1) // columns)
    if png_type is None or not data or len(data) % row_length:
        return None  # other layouts (and pypdf's padding warning) stay with pypdf
    colour_type, raw_mode = png_type
    rows = len(data) // row_length
    header = struct.pack(">IIBBBBB", columns, rows, 8, colour_type, 0, 0, 0)
    png = b"".join(
        [
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(data, 0)),  # stored, not compressed again
            _chunk(b"IEND", b""),
        ]
    )
    try:
        with Image.open(BytesIO(png)) as image:
            return image.tobytes("raw", raw_mode)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # an invalid filter byte, truncated data, an image beyond Pillow's pixel limit
        return None


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def install() -> None:
    """Route pypdf's PNG-predictor decoding through `decode` (nothing when pypdf has no such
    hook: then its own decoder runs)."""
    global _original
    current = getattr(FlateDecode, "_decode_png_prediction", None)
    if current is not None and current is not decode:
        _original = current
        FlateDecode._decode_png_prediction = staticmethod(decode)  # type: ignore[method-assign]

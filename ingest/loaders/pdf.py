"""PDF loading with pypdf: text per page, blocks from layout heuristics, OCR for scanned pages.

The page's lines come with position, font size, weight and table cells (`pdf_lines`). Blocks are
cut at vertical gaps, at short lines that end a sentence, at headings (larger or bold font,
numbering, capitals), at bullets, and around table rows (lines split into cells, next to another
such line). Line breaks stay in the block text: `ingest.clean` joins them and repairs
hyphenation.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from io import BytesIO
from itertools import pairwise
from pathlib import Path

from pypdf import PageObject, PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, PyPdfError

from regiostrat.errors import IngestError, NotSearchableError
from regiostrat.settings import IngestSettings
from regiostrat.types import Block, BlockKind, Document, Page

from . import content_stream, png_predictor
from .pdf_lines import BULLET_SYMBOL, Line, page_lines

png_predictor.install()  # scanned images decode at C speed (see png_predictor)
content_stream.install()  # content streams parse ~3x faster (see content_stream)

_SCAN_MAX_LETTERS = 20  # a page with fewer letters and an image is a scan
_OCR_MIN_PIXELS = 100  # smaller images are logos or decoration
_OCR_IMAGE_BYTES = 512_000_000  # scans of posters exceed pypdf's default limit
_OCR_TIMEOUT_S = 300

_NUMBERED = re.compile(r"^([1-9]\d?(?:\.\d{1,2})*)\.?\s+(?=\S)")  # "2.1 ", not "01. November"
_SYMBOL_BULLET = re.compile(rf"^{BULLET_SYMBOL}\s*(?=\S)")
_BULLET = re.compile(rf"{_SYMBOL_BULLET.pattern}|^[-–—*]\s+(?=\S)")
_SENTENCE_END = re.compile(r"[.!?:][\"'“”’)»]*$")
_META_TITLE_PREFIX = re.compile(r"^Microsoft (?:Word|PowerPoint|Excel) - ", re.IGNORECASE)
_META_TITLE_SUFFIX = re.compile(r"\.(?:docx?|pptx?|xlsx?|odt|indd|pdf)$", re.IGNORECASE)


def load_pdf(path: Path, data: bytes, settings: IngestSettings) -> Document:
    """A PDF's pages with blocks; scanned pages are OCRed when tesseract is available."""
    try:
        return _load(path, data, settings)
    except DependencyError as exc:  # AES encryption needs the `cryptography` package
        raise IngestError(
            path, f"PDF ist verschlüsselt, Entschlüsselung nicht möglich: {exc}"
        ) from exc


def _load(path: Path, data: bytes, settings: IngestSettings) -> Document:
    reader = _open(path, data)
    lines_per_page = [page_lines(page) for page in reader.pages]
    body_size = _body_size(lines_per_page)
    pages: list[Page] = []
    scans: list[int] = []
    for number, (page, lines) in enumerate(zip(reader.pages, lines_per_page, strict=True), start=1):
        if _is_scan(page, lines):
            scans.append(number)
        elif blocks := _blocks(lines, body_size):
            pages.append(Page(number=number, blocks=blocks))
    warnings: list[str] = []
    if scans:
        pages, warnings = _add_scans(path, reader, scans, pages, settings)
    return Document(
        source=path.as_posix(),
        format="pdf",
        title=_title(reader, pages),
        pages=pages,
        warnings=warnings,
    )


def _open(path: Path, data: bytes) -> PdfReader:
    reader = PdfReader(BytesIO(data))
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise IngestError(path, "PDF ist verschlüsselt (Passwort erforderlich)")
    if not reader.pages:
        raise IngestError(path, "PDF hat keine Seiten")
    return reader


def _title(reader: PdfReader, pages: list[Page]) -> str:
    """The metadata title when it is a real title, else the first heading or line."""
    meta = reader.metadata.title if reader.metadata else None
    if meta:
        meta = _META_TITLE_SUFFIX.sub("", _META_TITLE_PREFIX.sub("", meta.strip()))
        if re.search(r"[^\W\d_]{4,}", meta):
            return meta
    if not pages:
        return ""
    blocks = pages[0].blocks
    heading = next((b.text for b in blocks if b.kind is BlockKind.heading), None)
    return heading if heading is not None else blocks[0].text.split("\n")[0]


def _body_size(lines_per_page: list[list[Line]]) -> float:
    """The font size of most characters of the document."""
    sizes: Counter[float] = Counter()
    for lines in lines_per_page:
        for line in lines:
            sizes[line.size] += len(line.text.strip())
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _is_scan(page: PageObject, lines: list[Line]) -> bool:
    letters = sum(c.isalpha() for line in lines for c in line.text)
    return letters < _SCAN_MAX_LETTERS and len(page.images) > 0


# --- blocks ------------------------------------------------------------------------------


@dataclass
class _Draft:
    kind: BlockKind
    level: int
    first: Line
    lines: list[str] = field(default_factory=list)


@dataclass
class _PageLayout:
    body_size: float
    pitch: float  # typical distance between body lines
    width: int  # typical length of a full line in characters


def _blocks(lines: list[Line], body_size: float) -> list[Block]:
    rows = _table_rows(lines)
    layout = _PageLayout(body_size, _typical_pitch(lines, body_size), _typical_width(lines))
    drafts: list[_Draft] = []
    draft: _Draft | None = None
    previous: Line | None = None
    for index, line in enumerate(lines):
        if not line.text.strip():
            draft = previous = None
            continue
        kind, level, text = _classify(line, index in rows, body_size)
        if draft is None or previous is None or not _continues(draft, kind, line, previous, layout):
            draft = _Draft(kind, level, line)
            drafts.append(draft)
        draft.lines.append(text)
        previous = line
    return [
        Block(kind=d.kind, text="\n".join(d.lines), level=d.level)
        for d in drafts
        # Lines without letters outside tables are page numbers or labels of maps and plans.
        if d.kind is BlockKind.table or any(c.isalpha() for line in d.lines for c in line)
    ]


def _table_rows(lines: list[Line]) -> set[int]:
    """Lines with column gaps next to another such line."""
    gapped = {i for i, line in enumerate(lines) if len(line.cells) > 1}
    return {i for i in gapped if i - 1 in gapped or i + 1 in gapped}


def _typical_pitch(lines: list[Line], body_size: float) -> float:
    steps = [
        a.y - b.y
        for a, b in pairwise(lines)
        if a.y is not None and b.y is not None and a.size == b.size == body_size
        if 0 < a.y - b.y < 3 * body_size
    ]
    return statistics.median(steps) if steps else 1.2 * body_size


def _typical_width(lines: list[Line]) -> int:
    lengths = sorted(len(line.text.strip()) for line in lines if line.text.strip())
    return lengths[int(0.8 * (len(lengths) - 1))] if lengths else 0


def _classify(line: Line, is_row: bool, body_size: float) -> tuple[BlockKind, int, str]:
    text = line.text.strip()
    if is_row:
        return BlockKind.table, 0, " | ".join(line.cells)
    bullet = _BULLET.match(text)
    content = text[bullet.end() :] if bullet else text
    if bullet and not any(c.isalpha() for c in content):  # "- 4 -" is a page number
        bullet, content = None, text
    if level := _heading_level(content, line, body_size, bulleted=bullet is not None):
        return BlockKind.heading, level, _SYMBOL_BULLET.sub("", text)
    return (BlockKind.list_item if bullet else BlockKind.paragraph), 0, content


def _heading_level(text: str, line: Line, body_size: float, *, bulleted: bool) -> int:
    """Heading level (numbering depth, else by size), or 0 for a line of body text."""
    if len(text) > 120 or text[-1] in ".,;" or not any(c.isalpha() for c in text):
        return 0
    numbered = _NUMBERED.match(text)
    depth = numbered.group(1).count(".") + 1 if numbered else 0
    if body_size and line.size >= 1.15 * body_size:
        return depth or (1 if line.size >= 1.5 * body_size else 2)
    if bulleted or len(text) > 80 or len(text.split()) > 10:
        return 0
    if line.bold and (text[0].isupper() or text[0].isdigit()):
        return depth or 2
    if numbered and _reads_as_title(text[numbered.end() :]):
        return depth
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and len(text) <= 60 and all(c.isupper() or c == "ß" for c in letters):
        return 1
    return 0


def _reads_as_title(text: str) -> bool:
    """German titles start and end with a capitalised word: "Wiederholte Teilnahme"."""
    words = text.split()
    return 0 < len(words) <= 8 and text[0].isupper() and words[-1][0].isupper()


def _continues(
    draft: _Draft, kind: BlockKind, line: Line, previous: Line, layout: _PageLayout
) -> bool:
    """Whether `line` belongs to the open block rather than starting a new one."""
    if draft.kind is BlockKind.table:
        return kind is BlockKind.table
    if _layout_break(previous, line, layout):
        return False
    ends_paragraph = _ends_paragraph(previous, layout)
    text = line.text.strip()
    match kind:
        case BlockKind.heading:
            return (
                draft.kind is BlockKind.heading
                and line.size == draft.first.size
                and not _NUMBERED.match(text)
            )
        case BlockKind.paragraph if draft.kind is BlockKind.list_item:
            return not ends_paragraph and _indented(line, draft.first)
        case BlockKind.paragraph if draft.kind is BlockKind.paragraph:
            return not ends_paragraph and not _starts_numbered_paragraph(text, previous)
    return False


def _layout_break(previous: Line, line: Line, layout: _PageLayout) -> bool:
    """A vertical gap, a jump back up (next column) or a change of font size."""
    if previous.y is None or line.y is None:
        return False
    size = max(previous.size, line.size, 1.0)
    step = previous.y - line.y
    return (
        step < -0.5 * size
        or step > 1.45 * max(layout.pitch, 1.2 * size)
        or abs(previous.size - line.size) > 0.15 * size
    )


def _ends_paragraph(line: Line, layout: _PageLayout) -> bool:
    """A line that ends a sentence well before the right margin."""
    text = line.text.strip()
    return bool(_SENTENCE_END.search(text)) and len(text) < 0.8 * layout.width


def _starts_numbered_paragraph(text: str, previous: Line) -> bool:
    """ "2.2.1 Dieses …", or "3. Die …" after a finished sentence (not "am\n1. November")."""
    numbered = _NUMBERED.match(text)
    if numbered is None:
        return False
    return "." in numbered.group(1) or previous.text.rstrip()[-1] in ".:;!?"


def _indented(line: Line, item: Line) -> bool:
    if line.x is None or item.x is None:
        return True
    return line.x > item.x + 0.3 * line.size


# --- OCR ---------------------------------------------------------------------------------


def _add_scans(
    path: Path, reader: PdfReader, scans: list[int], pages: list[Page], settings: IngestSettings
) -> tuple[list[Page], list[str]]:
    """All pages with the scanned ones OCRed where possible, and the warnings to report."""
    unavailable = _ocr_unavailable(settings)
    pages, skipped, warnings = list(pages), [], []
    for number in scans:
        text = "" if unavailable else _ocr_page(reader.pages[number - 1], settings.ocr_language)
        if blocks := _blocks(ocr_lines(text), 0.0):
            pages.append(Page(number=number, blocks=blocks))
            warnings.append(f"Seite {number} per OCR erkannt")
        else:
            skipped.append(number)
    if skipped:
        reason = unavailable or "OCR hat keinen Text erkannt"
        if not pages:
            raise NotSearchableError(
                path, f"keine Textebene, nicht durchsuchbar (gescanntes PDF, {reason})"
            )
        label = "Seite" if len(skipped) == 1 else "Seiten"
        numbers = ", ".join(map(str, skipped))
        warnings.append(f"{label} {numbers} ohne Textebene übersprungen (gescannt, {reason})")
    return sorted(pages, key=lambda page: page.number), warnings


# tesseract reads round bullets as guillemets; a German quotation opens without a space: »Zitat«
_OCR_BULLET = re.compile(r"^[»«]\s+(?=\S)")


def ocr_lines(text: str) -> list[Line]:
    """tesseract's text as lines, its misread bullets ("» Ort: Bonn") made bullets again."""
    return [Line(_OCR_BULLET.sub("• ", line)) for line in text.split("\n")]


def _ocr_unavailable(settings: IngestSettings) -> str | None:
    """Why OCR cannot run (German), or None when it can."""
    if settings.ocr == "off":
        return "OCR ist abgeschaltet"
    languages = _tesseract_languages()
    if not languages:
        return "OCR nicht möglich, tesseract ist nicht installiert"
    if settings.ocr_language not in languages:
        return f"OCR nicht möglich, tesseract-Sprachpaket '{settings.ocr_language}' fehlt"
    return None


@functools.cache
def _tesseract_languages() -> frozenset[str]:
    binary = shutil.which("tesseract")
    if binary is None:
        return frozenset()
    try:
        listing = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    # Older versions print to stderr; the header line contains spaces, language codes do not.
    lines = (listing.stdout + listing.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and " " not in line.strip())


# tesseract's OpenMP threads slow one page down on a small machine (scan page of the bundled
# corpus, 2 cores: 2.9 s with the default, 1.5 s with one thread, same text)
_OCR_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _ocr_page(page: PageObject, language: str) -> str:
    """Text tesseract reads in the page's images; empty when it fails."""
    texts = []
    page_inches = float(page.mediabox.width) / 72
    try:
        with (
            apply_configuration(image_maximum_buffer_size=_OCR_IMAGE_BYTES),
            tempfile.TemporaryDirectory() as folder,
        ):
            for index, image in enumerate(page.images):
                picture = image.image
                if picture is None or min(picture.size) < _OCR_MIN_PIXELS:
                    continue
                # uncompressed greyscale: encoding a PNG cost up to 0.5 s per large scan
                target = Path(folder) / f"{index}.pgm"
                picture.convert("L").save(target)
                dpi = min(max(round(picture.width / page_inches), 70), 1200)
                result = subprocess.run(
                    ["tesseract", str(target), "stdout", "-l", language, "--dpi", str(dpi)],
                    capture_output=True,
                    text=True,
                    timeout=_OCR_TIMEOUT_S,
                    check=True,
                    env=_OCR_ENV,
                )
                texts.append(result.stdout.replace("\f", ""))
    except (OSError, subprocess.SubprocessError, PyPdfError):
        return ""
    return "\n\n".join(texts)

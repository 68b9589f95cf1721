"""DOCX loading: body paragraphs and tables in document order, as one page."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import docx
from docx.styles.style import CharacterStyle
from docx.table import Table
from docx.text.paragraph import Paragraph

from regiostrat.types import Block, BlockKind, Document, Page

_HEADING_STYLE = re.compile(r"(?:heading|überschrift)\s*(\d)", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "titel"})
_LIST_STYLE = re.compile(r"list|liste|aufzählung", re.IGNORECASE)


def load_docx(path: Path, data: bytes) -> Document:
    """A Word document's body: headings by style, list paragraphs, tables one row a line."""
    document = docx.Document(BytesIO(data))
    styles: dict[str | None, tuple[int, bool]] = {}  # resolving a style is slow: once per id
    blocks = [
        block
        for item in document.iter_inner_content()
        if (
            block := _table_block(item)
            if isinstance(item, Table)
            else _paragraph_block(item, styles)
        )
    ]
    title = (document.core_properties.title or "").strip()
    if not title:
        title = next((b.text for b in blocks if b.kind is BlockKind.heading), "")
    return Document(
        source=path.as_posix(), format="docx", title=title, pages=[Page(number=1, blocks=blocks)]
    )


def _paragraph_block(
    paragraph: Paragraph, styles: dict[str | None, tuple[int, bool]]
) -> Block | None:
    text = paragraph.text.strip()
    if not text:
        return None
    style_id = paragraph._p.style
    if style_id not in styles:
        style = paragraph.style
        is_list_style = style is not None and bool(_LIST_STYLE.search(style.name or ""))
        styles[style_id] = (_heading_level(style), is_list_style)
    level, is_list_style = styles[style_id]
    if level:
        return Block(kind=BlockKind.heading, text=text, level=level)
    if is_list_style or _is_numbered(paragraph):
        return Block(kind=BlockKind.list_item, text=text)
    return Block(kind=BlockKind.paragraph, text=text)


def _heading_level(style: CharacterStyle | None) -> int:
    """Level of a heading style, also for custom styles based on one; 0 for other styles."""
    while style is not None:
        name = (style.name or "").strip()
        if match := _HEADING_STYLE.fullmatch(name):
            return int(match.group(1))
        if name.lower() in _TITLE_STYLES:
            return 1
        style = style.base_style
    return 0


def _is_numbered(paragraph: Paragraph) -> bool:
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _table_block(table: Table) -> Block | None:
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is not previous:  # a horizontally merged cell repeats
                cells.append(" ".join(cell.text.split()))
            previous = cell._tc
        if line := " | ".join(cell for cell in cells if cell):
            rows.append(line)
    return Block(kind=BlockKind.table, text="\n".join(rows)) if rows else None

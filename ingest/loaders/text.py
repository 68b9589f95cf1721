"""Markdown and plain-text loading: byte decoding and a small line-based block parser."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from regiostrat.errors import IngestError
from regiostrat.types import Block, BlockKind, Document, Page

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
# Non-ASCII characters that German (or Western European) text in a legacy codepage contains.
_WESTERN_CHARS = frozenset("äöüÄÖÜßẞ€§°–—„“”‚‘’«»‹›…•·éèêëàáâçñíìîóòôúùûøæœ²³µ´¼½¾×÷©®™\xa0")
_UNDECODABLE = "Textkodierung nicht erkannt"

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_TEXT_LIST_ITEM = re.compile(r"^\s*[-*•●▪◦–]\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`([^`]+)`")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")


def load_text(path: Path, data: bytes, *, markdown: bool) -> Document:
    """A Markdown (`markdown=True`) or plain-text file as a one-page document."""
    text = decode_text(path, data).replace("\r\n", "\n").replace("\r", "\n")
    blocks = parse_markdown(text) if markdown else parse_plain_text(text)
    title = ""
    if markdown:
        title = next((b.text for b in blocks if b.kind is BlockKind.heading and b.level == 1), "")
    return Document(
        source=path.as_posix(),
        format="md" if markdown else "txt",
        title=title,
        pages=[Page(number=1, blocks=blocks)],
    )


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with BOM, else cp1252/latin-1 if it reads as text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise IngestError(path, _UNDECODABLE) from None
    sample = data[:65536]
    if b"\x00" in sample or sum(b in _CONTROL_BYTES for b in sample) > len(sample) / 100:
        raise IngestError(path, f"{_UNDECODABLE} (Binärdaten?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _reads_as_western_text(text):
            return text
    raise IngestError(path, _UNDECODABLE)


def _reads_as_western_text(text: str) -> bool:
    odd = sum(1 for c in text if not (c.isascii() or c in _WESTERN_CHARS))
    return odd <= len(text) / 200


class _BlockBuilder:
    """Collects lines into blocks; `flush` closes the open block."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.kind: BlockKind | None = None
        self.level = 0
        self.lines: list[str] = []

    def start(self, kind: BlockKind, line: str, level: int = 0) -> None:
        self.flush()
        self.kind, self.level, self.lines = kind, level, [line]

    def add(self, line: str) -> None:
        if self.kind is None:
            self.start(BlockKind.paragraph, line)
        else:
            self.lines.append(line)

    def flush(self) -> None:
        text = "\n".join(self.lines).strip()
        if self.kind is not None and text:
            self.blocks.append(Block(kind=self.kind, text=text, level=self.level))
        self.kind, self.level, self.lines = None, 0, []


def parse_plain_text(text: str) -> list[Block]:
    """Paragraphs at blank lines; lines starting with a bullet become list items."""
    builder = _BlockBuilder()
    for line in text.split("\n"):
        if not line.strip():
            builder.flush()
        elif item := _TEXT_LIST_ITEM.match(line):
            builder.start(BlockKind.list_item, item.group(1))
        else:
            builder.add(line)
    builder.flush()
    return builder.blocks


def parse_markdown(text: str) -> list[Block]:
    """Headings, paragraphs, list items, pipe tables and code fences of a Markdown text."""
    lines = _strip_front_matter(text).split("\n")
    builder = _BlockBuilder()
    index = 0
    while index < len(lines):
        line = lines[index]
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        index += 1
        stripped = line.strip()
        if fence := _FENCE.match(line):
            builder.flush()
            code: list[str] = []
            while index < len(lines) and not lines[index].strip().startswith(fence.group(1)):
                code.append(lines[index])
                index += 1
            index += 1
            builder.start(BlockKind.paragraph, "\n".join(code))
            builder.flush()
        elif not stripped:
            builder.flush()
        elif heading := _ATX_HEADING.match(line):
            builder.start(BlockKind.heading, _inline(heading.group(2)), len(heading.group(1)))
            builder.flush()
        elif builder.kind is BlockKind.paragraph and re.fullmatch(r"=+|-+", stripped):
            builder.kind, builder.level = BlockKind.heading, 1 if stripped[0] == "=" else 2
            builder.flush()
        elif _RULE.match(line):
            builder.flush()
        elif _is_table_row(stripped, next_line, builder.kind):
            if builder.kind is not BlockKind.table:
                builder.start(BlockKind.table, _table_row(stripped))
            elif not _TABLE_SEPARATOR.match(stripped):
                builder.add(_table_row(stripped))
        elif item := _MD_LIST_ITEM.match(line):
            builder.start(BlockKind.list_item, _inline(item.group(1)))
        else:
            builder.add(_inline(stripped.lstrip("> ")))
    builder.flush()
    return builder.blocks


def _strip_front_matter(text: str) -> str:
    if not text.startswith("---\n"):
        return text
    end = re.search(r"^(?:---|\.\.\.)\s*$", text[4:], flags=re.MULTILINE)
    return text[4 + end.end() :] if end else text


def _is_table_row(stripped: str, next_line: str, current: BlockKind | None) -> bool:
    """As in GitHub Markdown, a table goes on until a blank line (or a heading)."""
    if current is BlockKind.table:
        return True
    return "|" in stripped and (
        stripped.startswith("|") or bool(_TABLE_SEPARATOR.match(next_line) and "-" in next_line)
    )


def _table_row(stripped: str) -> str:
    cells = [_inline(cell.strip()) for cell in stripped.strip("|").split("|")]
    return " | ".join(cells)


def _inline(text: str) -> str:
    """Markdown inline markup reduced to its text (single `*`/`_` stay: "Einwohner*innen")."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _CODE.sub(r"\1", text)
    return _ESCAPE.sub(r"\1", text)

"""Structure-aware chunking of cleaned documents, and German-aware sentence splitting.

A chunk is always one contiguous span of one page's cleaned text (`Page.text`), so its offsets
can be quoted and highlighted exactly; chunks never cross pages. Headings start new chunks and
set the chunk's `section`; a table of three or more columns is a chunk of its own (with the
sentence introducing it, when one ends with a colon right before it); paragraphs are packed up
to `chunk_size` characters; longer paragraphs are cut at sentence boundaries, longer sentences
at whitespace, longer tables at row lines. A chunk cut for size repeats the last whole
sentences of the previous one (up to `chunk_overlap`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import Enum

from regiostrat.sentences import Span, split_sentences, strip_span
from regiostrat.types import PAGE_BLOCK_SEPARATOR, BlockKind, Chunk, Document, Page

_WHITESPACE = re.compile(r"\s+")
_LINE = re.compile(r"[^\n]+")


def _split_at_whitespace(text: str, start: int, end: int, size: int) -> list[Span]:
    """Cuts `text[start:end]` into pieces of at most `size` characters at whitespace."""
    pieces: list[Span] = []
    while end - start > size:
        cut = None
        for gap in _WHITESPACE.finditer(text, start + 1, start + size + 1):
            cut = gap
        if cut is None:
            pieces.append((start, start + size))
            start = start + size
        else:
            pieces.append((start, cut.start()))
            start = strip_span(text, cut.end(), end)[0]
    pieces.append((start, end))
    return [p for p in pieces if p[0] < p[1]]


# Units: the smallest pieces the packer places -----------------------------------------------------


class _Kind(Enum):
    heading = "heading"
    text = "text"
    table = "table"


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    kind: _Kind
    sentences: tuple[Span, ...] = ()  # whole sentences of the unit, usable as overlap


def _block_units(text: str, start: int, end: int, kind: BlockKind, size: int) -> list[_Unit]:
    """The units of one block occupying `text[start:end]` of its page."""
    if kind is BlockKind.heading:
        return [_Unit(s, e, _Kind.heading) for s, e in _split_at_whitespace(text, start, end, size)]
    if kind is BlockKind.table:
        if end - start <= size:
            return [_Unit(start, end, _Kind.table)]
        units: list[_Unit] = []
        for row in _LINE.finditer(text, start, end):
            row_start, row_end = strip_span(text, row.start(), row.end())
            pieces = _split_at_whitespace(text, row_start, row_end, size)
            units += [_Unit(s, e, _Kind.table) for s, e in pieces]
        return units
    sentences = [(start + s, start + e) for s, e in split_sentences(text[start:end])]
    if end - start <= size:
        return [_Unit(start, end, _Kind.text, tuple(sentences))]
    units = []
    for s, e in sentences:
        if e - s <= size:
            units.append(_Unit(s, e, _Kind.text, ((s, e),)))
        else:  # pieces of a sentence are no whole sentences: never used as overlap
            units += [
                _Unit(ps, pe, _Kind.text) for ps, pe in _split_at_whitespace(text, s, e, size)
            ]
    return units


# Packing ----------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A chunk being built: a span of one page's text."""

    page: int
    start: int
    end: int
    section: str
    has_body: bool = False
    # Whole sentences at the end of the draft, after its last heading, table or sentence piece.
    tail: list[Span] = field(default_factory=list)

    def add(self, unit: _Unit) -> None:
        self.end = unit.end
        self.has_body = self.has_body or unit.kind is not _Kind.heading
        self.tail = [*self.tail, *unit.sentences] if unit.sentences else []


class _SectionTracker:
    """The headings above the current position, by level; the document title is left out."""

    _MAX_PART = 100

    def __init__(self, title: str) -> None:
        self._title = " ".join(title.split())
        self._stack: list[tuple[int, str]] = []

    def enter(self, heading: str, level: int) -> None:
        text = " ".join(heading.split())
        if text == self._title:
            return
        if len(text) > self._MAX_PART:
            text = text[: self._MAX_PART - 1].rstrip() + "…"
        level = max(level, 1)
        self._stack = [(lv, t) for lv, t in self._stack if lv < level] + [(level, text)]

    @property
    def section(self) -> str:
        """The nearest heading, prefixed by its parent heading if there is one."""
        return " › ".join(text for _, text in self._stack[-2:])


class _Packer:
    """Packs units into chunk spans; `spans` holds the finished ones."""

    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        self.size = chunk_size
        self.overlap = chunk_overlap
        self.min_size = chunk_size // 5
        self.spans: list[_Draft] = []
        self.draft: _Draft | None = None

    def add(self, page: int, text: str, unit: _Unit, section: str) -> None:
        draft = self.draft
        if draft is None:
            draft = _Draft(page, unit.start, unit.end, section)
        elif unit.end - draft.start > self.size:
            self._emit(draft, text, trailing=False)
            start = self._overlap_start(draft, unit)
            overlap = [s for s in draft.tail if s[0] >= start]
            draft = _Draft(page, start, start, section, has_body=bool(overlap), tail=overlap)
        draft.section = section
        draft.add(unit)
        self.draft = draft

    def close(self, text: str) -> None:
        """Ends the current chunk at a heading, a page break or the document's end."""
        if self.draft is not None:
            self._emit(self.draft, text, trailing=True)
            self.draft = None

    def holds_only_headings(self) -> bool:
        return self.draft is not None and not self.draft.has_body

    def _overlap_start(self, previous: _Draft, unit: _Unit) -> int:
        """Start of the last whole sentences of `previous` that fit as overlap before `unit`."""
        start = unit.start
        if not previous.tail or previous.tail[-1][1] != previous.end:
            return start
        for s, _ in reversed(previous.tail):
            if previous.end - s > self.overlap or unit.end - s > self.size or s <= previous.start:
                break
            start = s
        return start

    def _emit(self, draft: _Draft, text: str, trailing: bool) -> None:
        if not draft.has_body:
            return  # headings alone live on as the section of the chunks below them
        last = self.spans[-1] if self.spans else None
        if (
            trailing
            and draft.end - draft.start < self.min_size
            and last is not None
            and last.page == draft.page
            and last.section == draft.section
            and not text[last.end : draft.start].strip()
        ):
            last.end = draft.end  # a tiny trailing fragment joins its predecessor
            return
        self.spans.append(draft)


_Block = tuple[int, int, BlockKind, int]  # start, end, kind, level


def _blocks(text: str, page: Page) -> list[_Block]:
    """The page's non-empty blocks as (start, end, kind, level), offsets into `text`."""
    blocks: list[_Block] = []
    offset = 0
    for block in page.blocks:
        start, end = strip_span(block.text, 0, len(block.text))
        if start < end:
            blocks.append((offset + start, offset + end, block.kind, block.level))
        offset += len(block.text) + len(PAGE_BLOCK_SEPARATOR)
    return blocks


def _data_table(text: str, block: _Block) -> bool:
    """A table of three or more columns ("Schlüsselprojekt | Start | Stand"); two columns are
    mostly a record's fields ("Ort | Heide"), which belong with what the record is about."""
    start, end, kind, _ = block
    first_row = text[start:end].split("\n", 1)[0]
    return kind is BlockKind.table and first_row.count(" | ") >= 2


def _chunk_starts(text: str, blocks: list[_Block]) -> tuple[list[bool], list[bool]]:
    """Per block, whether it starts a chunk (a heading, a data table, or the block ending with a
    colon right before one: "… folgendes Stufenmodell vereinbart:", which the table then
    joins), and whether it is a data table (which ends its chunk)."""
    tables = [_data_table(text, block) for block in blocks]
    intros = [
        kind is not BlockKind.heading
        and index + 1 < len(tables)
        and tables[index + 1]
        and text[end - 1] == ":"
        for index, (_, end, kind, _) in enumerate(blocks)
    ]
    starts = [
        (index == 0 or not intros[index - 1]) if table else kind is BlockKind.heading or intro
        for index, ((_, _, kind, _), table, intro) in enumerate(
            zip(blocks, tables, intros, strict=True)
        )
    ]
    return starts, tables


def chunk_document(doc: Document, doc_id: str, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Cuts `doc` into chunks of about `chunk_size` characters; see the module docstring."""
    texts = [page.text for page in doc.pages]
    packer = _Packer(chunk_size, chunk_overlap)
    sections = _SectionTracker(doc.title)
    for index, (page, text) in enumerate(zip(doc.pages, texts, strict=True)):
        blocks = _blocks(text, page)
        # a data table is a chunk of its own: found by what its header row names, not diluted
        # by the prose before it ("Schlüsselprojekt | Start | Stand")
        starts, tables = _chunk_starts(text, blocks)
        for position, (start, end, kind, level) in enumerate(blocks):
            if starts[position] and not packer.holds_only_headings():
                packer.close(text)
            if kind is BlockKind.heading:
                sections.enter(text[start:end], level)
            for unit in _block_units(text, start, end, kind, chunk_size):
                packer.add(index, text, unit, sections.section)
            if tables[position]:
                packer.close(text)  # and what follows it starts another
        packer.close(text)
    chunks = []
    for ordinal, span in enumerate(packer.spans):
        chunk_text = texts[span.page][span.start : span.end]
        content_hash = hashlib.sha256(chunk_text.encode()).hexdigest()
        chunk_id = hashlib.sha256(f"{doc_id}:{ordinal}:{content_hash}".encode()).hexdigest()[:32]
        number = doc.pages[span.page].number
        chunks.append(
            Chunk(
                id=chunk_id,
                doc_id=doc_id,
                source=doc.source,
                title=doc.title,
                text=chunk_text,
                page_start=number,
                page_end=number,
                char_start=span.start,
                char_end=span.end,
                section=span.section,
                content_hash=content_hash,
                ordinal=ordinal,
                meta=doc.meta,
            )
        )
    return chunks

"""The domain's data shapes, shared by `ingest`, `assistant` and `eval`.

Data flows one way: a loader turns a file into a `Document` of `Page`s made of `Block`s; the
chunker cuts it into `Chunk`s, which are embedded and stored. Retrieval returns `Passage`s (a
chunk with its scores); the answerer returns an `Answer` whose `Citation`s point at the exact
quoted text. Citations are data, never string-munging at the end.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class BlockKind(StrEnum):
    heading = "heading"
    paragraph = "paragraph"
    list_item = "list_item"
    table = "table"


class Block(BaseModel):
    """A structural unit of a page: a heading, a paragraph, a list item or a table (as text)."""

    kind: BlockKind = BlockKind.paragraph
    text: str
    level: int = Field(0, description="Heading level (1 = top); 0 for non-headings.")


class Page(BaseModel):
    """One page of a document (formats without pages have a single page 1)."""

    number: int = Field(description="1-based page number as a reader sees it.")
    blocks: list[Block] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The cleaned page text; chunk offsets index into this string."""
        return PAGE_BLOCK_SEPARATOR.join(b.text for b in self.blocks)


PAGE_BLOCK_SEPARATOR = "\n\n"


class DocumentMeta(BaseModel):
    """Metadata from the corpus manifest (or defaults for files it does not list)."""

    title: str | None = None
    project: str | None = Field(None, description="Model project id, e.g. 'mv01-westkueste'.")
    project_name: str | None = None
    region: str | None = None
    doc_type: str = Field("unbekannt", description="Zwischenbericht, Protokoll, ...")
    date: dt.date | None = None
    themes: list[str] = Field(default_factory=list)


class Document(BaseModel):
    """A loaded, cleaned document."""

    source: str = Field(description="Path of the file as ingested (POSIX, as given or resolved).")
    format: str = Field(description="pdf, docx, html, md or txt.")
    title: str
    pages: list[Page]
    meta: DocumentMeta = Field(default_factory=DocumentMeta)
    content_hash: str = Field("", description="sha256 of the file's bytes.")
    warnings: list[str] = Field(default_factory=list, description="Non-fatal notes (OCR used).")


class Chunk(BaseModel):
    """A quotable piece of one document: its text is exact cleaned document text."""

    id: str = Field(description="Stable id: hash of document content hash and position.")
    doc_id: str = Field(description="Document id (content hash of the file).")
    source: str
    title: str
    text: str
    page_start: int
    page_end: int
    char_start: int = Field(description="Offset of the text in the cleaned text of page_start.")
    char_end: int = Field(description="End offset in the cleaned text of page_end.")
    section: str = Field("", description="Nearest heading above the chunk.")
    content_hash: str = Field(description="sha256 of the chunk text.")
    ordinal: int = Field(0, description="Position of the chunk in its document.")
    meta: DocumentMeta = Field(default_factory=DocumentMeta)


class Passage(BaseModel):
    """A retrieved chunk with the scores that ranked it."""

    chunk: Chunk
    score: float = Field(description="Fused score used for ranking (higher is better).")
    dense_score: float | None = None
    lexical_score: float | None = None
    rank: int = 0


class Citation(BaseModel):
    """A numbered source of an answer, pointing at the exact quoted text."""

    n: int = Field(description="Number used in the answer text as [n].")
    source: str
    title: str
    project: str | None = None
    project_name: str | None = None
    doc_type: str | None = None
    date: dt.date | None = None
    page: int
    quote: str = Field(description="The passage text as stored (exact document text).")
    highlight: str = Field("", description="The sentence of the quote that supports the answer.")
    score: float = 0.0
    chunk_id: str = ""


class Filters(BaseModel):
    """Restrictions a caller puts on retrieval."""

    projects: list[str] = Field(default_factory=list)
    doc_types: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def is_empty(self) -> bool:
        return not (
            self.projects or self.doc_types or self.themes or self.date_from or self.date_to
        )


class Turn(BaseModel):
    """One earlier exchange of a conversation."""

    question: str
    answer: str = ""


class Answer(BaseModel):
    """What the assistant returns for a question."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool = False
    abstain_reason: str = ""
    notice: str = Field("", description="A German note for the user, e.g. LLM fallback used.")
    passages: list[Passage] = Field(default_factory=list, description="All retrieved passages.")
    resolved_question: str = Field("", description="The question after follow-up resolution.")
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
    answerer: str = ""
    extra: dict[str, Any] = Field(default_factory=dict)

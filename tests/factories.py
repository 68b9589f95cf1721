"""Small domain objects for tests that need a chunk or passage without an index."""

from __future__ import annotations

import hashlib
from typing import Any

from regiostrat.types import Chunk, DocumentMeta, Passage


def make_chunk(
    chunk_id: str, text: str, doc_id: str = "doc-a", title: str | None = None, **meta: Any
) -> Chunk:
    """A one-page chunk of `text` (the whole document); `meta` fields go to its DocumentMeta."""
    return Chunk(
        id=chunk_id,
        doc_id=doc_id,
        source=f"{doc_id}.pdf",
        title=doc_id if title is None else title,
        text=text,
        page_start=1,
        page_end=1,
        char_start=0,
        char_end=len(text),
        section="",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        ordinal=0,
        meta=DocumentMeta(**meta),
    )


def make_passage(chunk: Chunk, score: float = 1.0) -> Passage:
    return Passage(chunk=chunk, score=score)

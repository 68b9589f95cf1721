"""One file made ready to store: loaded, cleaned, chunked, and its chunks' index terms analysed.

This is all the CPU work of ingestion besides embedding and writing to the index. It runs in a
parse worker (`ingest.prefetch`) or in the ingesting process, with the same result, so a job and
its result are plain data that cross process boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import chunk_document
from ingest.clean import clean_document
from ingest.loaders import load_document
from regiostrat.index.lexical import index_terms
from regiostrat.settings import IngestSettings
from regiostrat.types import Chunk, DocumentMeta


@dataclass(frozen=True)
class FileJob:
    """What to prepare: the file, the id its document gets, and its manifest entry."""

    path: Path
    source: str
    doc_id: str
    manifest_meta: DocumentMeta | None
    settings: IngestSettings
    split_compounds: bool  # the lexical index's analyzer option


@dataclass
class PreparedFile:
    """A file's document, cut into chunks, with the lexical index terms of each chunk."""

    content_hash: str  # of the bytes parsed (the file may have changed since it was hashed)
    title: str
    format: str
    meta: DocumentMeta
    n_pages: int
    warnings: list[str]
    chunks: list[Chunk]
    terms: list[str]  # per chunk, space-separated (`LexicalIndex.upsert`)


def prepare_file(job: FileJob) -> PreparedFile:
    """Raises `IngestError` for a file that cannot be read (named, with a German reason)."""
    document = clean_document(load_document(job.path, job.settings, source=job.source))
    if job.manifest_meta is not None:
        title = job.manifest_meta.title or document.title
        meta = job.manifest_meta.model_copy(update={"title": title})
    else:
        meta = DocumentMeta(title=document.title)
    document = document.model_copy(update={"meta": meta, "title": meta.title})
    chunks = chunk_document(
        document, job.doc_id, job.settings.chunk_size, job.settings.chunk_overlap
    )
    return PreparedFile(
        content_hash=document.content_hash,
        title=document.title,
        format=document.format,
        meta=meta,
        n_pages=len(document.pages),
        warnings=list(document.warnings),
        chunks=chunks,
        terms=[index_terms(chunk.text, job.split_compounds) for chunk in chunks],
    )

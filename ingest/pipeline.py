"""The ingestion run: files → documents → chunks → vectors → index, incrementally and safely.

- A file is identified by its content hash: unchanged files are not even parsed again.
- Vectors of chunk texts already stored are reused (nothing is embedded twice).
- A changed file's old chunks are removed only after its new chunks are stored.
- A run killed half-way leaves the index usable; the next run completes the work.
- A bad file is reported by name and skipped; nothing already stored is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.manifest import Manifest, find_manifest, load_manifest
from ingest.prefetch import (
    LOOKAHEAD_FILES,
    MIN_FILES_FOR_WORKERS,
    ParsePrefetcher,
    default_workers,
)
from ingest.prepare import FileJob
from regiostrat.embedders import Embedder
from regiostrat.errors import IngestError, NotSearchableError
from regiostrat.index.registry import DocumentRecord, SourceRecord
from regiostrat.index.store import IndexStore, chunking_signature
from regiostrat.settings import Settings
from regiostrat.types import Chunk, DocumentMeta

MANIFEST_NAMES = {"manifest.yaml", "manifest.yml", "manifest.csv"}

STATUS_LABELS = {
    "added": "neu",
    "updated": "aktualisiert",
    "unchanged": "unverändert",
    "duplicate": "Duplikat",
    "failed": "fehlgeschlagen",
    "skipped": "übersprungen",
    "not_searchable": "nicht durchsuchbar",
    "pruned": "entfernt",
}


@dataclass
class FileResult:
    source: str
    status: str
    chunks: int = 0
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    prepared_by_workers: int = 0  # files a parse worker prepared (the rest: the run itself)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.status in ("added", "updated"))


ProgressHook = Callable[[FileResult], None]


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths, recursively, in a stable order; hidden files skipped."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _meta_hash(meta: DocumentMeta | None) -> str:
    payload = meta.model_dump_json() if meta else ""
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class _Identity:
    """What a file is, before parsing it: its content hash and the document id it yields."""

    stat: os.stat_result
    file_hash: str
    doc_id: str
    manifest_meta: DocumentMeta | None
    meta_hash: str


def _ingestible(path: Path) -> bool:
    return path.name not in MANIFEST_NAMES and path.suffix.lower() in SUPPORTED_SUFFIXES


@dataclass
class _PendingDocument:
    """A document whose chunks wait in the batch; complete once they are stored."""

    doc_id: str
    record: SourceRecord
    previous: SourceRecord | None
    chunks: list[Chunk]
    terms: list[str]  # the chunks' lexical index terms


class Ingestor:
    """One ingestion run over an open index."""

    def __init__(
        self,
        store: IndexStore,
        settings: Settings,
        manifest: Manifest | None,
        prefetcher: ParsePrefetcher | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.manifest = manifest
        self.report = IngestReport()
        self._signature = chunking_signature(settings)
        self._stage = self.report.stage_seconds
        self._pending: list[_PendingDocument] = []
        self._prefetcher = prefetcher or ParsePrefetcher(workers=0)
        self._identities: dict[Path, _Identity] = {}
        self._considered: set[Path] = set()
        self._prefetched_docs: set[str] = set()

    def _timed(self, stage: str, started: float) -> None:
        self._stage[stage] = self._stage.get(stage, 0.0) + time.perf_counter() - started

    def ingest_file(self, path: Path) -> FileResult:
        source = path.as_posix()
        if path.name in MANIFEST_NAMES:
            return FileResult(source, "skipped", reason="Manifest-Datei")
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            return FileResult(
                source, "skipped", reason=f"Format {path.suffix or '(ohne)'} wird nicht unterstützt"
            )
        try:
            return self._ingest_supported(path, source)
        except NotSearchableError as exc:
            return FileResult(source, "not_searchable", reason=exc.reason)
        except IngestError as exc:
            return FileResult(source, "failed", reason=exc.reason)
        except OSError as exc:
            return FileResult(source, "failed", reason=f"Datei nicht lesbar: {exc.strerror or exc}")

    def prefetch(self, upcoming: Iterable[Path]) -> None:
        """Hand the upcoming files that need parsing to the worker processes."""
        for path in upcoming:
            if not self._prefetcher.accepting:
                return  # no worker up (yet): the run prepares the files itself
            if path in self._considered or not _ingestible(path):
                continue
            self._considered.add(path)
            try:
                identity = self._identities[path] = self._identify(path)
            except OSError:
                continue  # reported when the run reaches the file
            if identity.doc_id in self._prefetched_docs or self._stored(identity):
                continue
            self._prefetched_docs.add(identity.doc_id)
            self._prefetcher.submit(self._job(path, identity))

    def _identify(self, path: Path) -> _Identity:
        stat = path.stat()
        file_hash = file_sha256(path)
        doc_id = hashlib.sha256(f"{file_hash}|{self._signature}".encode()).hexdigest()[:32]
        manifest_meta = self.manifest.lookup(path) if self.manifest else None
        return _Identity(stat, file_hash, doc_id, manifest_meta, _meta_hash(manifest_meta))

    def _job(self, path: Path, identity: _Identity) -> FileJob:
        return FileJob(
            path,
            path.as_posix(),
            identity.doc_id,
            identity.manifest_meta,
            self.settings.ingest,
            self.store.lexical.split_compounds,
        )

    def _stored(self, identity: _Identity) -> DocumentRecord | None:
        """The complete record of this content and metadata, when the index has it already."""
        existing = self.store.registry.document(identity.doc_id)
        if existing and existing.status == "complete" and existing.meta_hash == identity.meta_hash:
            return existing
        return None

    def _ingest_supported(self, path: Path, source: str) -> FileResult:
        registry = self.store.registry
        key = str(path.resolve())
        identity = self._identities.pop(path, None) or self._identify(path)
        stat, file_hash, doc_id = identity.stat, identity.file_hash, identity.doc_id
        meta_hash = identity.meta_hash
        if any(p.doc_id == doc_id for p in self._pending):
            self.flush()  # same content queued from another path: store it first
        previous = registry.source(key)
        record = SourceRecord(key, source, doc_id, file_hash, stat.st_size, stat.st_mtime)

        if existing := self._stored(identity):
            self._prefetcher.discard(path)
            registry.set_source(record)
            self._drop_if_orphaned(previous.doc_id if previous else None, doc_id)
            if previous and previous.doc_id == doc_id:
                return FileResult(source, "unchanged", existing.n_chunks)
            others = [s for s in existing.sources if s != source]
            reason = f"gleicher Inhalt wie {others[0]}" if others else ""
            return FileResult(source, "duplicate", 0, reason=reason)

        started = time.perf_counter()
        prepared = self._prefetcher.take(self._job(path, identity))
        self._timed("parse_clean_chunk", started)
        if prepared.content_hash != file_hash:
            raise IngestError(path, "Datei wurde während der Verarbeitung geändert")
        chunks = prepared.chunks
        if not chunks:
            raise IngestError(path, "kein durchsuchbarer Text gefunden")

        registry.begin_document(
            doc_id,
            prepared.title,
            prepared.format,
            prepared.meta,
            meta_hash,
            prepared.n_pages,
            [c.id for c in chunks],
            prepared.warnings,
        )
        self._pending.append(_PendingDocument(doc_id, record, previous, chunks, prepared.terms))
        if sum(len(p.chunks) for p in self._pending) >= self.settings.ingest.batch_chunks:
            self.flush()
        status = "updated" if previous else "added"
        return FileResult(source, status, len(chunks), warnings=list(prepared.warnings))

    def flush(self) -> None:
        """Embed and store the queued documents' chunks together (small files share one
        batch: fewer, fuller model calls and Chroma writes), then mark them complete."""
        pending, self._pending = self._pending, []
        chunks = [c for p in pending for c in p.chunks]
        terms = [t for p in pending for t in p.terms]
        batch_size = self.settings.ingest.batch_chunks
        for start in range(0, len(chunks), batch_size):
            end = start + batch_size
            self._embed_and_store(chunks[start:end], terms[start:end])
        registry = self.store.registry
        for doc in pending:
            registry.complete_document(doc.doc_id)
            registry.set_source(doc.record)
            self._drop_if_orphaned(doc.previous.doc_id if doc.previous else None, doc.doc_id)

    def _embed_and_store(self, batch: list[Chunk], terms: list[str]) -> None:
        began = time.perf_counter()
        known = self.store.vectors.embeddings_by_content_hash([c.content_hash for c in batch])
        missing = list({c.content_hash: c for c in batch if c.content_hash not in known}.values())
        self._timed("store", began)
        if missing:
            began = time.perf_counter()
            vectors = self.store.embedder.embed_documents([c.text for c in missing])
            self._timed("embed", began)
            known.update(zip((c.content_hash for c in missing), vectors, strict=True))
        self.report.embedded += len(missing)
        self.report.reused += len(batch) - len(missing)
        began = time.perf_counter()
        self.store.store_chunks(batch, [known[c.content_hash] for c in batch], terms)
        self._timed("store", began)

    def _drop_if_orphaned(self, old_doc_id: str | None, new_doc_id: str) -> None:
        if (
            old_doc_id
            and old_doc_id != new_doc_id
            and self.store.registry.source_count(old_doc_id) == 0
        ):
            self.store.delete_document(old_doc_id)

    def prune(self) -> list[FileResult]:
        """Forget files that no longer exist; delete documents left without a source."""
        results = []
        for record in self.store.registry.all_sources():
            if Path(record.path).exists():
                continue
            self.store.registry.remove_source(record.path)
            removed = 0
            if self.store.registry.source_count(record.doc_id) == 0:
                removed = self.store.delete_document(record.doc_id)
            results.append(FileResult(record.source, "pruned", removed))
        return results

    def finish(self) -> None:
        """Drop leftovers of documents a killed run did not complete and nobody refers to."""
        for doc_id in self.store.registry.pending_documents():
            if self.store.registry.source_count(doc_id) == 0:
                self.store.delete_document(doc_id)
        self.store.record_build()


def start_parse_workers(settings: Settings, queue: list[Path]) -> ParsePrefetcher:
    """The parse workers of a run over these files (`ingest.parse_workers`), starting up; the
    caller closes them (a context manager)."""
    prefetcher = ParsePrefetcher(_parse_workers(settings, queue))
    prefetcher.start()
    return prefetcher


def _parse_workers(settings: Settings, queue: list[Path]) -> int:
    if sum(map(_ingestible, queue)) < MIN_FILES_FOR_WORKERS:
        return 0
    configured = settings.ingest.parse_workers
    return default_workers() if configured is None else configured


def resolve_manifest(paths: list[Path], settings: Settings) -> Manifest | None:
    manifest_path = settings.ingest.manifest or find_manifest(paths)
    return load_manifest(Path(manifest_path)) if manifest_path else None


def ingest_paths(
    paths: list[Path],
    settings: Settings,
    embedder: Embedder,
    *,
    prune: bool = False,
    rebuild: bool = False,
    on_file: ProgressHook | None = None,
    files: list[Path] | None = None,
    prefetcher: ParsePrefetcher | None = None,
) -> IngestReport:
    """Ingest files and folders into the index of `settings`; the report lists every file.

    `prefetcher`: parse workers the caller started (and closes), e.g. before loading the
    embedder so that they are up when the run begins; by default the run starts its own
    (`ingest.parse_workers`).
    """
    started = time.perf_counter()
    manifest = resolve_manifest(paths, settings)
    queue = list(files if files is not None else iter_files(paths))
    with contextlib.ExitStack() as stack:
        if prefetcher is None:
            # the workers start up while the index opens
            prefetcher = stack.enter_context(start_parse_workers(settings, queue))
        if rebuild:
            IndexStore.reset(settings, embedder)
        store = IndexStore.open(settings, embedder, check=False)
        stack.callback(store.close)
        ingestor = Ingestor(store, settings, manifest, prefetcher)
        # workers already up start on the first files while Chroma is imported and opened
        ingestor.prefetch(queue[:LOOKAHEAD_FILES])
        store.check_embedder()
        by_workers_before = prefetcher.prepared_by_workers
        for index, path in enumerate(queue):
            ingestor.prefetch(queue[index + 1 : index + 1 + LOOKAHEAD_FILES])
            result = ingestor.ingest_file(path)
            ingestor.report.results.append(result)
            if on_file:
                on_file(result)
        ingestor.flush()
        if prune:
            ingestor.report.results.extend(ingestor.prune())
        ingestor.finish()
        ingestor.report.prepared_by_workers = prefetcher.prepared_by_workers - by_workers_before
    ingestor.report.seconds = time.perf_counter() - started
    return ingestor.report

"""`IndexStore`: the Chroma collection, the lexical index and the registry, kept consistent.

Writers (ingest) and readers (assistant) both open the index through `IndexStore.open`, which
checks that the configured embedder produces vectors of the space the index was built with.
Ingestion may defer that check (and with it opening Chroma, about 1 s in a fresh process) until
it has handed its first files to the parse workers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from regiostrat.embedders import Embedder
from regiostrat.errors import IndexMismatchError
from regiostrat.index import sqlite
from regiostrat.index.lexical import LexicalIndex
from regiostrat.index.registry import Registry
from regiostrat.index.vector_store import VectorStore
from regiostrat.settings import Settings
from regiostrat.types import Chunk, Filters

INDEX_FORMAT = "2"  # 2: chunk texts in the lexical index, not in Chroma
# Up to this many matching chunks, a filtered dense search is restricted to their ids (known
# from the lexical index); broader filters filter a wider unfiltered search instead
# (benchmarks/results/query-*.md: at 100k chunks ~20 ms for 4-20k ids, ~40 ms for 50k).
MAX_RESTRICTED_IDS = 20_000


def chunking_signature(settings: Settings) -> str:
    # bump the version when parsing, cleaning or chunking changes: documents are then parsed and
    # chunked again (vectors of unchanged chunk texts are reused); v3: PDF table columns; v4: a
    # table is a chunk of its own
    return f"size={settings.ingest.chunk_size};overlap={settings.ingest.chunk_overlap};v4"


class IndexStore:
    def __init__(self, settings: Settings, embedder: Embedder, registry: Registry) -> None:
        self.settings = settings
        self.embedder = embedder
        self.registry = registry
        self._data_dir = Path(settings.paths.data_dir)
        self._vectors: VectorStore | None = None
        self.lexical = LexicalIndex(
            self._data_dir / "lexical.sqlite", legacy_texts=self._legacy_texts
        )

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder, *, check: bool = True) -> IndexStore:
        """`check=False`: the caller calls `check_embedder` itself before using the vectors
        (ingestion hands files to its parse workers first: Chroma opens meanwhile)."""
        data_dir = Path(settings.paths.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        registry = Registry(data_dir / "registry.sqlite")
        try:
            store = cls(settings, embedder, registry)
        except BaseException:
            registry.close()
            raise
        if check:
            store.check_embedder()
        return store

    @property
    def vectors(self) -> VectorStore:
        """The Chroma collection, opened on first use (importing Chroma takes ~1 s)."""
        if self._vectors is None:
            self._vectors = VectorStore(self.settings.chroma, self._data_dir)
        return self._vectors

    def _legacy_texts(self, ids: Sequence[str]) -> dict[str, str]:
        return self.vectors.legacy_documents(ids)

    @classmethod
    def reset(cls, settings: Settings, embedder: Embedder) -> None:
        """Empty the index completely (for a rebuild with other embedder or chunking)."""
        data_dir = Path(settings.paths.data_dir)
        registry = Registry(data_dir / "registry.sqlite")
        lexical_path = data_dir / "lexical.sqlite"
        try:
            lexical = LexicalIndex(lexical_path)
        except IndexMismatchError:  # written by an older version: rebuilt from scratch anyway
            sqlite.remove(lexical_path)
            lexical = LexicalIndex(lexical_path)
        vectors = VectorStore(settings.chroma, data_dir)
        try:
            vectors.reset()
            lexical.delete_ids(sorted(lexical.ids()))
            for record in registry.documents():
                registry.delete_document(record.doc_id)
            registry.clear_info()
        finally:
            lexical.close()
            registry.close()

    @staticmethod
    def exists(settings: Settings) -> bool:
        return (Path(settings.paths.data_dir) / "registry.sqlite").is_file()

    def check_embedder(self) -> None:
        """Fail clearly when the index was built in another vector space."""
        recorded = self.vectors.metadata.get("embedder_space") or self.registry.info().get(
            "embedder_space"
        )
        if recorded and recorded != self.embedder.space:
            built_with = self.vectors.metadata.get("embedder_name") or recorded
            raise IndexMismatchError(
                f"Der Index in {self.settings.paths.data_dir} wurde mit dem Embedder "
                f"'{built_with}' (Vektorraum '{recorded}') gebaut, konfiguriert ist aber "
                f"'{self.embedder.name}' (Vektorraum '{self.embedder.space}'). Die Suche würde "
                "unsinnige Treffer liefern. Den ursprünglichen Embedder konfigurieren oder den "
                "Index mit `regiostrat ingest --rebuild …` neu aufbauen."
            )

    def record_build(self) -> None:
        """Write which embedder and chunking built the index (on both sides)."""
        now = str(time.time())
        values = {
            "embedder_space": self.embedder.space,
            "embedder_name": self.embedder.name,
            "embedder_dim": str(self.embedder.dim),
            "chunking": chunking_signature(self.settings),
            "index_format": INDEX_FORMAT,
            "updated_at": now,
        }
        info = self.registry.info()
        self.registry.set_info({**values, "created_at": info.get("created_at", now)})
        self.vectors.set_metadata(values)

    def info(self) -> dict[str, str]:
        return self.registry.info()

    # -- reads ---------------------------------------------------------------------------------
    def dense_search(
        self, embedding: Sequence[float], k: int, filters: Filters | None = None
    ) -> list[tuple[Chunk, float]]:
        """The k nearest chunks that pass `filters`, with cosine similarity."""
        if filters is None or filters.is_empty():
            hits = self.vectors.query(embedding, k)
        else:
            ids = self.lexical.matching_ids(filters)
            within = ids if len(ids) <= MAX_RESTRICTED_IDS else None
            hits = self.vectors.query(embedding, k, filters, within=within)
        texts = self.lexical.texts([chunk.id for chunk, _ in hits])
        return [(_with_text(chunk, texts), score) for chunk, score in hits if chunk.id in texts]

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id (unknown ids are left out)."""
        return {cid: chunk for cid, (chunk, _) in self._records(ids, with_vectors=False).items()}

    def get_chunks_with_vectors(self, ids: Sequence[str]) -> dict[str, tuple[Chunk, list[float]]]:
        """Chunks and their stored vectors in one read (for hits found only lexically)."""
        records = self._records(ids, with_vectors=True)
        return {cid: (chunk, vector or []) for cid, (chunk, vector) in records.items()}

    def _records(
        self, ids: Sequence[str], with_vectors: bool
    ) -> dict[str, tuple[Chunk, list[float] | None]]:
        """Chroma's records of these ids joined with their texts from the lexical index."""
        records = self.vectors.get_records(ids, with_vectors)
        texts = self.lexical.texts(list(records))
        return {
            cid: (_with_text(chunk, texts), vector)
            for cid, (chunk, vector) in records.items()
            if cid in texts
        }

    # -- writes that keep the three stores consistent -----------------------------------------
    def store_chunks(
        self,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]],
        terms: Sequence[str] | None = None,
    ) -> None:
        """Write chunks with their vectors (and lexical index terms, when computed already)."""
        self.vectors.upsert(chunks, embeddings)
        self.lexical.upsert(list(chunks), terms)

    def delete_document(self, doc_id: str) -> int:
        """Remove a document's chunks everywhere; returns the number of chunks removed."""
        ids = self.registry.chunk_ids(doc_id)
        ids = sorted(set(ids) | set(self.vectors.ids_of_document(doc_id)))
        self.vectors.delete_ids(ids)
        self.lexical.delete_ids(ids)
        self.registry.delete_document(doc_id)
        return len(ids)

    def consistency_problems(self) -> list[str]:
        """Differences between registry, Chroma and the lexical index (empty when consistent)."""
        registry_ids = self.registry.all_chunk_ids()
        problems = []
        for name, ids in (("Chroma", self.vectors.all_ids()), ("Lexikindex", self.lexical.ids())):
            missing, extra = registry_ids - ids, ids - registry_ids
            if missing:
                problems.append(f"{len(missing)} Abschnitte fehlen in {name}")
            if extra:
                problems.append(f"{len(extra)} verwaiste Abschnitte in {name}")
        return problems

    def close(self) -> None:
        self.lexical.close()
        self.registry.close()


def _with_text(chunk: Chunk, texts: dict[str, str]) -> Chunk:
    """The chunk read from Chroma with its text from the lexical index (callers keep only the
    chunks both have: one the other lacks is being written by another process)."""
    return chunk.model_copy(update={"text": texts[chunk.id]})

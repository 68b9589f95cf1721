"""Chroma as the vector store: embedded (PersistentClient) by default, a server when configured.

Chroma holds each chunk's vector and metadata; the chunk texts live in the lexical index and
`IndexStore` joins them (chunks read here have an empty text). Chroma's own default embedding
function is never used (it would download a model): vectors are always computed by our embedder
and passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from regiostrat.errors import ConfigError
from regiostrat.settings import ChromaSettings
from regiostrat.types import Chunk, DocumentMeta, Filters

_GET_BATCH = 1000
OVERFETCH = 5  # neighbours fetched per wanted result before filtering in Python


def date_key(value: dt.date | None) -> int:
    """Dates as YYYYMMDD integers, so Chroma can compare them ($gte/$lte); 0 = unknown."""
    return value.year * 10000 + value.month * 100 + value.day if value else 0


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    meta = chunk.meta
    out: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "title": chunk.title,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "section": chunk.section,
        "content_hash": chunk.content_hash,
        "ordinal": chunk.ordinal,
        "project": meta.project or "",
        "project_name": meta.project_name or "",
        "region": meta.region or "",
        "doc_type": meta.doc_type,
        "date": date_key(meta.date),
    }
    if meta.themes:  # Chroma rejects empty lists
        out["themes"] = list(meta.themes)
    return out


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    date_value = int(meta.get("date") or 0)
    date = (
        dt.date(date_value // 10000, date_value // 100 % 100, date_value % 100)
        if date_value
        else None
    )
    return Chunk(
        id=chunk_id,
        doc_id=meta["doc_id"],
        source=meta["source"],
        title=meta["title"],
        text=text,
        page_start=int(meta["page_start"]),
        page_end=int(meta["page_end"]),
        char_start=int(meta["char_start"]),
        char_end=int(meta["char_end"]),
        section=meta.get("section", ""),
        content_hash=meta["content_hash"],
        ordinal=int(meta.get("ordinal", 0)),
        meta=DocumentMeta(
            title=meta["title"],
            project=meta.get("project") or None,
            project_name=meta.get("project_name") or None,
            region=meta.get("region") or None,
            doc_type=meta.get("doc_type") or "unbekannt",
            date=date,
            themes=list(meta.get("themes") or []),
        ),
    )


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """Translate caller filters into a Chroma `where` clause."""
    if filters is None or filters.is_empty():
        return None
    clauses: list[dict[str, Any]] = []
    if filters.projects:
        clauses.append({"project": {"$in": list(filters.projects)}})
    if filters.doc_types:
        clauses.append({"doc_type": {"$in": list(filters.doc_types)}})
    if filters.themes:
        themes = [{"themes": {"$contains": t}} for t in filters.themes]
        clauses.append(themes[0] if len(themes) == 1 else {"$or": themes})
    if filters.date_from or filters.date_to:  # undated chunks never match a date range
        clauses.append({"date": {"$gte": date_key(filters.date_from) or 1}})
    if filters.date_to:
        clauses.append({"date": {"$lte": date_key(filters.date_to)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches(chunk: Chunk, filters: Filters) -> bool:
    """The same test as `chroma_where`, on a chunk in hand."""
    meta = chunk.meta
    if filters.projects and meta.project not in filters.projects:
        return False
    if filters.doc_types and meta.doc_type not in filters.doc_types:
        return False
    if filters.themes and not set(filters.themes) & set(meta.themes):
        return False
    if filters.date_from or filters.date_to:
        if meta.date is None:
            return False
        if filters.date_from and meta.date < filters.date_from:
            return False
        if filters.date_to and meta.date > filters.date_to:
            return False
    return True


def make_client(settings: ChromaSettings, data_dir: Path) -> Any:
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.host:
        try:
            client = chromadb.HttpClient(
                host=settings.host, port=settings.port, ssl=settings.ssl, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:
            raise ConfigError(
                f"Chroma-Server {settings.host}:{settings.port} ist nicht erreichbar: {exc}"
            ) from exc
        return client
    data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)


def _ef_search_of(collection: Any) -> int | None:
    hnsw = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
    return hnsw.get("ef_search")


class VectorStore:
    """One Chroma collection of chunks."""

    def __init__(self, settings: ChromaSettings, data_dir: Path) -> None:
        self._client = make_client(settings, data_dir)
        self._name = settings.collection
        self._ef_search = settings.ef_search
        self._collection = self._open_collection()

    def _open_collection(self) -> Any:
        collection = self._client.get_or_create_collection(
            self._name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": self._ef_search}},
        )
        # a collection created earlier keeps its configuration: the search breadth is the one
        # setting Chroma lets change later (the graph is built with it untouched)
        if _ef_search_of(collection) != self._ef_search:
            collection.modify(configuration={"hnsw": {"ef_search": self._ef_search}})
        return collection

    @property
    def ef_search(self) -> int | None:
        """The search breadth the collection is configured with (`chroma.ef_search`)."""
        return _ef_search_of(self._collection)

    def reset(self) -> None:
        """Delete and recreate the collection (vectors and the recorded embedder)."""
        self._client.delete_collection(self._name)
        self._collection = self._open_collection()

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._collection.metadata or {})

    def set_metadata(self, values: dict[str, Any]) -> None:
        merged = {**self.metadata, **values}
        self._collection.modify(metadata=merged)

    def count(self) -> int:
        return int(self._collection.count())

    def upsert(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        if not chunks:
            return
        self._collection.upsert(
            ids=[c.id for c in chunks],
            embeddings=[list(e) for e in embeddings],
            metadatas=[chunk_metadata(c) for c in chunks],  # texts: in the lexical index
        )

    def delete_ids(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), _GET_BATCH):
            self._collection.delete(ids=ids[start : start + _GET_BATCH])

    def ids_of_document(self, doc_id: str) -> list[str]:
        return list(self._collection.get(where={"doc_id": doc_id}, include=[])["ids"])

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            batch = self._collection.get(include=[], limit=_GET_BATCH, offset=offset)["ids"]
            ids.update(batch)
            if len(batch) < _GET_BATCH:
                return ids
            offset += _GET_BATCH

    def embeddings_by_content_hash(self, hashes: Sequence[str]) -> dict[str, list[float]]:
        """Reuse vectors of identical chunk text already stored (no re-embedding)."""
        found: dict[str, list[float]] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 200):
            part = unique[start : start + 200]
            result = self._collection.get(
                where={"content_hash": {"$in": part}}, include=["embeddings", "metadatas"]
            )
            embeddings = result.get("embeddings")
            if embeddings is None:
                continue
            for meta, emb in zip(result["metadatas"], embeddings, strict=True):
                found.setdefault(meta["content_hash"], [float(x) for x in emb])
        return found

    def legacy_documents(self, ids: Sequence[str]) -> dict[str, str]:
        """Texts stored in Chroma by the index format 1 (read once, to migrate them)."""
        result = self._collection.get(ids=list(ids), include=["documents"])
        return {
            cid: text for cid, text in zip(result["ids"], result["documents"], strict=True) if text
        }

    def get_records(
        self, ids: Sequence[str], with_vectors: bool = False
    ) -> dict[str, tuple[Chunk, list[float] | None]]:
        """Chunks by id, without their texts (`IndexStore.get_chunks` adds those), and their
        stored vectors when asked for (for hits found only lexically)."""
        if not ids:
            return {}
        include = ["metadatas"] + (["embeddings"] if with_vectors else [])
        result = self._collection.get(ids=list(ids), include=include)
        vectors = result["embeddings"] if with_vectors else [None] * len(result["ids"])
        return {
            cid: (chunk_from_record(cid, "", meta), None if v is None else list(v))
            for cid, meta, v in zip(result["ids"], result["metadatas"], vectors, strict=True)
        }

    def query(
        self,
        embedding: Sequence[float],
        k: int,
        filters: Filters | None = None,
        within: Sequence[str] | None = None,
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks (without texts) with cosine similarity (higher is better).

        `within`: the ids of the chunks that pass `filters`, when the caller knows them (the
        lexical index does): the search is then restricted to them, which costs a fraction of
        Chroma's metadata filter at 100k chunks. Without them, an unfiltered search over
        `OVERFETCH * k` neighbours is tried first and filtered here (cheap for broad filters
        such as a date range); when fewer than k of those match, Chroma's filtered search
        runs. All three give the same top k: the best k matching chunks are the first k
        matching ones of the global ranking.
        """
        where = chroma_where(filters)
        if where is None or filters is None:
            return self._query(embedding, k, None)
        if within is not None:
            if not within:
                return []
            from chromadb.errors import ChromaError

            try:
                return self._query(embedding, min(k, len(within)), None, ids=within)
            except ChromaError:
                pass  # an id Chroma lacks (another process is rewriting the index): filter
        wide = self._query(embedding, k * OVERFETCH, None)
        kept = [(chunk, score) for chunk, score in wide if matches(chunk, filters)]
        if len(kept) >= k or len(wide) < k * OVERFETCH:
            return kept[:k]
        return self._query(embedding, k, where)

    def _query(
        self,
        embedding: Sequence[float],
        k: int,
        where: dict[str, Any] | None,
        ids: Sequence[str] | None = None,
    ) -> list[tuple[Chunk, float]]:
        result = self._collection.query(
            query_embeddings=[list(embedding)],
            n_results=k,  # Chroma returns fewer when the collection is smaller
            where=where,
            ids=list(ids) if ids is not None else None,
            include=["metadatas", "distances"],
        )
        return [
            (chunk_from_record(cid, "", meta), 1.0 - float(dist))
            for cid, meta, dist in zip(
                result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

"""Hybrid retrieval: dense (Chroma) + German lexical (SQLite FTS5), fused by weighted RRF,
with filters, a per-document cap for diversity and an optional cross-encoder reranker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from regiostrat.index.store import IndexStore
from regiostrat.settings import RetrievalSettings
from regiostrat.types import Chunk, Filters, Passage


def weighted_rrf(rankings: Sequence[tuple[Sequence[str], float]], rrf_k: int) -> dict[str, float]:
    """Reciprocal rank fusion: sum of weight / (rrf_k + rank) over the rankings."""
    scores: dict[str, float] = {}
    for ids, weight in rankings:
        if weight <= 0:
            continue
        for rank, chunk_id in enumerate(ids, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return scores


def cap_per_document(passages: Sequence[Passage], k: int, cap: int) -> list[Passage]:
    """The top k passages with at most `cap` from one document; others fill up if needed."""
    chosen: list[Passage] = []
    per_doc: dict[str, int] = {}
    overflow: list[Passage] = []
    for passage in passages:
        doc = passage.chunk.doc_id
        if per_doc.get(doc, 0) < cap:
            chosen.append(passage)
            per_doc[doc] = per_doc.get(doc, 0) + 1
        else:
            overflow.append(passage)
        if len(chosen) == k:
            break
    if len(chosen) < k:  # fewer documents than slots: allow more of the same documents
        chosen.extend(overflow[: k - len(chosen)])
    return chosen


class HybridRetriever:
    def __init__(self, store: IndexStore, settings: RetrievalSettings) -> None:
        self.store = store
        self.settings = settings
        self._reranker: Any = None
        if settings.reranker:
            from sentence_transformers import CrossEncoder

            self._reranker = CrossEncoder(settings.reranker)

    def retrieve(
        self,
        question: str,
        filters: Filters | None = None,
        k: int | None = None,
        query_embedding: Sequence[float] | None = None,
    ) -> list[Passage]:
        k = k or self.settings.k
        n = max(self.settings.candidates, k)
        embedding = (
            query_embedding
            if query_embedding is not None
            else self.store.embedder.embed_query(question)
        )
        dense = (
            self.store.dense_search(embedding, n, filters) if self.settings.dense_weight > 0 else []
        )
        lexical = (
            self.store.lexical.search(question, n, filters)
            if self.settings.lexical_weight > 0
            else []
        )
        chunks: dict[str, Chunk] = {chunk.id: chunk for chunk, _ in dense}
        dense_scores = {chunk.id: score for chunk, score in dense}
        lexical_scores = dict(lexical)
        missing = [cid for cid, _ in lexical if cid not in chunks]
        for cid, (chunk, vector) in self.store.get_chunks_with_vectors(missing).items():
            chunks[cid] = chunk
            dense_scores[cid] = _cosine(embedding, vector)
        fused = weighted_rrf(
            [
                ([c.id for c, _ in dense], self.settings.dense_weight),
                ([cid for cid, _ in lexical], self.settings.lexical_weight),
            ],
            self.settings.rrf_k,
        )
        ranked = sorted(
            (cid for cid in fused if cid in chunks), key=lambda cid: fused[cid], reverse=True
        )
        passages = [
            Passage(
                chunk=chunks[cid],
                score=fused[cid],
                dense_score=dense_scores.get(cid),
                lexical_score=lexical_scores.get(cid),
            )
            for cid in ranked
        ]
        if self._reranker is not None and passages:
            passages = self._rerank(question, passages[: max(20, k * 3)])
        passages = cap_per_document(passages, k, self.settings.per_document_cap)
        for rank, passage in enumerate(passages, start=1):
            passage.rank = rank
        return passages

    def _rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        scores = self._reranker.predict([(question, p.chunk.text) for p in passages])
        for passage, score in zip(passages, scores, strict=True):
            passage.score = float(score)
        return sorted(passages, key=lambda p: p.score, reverse=True)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    va, vb = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / norm if norm else 0.0

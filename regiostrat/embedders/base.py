"""The embedder interface: LangChain's `Embeddings` plus the identity the index records."""

from __future__ import annotations

from abc import abstractmethod

from langchain_core.embeddings import Embeddings


class Embedder(Embeddings):
    """Turns passages and queries into vectors.

    `space` names the vector space: two embedders with the same space produce interchangeable
    vectors (the bundled 4-bit e5 and its faster runtime, say), so an index built with one can be
    queried with the other. `name` says which implementation ran.
    """

    name: str
    space: str
    dim: int

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    @abstractmethod
    def embed_query(self, text: str) -> list[float]: ...


E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


def is_e5_style(model: str) -> bool:
    """e5 models expect 'query: ' / 'passage: ' prefixes."""
    lowered = model.lower()
    return "e5" in lowered.replace("_", "-").split("/")[-1]

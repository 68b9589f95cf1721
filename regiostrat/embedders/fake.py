"""A deterministic embedder for tests: hashed word and character-trigram features.

Texts sharing words get similar vectors, so retrieval tests behave sensibly without a model.
"""

from __future__ import annotations

import hashlib
import math
import re

from regiostrat.embedders.base import Embedder

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder(Embedder):
    name = "fake:hashing"
    space = "fake-hashing"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.calls = 0
        self.texts_embedded = 0

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            features = [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]
            for feature in features:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self.dim
                sign = 1.0 if digest[4] % 2 else -1.0
                vec[index] += sign * (2.0 if feature == word else 1.0)
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        self.texts_embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

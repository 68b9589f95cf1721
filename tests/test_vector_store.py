"""Filtered dense search: restricting to the matching ids, or filtering a wider unfiltered
search, gives Chroma's filtered result."""

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

FILTER_CASES = [
    Filters(doc_types=["Protokoll"]),
    Filters(projects=["p1"]),
    Filters(themes=["Energie"]),
    Filters(date_from=dt.date(2025, 1, 1)),
    Filters(date_to=dt.date(2024, 6, 30), projects=["p0", "p2"]),
    Filters(projects=["nobody"]),
]
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


@pytest.mark.parametrize("filters", FILTER_CASES)
def test_post_filtered_search_equals_chroma_filtered_search(
    store: IndexStore, filters: Filters
) -> None:
    query = FakeEmbedder().embed_query("Projekte zur Windenergie in der Region")
    for k in (1, 3, 8):
        fast = store.vectors.query(query, k, filters)
        exact = store.vectors._query(query, k, chroma_where(filters))
        assert [c.id for c, _ in fast] == [c.id for c, _ in exact]


@pytest.mark.parametrize("filters", FILTER_CASES)
def test_search_restricted_to_matching_ids_equals_chroma_filtered_search(
    store: IndexStore, filters: Filters
) -> None:
    query = FakeEmbedder().embed_query("Projekte zur Windenergie in der Region")
    for k in (1, 3, 8, 50):
        found = store.dense_search(query, k, filters)
        exact = store.vectors._query(query, k, chroma_where(filters))
        assert [c.id for c, _ in found] == [c.id for c, _ in exact]


def test_restricted_search_survives_ids_chroma_lacks(store: IndexStore) -> None:
    """An ingest in another process may have written the lexical index but not yet Chroma."""
    filters = Filters(projects=["p1"])
    query = FakeEmbedder().embed_query("Rufbus")
    ids = store.lexical.matching_ids(filters) + ["not-in-chroma"]
    found = store.vectors.query(query, 3, filters, within=ids)
    exact = store.vectors._query(query, 3, chroma_where(filters))
    assert [c.id for c, _ in found] == [c.id for c, _ in exact]


def test_filtered_search_sees_documents_ingested_by_another_process(
    store: IndexStore, settings: Settings, tmp_path: Path
) -> None:
    filters = Filters(projects=["p9"])
    query = FakeEmbedder().embed_query("Seilbahn")
    assert store.dense_search(query, 3, filters) == []  # remembered: no chunk of p9
    new = tmp_path / "new"
    new.mkdir()
    (new / "seilbahn.md").write_text(
        "# Seilbahn\n\nDie Region p9 plant eine Seilbahn ins Tal.\n", encoding="utf-8"
    )
    (new / "manifest.yaml").write_text(
        "documents:\n  - file: seilbahn.md\n    project: p9\n    doc_type: Bericht\n",
        encoding="utf-8",
    )
    ingest_paths([new], settings, FakeEmbedder())  # its own connections, as a CLI run has
    found = store.dense_search(query, 3, filters)
    assert [c.source for c, _ in found] == [str(new / "seilbahn.md")]

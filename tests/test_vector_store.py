"""Dense search: restricting to the matching ids, or filtering a wider unfiltered search, gives
Chroma's filtered result; the collection searches with the configured breadth (`ef_search`)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.index.store import IndexStore
from regiostrat.index.vector_store import chroma_where, make_client
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


def _ef_search_in_a_new_process(settings: Settings) -> int:
    """The collection's search breadth as a process started later reads it from disk."""
    script = (
        "import chromadb, json, sys\n"
        "client = chromadb.PersistentClient(path=sys.argv[1])\n"
        "print(json.dumps(client.get_collection(sys.argv[2]).configuration['hnsw']))\n"
    )
    chroma_dir = str(Path(settings.paths.data_dir) / "chroma")
    out = subprocess.run(
        [sys.executable, "-c", script, chroma_dir, settings.chroma.collection],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(json.loads(out.strip().splitlines()[-1])["ef_search"])


def test_a_new_index_searches_with_the_configured_breadth(store: IndexStore) -> None:
    assert store.vectors.ef_search == store.settings.chroma.ef_search == 400
    assert _ef_search_in_a_new_process(store.settings) == 400


def test_an_index_built_before_the_setting_gets_the_configured_breadth(
    settings: Settings,
) -> None:
    # as versions before `chroma.ef_search` created it: Chroma's default breadth (100)
    client = make_client(settings.chroma, Path(settings.paths.data_dir))
    old = client.get_or_create_collection(
        settings.chroma.collection, configuration={"hnsw": {"space": "cosine"}}
    )
    assert old.configuration["hnsw"]["ef_search"] == 100
    vectors = FakeEmbedder().embed_documents(
        [f"Abschnitt {i} über {t}" for i, t in enumerate(TOPICS)]
    )
    old.add(ids=[f"c{i}" for i in range(len(TOPICS))], embeddings=vectors)
    before = old.query(query_embeddings=[vectors[2]], n_results=3)["ids"]

    settings.chroma.ef_search = 300
    store = IndexStore.open(settings, FakeEmbedder())
    try:
        assert store.vectors.ef_search == 300
        assert store.vectors.count() == len(TOPICS)  # the vectors are untouched
    finally:
        store.close()
    assert _ef_search_in_a_new_process(settings) == 300
    assert old.query(query_embeddings=[vectors[2]], n_results=3)["ids"] == before

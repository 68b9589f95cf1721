"""The index on a Chroma *server* (HttpClient): ingest, query, update, prune, consistency.

A real `chroma run` subprocess on loopback (see tests/chroma_server.py) serves the vectors; the
registry and the lexical index stay in the local index directory. Every test uses its own
collection, so the session-wide server needs no cleaning between tests.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from chroma_server import chroma_server, free_port  # noqa: F401  (pytest fixture)

from assistant.retrieval import HybridRetriever
from assistant.service import Assistant
from ingest.pipeline import ingest_paths
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.errors import ConfigError
from regiostrat.index.store import IndexStore
from regiostrat.index.vector_store import chroma_where, make_client
from regiostrat.settings import ChromaSettings, Settings
from regiostrat.types import Filters

ENERGY = """# Energiewende an der Küste

Die Region setzt auf Windenergie und Wasserstoff. Ein Elektrolyseur mit 30 Megawatt ist in Heide
geplant. Die Stadtwerke beteiligen sich an der Finanzierung.
"""
MOBILITY = """# Mobilität im ländlichen Raum

Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum. Die Fahrgastzahlen stiegen um
18 Prozent, seit der Rufbus auch am Wochenende fährt.
"""
MOBILITY_NEW = """# Mobilität im ländlichen Raum

Das Bürgerauto ersetzt seit März den Rufbus. Ehrenamtliche fahren Seniorinnen und Senioren zum
Arzt und zum Einkaufen in die Kreisstadt.
"""


@pytest.fixture
def server_settings(settings: Settings, chroma_server: tuple[str, int]) -> Settings:  # noqa: F811
    """The conftest settings (fresh index dir, fake embedder) pointed at the Chroma server."""
    host, port = chroma_server
    collection = f"test-{uuid.uuid4().hex[:12]}"
    return settings.model_copy(
        update={"chroma": ChromaSettings(host=host, port=port, collection=collection)}
    )


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "energie.md").write_text(ENERGY, encoding="utf-8")
    (folder / "mobilitaet.md").write_text(MOBILITY, encoding="utf-8")
    return folder


def _open(settings: Settings) -> IndexStore:
    return IndexStore.open(settings, FakeEmbedder())


def _top_source(store: IndexStore, settings: Settings, question: str) -> str:
    passages = HybridRetriever(store, settings.retrieval).retrieve(question, k=3)
    assert passages, f"nothing retrieved for {question!r}"
    return Path(passages[0].chunk.source).name


def _texts(store: IndexStore) -> str:
    ids = sorted(store.vectors.all_ids())
    return "\n".join(c.text for c in store.get_chunks(ids).values())


@pytest.mark.chroma_server
def test_server_mode_uses_http_client_not_local_files(
    server_settings: Settings, docs: Path
) -> None:
    report = ingest_paths([docs], server_settings, FakeEmbedder())
    assert not report.failed and report.embedded > 0
    data_dir = Path(server_settings.paths.data_dir)
    assert not (data_dir / "chroma").exists(), "embedded Chroma used although a host is set"
    store = _open(server_settings)
    try:
        assert type(store.vectors._client).__name__ != "PersistentClient"
        assert store.vectors.count() == report.chunks
        assert store.consistency_problems() == []
    finally:
        store.close()


@pytest.mark.chroma_server
def test_ingest_and_query_through_server(server_settings: Settings, docs: Path) -> None:
    report = ingest_paths([docs], server_settings, FakeEmbedder())
    assert {Path(r.source).name: r.status for r in report.results} == {
        "energie.md": "added",
        "mobilitaet.md": "added",
    }
    store = _open(server_settings)
    try:
        assert _top_source(store, server_settings, "Wie groß ist der Elektrolyseur?") == (
            "energie.md"
        )
        assert _top_source(
            store, server_settings, "Wie viele Ortschaften fährt der Rufbus an?"
        ) == ("mobilitaet.md")
        # dense retrieval alone goes through the server as well
        dense = store.dense_search(store.embedder.embed_query("Rufbus Ortschaften"), 2)
        assert dense and Path(dense[0][0].source).name == "mobilitaet.md"
        assert "Rufbus" in dense[0][0].text

        assistant = Assistant(server_settings, store)
        answer = assistant.ask("Wie viele Ortschaften verbindet der Rufbus?")
        assert answer.passages
        assert Path(answer.passages[0].chunk.source).name == "mobilitaet.md"
        assert store.consistency_problems() == []
    finally:
        store.close()


@pytest.mark.chroma_server
def test_rerun_is_incremental_on_server(server_settings: Settings, docs: Path) -> None:
    ingest_paths([docs], server_settings, FakeEmbedder())
    embedder = FakeEmbedder()
    again = ingest_paths([docs], server_settings, embedder)
    assert {r.status for r in again.results} == {"unchanged"}
    assert embedder.texts_embedded == 0


@pytest.mark.chroma_server
def test_update_replaces_old_chunks_on_server(server_settings: Settings, docs: Path) -> None:
    ingest_paths([docs], server_settings, FakeEmbedder())
    (docs / "mobilitaet.md").write_text(MOBILITY_NEW, encoding="utf-8")
    report = ingest_paths([docs], server_settings, FakeEmbedder())
    statuses = {Path(r.source).name: r.status for r in report.results}
    assert statuses == {"energie.md": "unchanged", "mobilitaet.md": "updated"}

    store = _open(server_settings)
    try:
        texts = _texts(store)
        assert "Bürgerauto" in texts
        assert "22 Ortschaften" not in texts, "old chunks of the changed file are still stored"
        assert "22 Ortschaften" not in "\n".join(
            p.chunk.text
            for p in HybridRetriever(store, server_settings.retrieval).retrieve(
                "Rufbus Ortschaften"
            )
        )
        assert _top_source(store, server_settings, "Wer fährt mit dem Bürgerauto?") == (
            "mobilitaet.md"
        )
        assert len(store.registry.documents()) == 2
        assert store.consistency_problems() == []
    finally:
        store.close()


@pytest.mark.chroma_server
def test_prune_removes_deleted_file_on_server(server_settings: Settings, docs: Path) -> None:
    first = ingest_paths([docs], server_settings, FakeEmbedder())
    (docs / "mobilitaet.md").unlink()
    report = ingest_paths([docs], server_settings, FakeEmbedder(), prune=True)
    pruned = [r for r in report.results if r.status == "pruned"]
    assert [Path(r.source).name for r in pruned] == ["mobilitaet.md"]
    assert pruned[0].chunks > 0

    store = _open(server_settings)
    try:
        assert "Rufbus" not in _texts(store)
        assert store.vectors.count() < first.chunks
        sources = {
            Path(p.chunk.source).name
            for p in HybridRetriever(store, server_settings.retrieval).retrieve("Rufbus")
        }
        assert "mobilitaet.md" not in sources
        assert store.lexical.search("Rufbus", 5) == []
        assert store.consistency_problems() == []
    finally:
        store.close()


@pytest.mark.chroma_server
def test_rebuild_resets_server_collection(server_settings: Settings, docs: Path) -> None:
    ingest_paths([docs], server_settings, FakeEmbedder())
    (docs / "energie.md").unlink()
    report = ingest_paths([docs], server_settings, FakeEmbedder(), rebuild=True)
    assert {Path(r.source).name: r.status for r in report.results} == {"mobilitaet.md": "added"}
    store = _open(server_settings)
    try:
        assert "Elektrolyseur" not in _texts(store)
        assert store.vectors.count() == report.chunks
        assert store.consistency_problems() == []
    finally:
        store.close()


@pytest.mark.chroma_server
def test_server_collection_searches_with_the_configured_breadth(
    server_settings: Settings, docs: Path
) -> None:
    def breadth_seen_by_another_worker() -> int:
        client = make_client(server_settings.chroma, Path(server_settings.paths.data_dir))
        collection = client.get_collection(server_settings.chroma.collection)
        return int(collection.configuration["hnsw"]["ef_search"])

    ingest_paths([docs], server_settings, FakeEmbedder())
    assert breadth_seen_by_another_worker() == 400
    server_settings.chroma.ef_search = 1200  # a deployment raises it: applied on opening
    store = _open(server_settings)
    try:
        assert breadth_seen_by_another_worker() == 1200
        assert store.vectors.count() > 0 and store.consistency_problems() == []
    finally:
        store.close()


def test_unreachable_server_gives_german_config_error(settings: Settings) -> None:
    port = free_port()  # nothing listens there
    bad = settings.model_copy(update={"chroma": ChromaSettings(host="127.0.0.1", port=port)})
    with pytest.raises(ConfigError) as info:
        IndexStore.open(bad, FakeEmbedder())
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "nicht erreichbar" in message
    assert "Traceback" not in message


def test_unreachable_server_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REGIOSTRAT_CHROMA__HOST/PORT select the server; ingest fails clearly, not half-way."""
    port = free_port()
    monkeypatch.setenv("REGIOSTRAT_CHROMA__HOST", "127.0.0.1")
    monkeypatch.setenv("REGIOSTRAT_CHROMA__PORT", str(port))
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    env_settings = Settings()
    assert env_settings.chroma.host == "127.0.0.1" and env_settings.chroma.port == port
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "energie.md").write_text(ENERGY, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
        ingest_paths([docs], env_settings, FakeEmbedder())


@pytest.mark.chroma_server
def test_filtered_search_through_server(server_settings: Settings, docs: Path) -> None:
    (docs / "manifest.yaml").write_text(
        "documents:\n"
        "  - file: energie.md\n    project: nord\n    doc_type: Bericht\n"
        "  - file: mobilitaet.md\n    project: sued\n    doc_type: Protokoll\n",
        encoding="utf-8",
    )
    ingest_paths([docs], server_settings, FakeEmbedder())
    store = _open(server_settings)
    try:
        query = store.embedder.embed_query("Wie groß ist der Elektrolyseur?")
        filters = Filters(projects=["sued"])
        found = store.dense_search(query, 3, filters)
        assert found and {Path(c.source).name for c, _ in found} == {"mobilitaet.md"}
        exact = store.vectors._query(query, 3, chroma_where(filters))
        assert [c.id for c, _ in found] == [c.id for c, _ in exact]
    finally:
        store.close()

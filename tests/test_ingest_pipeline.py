"""The ingestion run end to end on real files and a real Chroma in tmp_path (fake embedder)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from regiostrat.cli import main
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.errors import IndexMismatchError
from regiostrat.index.store import IndexStore
from regiostrat.settings import Settings

ENERGY = """# Energiewende an der Küste

Die Region setzt auf Windenergie und Wasserstoff. Ein Elektrolyseur mit 30 Megawatt ist geplant.

## Beteiligung

An der Online-Umfrage haben sich 1.240 Menschen beteiligt. Die Werkstätten waren in Heide.
"""
MOBILITY = """# Mobilität im ländlichen Raum

Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum. Die Fahrgastzahlen stiegen um 18 Prozent.
"""


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "energie.md").write_text(ENERGY, encoding="utf-8")
    (folder / "sub" / "mobilitaet.txt").write_text(MOBILITY, encoding="utf-8")
    return folder


def _open(settings: Settings, embedder: FakeEmbedder | None = None) -> IndexStore:
    return IndexStore.open(settings, embedder or FakeEmbedder())


def _statuses(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {Path(r.source).name: r.status for r in report.results}


def test_ingest_then_rerun_embeds_nothing(settings: Settings, docs: Path) -> None:
    first = ingest_paths([docs], settings, FakeEmbedder())
    assert _statuses(first) == {"energie.md": "added", "mobilitaet.txt": "added"}
    assert first.embedded > 0 and not first.failed

    embedder = FakeEmbedder()
    second = ingest_paths([docs], settings, embedder)
    assert _statuses(second) == {"energie.md": "unchanged", "mobilitaet.txt": "unchanged"}
    assert embedder.texts_embedded == 0

    store = _open(settings)
    try:
        assert store.vectors.count() == first.chunks
        assert store.consistency_problems() == []
        titles = {d.title for d in store.registry.documents()}
        assert len(titles) == 2 and "Energiewende an der Küste" in titles
    finally:
        store.close()


def test_modified_file_replaces_its_chunks(settings: Settings, docs: Path) -> None:
    ingest_paths([docs], settings, FakeEmbedder())
    (docs / "sub" / "mobilitaet.txt").write_text(
        MOBILITY.replace("Rufbus", "On-Demand-Shuttle"), encoding="utf-8"
    )
    report = ingest_paths([docs], settings, FakeEmbedder())
    assert _statuses(report)["mobilitaet.txt"] == "updated"
    store = _open(settings)
    try:
        texts = " ".join(c.text for c in store.get_chunks(sorted(store.vectors.all_ids())).values())
        assert "On-Demand-Shuttle" in texts and "Rufbus" not in texts
        assert store.lexical.search("Rufbus", 5) == []
        assert store.consistency_problems() == []
    finally:
        store.close()


def test_prune_removes_deleted_files(settings: Settings, docs: Path) -> None:
    ingest_paths([docs], settings, FakeEmbedder())
    (docs / "energie.md").unlink()
    report = ingest_paths([docs], settings, FakeEmbedder(), prune=True)
    assert _statuses(report)["energie.md"] == "pruned"
    store = _open(settings)
    try:
        assert [Path(d.sources[0]).name for d in store.registry.documents()] == ["mobilitaet.txt"]
        assert store.lexical.search("Wasserstoff", 5) == []
        assert store.consistency_problems() == []
    finally:
        store.close()


def test_identical_content_is_stored_once_with_both_sources(settings: Settings, docs: Path) -> None:
    (docs / "kopie.md").write_text(ENERGY, encoding="utf-8")
    report = ingest_paths([docs], settings, FakeEmbedder())
    assert sorted(_statuses(report).values()) == ["added", "added", "duplicate"]
    store = _open(settings)
    try:
        energy = [d for d in store.registry.documents() if "Energie" in d.title]
        assert len(energy) == 1
        assert {Path(s).name for s in energy[0].sources} == {"energie.md", "kopie.md"}
    finally:
        store.close()


def test_bad_file_is_reported_and_nothing_stored_is_lost(settings: Settings, docs: Path) -> None:
    ingest_paths([docs], settings, FakeEmbedder())
    (docs / "kaputt.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "leer.txt").write_bytes(b"")
    (docs / "bild.png").write_bytes(b"\x89PNG")
    report = ingest_paths([docs], settings, FakeEmbedder())
    statuses = _statuses(report)
    assert statuses["kaputt.pdf"] == "failed" and statuses["leer.txt"] == "failed"
    assert statuses["bild.png"] == "skipped"
    assert statuses["energie.md"] == "unchanged"
    reasons = {Path(r.source).name: r.reason for r in report.failed}
    assert reasons["leer.txt"] and reasons["kaputt.pdf"]
    store = _open(settings)
    try:
        assert len(store.registry.documents()) == 2
    finally:
        store.close()


class _CrashingEmbedder(FakeEmbedder):
    """Dies like a killed process while embedding the second document."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if any("Rufbus" in t for t in texts):
            raise KeyboardInterrupt
        return super().embed_documents(texts)


def test_interrupted_run_leaves_usable_index_and_next_run_completes(
    settings: Settings, docs: Path
) -> None:
    settings.ingest.batch_chunks = 1  # store each document before the next one
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([docs], settings, _CrashingEmbedder())
    store = _open(settings)
    try:  # the first document is complete and searchable
        assert [d.title for d in store.registry.documents() if d.status == "complete"] == [
            "Energiewende an der Küste"
        ]
        assert store.lexical.search("Wasserstoff", 3)
    finally:
        store.close()
    report = ingest_paths([docs], settings, FakeEmbedder())
    assert _statuses(report) == {"energie.md": "unchanged", "mobilitaet.txt": "added"}
    store = _open(settings)
    try:
        assert all(d.status == "complete" for d in store.registry.documents())
        assert store.consistency_problems() == []
    finally:
        store.close()


class _OtherSpaceEmbedder(FakeEmbedder):
    name = "fake:other"
    space = "some-other-model"


def test_opening_with_another_embedder_fails_clearly(settings: Settings, docs: Path) -> None:
    ingest_paths([docs], settings, FakeEmbedder())
    with pytest.raises(IndexMismatchError, match="fake:hashing.*some-other-model|some-other"):
        IndexStore.open(settings, _OtherSpaceEmbedder())
    with pytest.raises(IndexMismatchError, match="--rebuild"):  # ingestion: checked before writing
        ingest_paths([docs], settings, _OtherSpaceEmbedder())
    store = IndexStore.open(settings, FakeEmbedder())
    try:
        assert len(store.registry.documents()) == 2 and store.consistency_problems() == []
    finally:
        store.close()
    # a rebuild with the new embedder is the documented way out
    report = ingest_paths([docs], settings, _OtherSpaceEmbedder(), rebuild=True)
    assert _statuses(report) == {"energie.md": "added", "mobilitaet.txt": "added"}


def test_an_index_of_the_previous_format_is_migrated_without_re_embedding(
    settings: Settings, docs: Path
) -> None:
    ingest_paths([docs], settings, FakeEmbedder())
    # Make it what format 1 wrote: chunk texts in Chroma, none in the lexical index.
    store = IndexStore.open(settings, FakeEmbedder())
    stored = store.get_chunks_with_vectors(sorted(store.lexical.ids()))
    chunks = {cid: chunk for cid, (chunk, _) in stored.items()}
    store.vectors._collection.update(
        ids=list(stored),
        embeddings=[vector for _, vector in stored.values()],
        documents=[chunk.text for chunk, _ in stored.values()],
    )
    store.close()
    lexical = Path(settings.paths.data_dir) / "lexical.sqlite"
    with sqlite3.connect(lexical) as conn:
        conn.executescript(
            """
            DROP TABLE chunk_texts;
            DROP TRIGGER chunks_delete;
            CREATE TRIGGER chunks_delete AFTER DELETE ON chunks BEGIN
                INSERT INTO chunks_fts (chunks_fts, rowid, terms)
                VALUES ('delete', old.rowid, old.terms);
            END;
            UPDATE meta SET value = '1' WHERE key = 'schema_version';
            """
        )
    conn.close()

    store = IndexStore.open(settings, FakeEmbedder())
    try:
        hits = store.dense_search(FakeEmbedder().embed_query("Rufbus Ortschaften"), 5)
        assert any("22 Ortschaften" in chunk.text for chunk, _ in hits)
        assert store.get_chunks(list(chunks)) == chunks
    finally:
        store.close()
    report = ingest_paths([docs], settings, FakeEmbedder())
    assert report.embedded == 0 and report.count("unchanged") == 2

    (docs / "energie.md").write_text(ENERGY.replace("30 Megawatt", "45 Megawatt"), "utf-8")
    ingest_paths([docs], settings, FakeEmbedder())
    with sqlite3.connect(lexical) as conn:  # the replaced chunks' texts went with them
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM chunks), (SELECT count(*) FROM chunk_texts)"
        ).fetchone()
    conn.close()
    assert counts[0] == counts[1] > 0


def test_a_lexical_index_of_another_version_asks_for_a_rebuild_and_rebuilds(
    settings: Settings, docs: Path
) -> None:
    ingest_paths([docs], settings, FakeEmbedder())
    with sqlite3.connect(Path(settings.paths.data_dir) / "lexical.sqlite") as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(IndexMismatchError, match="neu aufbauen"):
        IndexStore.open(settings, FakeEmbedder())

    report = ingest_paths([docs], settings, FakeEmbedder(), rebuild=True)

    assert _statuses(report) == {"energie.md": "added", "mobilitaet.txt": "added"}


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = Path(settings.paths.data_dir)
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(data_dir))
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    return data_dir


def test_cli_ingest_summary_and_exit_codes(
    cli_env: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(docs)]) == 0
    out = capsys.readouterr().out
    assert "neu" in out and "Abschnitte" in out
    (docs / "kaputt.docx").write_bytes(b"PK\x03\x04 broken zip")
    assert main(["ingest", str(docs)]) == 1
    captured = capsys.readouterr()
    assert "kaputt.docx" in captured.err


def test_index_info_in_a_new_process(cli_env: Path, docs: Path) -> None:
    assert main(["ingest", str(docs)]) == 0
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from regiostrat.cli import main; sys.exit(main())",
            "index-info",
            "--check",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Dokumente:    2" in result.stdout
    assert "Energiewende an der Küste" in result.stdout
    assert "Konsistent" in result.stdout


def test_index_info_without_index_says_how_to_build(cli_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["index-info"]) == 2
    assert "regiostrat ingest" in capsys.readouterr().err

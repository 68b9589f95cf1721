"""Files parsed ahead in worker processes: same results as parsing in the ingesting process,
a parser crash costs one file, workers run at low priority."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from worker_parsers import crash_on_marked_files, report_priority

from ingest.pipeline import ingest_paths
from ingest.prefetch import MIN_FILES_FOR_WORKERS, ParsePrefetcher
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.errors import IngestError
from regiostrat.index.store import IndexStore
from regiostrat.settings import IngestSettings, Settings

TOPICS = ["Windenergie", "Rufbus", "Fachkräfte", "Wohnraum", "Breitband", "Grenzpendler"]


def _write_corpus(folder: Path, make_pdf) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    for index, topic in enumerate(TOPICS):
        text = (
            f"# {topic} im Modellvorhaben {index}\n\nDie Region plant {index + 3} Maßnahmen zum "
            f"Thema {topic}. Die Werkstatt fand im März statt.\n"
        )
        (folder / f"{index:02d}-{topic}.md").write_text(text, encoding="utf-8")
    pdf = make_pdf("protokoll.pdf", [["# Protokoll", "Der Rufbus fährt künftig stündlich."]])
    pdf.rename(folder / "protokoll.pdf")
    (folder / "kaputt.pdf").write_bytes(b"%PDF-1.7\nkein echtes PDF")
    (folder / "leer.md").write_text("", encoding="utf-8")


def _ingest(settings: Settings, folder: Path, workers: int) -> tuple[list, dict[str, str]]:  # type: ignore[type-arg]
    settings.ingest.parse_workers = workers
    embedder = FakeEmbedder()
    report = ingest_paths([folder], settings, embedder)
    store = IndexStore.open(settings, embedder)
    try:
        chunks = store.get_chunks(sorted(store.vectors.all_ids()))
        assert store.consistency_problems() == []
    finally:
        store.close()
    results = [(Path(r.source).name, r.status, r.chunks, r.reason) for r in report.results]
    return results, {cid: chunk.text for cid, chunk in chunks.items()}


def test_workers_give_the_same_index_and_report_as_parsing_inline(
    settings: Settings,
    tmp_path: Path,
    make_pdf,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "docs"
    _write_corpus(folder, make_pdf)
    assert len(list(folder.iterdir())) >= MIN_FILES_FOR_WORKERS  # the workers do start

    with_workers = _ingest(settings, folder, workers=2)
    other = settings.model_copy(deep=True)
    other.paths.data_dir = tmp_path / "inline-index"
    inline = _ingest(other, folder, workers=0)

    assert with_workers == inline
    statuses = {name: status for name, status, _, _ in with_workers[0]}
    assert statuses["kaputt.pdf"] == "failed" and statuses["leer.md"] == "failed"
    assert statuses["protokoll.pdf"] == "added"
    assert any("stündlich" in text for text in with_workers[1].values())


def test_a_parser_crash_costs_only_that_file(tmp_path: Path) -> None:
    names = ["a.md", "crash.md", "b.md", "c.md"]
    for name in names:
        (tmp_path / name).write_text(f"# Datei {name}\n\nText der Datei {name}.\n", "utf-8")

    with ParsePrefetcher(IngestSettings(), workers=1, parse=crash_on_marked_files) as prefetcher:
        for name in names:
            prefetcher.submit(tmp_path / name, name)
        first = prefetcher.take(tmp_path / "a.md", "a.md")
        with pytest.raises(IngestError, match="abgestürzt") as crashed:
            prefetcher.take(tmp_path / "crash.md", "crash.md")
        rest = [prefetcher.take(tmp_path / n, n) for n in ("b.md", "c.md")]

    assert crashed.value.path.endswith("crash.md")
    assert [d.source for d in (first, *rest)] == ["a.md", "b.md", "c.md"]
    assert "Text der Datei c.md." in rest[-1].pages[0].blocks[-1].text


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities on this platform")
def test_workers_parse_at_the_lowest_priority(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# Titel\n\nEin Satz.\n", "utf-8")
    with ParsePrefetcher(IngestSettings(), workers=1, parse=report_priority) as prefetcher:
        prefetcher.submit(path, "a.md")
        document = prefetcher.take(path, "a.md")
    assert int(document.title) == min(19, os.nice(0) + 19)


def test_a_file_not_submitted_is_parsed_in_the_ingesting_process(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# Titel\n\nEin Satz.\n", "utf-8")
    with ParsePrefetcher(IngestSettings(), workers=1, parse=report_priority) as prefetcher:
        document = prefetcher.take(path, "a.md")
    assert int(document.title) == os.nice(0)

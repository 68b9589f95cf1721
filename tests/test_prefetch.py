"""Files parsed ahead in worker processes: same results as parsing in the ingesting process,
a parser crash costs one file, workers run at low priority."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from worker_parsers import crash_on_marked_files, report_priority, slow_in_workers

from ingest.pipeline import ingest_paths
from ingest.prefetch import MIN_FILES_FOR_WORKERS, ParsePrefetcher
from ingest.prepare import FileJob
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.errors import IngestError
from regiostrat.index.lexical import index_terms
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
    embedder = FakeEmbedder()
    with ParsePrefetcher(workers) as prefetcher:
        if workers:
            _wait_until_accepting(prefetcher)  # else the run prepares all files before one is up
        report = ingest_paths([folder], settings, embedder, prefetcher=prefetcher)
    assert (report.prepared_by_workers > 0) == (workers > 0)
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


def _wait_until_accepting(prefetcher: ParsePrefetcher) -> None:
    """Start the workers and wait until one is up (before, the caller prepares every file)."""
    prefetcher.start()
    deadline = time.monotonic() + 60
    while not prefetcher.accepting:
        assert time.monotonic() < deadline, "no worker started"
        time.sleep(0.02)


def _wait_until_dispatched(prefetcher: ParsePrefetcher, *jobs: FileJob) -> None:
    """Until the jobs are handed to a worker (a job still queued is prepared by the caller)."""
    futures = [prefetcher._futures[job.path] for job in jobs]
    deadline = time.monotonic() + 30
    while not all(f.running() or f.done() for f in futures):
        assert time.monotonic() < deadline, "no worker took the jobs"
        time.sleep(0.01)


def _job(path: Path) -> FileJob:
    return FileJob(path, path.name, f"doc-{path.stem}", None, IngestSettings(), True)


def test_a_parser_crash_costs_only_that_file(tmp_path: Path) -> None:
    names = ["a.md", "crash.md", "b.md", "c.md"]
    for name in names:
        (tmp_path / name).write_text(f"# Datei {name}\n\nText der Datei {name}.\n", "utf-8")
    jobs = {name: _job(tmp_path / name) for name in names}

    with ParsePrefetcher(workers=1, prepare=crash_on_marked_files) as prefetcher:
        _wait_until_accepting(prefetcher)
        prefetcher.submit(jobs["a.md"])
        prefetcher.submit(jobs["crash.md"])
        _wait_until_dispatched(prefetcher, jobs["a.md"], jobs["crash.md"])  # not taken back
        crash = prefetcher._futures[jobs["crash.md"].path]
        while not crash.done():
            time.sleep(0.01)
        prefetcher.submit(jobs["b.md"])  # to the broken pool: the run prepares it itself
        prefetcher.submit(jobs["c.md"])
        first = prefetcher.take(jobs["a.md"])
        with pytest.raises(IngestError, match="abgestürzt") as crashed:
            prefetcher.take(jobs["crash.md"])
        rest = [prefetcher.take(jobs[name]) for name in ("b.md", "c.md")]

    assert crashed.value.path.endswith("crash.md")
    assert [p.chunks[0].source for p in (first, *rest)] == ["a.md", "b.md", "c.md"]
    assert "Text der Datei c.md." in rest[-1].chunks[0].text
    assert first.terms == [index_terms(chunk.text) for chunk in first.chunks]


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities on this platform")
def test_workers_prepare_at_the_lowest_priority(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# Titel\n\nEin Satz.\n", "utf-8")
    with ParsePrefetcher(workers=1, prepare=report_priority) as prefetcher:
        _wait_until_accepting(prefetcher)
        prefetcher.submit(_job(path))
        _wait_until_dispatched(prefetcher, _job(path))
        prepared = prefetcher.take(_job(path))
    assert int(prepared.title) == min(19, os.nice(0) + 19)


def test_a_file_not_submitted_is_prepared_in_the_ingesting_process(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# Titel\n\nEin Satz.\n", "utf-8")
    with ParsePrefetcher(workers=1, prepare=report_priority) as prefetcher:
        prepared = prefetcher.take(_job(path))
    assert int(prepared.title) == os.nice(0)


def _write_files(folder: Path, names: list[str]) -> list[FileJob]:
    for name in names:
        (folder / name).write_text(f"# Datei {name}\n\nText der Datei {name}.\n", "utf-8")
    return [_job(folder / name) for name in names]


def test_while_a_worker_is_busy_the_run_prepares_later_files_itself(tmp_path: Path) -> None:
    names = ["slow.md", "a.md", "b.md", "c.md", "d.md"]
    jobs = _write_files(tmp_path, names)
    (tmp_path / "d.md").write_text("", "utf-8")  # fails, wherever it is prepared
    (first,) = _write_files(tmp_path, ["erste.md"])

    with ParsePrefetcher(workers=1, prepare=slow_in_workers) as prefetcher:
        _wait_until_accepting(prefetcher)
        assert prefetcher.take(first).title == str(os.getpid())  # not submitted: prepared here
        for job in jobs:
            prefetcher.submit(job)
        _wait_until_dispatched(prefetcher, jobs[0])
        prepared = [prefetcher.take(job) for job in jobs[:4]]
        with pytest.raises(IngestError, match="leer") as empty:
            prefetcher.take(jobs[4])
        by_workers = prefetcher.prepared_by_workers

    assert empty.value.path.endswith("d.md")
    assert [p.chunks[0].source for p in prepared] == names[:4]
    here = [p.chunks[0].source for p in prepared if p.title == str(os.getpid())]
    # the worker had slow.md and at most the next file queued; the run prepared the rest itself
    assert here and set(here) <= {"a.md", "b.md", "c.md"} and "slow.md" not in here
    assert by_workers == 4 - len(here)


def test_a_run_that_has_prepared_nothing_itself_waits_for_the_workers(tmp_path: Path) -> None:
    """Its first file would cost the ingesting process more (loading the parsers' tables)
    than waiting for a worker that is up."""
    jobs = _write_files(tmp_path, ["slow.md", "a.md", "b.md"])

    with ParsePrefetcher(workers=1, prepare=slow_in_workers) as prefetcher:
        _wait_until_accepting(prefetcher)
        for job in jobs:
            prefetcher.submit(job)
        _wait_until_dispatched(prefetcher, *jobs[:2])  # b.md waits its turn: could be taken
        prepared = [prefetcher.take(job) for job in jobs[:2]]
        _wait_until_dispatched(prefetcher, jobs[2])
        prepared.append(prefetcher.take(jobs[2]))
        by_workers = prefetcher.prepared_by_workers

    assert [p.chunks[0].source for p in prepared] == ["slow.md", "a.md", "b.md"]
    assert str(os.getpid()) not in {p.title for p in prepared}
    assert by_workers == 3


class _RecordingPrefetcher(ParsePrefetcher):
    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.submitted: list[str] = []

    def submit(self, job: FileJob) -> None:
        if self.accepting:
            self.submitted.append(job.path.name)
        super().submit(job)


def test_workers_up_before_the_run_get_its_first_file_too(
    settings: Settings,
    tmp_path: Path,
    make_pdf,  # type: ignore[no-untyped-def]
) -> None:
    """As `regiostrat ingest` starts them before it loads the embedder: the run hands them its
    first files before it opens Chroma, so the first batch is ready to embed sooner."""
    folder = tmp_path / "docs"
    _write_corpus(folder, make_pdf)

    with _RecordingPrefetcher(workers=1) as prefetcher:
        _wait_until_accepting(prefetcher)
        report = ingest_paths([folder], settings, FakeEmbedder(), prefetcher=prefetcher)

    ingestible = sorted(p.name for p in folder.iterdir())
    assert sorted(prefetcher.submitted) == ingestible
    assert prefetcher.submitted[0] == "00-Windenergie.md"  # the first file of the run
    assert report.prepared_by_workers == report.count("added") == len(TOPICS) + 1

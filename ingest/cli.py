"""`regiostrat ingest` and `regiostrat index-info`."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from ingest.pipeline import (
    STATUS_LABELS,
    FileResult,
    IngestReport,
    ingest_paths,
    iter_files,
    start_parse_workers,
)
from ingest.prefetch import ParsePrefetcher
from regiostrat.cli import index_option
from regiostrat.embedders import Embedder, create_embedder
from regiostrat.errors import IndexMissingError
from regiostrat.index.store import IndexStore
from regiostrat.settings import Settings


def print_report(report: IngestReport) -> None:
    problems = [
        r
        for r in report.results
        if r.status in ("failed", "skipped", "not_searchable") or r.warnings
    ]
    for result in problems:
        detail = result.reason or "; ".join(result.warnings)
        label = STATUS_LABELS[result.status] if result.status != "added" else "Hinweis"
        click.echo(f"  {label:<15} {result.source}: {detail}", err=result.status == "failed")
    rows = [
        ("neu", report.count("added")),
        ("aktualisiert", report.count("updated")),
        ("unverändert", report.count("unchanged")),
        ("Duplikate", report.count("duplicate")),
        ("entfernt", report.count("pruned")),
        ("übersprungen", report.count("skipped")),
        ("nicht durchsuchbar", report.count("not_searchable")),
        ("fehlgeschlagen", report.count("failed")),
    ]
    click.echo("\nDokumente")
    for label, value in rows:
        click.echo(f"  {label:<20}{value:>6}")
    click.echo(
        f"  {'Abschnitte':<20}{report.chunks:>6}  (neu eingebettet: {report.embedded}, "
        f"wiederverwendet: {report.reused})"
    )
    click.echo(f"  {'Zeit':<20}{report.seconds:>5.1f}s")


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_option
@click.option("--prune", is_flag=True, help="Remove documents whose files are gone.")
@click.option("--rebuild", is_flag=True, help="Empty the index first (after changing embedder).")
def ingest_command(
    paths: tuple[Path, ...], index_dir: Path | None, prune: bool, rebuild: bool
) -> int:
    """Ingest documents (PDF, DOCX, HTML, Markdown, text) into the index."""
    settings = Settings().with_data_dir(index_dir)
    files = list(iter_files(paths))
    # the parse workers start up while the embedder loads
    with start_parse_workers(settings, files) as prefetcher:
        embedder = create_embedder(settings.embedder)
        report = _ingest_with_progress(
            paths, settings, embedder, files, prefetcher, prune=prune, rebuild=rebuild
        )
    print_report(report)
    return 1 if report.failed else 0


def _ingest_with_progress(
    paths: tuple[Path, ...],
    settings: Settings,
    embedder: Embedder,
    files: list[Path],
    prefetcher: ParsePrefetcher,
    *,
    prune: bool,
    rebuild: bool,
) -> IngestReport:
    started = time.perf_counter()
    chunks = 0
    with click.progressbar(
        length=len(files),
        label="Dokumente",
        file=sys.stderr,
        show_pos=True,
        item_show_func=lambda item: item,
    ) as bar:

        def on_file(result: FileResult) -> None:
            nonlocal chunks
            if result.status in ("added", "updated"):
                chunks += result.chunks
            rate = chunks / max(time.perf_counter() - started, 1e-6)
            bar.update(1, f"{chunks} Abschnitte, {rate:.1f}/s")

        return ingest_paths(
            list(paths),
            settings,
            embedder,
            prune=prune,
            rebuild=rebuild,
            on_file=on_file,
            files=files,
            prefetcher=prefetcher,
        )


@click.command("index-info")
@index_option
@click.option("--check", is_flag=True, help="Verify Chroma and the lexical index agree.")
def index_info_command(index_dir: Path | None, check: bool) -> int:
    """Show what is indexed: documents, chunks, embedder, settings."""
    settings = Settings().with_data_dir(index_dir)
    if not IndexStore.exists(settings):
        raise IndexMissingError(
            f"Kein Index in {settings.paths.data_dir}. Aufbauen mit: regiostrat ingest corpus/"
        )
    store = IndexStore.open(settings, create_embedder(settings.embedder))
    try:
        info = store.info()
        docs = store.registry.documents()
        updated = info.get("updated_at")
        click.echo(f"Index:        {settings.paths.data_dir}")
        click.echo(
            f"Embedder:     {info.get('embedder_name', '?')} ({info.get('embedder_dim')} dim)"
        )
        click.echo(f"Chunking:     {info.get('chunking', '?')}")
        if updated:
            stamp = dt.datetime.fromtimestamp(float(updated)).strftime("%Y-%m-%d %H:%M")
            click.echo(f"Aktualisiert: {stamp}")
        click.echo(f"Dokumente:    {len(docs)}")
        click.echo(f"Abschnitte:   {store.vectors.count()}")
        click.echo("")
        for doc in docs:
            meta = doc.meta
            project = meta.project or "-"
            click.echo(f"  {doc.n_chunks:>4}  {meta.doc_type:<26} {project:<24} {doc.title}")
        if check:
            problems = store.consistency_problems()
            for problem in problems:
                click.echo(f"Inkonsistent: {problem}", err=True)
            if problems:
                return 1
            click.echo("\nKonsistent: Chroma und Lexikindex enthalten dieselben Abschnitte.")
    finally:
        store.close()
    return 0

"""`regiostrat batch QUESTIONS --out REPORT`: answer a list of questions into a report."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import click

from eval.batch import (
    BatchInputError,
    answer_row,
    read_questions,
    report_format,
    summarize,
    write_batch_report,
)
from regiostrat.cli import index_option


@click.command("batch")
@click.argument("questions", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report file: .html, .md, .docx, .xlsx or .jsonl (format by extension).",
)
@index_option
def batch_command(questions: Path, out: Path, index_dir: Path | None) -> int:
    """Answer every question of QUESTIONS (.txt, .csv, .xlsx, .jsonl) into a report.

    .txt: one question per line (blank lines and # comments skipped); .csv/.xlsx: column
    `question`; .jsonl: field `question`. Other columns are kept; the columns `project` and
    `type` restrict a row's search. Exit 1 when a question failed (its row says why).
    """
    from assistant.service import Assistant
    from regiostrat.settings import Settings

    report_format(out)  # fail on a wrong extension before answering
    rows = read_questions(questions)
    if not rows:
        raise BatchInputError(f"{questions}: keine Fragen gefunden.")
    settings = Settings().with_data_dir(index_dir)
    assistant = Assistant.open(settings)
    meta = {
        "input": str(questions),
        "index": str(settings.paths.data_dir),
        "created": dt.datetime.now(),
    }
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    interrupted = False
    try:
        with click.progressbar(
            rows,
            label="Fragen",
            file=sys.stderr,
            show_pos=True,
            item_show_func=lambda row: row.id if row else None,
        ) as bar:
            for row in bar:
                results.append(answer_row(assistant, row))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        assistant.close()
    summary = summarize(results, time.perf_counter() - started)
    path = write_batch_report(results, summary, meta, out)
    if interrupted:
        click.echo(
            f"\nAbgebrochen nach {len(results)} von {len(rows)} Fragen; Teilbericht: {path}",
            err=True,
        )
        raise click.Abort()
    click.echo(summary.text())
    for result in results:
        if result.get("error"):
            click.echo(f"  Fehler bei Frage {result['id']}: {result['error']}", err=True)
    click.echo(f"Bericht: {path}")
    return 1 if summary.failed else 0

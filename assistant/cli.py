"""`regiostrat ask`: one question on the command line, the answer with numbered sources."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from assistant.service import Assistant
from regiostrat.cli import index_option
from regiostrat.settings import Settings
from regiostrat.types import Answer, Filters


def filters_from_options(
    projects: tuple[str, ...],
    doc_types: tuple[str, ...],
    themes: tuple[str, ...],
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
) -> Filters:
    return Filters(
        projects=list(projects),
        doc_types=list(doc_types),
        themes=list(themes),
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )


def format_answer(answer: Answer) -> str:
    lines = [answer.text]
    if answer.notice:
        lines += ["", f"Hinweis: {answer.notice}"]
    if answer.citations:
        lines += ["", "Quellen:"]
        for c in answer.citations:
            lines.append(f"[{c.n}] {c.title}, S. {c.page} ({c.source})")
            quote = c.highlight or c.quote
            lines.append(f"    „{quote}“")
    elif answer.abstained and answer.passages:
        lines += ["", "Möglicherweise verwandte Stellen:"]
        for p in answer.passages[:3]:
            lines.append(f"- {p.chunk.title}, S. {p.chunk.page_start} ({p.chunk.source})")
    return "\n".join(lines)


@click.command("ask")
@click.argument("question")
@index_option
@click.option("--project", "projects", multiple=True, help="Model project id (repeatable).")
@click.option("--type", "doc_types", multiple=True, help="Document type, e.g. Protokoll.")
@click.option("--theme", "themes", multiple=True, help="Theme, e.g. Energie.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Earliest date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Latest date.")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
def ask_command(
    question: str,
    index_dir: Path | None,
    projects: tuple[str, ...],
    doc_types: tuple[str, ...],
    themes: tuple[str, ...],
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    as_json: bool,
) -> int:
    """Answer a German question from the indexed documents, with cited passages."""
    settings = Settings().with_data_dir(index_dir)
    assistant = Assistant.open(settings)
    try:
        answer = assistant.ask(
            question, filters=filters_from_options(projects, doc_types, themes, date_from, date_to)
        )
    finally:
        assistant.close()
    if as_json:
        click.echo(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        click.echo(format_answer(answer))
    return 0

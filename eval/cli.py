"""`regiostrat eval QUESTIONS` and `regiostrat eval compare RUN_A RUN_B`.

QUESTIONS is a gold YAML file or folder (eval/questions), a feedback export of the web app
(.jsonl with a `rating` field) or the name of a public benchmark (omos-qa, xquad-de,
ragsource-bw), which gets its own index under the data dir, built on first use.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from eval.benchmarks import BENCHMARK_NAMES, get_benchmark
from eval.gold import (
    EvalInputError,
    EvalItem,
    is_feedback_file,
    load_feedback,
    load_gold,
    subsample,
)
from eval.report import check_thresholds, compare_runs, load_run, parse_threshold, write_json
from eval.report import fmt as fmt_value
from eval.report import write_report as write_html
from eval.runner import RunDir, feedback_run, finish_run, pending_items, run_items, settings_json
from regiostrat.cli import index_option
from regiostrat.settings import Settings

SUMMARY_KEYS = [
    "doc.hit@5", "doc.recall@10", "doc.mrr", "doc.ndcg@10", "page.hit@5", "page.mrr",
    "fact_coverage", "sentence_f1", "token_f1", "citation_precision", "groundedness",
    "abstention_precision", "abstention_recall", "latency_p50", "latency_p95",
    "thumbs_down_share",
]  # fmt: skip


class _DefaultRunGroup(click.Group):
    """`eval QUESTIONS ...` runs an evaluation; `eval compare A B` compares two runs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("eval", cls=_DefaultRunGroup, no_args_is_help=True)
def eval_command() -> None:
    """Evaluate the assistant on gold questions, web-app feedback or public benchmarks.

    \b
    regiostrat eval eval/questions --split dev
    regiostrat eval omos-qa --split test --limit 100
    regiostrat eval feedback.jsonl
    regiostrat eval compare RUN_A RUN_B

    Options of a run: regiostrat eval QUESTIONS --help
    """


def load_settings(config: Path | None) -> Settings:
    if config is None:
        return Settings()
    previous = os.environ.get("REGIOSTRAT_CONFIG")
    os.environ["REGIOSTRAT_CONFIG"] = str(config)
    try:
        return Settings()
    finally:
        if previous is None:
            os.environ.pop("REGIOSTRAT_CONFIG", None)
        else:
            os.environ["REGIOSTRAT_CONFIG"] = previous


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-.") or "run"


def _default_out(settings: Settings, name: str, split: str | None) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    label = _slug(name) + (f"-{split}" if split else "")
    return Path(settings.paths.data_dir) / "eval-runs" / f"{label}-{stamp}"


def _print_summary(run: dict[str, Any]) -> None:
    overall = run["aggregate"]["overall"]
    click.echo(
        f"\n{run.get('n_done', 0)} von {run.get('n_questions', 0)} Fragen ausgewertet"
        + (f", {overall['errors']} mit Fehler" if overall.get("errors") else "")
    )
    for key in SUMMARY_KEYS:
        if overall.get(key) is not None:
            click.echo(f"  {key:<22}{fmt_value(overall[key]):>8}")
    by_kind = run["aggregate"].get("by_kind", {})
    if len(by_kind) > 1:
        keys = [
            k
            for k in (
                "doc.hit@5",
                "fact_coverage",
                "sentence_f1",
                "groundedness",
                "abstention_correct",
            )
            if overall.get(k) is not None
        ]
        click.echo("\n  " + f"{'Art':<16}{'n':>5}" + "".join(f"{k:>20}" for k in keys))
        for kind, group in by_kind.items():
            click.echo(
                "  "
                + f"{kind:<16}{group['n']:>5}"
                + "".join(f"{fmt_value(group.get(k)):>20}" for k in keys)
            )


def _finish(
    run: dict[str, Any], out: Path, fail_under: Sequence[str], fail_above: Sequence[str] = ()
) -> int:
    json_path = write_json(run, out)
    html_path = write_html(run, out)
    _print_summary(run)
    click.echo(f"\nErgebnisse: {json_path}\nBericht:    {html_path}")
    failures = check_thresholds(run["aggregate"], fail_under)
    failures += check_thresholds(run["aggregate"], fail_above, above=True)
    for failure in failures:
        click.echo(f"Regression: {failure}", err=True)
    return 1 if failures else 0


def _run_questions(
    items: list[EvalItem],
    settings: Settings,
    meta: dict[str, Any],
    out: Path,
    fresh: bool,
    embedder: Any = None,
) -> dict[str, Any]:
    from assistant.service import Assistant

    run_dir = RunDir(out)
    done = run_dir.prepare(meta, fresh)
    todo = pending_items(items, done)
    if len(todo) < len(items):
        click.echo(
            f"Fortsetzung in {out}: {len(items) - len(todo)} von {len(items)} Fragen "
            "sind schon ausgewertet.",
            err=True,
        )
    if todo:
        assistant = Assistant.open(settings, embedder)
        try:
            with click.progressbar(
                length=len(todo),
                label="Fragen",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda item: item,
            ) as bar:
                try:
                    run_items(assistant, todo, run_dir, lambda item, _: bar.update(1, item.id))
                except KeyboardInterrupt:
                    click.echo(f"\nUnterbrochen. Fortsetzen mit demselben --out {out}", err=True)
                    raise click.Abort() from None
        finally:
            assistant.close()
    return finish_run(items, run_dir, meta)


@eval_command.command("run", hidden=True)
@click.argument("questions")
@click.option("--split", type=click.Choice(["train", "dev", "test"]), help="Only this split.")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML settings file for this run (instead of regiostrat.toml).",
)
@index_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder; a run started again with the same folder resumes.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Evaluate only N questions, spread evenly over the set (so all kinds are seen).",
)
@click.option("--fresh", is_flag=True, help="Discard results already in --out and start over.")
@click.option(
    "--fail-under",
    "fail_under",
    multiple=True,
    metavar="METRIK=WERT",
    help="Exit 1 when an overall metric is below the value (repeatable), e.g. "
    "doc.hit@5=0.8 or fact_coverage:fact=0.6 for one kind.",
)
@click.option(
    "--fail-above",
    "fail_above",
    multiple=True,
    metavar="METRIK=WERT",
    help="Exit 1 when a metric is above the value (repeatable), e.g. latency_p95=2.5 or "
    "thumbs_down_share=0.2.",
)
@click.option(
    "--benchmarks-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the public benchmarks (default: ../shared/benchmarks).",
)
def run_command(
    questions: str,
    split: str | None,
    config: Path | None,
    index_dir: Path | None,
    out_dir: Path | None,
    limit: int | None,
    fresh: bool,
    fail_under: tuple[str, ...],
    fail_above: tuple[str, ...],
    benchmarks_dir: Path | None,
) -> int:
    """Evaluate QUESTIONS: a gold YAML file or folder, a feedback .jsonl or a benchmark name."""
    for spec in (*fail_under, *fail_above):
        parse_threshold(spec)  # fail on a typo before a long run
    settings = load_settings(config).with_data_dir(index_dir)
    path = Path(questions)

    if not path.exists() and questions in BENCHMARK_NAMES:
        from regiostrat.embedders import create_embedder

        bench = get_benchmark(questions, benchmarks_dir)
        items = bench.items(split, limit)
        if not items:
            raise EvalInputError(f"Benchmark {questions}: keine Fragen für split={split}.")
        embedder = create_embedder(settings.embedder)
        bars: list[Any] = []

        def progress(done: int, total: int) -> None:
            if not bars:  # only when documents are ingested: a built index shows no bar
                bars.append(
                    click.progressbar(
                        length=total, label=f"Index {questions}", file=sys.stderr, show_pos=True
                    )
                )
                bars[0].__enter__()
            bars[0].update(1)

        try:
            bench_settings, built = bench.ensure_index(settings, embedder, progress)
        finally:
            for bar in bars:
                bar.__exit__(None, None, None)
        if built:
            click.echo(
                f"Index für {questions} aufgebaut: {bench_settings.paths.data_dir}", err=True
            )
        meta = {"dataset": questions, "split": split, "settings": settings_json(bench_settings)}
        out = out_dir or _default_out(settings, questions, split)
        run = _run_questions(items, bench_settings, meta, out, fresh, embedder)
        return _finish(run, out, fail_under, fail_above)

    if not path.exists():
        raise EvalInputError(
            f"Fragen nicht gefunden: {questions} (weder Datei/Ordner noch Benchmark "
            f"{', '.join(BENCHMARK_NAMES)})."
        )
    if is_feedback_file(path):
        run = feedback_run(load_feedback(path), str(path))
        out = out_dir or _default_out(settings, "feedback", None)
        out.mkdir(parents=True, exist_ok=True)
        return _finish(run, out, fail_under, fail_above)

    items = subsample(load_gold(path, split), limit)
    if not items:
        raise EvalInputError(f"{path}: keine Fragen" + (f" im split {split}." if split else "."))
    meta = {"dataset": str(path), "split": split, "settings": settings_json(settings)}
    out = out_dir or _default_out(settings, path.stem, split)
    run = _run_questions(items, settings, meta, out, fresh)
    return _finish(run, out, fail_under, fail_above)


@eval_command.command("compare")
@click.argument("run_a", type=click.Path(exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, path_type=Path))
def compare_command(run_a: Path, run_b: Path) -> int:
    """Show what got better or worse from RUN_A to RUN_B (run folders or run.json files)."""
    click.echo(compare_runs(load_run(run_a), load_run(run_b)))
    return 0

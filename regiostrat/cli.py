"""The `regiostrat` command. Subcommands live with the part they drive; errors become messages
here, in one place. `main(argv) -> int` lets tests call the CLI in-process."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from regiostrat.errors import RegioStratError, user_message

index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index directory (default: paths.data_dir, ./data).",
)
"""The `--index DIR` option every command that opens an index takes."""


class _Group(click.Group):
    """Loads subcommands lazily so `regiostrat --help` stays fast."""

    _commands = {
        "ingest": ("ingest.cli", "ingest_command"),
        "index-info": ("ingest.cli", "index_info_command"),
        "ask": ("assistant.cli", "ask_command"),
        "chat": ("assistant.web.cli", "chat_command"),
        "eval": ("eval.cli", "eval_command"),
        "batch": ("eval.batch_cli", "batch_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self._commands:
            return None
        module_name, attr = self._commands[name]
        import importlib

        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # subcommand not available in this build
            raise
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """RegioStrat-Assistent: documents of the RegioStrat programme, searchable with citations."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Abgebrochen.", err=True)
        return 130
    except RegioStratError as exc:
        click.echo(f"Fehler: {user_message(exc)}", err=True)
        return 2
    return int(result or 0)


def entry_point() -> None:
    sys.exit(main())

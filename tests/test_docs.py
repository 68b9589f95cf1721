"""The README documents every setting and every command (fails when one is added silently)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from regiostrat.cli import cli
from regiostrat.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _setting_names() -> list[str]:
    names = []
    for group, field in Settings.model_fields.items():
        annotation = field.annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        names += [f"{group}.{name}" for name in annotation.model_fields]
    return names


@pytest.mark.parametrize("name", _setting_names())
def test_every_setting_is_documented_with_a_description(name: str) -> None:
    group, field = name.split(".")
    model = Settings.model_fields[group].annotation
    assert model is not None and model.model_fields[field].description, name  # type: ignore[union-attr]
    assert f"`{name}`" in README or f"{name}`" in README or name in README, name


@pytest.mark.parametrize("command", sorted(cli.list_commands(None)))  # type: ignore[arg-type]
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"regiostrat {command}" in README


def test_readme_has_exactly_the_two_setup_commands() -> None:
    assert "make run" in README and "make test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci

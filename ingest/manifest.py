"""The corpus manifest: metadata (project, document type, date, themes) for the ingested files.

A manifest is `manifest.yaml` (or `.yml`) with a list under `documents:`, or `manifest.csv` with
a header row of the same field names (themes separated by ";"). File paths are relative to the
manifest's folder. Every invalid entry raises a `ManifestError` naming the line and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from regiostrat.errors import ManifestError
from regiostrat.types import DocumentMeta

MANIFEST_NAMES = ("manifest.yaml", "manifest.yml", "manifest.csv")
_PARENT_LEVELS = 2
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YAML_NULL = "tag:yaml.org,2002:null"


class ManifestEntry(BaseModel):
    """One validated manifest entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(description="Path relative to the manifest's folder (POSIX separators).")
    title: str | None = None
    project: str | None = None
    project_name: str | None = None
    region: str | None = None
    doc_type: str = "unbekannt"
    date: dt.date | None = None
    themes: list[str] = Field(default_factory=list)

    @field_validator("file")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        value = value.replace("\\", "/")
        if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute():
            raise ValueError(
                f"Pfad '{value}' muss relativ zum Ordner des Manifests angegeben werden"
            )
        return value

    @field_validator("date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"Datum '{value}' ist kein gültiges Datum (JJJJ-MM-TT)")

    def meta(self) -> DocumentMeta:
        return DocumentMeta(**self.model_dump(exclude={"file"}))


FIELDS = tuple(ManifestEntry.model_fields)


class Manifest:
    """The validated entries of one manifest file, looked up by file path."""

    def __init__(self, path: Path, entries: Sequence[ManifestEntry]) -> None:
        self.path = path
        self.entries = list(entries)
        self._by_path = {_resolve(path, entry.file): entry for entry in self.entries}

    def lookup(self, file_path: Path) -> DocumentMeta | None:
        """The metadata of `file_path` (absolute or relative to the working directory)."""
        entry = self._by_path.get(Path(file_path).resolve())
        return entry.meta() if entry is not None else None


def default_meta(doc_title: str) -> DocumentMeta:
    """Metadata for a file the manifest does not list."""
    return DocumentMeta.model_validate({"title": doc_title})


def find_manifest(paths: Iterable[Path]) -> Path | None:
    """The first manifest in the given folders (for a file: its folder) or two levels above."""
    for path in paths:
        folder = (path if path.is_dir() else path.parent).resolve()
        for candidate_folder in [folder, *folder.parents[:_PARENT_LEVELS]]:
            for name in MANIFEST_NAMES:
                candidate = candidate_folder / name
                if candidate.is_file():
                    return candidate
    return None


def load_manifest(path: Path) -> Manifest:
    """Reads and validates a YAML or CSV manifest; raises `ManifestError` on the first problem."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        raise ManifestError(path, None, None, "unbekanntes Format (erwartet .yaml, .yml oder .csv)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ManifestError(path, None, None, "Datei nicht gefunden") from exc
    except UnicodeDecodeError as exc:
        raise ManifestError(path, None, None, "Datei ist nicht UTF-8-kodiert") from exc
    rows = _csv_rows(path, text) if suffix == ".csv" else _yaml_rows(path, text)
    entries: list[ManifestEntry] = []
    first_lines: dict[Path, int] = {}
    for row in rows:
        entry = _validate(path, row)
        key = _resolve(path, entry.file)
        if key in first_lines:
            reason = (
                f"Datei '{entry.file}' ist doppelt eingetragen (zuerst in Zeile {first_lines[key]})"
            )
            raise ManifestError(path, row.line_of("file"), "file", reason)
        first_lines[key] = row.line
        entries.append(entry)
    return Manifest(path, entries)


def _resolve(manifest_path: Path, file: str) -> Path:
    return (manifest_path.parent / file).resolve()


@dataclass
class _Row:
    """The raw fields of one entry with the line numbers they were read from."""

    line: int
    values: dict[str, object] = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str | None) -> int:
        return self.field_lines.get(name or "", self.line)


def _validate(path: Path, row: _Row) -> ManifestEntry:
    try:
        return ManifestEntry.model_validate(_cleaned(row.values))
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else None
        raise ManifestError(path, row.line_of(name), name, _reason(error, name)) from exc


def _cleaned(values: dict[str, object]) -> dict[str, object]:
    """Strips strings and drops empty values, so that blank cells and `title: ""` mean unset."""
    cleaned: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, list):
            value = [v.strip() if isinstance(v, str) else v for v in value]
            value = [v for v in value if v not in ("", None)]
        if value not in ("", None):
            cleaned[name] = value
    return cleaned


def _reason(error: ErrorDetails, name: str | None) -> str:
    kind = error["type"]
    if kind == "missing":
        return f"Pflichtfeld '{name}' fehlt"
    if kind == "extra_forbidden":
        return _unknown_field(name or "")
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if name == "themes":
        if len(error["loc"]) == 1:
            return "themes muss eine Liste sein"
        return "themes darf nur Texte enthalten"
    return f"'{name}' muss ein Text sein"


def _unknown_field(name: str) -> str:
    return f"unbekanntes Feld '{name}' (erlaubt: {', '.join(FIELDS)})"


# YAML -------------------------------------------------------------------------------------------


def _yaml_rows(path: Path, text: str) -> list[_Row]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if mark is None or (mark.index >= len(text.rstrip()) and exc.context_mark is not None):
            mark = exc.context_mark  # an unclosed bracket or quote: where it was opened
        line = mark.line + 1 if mark is not None else None
        reason = f"YAML-Syntaxfehler (Einrückung, Doppelpunkte, Klammern prüfen): {exc.problem}"
        raise ManifestError(path, line, None, reason) from exc
    except yaml.YAMLError as exc:
        raise ManifestError(path, None, None, f"YAML-Syntaxfehler: {exc}") from exc
    if root is None:
        raise ManifestError(
            path, None, "documents", "Manifest ist leer; erwartet wird 'documents:' mit einer Liste"
        )
    if not isinstance(root, yaml.MappingNode):
        raise ManifestError(
            path, _line(root), None, "erwartet wird 'documents:' mit einer Liste von Einträgen"
        )
    documents: yaml.Node | None = None
    for key, value in root.value:
        name = _scalar(key)
        if name != "documents":
            reason = f"unbekannter Schlüssel '{name}' (erwartet: documents)"
            raise ManifestError(path, _line(key), name, reason)
        documents = value
    if documents is None:
        raise ManifestError(path, None, "documents", "Pflichtfeld 'documents' fehlt")
    if _is_null(documents):
        return []
    if not isinstance(documents, yaml.SequenceNode):
        raise ManifestError(path, _line(documents), "documents", "documents muss eine Liste sein")
    return [_yaml_row(path, item) for item in documents.value]


def _yaml_row(path: Path, item: yaml.Node) -> _Row:
    if not isinstance(item, yaml.MappingNode):
        raise ManifestError(
            path, _line(item), None, "ein Eintrag muss Felder enthalten, z. B. 'file: bericht.pdf'"
        )
    row = _Row(line=_line(item))
    for key, value in item.value:
        name = _scalar(key)
        if not isinstance(name, str):
            raise ManifestError(path, _line(key), None, "ungültiger Feldname")
        if name in row.values:
            raise ManifestError(path, _line(key), name, f"Feld '{name}' ist doppelt angegeben")
        row.values[name] = _yaml_value(value)
        row.field_lines[name] = _line(key)
    return row


def _yaml_value(node: yaml.Node) -> object:
    """A node's value with scalars as written (no YAML typing: `2024-05-01` stays a string)."""
    if isinstance(node, yaml.ScalarNode):
        return None if _is_null(node) else node.value
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_value(child) for child in node.value]
    return {str(_scalar(key)): _yaml_value(value) for key, value in node.value}


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _YAML_NULL


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


# CSV --------------------------------------------------------------------------------------------


def _csv_rows(path: Path, text: str) -> list[_Row]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    rows: list[_Row] = []
    line = 1
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                line = reader.line_num + 1
                continue
            if header is None:
                header, header_line = _csv_header(path, cells, line), line
            else:
                rows.append(_csv_row(path, header, header_line, cells, line))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ManifestError(path, reader.line_num, None, f"ungültiges CSV: {exc}") from exc
    return rows


def _csv_header(path: Path, cells: list[str], line: int) -> list[str]:
    header = [cell.strip() for cell in cells]
    for index, name in enumerate(header):
        if name and name not in FIELDS:
            raise ManifestError(path, line, name, _unknown_field(name))
        if name and name in header[:index]:
            raise ManifestError(path, line, name, f"Spalte '{name}' ist doppelt angegeben")
    if "file" not in header:
        raise ManifestError(path, line, "file", "Pflichtspalte 'file' fehlt in der Kopfzeile")
    return header


def _csv_row(path: Path, header: list[str], header_line: int, cells: list[str], line: int) -> _Row:
    if any(cell.strip() for cell in cells[len(header) :]):
        raise ManifestError(
            path,
            line,
            None,
            f"die Zeile hat {len(cells)} Werte, die Kopfzeile (Zeile {header_line}) nur "
            f"{len(header)} Spalten",
        )
    row = _Row(line=line)
    for name, cell in zip(header, cells, strict=False):
        if name:
            row.values[name] = cell.split(";") if name == "themes" else cell
    return row

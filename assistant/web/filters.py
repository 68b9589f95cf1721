"""The filter form: widget values in, a validated `Filters` (or German messages) out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from regiostrat.types import Filters

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass
class FilterChoices:
    """What the filter widgets offer, taken from the indexed documents."""

    projects: list[tuple[str, str]] = field(default_factory=list)  # (label, id)
    doc_types: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)

    @property
    def project_labels(self) -> dict[str, str]:
        return {pid: label for label, pid in self.projects}


def filter_choices(documents: Iterable[object]) -> FilterChoices:
    """Projects, document types and themes that occur in the registry's documents."""
    projects: dict[str, str] = {}
    doc_types: set[str] = set()
    themes: set[str] = set()
    for doc in documents:
        meta = getattr(doc, "meta", None)
        if meta is None:
            continue
        if meta.project:
            projects.setdefault(meta.project, meta.project_name or meta.project)
        if meta.doc_type and meta.doc_type != "unbekannt":
            doc_types.add(meta.doc_type)
        themes.update(t for t in meta.themes if t)
    return FilterChoices(
        projects=sorted(((label, pid) for pid, label in projects.items()), key=lambda x: x[0]),
        doc_types=sorted(doc_types, key=str.lower),
        themes=sorted(themes, key=str.lower),
    )


def parse_date(value: str | None, label: str) -> tuple[dt.date | None, str | None]:
    """(date, None) or (None, German message). Accepts JJJJ-MM-TT and TT.MM.JJJJ."""
    text = (value or "").strip()
    if not text:
        return None, None
    try:
        if _ISO.fullmatch(text):
            return dt.date.fromisoformat(text), None
        german = _GERMAN.fullmatch(text)
        if german:
            day, month, year = (int(g) for g in german.groups())
            return dt.date(year, month, day), None
    except ValueError:
        return None, f"Das Datum „{label}“ ({text}) gibt es nicht. Bitte prüfen Sie Tag und Monat."
    return None, (
        f"Das Datum „{label}“ ({text}) bitte im Format JJJJ-MM-TT angeben, z. B. 2021-03-31."
    )


def _clean(values: Sequence[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [v.strip() for v in values if v and v.strip()]


def parse_filters(
    projects: Sequence[str] | str | None = None,
    doc_types: Sequence[str] | str | None = None,
    themes: Sequence[str] | str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> tuple[Filters, list[str]]:
    """Validated filters and a list of German error messages (empty when all is well)."""
    errors: list[str] = []
    start, error = parse_date(date_from, "von")
    if error:
        errors.append(error)
    end, error = parse_date(date_to, "bis")
    if error:
        errors.append(error)
    if start and end and start > end:
        errors.append(
            f"Der Zeitraum ist leer: „von“ ({start:%d.%m.%Y}) liegt nach „bis“ ({end:%d.%m.%Y})."
        )
    filters = Filters(
        projects=_clean(projects),
        doc_types=_clean(doc_types),
        themes=_clean(themes),
        date_from=start,
        date_to=end,
    )
    return filters, errors

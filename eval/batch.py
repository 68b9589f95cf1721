"""Batch question reports: read questions from .txt/.csv/.xlsx/.jsonl, answer each, write the
answers with their sources as .html, .md, .docx, .xlsx or .jsonl.

Readers keep every other column or field of a row (written back into the report) and take
optional per-row filters from the columns `project` and `type`. Problems with the input file
raise `BatchInputError` with a German message naming the file and the line or column.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.gold import jsonl_objects
from eval.runner import AssistantLike, citation_json, passage_json, retrieved_passages
from regiostrat.errors import RegioStratError, user_message
from regiostrat.types import Filters

INPUT_SUFFIXES = (".txt", ".csv", ".xlsx", ".jsonl")
OUTPUT_SUFFIXES = (".html", ".md", ".docx", ".xlsx", ".jsonl")
QUESTION_COLUMNS = ("question", "frage")
PROJECT_COLUMNS = ("project", "projekt", "projects")
TYPE_COLUMNS = ("type", "typ", "doc_type")
ABSTAIN_HEADING = "Keine belastbare Antwort in den Dokumenten"
REPORT_TITLE = "Fragen und Antworten"
RESERVED = {"id", "question", "answer", "abstained", "citations", "retrieved", "timings", "error"}


class BatchInputError(RegioStratError):
    """A questions file that cannot be read; the message names the file and line or column."""


@dataclass
class BatchRow:
    """One question of the input, with the other columns of its row."""

    line: int
    id: str
    question: str
    fields: dict[str, Any] = field(default_factory=dict)
    filters: Filters | None = None
    error: str = ""


# -- readers -----------------------------------------------------------------------------------
def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise BatchInputError(f"Datei nicht gefunden: {path}") from exc
    except OSError as exc:
        raise BatchInputError(f"{path}: Datei nicht lesbar ({exc.strerror or exc}).") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BatchInputError(
            f"{path}: Zeile {line} ist nicht UTF-8-kodiert. Bitte die Datei als UTF-8 speichern "
            "(in Excel: „CSV UTF-8 (durch Trennzeichen getrennt)“)."
        ) from exc


def _split_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[,;|]", str(value)) if v.strip()]


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {str(c).strip().casefold(): c for c in columns if c is not None}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _rows_from_records(
    path: Path, records: Sequence[tuple[int, dict[str, Any]]], columns: Sequence[str], where: str
) -> list[BatchRow]:
    question_col = _find(columns, QUESTION_COLUMNS)
    if question_col is None:
        found = ", ".join(f"'{c}'" for c in columns if c) or "keine"
        raise BatchInputError(f"{path}: {where} 'question' fehlt (gefunden: {found}).")
    id_col = _find(columns, ("id",))
    project_col = _find(columns, PROJECT_COLUMNS)
    type_col = _find(columns, TYPE_COLUMNS)
    rows: list[BatchRow] = []
    for line, record in records:
        values = {k: _cell(v) for k, v in record.items() if k is not None}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue  # an empty row
        question = str(values.get(question_col) or "").strip()
        fields = {k: v for k, v in values.items() if k not in (question_col, id_col)}
        projects = _split_values(values.get(project_col)) if project_col else []
        types = _split_values(values.get(type_col)) if type_col else []
        filters = Filters(projects=projects, doc_types=types) if projects or types else None
        row_id = values.get(id_col) if id_col else None
        rows.append(
            BatchRow(
                line=line,
                id=str(row_id) if row_id not in (None, "") else str(len(rows) + 1),
                question=question,
                fields=fields,
                filters=filters,
                error="" if question else f"Zeile {line}: Spalte '{question_col}' ist leer.",
            )
        )
    return rows


def read_txt(path: Path) -> list[BatchRow]:
    rows: list[BatchRow] = []
    for number, line in enumerate(_decode(path).splitlines(), 1):
        text = line.strip()
        if text and not text.startswith("#"):
            rows.append(BatchRow(line=number, id=str(len(rows) + 1), question=text))
    return rows


def read_csv(path: Path) -> list[BatchRow]:
    text = _decode(path)
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", "\t", ",")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else "\x1f"
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        table = list(reader)
    except csv.Error as exc:
        raise BatchInputError(f"{path}: keine gültige CSV-Datei ({exc}).") from exc
    if not table:
        raise BatchInputError(f"{path}: die Datei ist leer (erwartet: Kopfzeile mit 'question').")
    header = [h.strip() for h in table[0]]
    records = []
    for number, values in enumerate(table[1:], 2):
        records.append((number, dict(zip(header, values, strict=False))))
    return _rows_from_records(path, records, header, "Spalte")


def read_xlsx(path: Path) -> list[BatchRow]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise BatchInputError(f"Datei nicht gefunden: {path}")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BatchInputError(f"{path}: keine lesbare Excel-Datei (.xlsx): {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        header: list[str] = []
        records = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            if not header:
                if any(v is not None and str(v).strip() for v in values):
                    header = [str(v).strip() if v is not None else "" for v in values]
                continue
            records.append((number, dict(zip(header, values, strict=False))))
    finally:
        workbook.close()
    if not header:
        raise BatchInputError(f"{path}: das erste Tabellenblatt ist leer.")
    return _rows_from_records(path, records, header, f"Tabellenblatt '{sheet.title}': Spalte")


def read_jsonl(path: Path) -> list[BatchRow]:
    records = jsonl_objects(_decode(path), path, BatchInputError)
    columns: dict[str, None] = {}
    for number, record in records:
        if _find(list(record), QUESTION_COLUMNS) is None:
            raise BatchInputError(f"{path}, Zeile {number}: Feld 'question' fehlt.")
        columns.update(dict.fromkeys(record))
    return _rows_from_records(path, records, list(columns), "Feld")


def read_questions(path: Path) -> list[BatchRow]:
    """The questions of a .txt, .csv, .xlsx or .jsonl file."""
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[Path], list[BatchRow]]] = {
        ".txt": read_txt, ".csv": read_csv, ".xlsx": read_xlsx, ".jsonl": read_jsonl,
    }  # fmt: skip
    if suffix not in readers:
        raise BatchInputError(
            f"{path}: Format {suffix or '(ohne Endung)'} wird nicht unterstützt "
            f"(möglich: {', '.join(INPUT_SUFFIXES)})."
        )
    if not path.exists():
        raise BatchInputError(f"Datei nicht gefunden: {path}")
    if path.is_dir():
        raise BatchInputError(f"{path} ist ein Ordner, erwartet wird eine Datei.")
    return readers[suffix](path)


# -- answering ---------------------------------------------------------------------------------
def answer_row(assistant: AssistantLike, row: BatchRow) -> dict[str, Any]:
    """One row's result; an error becomes the row's `error` instead of stopping the batch."""
    result: dict[str, Any] = {
        "id": row.id,
        "question": row.question,
        "answer": "",
        "abstained": False,
        "citations": [],
        "retrieved": [],
        "timings": {},
        "error": row.error or None,
        "fields": row.fields,
    }
    if row.error:
        return result
    started = time.perf_counter()
    try:
        answer = assistant.ask(row.question, filters=row.filters)
        passages = retrieved_passages(assistant, answer, row.filters)
    except Exception as exc:  # one failing question must not stop the batch
        result["error"] = user_message(exc)
        result["timings"] = {"total": round(time.perf_counter() - started, 4)}
        return result
    result.update(
        answer=answer.text,
        abstained=answer.abstained,
        notice=answer.notice,
        citations=citation_json(answer),
        retrieved=[passage_json(p) for p in passages],
        timings=answer.timings,
    )
    return result


@dataclass
class BatchSummary:
    total: int
    answered: int
    abstained: int
    failed: int
    seconds: float

    def text(self) -> str:
        return (
            f"{self.total} Fragen: {self.answered} beantwortet, {self.abstained} ohne belastbare "
            f"Antwort, {self.failed} mit Fehler ({self.seconds:.1f} s)"
        )


def summarize(results: Sequence[dict[str, Any]], seconds: float) -> BatchSummary:
    failed = sum(1 for r in results if r.get("error"))
    abstained = sum(1 for r in results if not r.get("error") and r.get("abstained"))
    return BatchSummary(len(results), len(results) - failed - abstained, abstained, failed, seconds)


# -- writers -----------------------------------------------------------------------------------
def source_label(citation: dict[str, Any]) -> str:
    return f"{citation.get('title') or citation.get('source')}, S. {citation.get('page')}"


def quote_of(citation: dict[str, Any], limit: int = 600) -> str:
    quote = str(citation.get("highlight") or citation.get("quote") or "").strip()
    quote = re.sub(r"\s+", " ", quote)
    return quote if len(quote) <= limit else quote[: limit - 1] + "…"


def related(result: dict[str, Any], n: int = 3) -> list[dict[str, Any]]:
    """For an abstention: the closest passages, shown as possibly related."""
    seen, out = set(), []
    for r in result.get("retrieved") or []:
        key = (r["source"], r.get("page"))
        if key not in seen:
            seen.add(key)
            out.append(r)
        if len(out) == n:
            break
    return out


def write_jsonl(results: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for r in results:
            obj: dict[str, Any] = {
                "id": r["id"],
                "question": r["question"],
                "answer": r["answer"],
                "abstained": r["abstained"],
                "citations": [
                    {k: c.get(k) for k in ("n", "source", "title", "page", "quote", "score")}
                    for c in r["citations"]
                ],
                "retrieved": [
                    {k: p.get(k) for k in ("source", "page", "score")} for p in r["retrieved"]
                ],
                "timings": r["timings"],
                "error": r.get("error"),
            }
            extra = {k: v for k, v in (r.get("fields") or {}).items() if k not in RESERVED}
            clashing = {k: v for k, v in (r.get("fields") or {}).items() if k in RESERVED}
            obj.update(extra)
            if clashing:
                obj["input"] = clashing
            handle.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def _header_lines(summary: BatchSummary, meta: dict[str, Any]) -> list[str]:
    lines = [summary.text()]
    if meta.get("input"):
        lines.append(f"Fragen aus: {meta['input']}")
    if meta.get("index"):
        lines.append(f"Index: {meta['index']}")
    lines.append(f"Erstellt: {meta.get('created') or dt.datetime.now():%Y-%m-%d %H:%M}")
    return lines


def render_markdown(
    results: Sequence[dict[str, Any]], summary: BatchSummary, meta: dict[str, Any]
) -> str:
    out = [f"# {REPORT_TITLE}", ""]
    out += [f"{line}  " for line in _header_lines(summary, meta)]
    for i, r in enumerate(results, 1):
        out += ["", f"## Frage {i}" + (f" ({r['id']})" if str(r["id"]) != str(i) else ""), ""]
        out += [r["question"] or "(leer)", ""]
        for key, value in (r.get("fields") or {}).items():
            if value not in (None, ""):
                out.append(f"- {key}: {value}")
        out += ["", "### Antwort", ""]
        if r.get("error"):
            out += [f"**Fehler:** {r['error']}"]
            continue
        if r["abstained"]:
            out += [f"**{ABSTAIN_HEADING}**", ""]
        out += [r["answer"]]
        if r["citations"]:
            out += ["", "### Quellen", ""]
            for c in r["citations"]:
                out.append(f"{c['n']}. {source_label(c)} ({c['source']})")
                out.append(f"   > {quote_of(c)}")
        elif r["abstained"] and related(r):
            out += ["", "### Möglicherweise verwandte Stellen", ""]
            for p in related(r):
                out.append(f"- {p.get('title') or p['source']}, S. {p.get('page')} ({p['source']})")
    return "\n".join(out) + "\n"


_HTML_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;max-width:60rem;
color:#1d2430;line-height:1.45}
section{border-top:1px solid #ccd;padding-top:.5rem;margin-top:1.5rem}
.answer{white-space:pre-wrap}.abstain{color:#8a4b00;font-weight:bold}.err{color:#b00020}
blockquote{margin:.25rem 0 .75rem 1rem;color:#444;font-size:.9rem}.meta{color:#555}
"""


def render_html(
    results: Sequence[dict[str, Any]], summary: BatchSummary, meta: dict[str, Any]
) -> str:
    e = html.escape
    out = [
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">',
        f"<title>{REPORT_TITLE}</title><style>{_HTML_CSS}</style></head><body>",
        f"<h1>{REPORT_TITLE}</h1>",
        '<p class="meta">' + "<br>".join(e(x) for x in _header_lines(summary, meta)) + "</p>",
    ]
    for i, r in enumerate(results, 1):
        out.append(f'<section id="q-{e(str(r["id"]))}">')
        out.append(
            f"<h2>Frage {i}" + (f" ({e(str(r['id']))})" if str(r["id"]) != str(i) else "") + "</h2>"
        )
        out.append(f"<p>{e(r['question'] or '(leer)')}</p>")
        fields = [(k, v) for k, v in (r.get("fields") or {}).items() if v not in (None, "")]
        if fields:
            out.append(
                '<ul class="meta">'
                + "".join(f"<li>{e(str(k))}: {e(str(v))}</li>" for k, v in fields)
                + "</ul>"
            )
        out.append("<h3>Antwort</h3>")
        if r.get("error"):
            out.append(f'<p class="err">Fehler: {e(r["error"])}</p></section>')
            continue
        if r["abstained"]:
            out.append(f'<p class="abstain">{ABSTAIN_HEADING}</p>')
        out.append(f'<p class="answer">{e(r["answer"])}</p>')
        if r["citations"]:
            out.append("<h3>Quellen</h3><ol>")
            for c in r["citations"]:
                out.append(
                    f'<li value="{int(c["n"])}">{e(source_label(c))} '
                    f"<small>({e(str(c['source']))})</small>"
                    f"<blockquote>„{e(quote_of(c))}“</blockquote></li>"
                )
            out.append("</ol>")
        elif r["abstained"] and related(r):
            out.append("<h3>Möglicherweise verwandte Stellen</h3><ul>")
            for p in related(r):
                out.append(
                    f"<li>{e(str(p.get('title') or p['source']))}, S. {e(str(p.get('page')))}"
                    f" <small>({e(str(p['source']))})</small></li>"
                )
            out.append("</ul>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)


def write_docx(
    results: Sequence[dict[str, Any]], summary: BatchSummary, meta: dict[str, Any], path: Path
) -> None:
    from docx import Document

    doc = Document()
    doc.add_heading(REPORT_TITLE, level=0)
    for line in _header_lines(summary, meta):
        doc.add_paragraph(_xml_safe(line))
    for i, r in enumerate(results, 1):
        title = f"Frage {i}" + (f" ({r['id']})" if str(r["id"]) != str(i) else "")
        doc.add_heading(_xml_safe(title), level=1)
        doc.add_paragraph(_xml_safe(r["question"] or "(leer)"))
        for key, value in (r.get("fields") or {}).items():
            if value not in (None, ""):
                doc.add_paragraph(_xml_safe(f"{key}: {value}"), style="List Bullet")
        doc.add_heading("Antwort", level=2)
        if r.get("error"):
            doc.add_paragraph().add_run(_xml_safe(f"Fehler: {r['error']}")).bold = True
            continue
        if r["abstained"]:
            doc.add_paragraph().add_run(ABSTAIN_HEADING).bold = True
        doc.add_paragraph(_xml_safe(r["answer"]))
        if r["citations"]:
            doc.add_heading("Quellen", level=2)
            for c in r["citations"]:
                paragraph = doc.add_paragraph()
                paragraph.add_run(_xml_safe(f"[{c['n']}] {source_label(c)}")).bold = True
                paragraph.add_run(_xml_safe(f" ({c['source']})"))
                doc.add_paragraph(_xml_safe(f"„{quote_of(c)}“")).runs[0].italic = True
        elif r["abstained"] and related(r):
            doc.add_heading("Möglicherweise verwandte Stellen", level=2)
            for p in related(r):
                doc.add_paragraph(
                    _xml_safe(
                        f"{p.get('title') or p['source']}, S. {p.get('page')} ({p['source']})"
                    ),
                    style="List Bullet",
                )
    doc.save(str(path))


_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_safe(text: Any) -> str:
    return _XML_ILLEGAL.sub("", str(text))


def write_xlsx(
    results: Sequence[dict[str, Any]], summary: BatchSummary, meta: dict[str, Any], path: Path
) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    extra: dict[str, None] = {}
    for r in results:
        extra.update(dict.fromkeys(str(k) for k in (r.get("fields") or {})))
    header = [
        "ID",
        "Frage",
        *extra,
        "Antwort",
        ABSTAIN_HEADING,
        "Quellen",
        "Fehler",
        "Bewertung",
        "Kommentar",
    ]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Antworten"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in results:
        sources = "\n".join(
            f"[{c['n']}] {source_label(c)} ({c['source']}): „{quote_of(c, 400)}“"
            for c in r["citations"]
        )
        fields = {str(k): v for k, v in (r.get("fields") or {}).items()}
        values = [
            r["id"], r["question"], *(fields.get(k) for k in extra),
            r["answer"], "ja" if r["abstained"] else "nein", sources, r.get("error") or "",
            "", "",
        ]  # fmt: skip
        sheet.append([_excel_value(v) for v in values])
    widths = {
        "ID": 10,
        "Frage": 45,
        "Antwort": 80,
        "Quellen": 80,
        "Fehler": 30,
        "Bewertung": 14,
        "Kommentar": 40,
        ABSTAIN_HEADING: 16,
    }
    for index, name in enumerate(header, 1):
        letter = openpyxl.utils.get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(name, 18)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    info = workbook.create_sheet("Info")
    for line in _header_lines(summary, meta):
        info.append([line])
    workbook.save(path)


def _excel_value(value: Any) -> Any:
    if value is None or isinstance(value, int | float | bool):
        return value
    text = _xml_safe(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return text[:32000]


def report_format(path: Path) -> str:
    """The report format a path's extension names (".html", ...); `BatchInputError` for one that
    is not supported."""
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise BatchInputError(
            f"{path}: Berichtsformat {path.suffix or '(ohne Endung)'} wird nicht unterstützt "
            f"(möglich: {', '.join(OUTPUT_SUFFIXES)})."
        )
    return suffix


def write_batch_report(
    results: Sequence[dict[str, Any]], summary: BatchSummary, meta: dict[str, Any], path: Path
) -> Path:
    """Write the report in the format its extension names (written to a temp file first)."""
    suffix = report_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{suffix}")
    if suffix == ".jsonl":
        write_jsonl(results, tmp)
    elif suffix == ".md":
        tmp.write_text(render_markdown(results, summary, meta), encoding="utf-8")
    elif suffix == ".html":
        tmp.write_text(render_html(results, summary, meta), encoding="utf-8")
    elif suffix == ".docx":
        write_docx(results, summary, meta, tmp)
    else:
        write_xlsx(results, summary, meta, tmp)
    tmp.replace(path)
    return path

"""Render the bundled corpus from its Markdown sources.

    python corpus/render.py            # render corpus/sources/** into corpus/documents/
    python corpus/render.py --check    # render to a temp dir and compare with the committed files
    python corpus/render.py --sources DIR --out DIR   # render another source tree (for trying out)

Every `*.md` under the sources folder except `FORMAT.md` is one document (format described in
`corpus/sources/FORMAT.md`); `projects.yaml` holds the model projects. The rendered file keeps
the source's relative path with the extension of its `format` (pdf, docx, html, md), and
`manifest.yaml` in the output folder lists every rendered file with its metadata.

PDF pages follow the source's `<!-- pagebreak -->` markers exactly: a source page that does not
fit on one PDF page is an error (the gold questions cite page numbers). `scan: true` PDFs hold
one image per page and no text layer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import hashlib
import html
import io
import json
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS_DIR = Path(__file__).resolve().parent
DEFAULT_SOURCES = CORPUS_DIR / "sources"
DEFAULT_OUT = CORPUS_DIR / "documents"
MANIFEST_NAME = "manifest.yaml"
SKIP_SOURCES = {"FORMAT.md", "README.md"}

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "": FONT_DIR / "DejaVuSans.ttf",
    "B": FONT_DIR / "DejaVuSans-Bold.ttf",
    "I": FONT_DIR / "DejaVuSans-Oblique.ttf",
    "BI": FONT_DIR / "DejaVuSans-BoldOblique.ttf",
}
REQUIRED_FONT_STYLES = ("", "B")

FORMATS = {"pdf", "docx", "html", "md"}
DOC_TYPES = {
    "Zwischenbericht",
    "Protokoll",
    "Veranstaltungsdokumentation",
    "Programmübersicht",
    "Glossar",
    "Regionalanalyse",
}
THEMES = {
    "Regionalanalyse",
    "Energie",
    "Mobilität",
    "Fachkräftesicherung",
    "Wohnen",
    "Daseinsvorsorge",
    "grenzüberschreitende Zusammenarbeit",
    "kommunale Handlungsfähigkeit",
    "Akteursbeteiligung",
    "Governance",
}
REQUIRED_KEYS = ("title", "format", "doc_type", "project", "date", "themes")
OPTIONAL_KEYS = ("header", "footer", "scan")

SOFT_HYPHEN = "\u00ad"
PAGEBREAK_RE = re.compile(r"^\s*<!--\s*pagebreak\s*-->\s*$", re.IGNORECASE)
COMMENT_RE = re.compile(r"^\s*<!--.*-->\s*$")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET_RE = re.compile(r"^[-*+]\s+(.*)$")
NUMBERED_RE = re.compile(r"^(\d+)[.)]\s+(.*)$")
TABLE_SEP_RE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")

# Escapes (`\-`, `\*`, `\|`, ...) are swapped for private-use characters while the Markdown is
# parsed, so that escaped characters never count as markup, and restored at the end.
_ESCAPABLE = "\\`*_{}[]()#+-.!|<>~"
_PUA_BASE = 0xE000


class RenderError(Exception):
    """A source could not be rendered; the message names the file (and page)."""


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass
class Block:
    kind: str  # heading | para | bullets | numbered | table
    level: int = 0
    runs: list[Run] = field(default_factory=list)
    items: list[list[Run]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # table: first row is the header
    start: int = 1  # first number of a numbered list

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass
class Source:
    path: Path
    rel: Path  # relative to the sources folder
    meta: dict[str, Any]
    body: str
    pages: list[list[Block]]

    @property
    def format(self) -> str:
        return str(self.meta["format"])

    @property
    def out_rel(self) -> Path:
        return self.rel.with_suffix("." + self.format)

    @property
    def title(self) -> str:
        return str(self.meta["title"])

    @property
    def date(self) -> dt.date:
        return self.meta["date"]

    @property
    def fixed_datetime(self) -> dt.datetime:
        d = self.date
        return dt.datetime(d.year, d.month, d.day, 12, 0, 0, tzinfo=dt.UTC)


def _protect_escapes(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        return chr(_PUA_BASE + _ESCAPABLE.index(m.group(1)))

    return re.sub(r"\\([" + re.escape(_ESCAPABLE) + r"])", sub, text)


def _restore_escapes(text: str, soft: str) -> str:
    """Turn protected escapes back into characters; `\\-` becomes `soft` (U+00AD or '')."""
    out = []
    for ch in text:
        code = ord(ch) - _PUA_BASE
        if 0 <= code < len(_ESCAPABLE):
            c = _ESCAPABLE[code]
            out.append(soft if c == "-" else c)
        else:
            out.append(ch)
    return "".join(out)


_INLINE_RE = re.compile(r"\*\*\*(.+?)\*\*\*|\*\*(.+?)\*\*|\*(?!\s)(.+?)(?<!\s)\*")


def parse_inline(text: str) -> list[Run]:
    """Split protected text into runs: `***bi***`, `**bold**`, `*italic*`; rest plain."""
    runs: list[Run] = []
    pos = 0
    for m in _INLINE_RE.finditer(text):
        if m.start() > pos:
            runs.append(Run(text[pos : m.start()]))
        if m.group(1) is not None:
            runs.append(Run(m.group(1), bold=True, italic=True))
        elif m.group(2) is not None:
            runs.append(Run(m.group(2), bold=True))
        else:
            runs.append(Run(m.group(3), italic=True))
        pos = m.end()
    if pos < len(text):
        runs.append(Run(text[pos:]))
    merged: list[Run] = []
    for r in runs:
        if merged and (merged[-1].bold, merged[-1].italic) == (r.bold, r.italic):
            merged[-1].text += r.text
        elif r.text:
            merged.append(r)
    return merged


def _split_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def parse_body(body: str) -> list[list[Block]]:
    """Parse the (escape-protected) body into pages of blocks."""
    pages: list[list[Block]] = [[]]
    para: list[str] = []
    lines = body.splitlines()
    i = 0

    def flush_para() -> None:
        if para:
            pages[-1].append(Block("para", runs=parse_inline(" ".join(para))))
            para.clear()

    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        if PAGEBREAK_RE.match(raw):
            flush_para()
            pages.append([])
            i += 1
            continue
        if not line or COMMENT_RE.match(raw):
            flush_para()
            i += 1
            continue
        m = HEADING_RE.match(line)
        if m:
            flush_para()
            pages[-1].append(Block("heading", level=len(m.group(1)), runs=parse_inline(m.group(2))))
            i += 1
            continue
        if line.startswith("|"):
            flush_para()
            table_lines = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table_lines.append(lines[i].strip())
                i += 1
            rows = [_split_row(t) for t in table_lines if not TABLE_SEP_RE.match(t)]
            ncols = max(len(r) for r in rows)
            rows = [r + [""] * (ncols - len(r)) for r in rows]
            pages[-1].append(Block("table", rows=rows))
            continue
        bm = BULLET_RE.match(line)
        nm = NUMBERED_RE.match(line)
        if (bm and not line.startswith("**")) or nm:
            flush_para()
            kind = "bullets" if bm and not line.startswith("**") else "numbered"
            block = Block(kind)
            if nm and kind == "numbered":
                block.start = int(nm.group(1))
            items: list[str] = []
            while i < len(lines):
                cur = lines[i]
                s = cur.strip()
                b2 = BULLET_RE.match(s)
                n2 = NUMBERED_RE.match(s)
                if kind == "bullets" and b2 and not s.startswith("**"):
                    items.append(b2.group(1))
                elif kind == "numbered" and n2:
                    items.append(n2.group(2))
                elif s and items and cur[:1] in (" ", "\t") and not PAGEBREAK_RE.match(cur):
                    items[-1] += " " + s  # indented continuation line
                else:
                    break
                i += 1
            block.items = [parse_inline(it) for it in items]
            pages[-1].append(block)
            continue
        para.append(line)
        i += 1
    flush_para()
    return pages


def load_projects(path: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {p["id"]: p for p in data["projects"]}


def parse_source(path: Path, sources_dir: Path, projects: dict[str, dict[str, Any]]) -> Source:
    rel = path.relative_to(sources_dir)
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    m = re.match(r"^---\n(.*?)\n---[ \t]*\n?(.*)$", text, re.DOTALL)
    if not m:
        raise RenderError(f"{rel}: keine Front Matter (YAML zwischen '---'-Zeilen) am Dateianfang")
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{rel}: Front Matter ist kein gültiges YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise RenderError(f"{rel}: Front Matter muss ein YAML-Mapping sein")
    problems = []
    for key in REQUIRED_KEYS:
        if key not in meta:
            problems.append(f"Pflichtfeld '{key}' fehlt")
    unknown = set(meta) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        problems.append(f"unbekannte Felder {sorted(unknown)}")
    if not problems:
        if meta["format"] not in FORMATS:
            problems.append(f"format '{meta['format']}' nicht in {sorted(FORMATS)}")
        if meta["doc_type"] not in DOC_TYPES:
            problems.append(f"doc_type '{meta['doc_type']}' nicht in {sorted(DOC_TYPES)}")
        if meta["project"] is not None and meta["project"] not in projects:
            problems.append(f"project '{meta['project']}' steht nicht in projects.yaml")
        if not isinstance(meta["date"], dt.date) or isinstance(meta["date"], dt.datetime):
            problems.append(f"date '{meta['date']}' ist kein Datum JJJJ-MM-TT")
        themes = meta["themes"]
        if not isinstance(themes, list) or not themes:
            problems.append("themes muss eine nicht leere Liste sein")
        else:
            bad = [t for t in themes if t not in THEMES]
            if bad:
                problems.append(f"unbekannte themes {bad}")
        if not isinstance(meta["title"], str) or not meta["title"].strip():
            problems.append("title fehlt oder ist leer")
        if meta.get("scan") and meta["format"] != "pdf":
            problems.append("scan: true gibt es nur für format: pdf")
        top = rel.parts[0] if len(rel.parts) > 1 else ""
        expected_top = meta["project"] if meta["project"] is not None else "programm"
        if top != expected_top:
            problems.append(f"liegt in '{top or '.'}/', erwartet '{expected_top}/'")
    if problems:
        raise RenderError(f"{rel}: " + "; ".join(problems))
    body = m.group(2)
    pages = parse_body(_protect_escapes(body))
    return Source(path=path, rel=rel, meta=meta, body=body, pages=pages)


def _txt(s: str, soft: str = "") -> str:
    return _restore_escapes(s, soft)


def _runs_plain(runs: list[Run], soft: str = "") -> str:
    return _txt("".join(r.text for r in runs), soft)


def _cell_text(cell: str, soft: str = "") -> str:
    """A table cell as plain text (inline emphasis markers removed)."""
    return _runs_plain(parse_inline(cell), soft)


def heading_offset(src: Source) -> int:
    """Shift so that the smallest heading level of the body becomes level 1."""
    levels = [b.level for page in src.pages for b in page if b.kind == "heading"]
    return (min(levels) - 1) if levels else 0


def _skip_title_heading(src: Source) -> bool:
    """True when the body itself starts with `# <title>` (then the title is not added twice)."""
    for page in src.pages:
        for b in page:
            return (
                b.kind == "heading"
                and b.level == 1
                and _runs_plain(b.runs).strip() == src.title.strip()
            )
    return False


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

BODY_PT = 10.5
LINE_H = 4.55  # mm, body line height (1.23 x 10.5 pt)
MARGIN_L = MARGIN_R = 18.0
MARGIN_T = 20.0
MARGIN_B = 17.0
HEADING_PT = {1: 14.0, 2: 12.5, 3: 11.0}
TITLE_PT = 16.0
PARA_GAP = 1.9
HEADING_GAP_BEFORE = {1: 3.0, 2: 2.4, 3: 1.2}
HEADING_GAP_AFTER = 1.2
TABLE_PT = 8.5
TABLE_LINE_H = 3.8
TABLE_PAD = 0.9
HEADER_Y = 8.0
HEADER_RULE_Y = 13.5
FOOTER_FROM_BOTTOM = 11.0


def check_fonts() -> None:
    missing = [str(FONT_FILES[s]) for s in REQUIRED_FONT_STYLES if not FONT_FILES[s].exists()]
    if missing:
        raise SystemExit(
            "Fehlende Schrift(en): "
            + ", ".join(missing)
            + "\nDie PDF-Dokumente brauchen DejaVu Sans, z. B. `apt-get install fonts-dejavu-core`."
        )


def _md_escape(text: str) -> str:
    for marker in ("**", "__", "~~", "--"):
        text = text.replace(marker, "\\" + marker)
    return text


def _pdf_class() -> type[Any]:  # imported lazily so that --help works without fpdf2
    from fpdf import FPDF

    class ReportPDF(FPDF):
        header_text: str = ""
        footer_text: str = ""
        draw_furniture: bool = True

        def header(self) -> None:
            if not self.draw_furniture:
                return
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110, 110, 110)
            self.set_xy(self.l_margin, HEADER_Y)
            if self.header_text:
                self.cell(self.epw, 4, self.header_text, align="L")
            self.set_draw_color(170, 170, 170)
            self.set_line_width(0.2)
            self.line(self.l_margin, HEADER_RULE_Y, self.w - self.r_margin, HEADER_RULE_Y)
            self.set_text_color(0, 0, 0)
            self.set_xy(self.l_margin, self.t_margin)

        def footer(self) -> None:
            if not self.draw_furniture:
                return
            y = self.h - FOOTER_FROM_BOTTOM
            self.set_draw_color(170, 170, 170)
            self.set_line_width(0.2)
            self.line(self.l_margin, y - 1.5, self.w - self.r_margin, y - 1.5)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110, 110, 110)
            self.set_xy(self.l_margin, y)
            label = f"Seite {self.page_no()} von {{nb}}"
            if self.footer_text:
                self.cell(self.epw - 30, 4, self.footer_text, align="L")
            self.set_xy(self.w - self.r_margin - 30, y)
            self.cell(30, 4, label, align="R")
            self.set_text_color(0, 0, 0)

    return ReportPDF


def _new_pdf(src: Source, furniture: bool) -> Any:
    pdf = _pdf_class()(orientation="P", unit="mm", format="A4")
    for style, path in FONT_FILES.items():
        font = path if path.exists() else FONT_FILES["B" if "B" in style else ""]
        pdf.add_font("DejaVu", style, str(font))
    pdf.header_text = str(src.meta.get("header") or "")
    pdf.footer_text = str(src.meta.get("footer") or "")
    pdf.draw_furniture = furniture
    pdf.set_margins(MARGIN_L, MARGIN_T, MARGIN_R)
    pdf.set_auto_page_break(True, margin=MARGIN_B)
    pdf.set_title(src.title)
    pdf.set_subject(str(src.meta["doc_type"]))
    pdf.set_author("RegioStrat-Assistent, Demonstrationskorpus (erfundene Inhalte)")
    pdf.set_creator("corpus/render.py")
    pdf.set_keywords(", ".join(src.meta["themes"]))
    pdf.set_lang("de-DE")
    pdf.set_creation_date(src.fixed_datetime)
    pdf.set_producer("fpdf2")
    return pdf


def _pdf_runs(pdf: Any, runs: list[Run], size: float, h: float, *, bold: bool = False) -> None:
    """Write a paragraph of runs as a justified multi_cell (soft hyphens break with '-')."""
    styles = {(r.bold or bold, r.italic) for r in runs}
    if len(styles) == 1:
        b, i = styles.pop()
        pdf.set_font("DejaVu", ("B" if b else "") + ("I" if i else ""), size)
        pdf.multi_cell(0, h, _runs_plain(runs, SOFT_HYPHEN), align="J", new_x="LMARGIN")
        return
    parts = []
    for r in runs:
        t = _md_escape(_txt(r.text, SOFT_HYPHEN))
        if r.italic:
            t = f"__{t}__"
        if r.bold or bold:
            t = f"**{t}**"
        parts.append(t)
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.multi_cell(0, h, "".join(parts), align="J", markdown=True, new_x="LMARGIN")


def _table_widths(
    rows: list[list[str]], total: float, pad: float, measure: Callable[[str, bool], float]
) -> list[float]:
    """Column widths (summing to `total`) so that no word is broken if that is possible.

    `measure(text, bold)` gives the printed width of a text; the header row is bold. Every
    column gets at least its longest word; the rest is shared by how much text each column has.
    """
    ncols = len(rows[0])
    min_w, want = [], []
    for c in range(ncols):
        cells = [
            (r[c].replace(SOFT_HYPHEN, ""), i == 0 and len(rows) > 1) for i, r in enumerate(rows)
        ]
        words = [measure(w, bold) for text, bold in cells for w in text.split()] or [0.0]
        min_w.append(max(words) + 2 * pad + 0.6)
        want.append(max(measure(text, bold) for text, bold in cells) + 2 * pad + 0.6)
    if sum(want) <= total:
        scale = total / sum(want)
        return [w * scale for w in want]
    if sum(min_w) >= total:
        scale = total / sum(min_w)
        return [w * scale for w in min_w]
    spare = total - sum(min_w)
    extra = [max(w - m, 0.0) for w, m in zip(want, min_w, strict=True)]
    return [m + spare * e / sum(extra) for m, e in zip(min_w, extra, strict=True)]


def _pdf_table(pdf: Any, block: Block) -> None:
    from fpdf.fonts import FontFace

    rows = [[_cell_text(c, SOFT_HYPHEN) for c in row] for row in block.rows]

    def measure(text: str, bold: bool) -> float:
        pdf.set_font("DejaVu", "B" if bold else "", TABLE_PT)
        return float(pdf.get_string_width(text))

    widths = _table_widths(rows, pdf.epw, TABLE_PAD, measure)
    pdf.set_font("DejaVu", "", TABLE_PT)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        line_height=TABLE_LINE_H,
        padding=TABLE_PAD,
        width=pdf.epw,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 230, 236)),
        first_row_as_headings=len(rows) > 1,
        repeat_headings=0,
    ) as table:
        for row in rows:
            trow = table.row()
            for cell in row:
                trow.cell(cell)
    pdf.ln(PARA_GAP + 0.6)


def _pdf_block(pdf: Any, block: Block, offset: int) -> None:
    if block.kind == "heading":
        level = min(max(block.level - offset, 1), 3)
        size = HEADING_PT[level]
        pdf.ln(HEADING_GAP_BEFORE[level])
        pdf.set_text_color(20, 45, 85)
        _pdf_runs(pdf, block.runs, size, size * 0.48, bold=True)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(HEADING_GAP_AFTER)
    elif block.kind == "para":
        _pdf_runs(pdf, block.runs, BODY_PT, LINE_H)
        pdf.ln(PARA_GAP)
    elif block.kind in ("bullets", "numbered"):
        indent = 6.0
        for n, item in enumerate(block.items, start=block.start):
            # the marker first, so that text extraction reads "• item"
            pdf.set_font("DejaVu", "", BODY_PT)
            pdf.set_x(pdf.l_margin + 1)
            pdf.cell(indent - 1, LINE_H, "•" if block.kind == "bullets" else f"{n}.")
            pdf.set_x(pdf.l_margin + indent)
            pdf.set_left_margin(MARGIN_L + indent)
            _pdf_runs(pdf, item, BODY_PT, LINE_H)
            pdf.set_left_margin(MARGIN_L)
            pdf.ln(0.7)
        pdf.ln(PARA_GAP - 0.7)
    elif block.kind == "table":
        _pdf_table(pdf, block)


def _pdf_title(pdf: Any, src: Source, projects: dict[str, dict[str, Any]]) -> None:
    pdf.set_text_color(20, 45, 85)
    pdf.set_font("DejaVu", "B", TITLE_PT)
    pdf.multi_cell(0, TITLE_PT * 0.45, _txt(src.title, SOFT_HYPHEN), align="L", new_x="LMARGIN")
    pdf.ln(1.0)
    pdf.set_font("DejaVu", "", 9.0)
    pdf.set_text_color(90, 90, 90)
    bits = [str(src.meta["doc_type"])]
    proj = projects.get(src.meta["project"] or "")
    if proj:
        bits.append(f"Modellvorhaben „{proj['name']}“")
    bits.append("Stand: " + src.date.strftime("%d.%m.%Y"))
    pdf.multi_cell(0, 4.2, " · ".join(bits), align="L", new_x="LMARGIN")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)


def render_pdf(src: Source, projects: dict[str, dict[str, Any]]) -> bytes:
    if src.meta.get("scan"):
        return render_scan_pdf(src, projects)
    pdf = _new_pdf(src, furniture=True)
    offset = heading_offset(src)
    skip_first = _skip_title_heading(src)
    for number, blocks in enumerate(src.pages, start=1):
        pdf.add_page()
        if number == 1:
            _pdf_title(pdf, src, projects)
        for k, block in enumerate(blocks):
            if number == 1 and k == 0 and skip_first:
                continue
            _pdf_block(pdf, block, offset)
        if pdf.page != number:
            raise RenderError(
                f"{src.rel}: Seite {number} passt nicht auf eine PDF-Seite (belegt "
                f"{pdf.page - number + 1} Seiten). Text der Seite kürzen oder einen "
                "<!-- pagebreak --> einfügen (und die Seitenangaben der Fragen prüfen)."
            )
    return bytes(pdf.output())


# --------------------------------------------------------------------------------------------
# Scanned PDF (image only)
# --------------------------------------------------------------------------------------------

DPI = 150
PX_PER_MM = DPI / 25.4


def _px(mm: float) -> int:
    return round(mm * PX_PER_MM)


def _pt_px(pt: float) -> int:
    return round(pt / 72 * DPI)


class _ScanPage:
    """Draws text on a page image with word wrap that honours soft hyphens."""

    def __init__(self, src: Source, number: int, total: int) -> None:
        from PIL import Image, ImageDraw, ImageFont

        self.src, self.number = src, number
        self.w, self.h = _px(210), _px(297)
        self.img = Image.new("L", (self.w, self.h), 255)
        self.draw = ImageDraw.Draw(self.img)
        self._font_cache: dict[tuple[str, int], Any] = {}
        self._ImageFont = ImageFont
        self.left, self.right = _px(MARGIN_L), self.w - _px(MARGIN_R)
        self.top, self.bottom = _px(MARGIN_T), self.h - _px(MARGIN_B)
        self.y = self.top
        self.overflow = False
        header = str(src.meta.get("header") or "")
        footer = str(src.meta.get("footer") or "")
        small = self.font("", 8)
        grey = 100
        if header:
            self.draw.text((self.left, _px(HEADER_Y)), header, font=small, fill=grey)
        rule = _px(HEADER_RULE_Y)
        self.draw.line((self.left, rule, self.right, rule), fill=150, width=1)
        fy = self.h - _px(FOOTER_FROM_BOTTOM)
        self.draw.line((self.left, fy - _px(1.5), self.right, fy - _px(1.5)), fill=150, width=1)
        if footer:
            self.draw.text((self.left, fy), footer, font=small, fill=grey)
        label = f"Seite {number} von {total}"
        self.draw.text((self.right - small.getlength(label), fy), label, font=small, fill=grey)

    def font(self, style: str, pt: float) -> Any:
        key = (style, _pt_px(pt))
        if key not in self._font_cache:
            path = FONT_FILES[style] if FONT_FILES[style].exists() else FONT_FILES[""]
            self._font_cache[key] = self._ImageFont.truetype(str(path), key[1])
        return self._font_cache[key]

    def wrap(self, text: str, font: Any, width: float) -> list[str]:
        """Greedy word wrap; a word may break at a soft hyphen, shown as '-'."""
        lines: list[str] = []
        cur = ""
        for word in text.split():
            cand = (cur + " " + word) if cur else word
            if font.getlength(cand.replace(SOFT_HYPHEN, "")) <= width:
                cur = cand
                continue
            # try to split the word at its last fitting soft hyphen
            pieces = word.split(SOFT_HYPHEN)
            placed = False
            for k in range(len(pieces) - 1, 0, -1):
                head = "".join(pieces[:k]) + "-"
                cand = (cur + " " + head) if cur else head
                if font.getlength(cand) <= width:
                    lines.append(cand)
                    cur = SOFT_HYPHEN.join(pieces[k:])
                    placed = True
                    break
            if not placed:
                if cur:
                    lines.append(cur.replace(SOFT_HYPHEN, ""))
                cur = word
            while font.getlength(cur.replace(SOFT_HYPHEN, "")) > width:  # overlong word
                plain = cur.replace(SOFT_HYPHEN, "")
                cut = len(plain)
                while cut > 1 and font.getlength(plain[:cut]) > width:
                    cut -= 1
                lines.append(plain[:cut])
                cur = plain[cut:]
        if cur:
            lines.append(cur.replace(SOFT_HYPHEN, ""))
        return lines

    def text_block(
        self, text: str, style: str, pt: float, line_mm: float, indent: int = 0, fill: int = 25
    ) -> None:
        font = self.font(style, pt)
        for line in self.wrap(text, font, self.right - self.left - indent):
            if self.y + _px(line_mm) > self.bottom:
                self.overflow = True
            self.draw.text((self.left + indent, self.y), line, font=font, fill=fill)
            self.y += _px(line_mm)

    def gap(self, mm: float) -> None:
        self.y += _px(mm)

    def table(self, rows: list[list[str]]) -> None:
        pad = _px(TABLE_PAD)
        widths = _table_widths(
            rows,
            self.right - self.left,
            pad,
            lambda text, bold: float(self.font("B" if bold else "", TABLE_PT).getlength(text)),
        )
        line = _px(TABLE_LINE_H)
        for r, row in enumerate(rows):
            style = "B" if r == 0 and len(rows) > 1 else ""
            font = self.font(style, TABLE_PT)
            wrapped = [self.wrap(c, font, w - 2 * pad) for c, w in zip(row, widths, strict=True)]
            height = max(len(c) for c in wrapped) * line + 2 * pad
            if self.y + height > self.bottom:
                self.overflow = True
            x = float(self.left)
            for c, w in zip(wrapped, widths, strict=True):
                box = (round(x), self.y, round(x + w), self.y + height)
                self.draw.rectangle(box, fill=225 if style else None, outline=60, width=1)
                for k, t in enumerate(c):
                    self.draw.text((round(x) + pad, self.y + pad + k * line), t, font=font, fill=25)
                x += w
            self.y += height
        self.gap(PARA_GAP + 0.6)

    def finish(self, seed: int) -> Any:
        """Age the page like a scan: grey paper, slight rotation, blur and noise."""
        import numpy as np
        from PIL import Image, ImageFilter

        rng = np.random.default_rng(seed)
        img = self.img.filter(ImageFilter.GaussianBlur(0.6))
        angle = float(rng.uniform(0.35, 0.9)) * (1 if rng.integers(0, 2) else -1)
        img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
        arr = np.asarray(img, dtype=np.float32)
        # paper tone with a faint gradient, then scale ink into it
        yy = np.linspace(0, 1, arr.shape[0], dtype=np.float32)[:, None]
        paper = 226 + 10 * yy + rng.normal(0, 3.0, arr.shape).astype(np.float32)
        arr = arr / 255.0 * paper
        # sparse dust specks
        specks = rng.random(arr.shape) < 0.0007
        arr[specks] = rng.uniform(60, 160, int(specks.sum()))
        arr = np.clip(arr, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, mode="L")


def _scan_layout(src: Source, projects: dict[str, dict[str, Any]]) -> list[_ScanPage]:
    offset = heading_offset(src)
    skip_first = _skip_title_heading(src)
    total = len(src.pages)
    out = []
    for number, blocks in enumerate(src.pages, start=1):
        page = _ScanPage(src, number, total)
        if number == 1:
            page.text_block(_txt(src.title, SOFT_HYPHEN), "B", TITLE_PT, TITLE_PT * 0.45)
            page.gap(1.0)
            bits = [str(src.meta["doc_type"])]
            proj = projects.get(src.meta["project"] or "")
            if proj:
                bits.append(f"Modellvorhaben „{proj['name']}“")
            bits.append("Stand: " + src.date.strftime("%d.%m.%Y"))
            page.text_block(" · ".join(bits), "", 9.0, 4.2, fill=80)
            page.gap(3)
        for k, block in enumerate(blocks):
            if number == 1 and k == 0 and skip_first:
                continue
            if block.kind == "heading":
                level = min(max(block.level - offset, 1), 3)
                page.gap(HEADING_GAP_BEFORE[level])
                pt = HEADING_PT[level]
                page.text_block(_runs_plain(block.runs, SOFT_HYPHEN), "B", pt, pt * 0.48)
                page.gap(HEADING_GAP_AFTER)
            elif block.kind == "para":
                style = "I" if all(r.italic for r in block.runs) else ""
                page.text_block(_runs_plain(block.runs, SOFT_HYPHEN), style, BODY_PT, LINE_H)
                page.gap(PARA_GAP)
            elif block.kind in ("bullets", "numbered"):
                for n, item in enumerate(block.items, start=block.start):
                    marker = "•" if block.kind == "bullets" else f"{n}."
                    page.draw.text(
                        (page.left + _px(1), page.y), marker, font=page.font("", BODY_PT), fill=25
                    )
                    page.text_block(
                        _runs_plain(item, SOFT_HYPHEN), "", BODY_PT, LINE_H, indent=_px(6)
                    )
                    page.gap(0.7)
                page.gap(PARA_GAP - 0.7)
            elif block.kind == "table":
                page.table([[_cell_text(c, SOFT_HYPHEN) for c in row] for row in block.rows])
        if page.overflow:
            raise RenderError(
                f"{src.rel}: Seite {number} (Scan) passt nicht auf eine Seite. Text kürzen oder "
                "einen <!-- pagebreak --> einfügen (und Seitenangaben der Fragen prüfen)."
            )
        out.append(page)
    return out


def render_scan_pdf(src: Source, projects: dict[str, dict[str, Any]]) -> bytes:
    pages = _scan_layout(src, projects)
    pdf = _new_pdf(src, furniture=False)
    pdf.set_auto_page_break(False)
    for number, page in enumerate(pages, start=1):
        seed = int.from_bytes(
            hashlib.sha256(f"{src.rel.as_posix()}#{number}".encode()).digest()[:8]
        )
        img = page.finish(seed)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=72, optimize=False)
        buf.seek(0)
        pdf.add_page()
        pdf.image(buf, x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


# --------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------


def _docx_runs(paragraph: Any, runs: list[Run], *, italic: bool = False) -> None:
    for r in runs:
        run = paragraph.add_run(_txt(r.text))
        if r.bold:
            run.bold = True
        if r.italic or italic:
            run.italic = True


def _normalise_zip(data: bytes, when: dt.datetime) -> bytes:
    """Rewrite a zip with fixed timestamps so that re-rendering gives identical bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = (when.year, when.month, when.day, 12, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def render_docx(src: Source, projects: dict[str, dict[str, Any]]) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    cp = doc.core_properties
    cp.title = src.title
    cp.subject = str(src.meta["doc_type"])
    cp.author = "RegioStrat-Assistent, Demonstrationskorpus (erfundene Inhalte)"
    cp.last_modified_by = cp.author
    cp.keywords = ", ".join(src.meta["themes"])
    cp.language = "de-DE"
    cp.created = src.fixed_datetime.replace(tzinfo=None)
    cp.modified = src.fixed_datetime.replace(tzinfo=None)
    cp.revision = 1
    cp.comments = ""
    offset = heading_offset(src)
    skip_first = _skip_title_heading(src)
    doc.add_heading(_txt(src.title), level=0)
    for number, blocks in enumerate(src.pages, start=1):
        for k, block in enumerate(blocks):
            if number == 1 and k == 0 and skip_first:
                continue
            if block.kind == "heading":
                level = min(max(block.level - offset, 1), 3)
                doc.add_heading(_runs_plain(block.runs), level=level)
            elif block.kind == "para":
                _docx_runs(doc.add_paragraph(), block.runs)
            elif block.kind in ("bullets", "numbered"):
                style = "List Bullet" if block.kind == "bullets" else "List Number"
                for item in block.items:
                    _docx_runs(doc.add_paragraph(style=style), item)
            elif block.kind == "table":
                rows = block.rows
                table = doc.add_table(rows=len(rows), cols=len(rows[0]))
                table.style = "Table Grid"
                for r, row in enumerate(rows):
                    for c, text in enumerate(row):
                        cell = table.cell(r, c)
                        cell.text = ""
                        run = cell.paragraphs[0].add_run(_cell_text(text))
                        if r == 0 and len(rows) > 1:
                            run.bold = True
                doc.add_paragraph()
    buf = io.BytesIO()
    doc.save(buf)
    return _normalise_zip(buf.getvalue(), src.fixed_datetime)


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | RegioStrat</title>
<meta name="description" content="{description}">
<link rel="stylesheet" href="/assets/css/site.css">
<script src="/assets/js/consent.js" defer></script>
</head>
<body>
<a class="skip-link" href="#inhalt">Zum Inhalt springen</a>
<header class="site-header">
  <div class="logo"><a href="/">RegioStrat – Regionale Entwicklungsstrategien</a></div>
  <nav class="main-nav" aria-label="Hauptnavigation">
    <ul>
      <li><a href="/">Startseite</a></li>
      <li><a href="/programm/">Programm</a></li>
      <li><a href="/modellvorhaben/">Modellvorhaben</a></li>
      <li><a href="/veranstaltungen/">Veranstaltungen</a></li>
      <li><a href="/publikationen/">Publikationen</a></li>
      <li><a href="/kontakt/">Kontakt</a></li>
    </ul>
  </nav>
  <form class="search" action="/suche/" role="search">
    <label for="q">Suche</label> <input id="q" name="q" type="search"> <button>Suchen</button>
  </form>
</header>
<div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookie-Hinweis">
  <p>Diese Website verwendet Cookies, um die Nutzung zu analysieren und das Angebot zu
  verbessern. Weitere Informationen finden Sie in unserer
  <a href="/datenschutz/">Datenschutzerklärung</a>.</p>
  <button type="button" class="accept">Alle akzeptieren</button>
  <button type="button" class="reject">Nur notwendige Cookies</button>
</div>
<nav class="breadcrumb" aria-label="Brotkrumen">
  <a href="/">Startseite</a> › <a href="/{section_url}/">{section}</a> › <span>{short_title}</span>
</nav>
<main id="inhalt">
<article>
<h1>{title}</h1>
<p class="meta">{meta_line}</p>
{content}
</article>
<aside class="sidebar">
  <h2>Das könnte Sie auch interessieren</h2>
  <ul>
    <li><a href="/programm/">Über das Programm RegioStrat</a></li>
    <li><a href="/modellvorhaben/">Alle Modellvorhaben im Überblick</a></li>
    <li><a href="/newsletter/">Newsletter abonnieren</a></li>
  </ul>
</aside>
</main>
<footer class="site-footer">
  <p><a href="/impressum/">Impressum</a> | <a href="/datenschutz/">Datenschutz</a> |
  <a href="/barrierefreiheit/">Barrierefreiheit</a> | <a href="/kontakt/">Kontakt</a></p>
  <p>© {year} RegioStrat-Demonstrationsportal –
  alle Inhalte erfunden für den RegioStrat-Assistenten</p>
</footer>
</body>
</html>
"""


def _html_runs(runs: list[Run]) -> str:
    out = []
    for r in runs:
        t = html.escape(_txt(r.text), quote=False)
        if r.italic:
            t = f"<em>{t}</em>"
        if r.bold:
            t = f"<strong>{t}</strong>"
        out.append(t)
    return "".join(out)


def render_html(src: Source, projects: dict[str, dict[str, Any]]) -> bytes:
    offset = heading_offset(src)
    skip_first = _skip_title_heading(src)
    parts: list[str] = []
    for number, blocks in enumerate(src.pages, start=1):
        for k, block in enumerate(blocks):
            if number == 1 and k == 0 and skip_first:
                continue
            if block.kind == "heading":
                level = min(max(block.level - offset, 1), 3) + 1
                parts.append(f"<h{level}>{_html_runs(block.runs)}</h{level}>")
            elif block.kind == "para":
                parts.append(f"<p>{_html_runs(block.runs)}</p>")
            elif block.kind in ("bullets", "numbered"):
                tag = "ul" if block.kind == "bullets" else "ol"
                items = "\n".join(f"  <li>{_html_runs(it)}</li>" for it in block.items)
                parts.append(f"<{tag}>\n{items}\n</{tag}>")
            elif block.kind == "table":
                rows = block.rows
                lines = ["<table>"]
                body_rows = rows
                if len(rows) > 1:
                    head = "".join(f"<th>{_html_runs(parse_inline(c))}</th>" for c in rows[0])
                    lines.append(f"<thead><tr>{head}</tr></thead>")
                    body_rows = rows[1:]
                lines.append("<tbody>")
                for row in body_rows:
                    cells = "".join(f"<td>{_html_runs(parse_inline(c))}</td>" for c in row)
                    lines.append(f"<tr>{cells}</tr>")
                lines.append("</tbody>\n</table>")
                parts.append("\n".join(lines))
    proj = projects.get(src.meta["project"] or "")
    if proj:
        section, section_url = "Modellvorhaben", "modellvorhaben"
        meta_line = f"{src.meta['doc_type']} · Modellvorhaben „{proj['name']}“ · "
    else:
        section, section_url = "Programm", "programm"
        meta_line = f"{src.meta['doc_type']} · "
    meta_line += "Stand: " + src.date.strftime("%d.%m.%Y")
    title = _txt(src.title)
    short = title if len(title) <= 60 else title[:57].rstrip() + " …"
    page = HTML_TEMPLATE.format(
        title=html.escape(title, quote=False),
        description=html.escape(title, quote=True),
        short_title=html.escape(short, quote=False),
        section=section,
        section_url=section_url,
        meta_line=html.escape(meta_line, quote=False),
        content="\n".join(parts),
        year=src.date.year,
    )
    return page.encode("utf-8")


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def render_md(src: Source, projects: dict[str, dict[str, Any]]) -> bytes:
    lines = [ln for ln in src.body.splitlines() if not PAGEBREAK_RE.match(ln)]
    body = "\n".join(lines).replace("\\-", "")
    body = re.sub(r"\n{3,}", "\n\n", body).strip("\n")
    if not _skip_title_heading(src):
        body = f"# {src.title}\n\n{body}"
    return (body + "\n").encode("utf-8")


RENDERERS = {"pdf": render_pdf, "docx": render_docx, "html": render_html, "md": render_md}


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------

_PLAIN_RE = re.compile(r"^[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß0-9 .\-]*$")


def _yaml_str(value: Any) -> str:
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False)


def _yaml_flow_item(value: str) -> str:
    return (
        value
        if _PLAIN_RE.match(value) and value not in {"null", "true", "false"}
        else (json.dumps(value, ensure_ascii=False))
    )


def manifest_text(sources: Iterable[Source], projects: dict[str, dict[str, Any]]) -> str:
    out = [
        "# GENERATED by corpus/render.py from corpus/sources/**/*.md and projects.yaml.",
        "# Do not edit: change the sources and run `python corpus/render.py`.",
        "documents:",
    ]
    for src in sorted(sources, key=lambda s: s.out_rel.as_posix()):
        proj = projects.get(src.meta["project"] or "")
        themes = ", ".join(_yaml_flow_item(str(t)) for t in src.meta["themes"])
        out += [
            f"  - file: {src.out_rel.as_posix()}",
            f"    title: {_yaml_str(src.title)}",
            f"    project: {src.meta['project'] if src.meta['project'] else 'null'}",
            f"    project_name: {_yaml_str(proj['name'] if proj else None)}",
            f"    region: {_yaml_str(proj['region'] if proj else None)}",
            f"    doc_type: {src.meta['doc_type']}",
            f"    date: {src.date.isoformat()}",
            f"    themes: [{themes}]",
        ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def find_sources(sources_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in sources_dir.rglob("*.md")
        if p.name not in SKIP_SOURCES and p.is_file() and not p.name.startswith(".")
    )


def render_all(
    sources_dir: Path, out_dir: Path, projects_path: Path, *, prune: bool = True
) -> tuple[list[Source], list[str]]:
    """Render every source into out_dir and write the manifest; return (rendered, errors)."""
    projects = load_projects(projects_path)
    rendered: list[Source] = []
    errors: list[str] = []
    for path in find_sources(sources_dir):
        try:
            src = parse_source(path, sources_dir, projects)
            data = RENDERERS[src.format](src, projects)
        except RenderError as exc:
            errors.append(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - report and go on with the other files
            errors.append(f"{path.relative_to(sources_dir)}: {type(exc).__name__}: {exc}")
            continue
        target = out_dir / src.out_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
        rendered.append(src)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST_NAME).write_text(manifest_text(rendered, projects), encoding="utf-8")
    if prune:
        keep = {s.out_rel.as_posix() for s in rendered}
        failed_stems = {
            Path(e.split(":", 1)[0]).with_suffix("").as_posix() for e in errors if ":" in e
        }
        for f in sorted(out_dir.rglob("*")):
            if not f.is_file() or f.name == MANIFEST_NAME:
                continue
            rel = f.relative_to(out_dir).as_posix()
            if f.suffix.lstrip(".") in FORMATS and rel not in keep:
                if Path(rel).with_suffix("").as_posix() in failed_stems:
                    continue  # keep the last good rendering of a source that failed now
                print(f"entfernt (keine Quelle mehr): {rel}")
                f.unlink()
        for d in sorted((p for p in out_dir.rglob("*") if p.is_dir()), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
    return rendered, errors


# --- comparison for --check ------------------------------------------------------------------


def pdf_page_texts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [doc.core_properties.title or ""]
    parts += [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def _diff(a: str, b: str, name: str) -> str:
    lines = difflib.unified_diff(
        a.splitlines(), b.splitlines(), f"committed/{name}", f"rendered/{name}", lineterm="", n=1
    )
    return "\n".join(line if len(line) < 160 else line[:157] + "..." for line in list(lines)[:20])


def _first_different_image(a: bytes, b: bytes) -> int | None:
    """Number of the first page whose image differs visibly (not just by JPEG codec noise)."""
    import numpy as np
    from pypdf import PdfReader

    pages_a = PdfReader(io.BytesIO(a)).pages
    pages_b = PdfReader(io.BytesIO(b)).pages
    for n, (pa, pb) in enumerate(zip(pages_a, pages_b, strict=True), start=1):
        ia = [np.asarray(i.image.convert("L"), dtype=np.float32) for i in pa.images if i.image]
        ib = [np.asarray(i.image.convert("L"), dtype=np.float32) for i in pb.images if i.image]
        if len(ia) != len(ib) or any(x.shape != y.shape for x, y in zip(ia, ib, strict=True)):
            return n
        for x, y in zip(ia, ib, strict=True):
            h, w = (x.shape[0] // 8) * 8, (x.shape[1] // 8) * 8
            bx = x[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))
            by = y[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))
            if float(np.abs(bx - by).max()) > 12:
                return n
    return None


def compare_file(rel: str, committed: bytes, fresh: bytes) -> str | None:
    """None when equal (bytes, or for PDF/DOCX the extracted text), else a description."""
    if committed == fresh:
        return None
    suffix = Path(rel).suffix
    if suffix == ".pdf":
        a, b = pdf_page_texts(committed), pdf_page_texts(fresh)
        if len(a) != len(b):
            return f"{rel}: {len(a)} Seiten statt {len(b)}"
        for n, (x, y) in enumerate(zip(a, b, strict=True), start=1):
            if x != y:
                return f"{rel}: Text auf Seite {n} weicht ab\n{_diff(x, y, rel)}"
        if not any(t.strip() for t in a):  # a scan: compare the page images
            changed = _first_different_image(committed, fresh)
            if changed:
                return f"{rel}: Seitenbild {changed} weicht ab"
        return None
    if suffix == ".docx":
        a_text, b_text = docx_text(committed), docx_text(fresh)
        if a_text == b_text:
            return None
        return f"{rel}: Text weicht ab\n{_diff(a_text, b_text, rel)}"
    a_s = committed.decode("utf-8", "replace")
    b_s = fresh.decode("utf-8", "replace")
    return f"{rel}: Inhalt weicht ab\n{_diff(a_s, b_s, rel)}"


def check(sources_dir: Path, out_dir: Path, projects_path: Path) -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="corpus-check-") as tmp:
        tmp_dir = Path(tmp)
        _, errors = render_all(sources_dir, tmp_dir, projects_path, prune=False)
        problems += [f"Renderfehler: {e}" for e in errors]
        fresh = {p.relative_to(tmp_dir).as_posix() for p in tmp_dir.rglob("*") if p.is_file()}
        committed = (
            {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()}
            if out_dir.exists()
            else set()
        )
        for rel in sorted(fresh - committed):
            problems.append(f"{rel}: fehlt in {out_dir}")
        for rel in sorted(committed - fresh):
            if Path(rel).suffix.lstrip(".") in FORMATS:
                problems.append(f"{rel}: hat keine Quelle (mehr)")
        for rel in sorted(fresh & committed):
            diff = compare_file(rel, (out_dir / rel).read_bytes(), (tmp_dir / rel).read_bytes())
            if diff:
                problems.append(diff)
    if problems:
        print(f"{len(problems)} Abweichung(en) zwischen Quellen und {out_dir}:")
        for p in problems:
            print(" - " + p)
        print("Neu rendern mit: python corpus/render.py")
        return 1
    print(f"OK: {out_dir} entspricht den Quellen ({len(fresh)} Dateien).")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare a fresh rendering with --out")
    ap.add_argument("--sources", type=Path, default=DEFAULT_SOURCES, help="source folder")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument(
        "--projects",
        type=Path,
        default=None,
        help="projects.yaml (default: SOURCES/projects.yaml, else corpus/sources/projects.yaml)",
    )
    args = ap.parse_args(argv)
    check_fonts()
    sources_dir = args.sources.resolve()
    out_dir = args.out.resolve()
    projects_path = args.projects
    if projects_path is None:
        projects_path = sources_dir / "projects.yaml"
        if not projects_path.exists():
            projects_path = DEFAULT_SOURCES / "projects.yaml"
    if not sources_dir.is_dir():
        print(f"Quellordner nicht gefunden: {sources_dir}", file=sys.stderr)
        return 2
    if args.check:
        return check(sources_dir, out_dir, projects_path)
    rendered, errors = render_all(sources_dir, out_dir, projects_path)
    print(f"{len(rendered)} Dokument(e) gerendert nach {out_dir}, Manifest: {MANIFEST_NAME}")
    if errors:
        print(f"{len(errors)} Quelle(n) mit Fehlern (nicht gerendert):", file=sys.stderr)
        for e in errors:
            print(" - " + e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A PDF page's text lines with their layout, from pypdf's text extraction.

pypdf's plain extraction gives the reading order; a visitor on the same extraction adds the
position, font size and weight of every piece of text (a fragment: one text-showing operation).
A line knows where it starts, its dominant font size, whether it is bold, and its text split
into table cells: at gaps far wider than a space, or where a fragment starts at the same x as
fragments of the lines around it (a column).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from typing import Any

from pypdf import PageObject

BULLET_SYMBOL = r"[•●▪■◦○‣∙·\ufffd\ue000-\uf8ff]"

_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_COLUMN_WINDOW = 3  # lines above and below where a column's start must recur
# estimated gap (in font sizes) before a column's fragment, after a space or else (kerned
# pieces of one word start ~0.3 font sizes after the previous piece's estimated end)
_SPACED_MIN_GAP = 0.25
_UNSPACED_MIN_GAP = 0.5
# "•", "–", "2.", "4.1", "b)", "bb)", "(3)": a list item's or numbered paragraph's marker
_LIST_MARKER = re.compile(
    rf"{BULLET_SYMBOL}|[-–—*]|\d{{1,2}}(?:\.\d{{1,2}})*\.?|\(?(?:\d{{1,2}}|[a-zA-Z]{{1,3}})[.)]"
)


@dataclass
class Fragment:
    text: str
    x: float
    y: float
    size: float
    bold: bool


@dataclass
class Line:
    """One extracted line; layout fields are None/0 for OCR text."""

    text: str
    x: float | None = None
    y: float | None = None
    size: float = 0.0
    bold: bool = False
    cells: tuple[str, ...] = ()  # text split into table cells (`_with_cells`)


def page_lines(page: PageObject) -> list[Line]:
    lines: list[list[Fragment]] = [[]]

    def visit(text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        m = _multiply(tm, cm)
        size = font_size * math.hypot(m[2], m[3])
        name = str(font.get("/BaseFont", "")) if font else ""
        for index, part in enumerate(text.split("\n")):
            if index:
                lines.append([])
            if part:
                lines[-1].append(Fragment(part, m[4], m[5], size, bool(_BOLD_FONT.search(name))))

    page.extract_text(visitor_text=visit)
    return _with_cells(lines)


def _multiply(a: list[float], b: list[float]) -> tuple[float, ...]:
    """The product of two PDF matrices [a b c d e f]."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _line(fragments: list[Fragment]) -> Line:
    text = "".join(f.text for f in fragments)
    inked = [f for f in fragments if f.text.strip()]
    if not inked:
        return Line(text)
    lettered = [f for f in inked if any(c.isalpha() for c in f.text)]
    first = inked[0]
    return Line(
        text=text,
        x=first.x + 0.25 * first.size * (len(first.text) - len(first.text.lstrip())),
        y=first.y,
        size=round(max(inked, key=lambda f: len(f.text.strip())).size, 1),
        bold=bool(lettered) and all(f.bold for f in lettered),
    )


def _with_cells(fragments_per_line: list[list[Fragment]]) -> list[Line]:
    """The lines, each with its text split into table cells: where the gap after a fragment is
    far wider than a space, or where a fragment starts a column (`_starts_column`). The pypdf
    visitor gives no widths, and the estimated end of a long cell misses narrow columns."""
    lines = [_line(fragments) for fragments in fragments_per_line]
    starts = [{round(f.x) for f in fragments if f.text.strip()} for fragments in fragments_per_line]
    inked = [i for i, line in enumerate(lines) if line.text.strip()]
    for position, index in enumerate(inked):
        near = (
            inked[max(0, position - _COLUMN_WINDOW) : position]
            + inked[position + 1 : position + 1 + _COLUMN_WINDOW]
        )
        columns = _recurring(starts[i] for i in near)
        lines[index].cells = _cells(fragments_per_line[index], columns)
    return lines


def _recurring(position_sets: Iterable[set[int]]) -> set[int]:
    """Positions found (±1) in at least two of the sets: a column, not chance alignment."""
    seen: Counter[int] = Counter()
    for positions in position_sets:
        seen.update({p + d for p in positions for d in (-1, 0, 1)})
    return {p for p, count in seen.items() if count >= 2}


def _cells(fragments: Sequence[Fragment], columns: Set[int]) -> tuple[str, ...]:
    cells: list[str] = [""]
    last: Fragment | None = None
    for fragment in fragments:
        if fragment.text.strip():
            if last is not None:
                estimated_end = last.x + 0.55 * last.size * len(last.text.strip())
                gap = fragment.x - estimated_end
                if gap > 3 * last.size or _starts_column(fragment, gap, cells, columns):
                    cells.append("")
            last = fragment
        cells[-1] += fragment.text
    return tuple(cell.strip() for cell in cells)


def _starts_column(fragment: Fragment, gap: float, cells: list[str], columns: Set[int]) -> bool:
    """Whether a fragment after a gap starts a column shared with a neighbouring line: not a
    list item's or a numbered paragraph's text (aligned with the other items'), and not the
    rest of a word (kerned text comes in pieces)."""
    if round(fragment.x) not in columns:
        return False
    if len(cells) == 1 and _LIST_MARKER.fullmatch(cells[0].strip()):
        return False
    spaced = fragment.text[:1].isspace() or cells[-1][-1:].isspace()
    if not spaced and not fragment.text[:1].isalnum():
        return False  # "GW" "-T 1": the rest of a word
    # digit after digit: the groups of "120 000", in a column of numbers
    digits = cells[-1].rstrip()[-1:].isdigit() and fragment.text.lstrip()[:1].isdigit()
    return gap > (_SPACED_MIN_GAP if spaced and not digits else _UNSPACED_MIN_GAP) * fragment.size

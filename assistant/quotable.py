"""What of a chunk may be quoted in an answer: its quotable units.

A unit is a whole sentence or table row, a sentence joined with the one before that it leans
on ("… erstellt. Sie dauerte neun Monate."), or a list with what introduces it: a sentence
ending with a colon ("Als Datengrundlagen dienen:") or a heading ("Schwerpunktthemen") followed
by list items or table rows. A list answers "Welche …?" as a whole; its items alone name
nothing of the question, so one by one they were never chosen. A table with a header row is a
unit as a whole too ("Schlüsselprojekt | Start | Stand" over its projects: "Wie ist der Stand
der Schlüsselprojekte?"); its header row alone is none. The items and rows under a heading or
header stay units of their own as well (one row answers "Wie lange …?"): units may overlap.

Titles and page furniture (running heads) are never quoted; headings only when they read as
a sentence ("GRW – Gemeinschaftsaufgabe „Verbesserung der regionalen Wirtschaftsstruktur“" in a
glossary) or with the list they lead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from regiostrat.sentences import Span, split_sentences
from regiostrat.types import Chunk

MIN_SENTENCE_CHARS = 25
MAX_LIST_CHARS = 900  # a list is quoted with its introduction and items up to this length
MAX_HEADING_CHARS = 100

_SENTENCE_END = set('.!?:;)"“”»')
ENUMERATED = re.compile(r"(?:[-–•*]|\d{1,2}[.)]|[a-z]\))\s")
# Sentences that lean on the one before ("Sie dauerte sieben Monate.") are quoted with it.
_ANAPHORIC_START = re.compile(
    r"(Sie|Er|Ihr|Ihre[mnrs]?|Ihm|Ihnen|Dies|Diese[mnrs]?|Dabei|Damit|Dafür|Dazu|Davon|"
    r"Daraus|Darin|Dort|Hierfür|Hierzu|Stattdessen)\b"
)


def answer_like(sentence: str) -> bool:
    """Whole sentences and table rows; not headings, titles or page furniture."""
    if len(sentence) < MIN_SENTENCE_CHARS or len(sentence) > 600:
        return False
    if " | " in sentence:
        return True
    return sentence[-1] in _SENTENCE_END or len(sentence.split()) >= 10


def is_page_furniture(sentence: str, title: str, section: str = "") -> bool:
    """Running heads, title lines and the like ("Zwischenbericht · Modellvorhaben „…“ · Stand:
    30.09.2025"); `section`: the chunk's heading path, whose top heading is the document's
    title line ("Zwischenbericht 2025 – Modellvorhaben „Altmark vernetzt“")."""
    if " · " in sentence:
        return True
    top = section.split("›")[0].strip()
    if top and sentence.strip() == top:
        return True
    title = title.strip()
    return bool(title) and (title in sentence or sentence.rstrip(" .:") in title)


def quotable_units(
    chunk: Chunk, skip: Callable[[str], bool] | None = None, heading_lists: bool = True
) -> list[Span]:
    """Spans of the chunk's text that may be quoted: answer-like sentences without page
    furniture or what `skip` rules out (boilerplate); a sentence that leans on the one before
    on the same line is joined to it, and dropped with it; a list is joined with the sentence
    (or, with `heading_lists`, the heading) introducing it, each item on a line of its own:
    enumerated ones, or up to the first ending with a period; a table's rows, and (with
    `heading_lists`) a table with its header row as a whole."""
    text = chunk.text

    def skipped(sentence: str) -> bool:
        return skip is not None and skip(sentence)

    def ruled_out(sentence: str) -> bool:
        return is_page_furniture(sentence, chunk.title, chunk.section) or skipped(sentence)

    spans = split_sentences(text)
    headings = {_normalized(part) for part in chunk.section.split("›") if part.strip()}
    units: list[Span] = []
    lists: list[Span] = []  # lists led by a heading
    joinable = False  # the last unit ends just before the current sentence
    dropped = False  # the previous sentence was ruled out: don't quote its continuation
    listing = False  # the last unit introduces a list ("Als Datengrundlagen dienen:")
    for index, (start, end) in enumerate(spans):
        sentence = text[start:end]
        unwanted = skipped(sentence)  # (asked once: a boilerplate lookup reads the index)
        excluded = unwanted or is_page_furniture(sentence, chunk.title, chunk.section)
        if listing and not excluded and _continues_list(text, units[-1], start, end):
            units[-1] = (units[-1][0], end)
            continue
        listing = False
        if (
            heading_lists
            and _normalized(sentence) in headings  # (the top one may look like furniture)
            and not unwanted
            and (last := _heading_list_end(text, spans, index, ruled_out, headings))
        ):
            lists.append((start, spans[last][1]))  # its items stay quotable one by one too
        anaphoric = bool(_ANAPHORIC_START.match(sentence))
        if excluded or (anaphoric and dropped):
            joinable, dropped = False, True
            continue
        dropped = False
        if (
            joinable
            and anaphoric
            and "\n" not in text[units[-1][1] : start]
            and answer_like(text[units[-1][0] : end])
        ):
            units[-1] = (units[-1][0], end)
        elif _header_row(text, start, end):
            if heading_lists and (last := _table_end(text, spans, index)):
                lists.append((start, spans[last][1]))  # the whole table, rows quotable too
            joinable = False
            continue
        elif answer_like(sentence):
            units.append((start, end))
        else:
            joinable = False
            continue
        joinable = True
        listing = sentence.endswith(":")
    return sorted(units + lists)


def _header_row(text: str, start: int, end: int) -> bool:
    """Whether the sentence at start:end is a table's header row ("Schlüsselprojekt | Stand
    2024 | Stand 2025"): the first row of a table with more rows (a table starts a chunk, so
    also at the chunk's start; only the rest of a table too long for one chunk starts with a
    row of values). Column names answer nothing alone."""
    line_start = text.rfind("\n", 0, start) + 1
    if " | " not in text[start:end] or text[line_start:start].strip():
        return False
    previous_line = (
        text[text.rfind("\n", 0, line_start - 1) + 1 : line_start - 1] if line_start else ""
    )
    next_end = text.find("\n", end + 1)
    next_line = text[end + 1 : len(text) if next_end == -1 else next_end]
    return " | " not in previous_line and " | " in next_line


def _table_end(text: str, spans: list[Span], index: int) -> int | None:
    """The index of the last row of the table whose header row is at `index`, when at least
    two rows follow it on the next lines, within `MAX_LIST_CHARS`."""
    start, end = spans[index]
    last = None
    for position in range(index + 1, len(spans)):
        row_start, row_end = spans[position]
        if (
            text[end:row_start] != "\n"
            or " | " not in text[row_start:row_end]
            or row_end - start > MAX_LIST_CHARS
        ):
            break
        last, end = position, row_end
    return last if last is not None and last > index + 1 else None


def table_header(unit: str) -> str:
    """The header row a unit starts with when it is a whole table (`_table_end`), else ""."""
    rows = unit.split("\n")
    if len(rows) > 2 and all(" | " in row for row in rows):
        return rows[0]
    return ""


def _normalized(line: str) -> str:
    return " ".join(line.split())


def _continues_list(text: str, unit: Span, start: int, end: int) -> bool:
    """Whether the sentence at start:end is the next item (or table row) of the list the unit
    introduces: on a line of its own, enumerated ("2. …") or following an item that does not
    end with a period (the last of an unnumbered list does), the whole list short enough; a
    table ends with its last row."""
    item = text[start:end]
    previous_line = text[text.rfind("\n", 0, unit[1]) + 1 : unit[1]]
    return (
        "\n" in text[unit[1] : start]
        and (bool(ENUMERATED.match(item)) or not text[: unit[1]].endswith("."))
        and (" | " in item or " | " not in previous_line)
        and end - unit[0] <= MAX_LIST_CHARS
    )


def _is_heading_line(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a line of its own that reads as a heading ("3.1
    Themenwerkstätten", "Schwerpunktthemen"): short, no sentence or table row."""
    line = text[start:end]
    return (
        (start == 0 or text[start - 1] == "\n")
        and (end == len(text) or text[end] == "\n")
        and len(line) <= MAX_HEADING_CHARS
        and "\n" not in line
        and " | " not in line
        and line[-1] not in '.!?:;,"“”»'
        and any(c.isalpha() for c in line)
    )


def _heading_list_end(
    text: str,
    spans: list[Span],
    index: int,
    ruled_out: Callable[[str], bool],
    headings: set[str],
) -> int | None:
    """The index of the last item when the heading at `index` is followed by at least two
    list items or table rows (the first not a sentence ending with a period or a colon: a
    heading over prose, or over a list a sentence introduces, leads no list; nor does one
    over a subheading, which ends a list)."""
    start, end = spans[index]
    if not _is_heading_line(text, start, end):
        return None
    last = None
    for position in range(index + 1, len(spans)):
        item_start, item_end = spans[position]
        item = text[item_start:item_end]
        if (
            ruled_out(item)
            or _normalized(item) in headings
            or not _continues_list(text, (start, end), item_start, item_end)
        ):
            break
        if last is None and not (ENUMERATED.match(item) or " | " in item or item[-1] not in ".:"):
            break
        last, end = position, item_end
    return last if last is not None and last > index + 1 else None


def leading_heading(unit: str) -> str:
    """The heading a unit starts with when it is a list led by one ("3.1 Themenwerkstätten"
    over its table), else "": its first sentence is a heading line and more follow."""
    spans = split_sentences(unit)
    if len(spans) > 1 and _is_heading_line(unit, *spans[0]):
        return unit[slice(*spans[0])]
    return ""

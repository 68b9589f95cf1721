"""German-aware sentence splitting, shared by chunking (ingest) and answering (assistant).

Blank lines, table rows and list items end sentences; periods after abbreviations ("z. B.",
"bzw."), ordinals ("18. Februar", "1. Quartal"), enumerators and dates do not.
"""

from __future__ import annotations

import re

Span = tuple[int, int]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that are abbreviated with a period inside German sentences (compared lower-case).
# Single letters ("z. B.", "d. h.", "S. 12", "e. V.") are handled separately.
_ABBREVIATIONS = _words(
    """
    abb abs allg anm bd bspw bzgl bzw ca chr dipl dr einschl evtl ff gem geb ggf ggü hrsg
    inkl ing insb insbes jh jhd kap lfd lt max min mind mio mrd nr pkt prof rd sog std str tab
    tel tsd usf vgl zzgl zzt ziff jan feb febr apr jun jul aug sep sept okt nov dez
    """
)
# Abbreviations that often end a sentence: a capitalised word after them starts a new one.
_TERMINAL_ABBREVIATIONS = frozenset({"usw", "etc"})
_MONTHS = _words(
    """
    januar februar märz april mai juni juli august september oktober november dezember
    jan feb febr mär apr jun jul aug sep sept okt nov dez
    """
)
# Words before a number that make "3." an ordinal ("am 3. Juni", "im 2. Zwischenbericht").
_ORDINAL_CUES = _words("am im vom zum zur beim der die das den dem des ein eine einer seit ab")
# Nouns after a number that make "3." an ordinal even without a cue ("1. Quartal 2025").
_ORDINAL_NOUNS = _words(
    """
    quartal halbjahr jahrhundert jahrestag mal platz sitzung zwischenbericht bericht runde
    phase stufe förderphase förderjahr projektjahr workshop werkstatt treffen fassung auflage
    """
)

_OPENERS = "\"'„‚«»(["
_CANDIDATE = re.compile(
    r"(?P<punct>[.!?…]+[\"'“”‘’»«)\]]*)(?P<space>\s+)"  # sentence punctuation + whitespace
    r"|(?P<para>\s*\n[ \t]*\n\s*)"  # blank line
    r"|(?P<line>[ \t]*\n[ \t]*)"  # single line break
)
_LIST_OR_ROW_LINE = re.compile(r"(?:[-–•*]|\d{1,3}[.)])\s|\|")
_LAST_WORD = re.compile(r"(\w+)\W*$")
_TRAILING_WORD = re.compile(r"\w+$")
_FIRST_WORD = re.compile(r"\W*(\w+)")
_ENUMERATOR = re.compile(r"[\d.]+")
_LOOKBEHIND = 60  # characters searched for the word before a period


def split_sentences(text: str) -> list[Span]:
    """Spans `(start, end)` of the sentences of `text`, without surrounding whitespace.

    Blank lines always end a sentence; so do lines of tables (`| ... |`) and list items. A
    period after an abbreviation ("z. B.", "bzw.", "Nr."), an ordinal ("18. Februar",
    "1. Quartal"), an enumerator ("1. Ausgangslage") or before a lower-case word does not.
    """
    spans: list[Span] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        if _is_boundary(text, start, match):
            spans.append((start, match.start() + len(match.group("punct") or "")))
            start = match.end()
    spans.append((start, len(text)))
    return [span for span in (strip_span(text, s, e) for s, e in spans) if span[0] < span[1]]


def _is_boundary(text: str, sentence_start: int, match: re.Match[str]) -> bool:
    if match.group("para"):
        return True
    space = match.group("space") or match.group("line")
    if space.count("\n") > 1:
        return True  # punctuation followed by a blank line
    if "\n" in space and _starts_list_or_row_line(text, match):
        return True
    if match.group("line") or match.end() == len(text):
        return False
    next_char = text[match.end()]
    if not (next_char.isupper() or next_char.isdigit() or next_char in _OPENERS):
        return False
    if match.group("punct") != ".":
        return True
    return not _period_continues(text, sentence_start, match.start(), match.end())


def _starts_list_or_row_line(text: str, match: re.Match[str]) -> bool:
    """Whether the line break in `match` separates table rows or precedes a list item."""
    line_start = text.rfind("\n", 0, match.start()) + 1
    next_end = text.find("\n", match.end())
    next_line = text[match.end() : next_end if next_end >= 0 else len(text)]
    return (
        bool(_LIST_OR_ROW_LINE.match(text, match.end()))
        or text.startswith("|", line_start)
        # rows of tables as loaders write them: "cell | cell | cell"
        or (" | " in text[line_start : match.start()] and " | " in next_line)
    )


def _period_continues(text: str, sentence_start: int, period: int, next_start: int) -> bool:
    """Whether the period at `period` belongs to an abbreviation, ordinal or enumerator."""
    window_start = max(sentence_start, period - _LOOKBEHIND)
    before = _TRAILING_WORD.search(text[window_start:period])
    if before is None:
        return False
    word = before.group()
    lower = word.lower()
    if lower in _TERMINAL_ABBREVIATIONS:
        return not text[next_start].isupper()
    if lower in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    if not word.isdigit():
        return False
    if _ENUMERATOR.fullmatch(text[sentence_start:period].strip()):
        return True  # "1. Ausgangslage", "2.1. Ziele"
    if text[next_start].isdigit():
        return True  # "19. 02. 2025"
    if len(word) > 2:
        return False  # "... bis 2024. Danach"
    after = _FIRST_WORD.match(text, next_start)
    next_word = after.group(1).lower() if after else ""
    previous = _LAST_WORD.search(text[window_start : window_start + before.start()])
    previous_word = previous.group(1).lower() if previous else ""
    return next_word in _MONTHS or next_word in _ORDINAL_NOUNS or previous_word in _ORDINAL_CUES


def strip_span(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end

"""Text cleaning applied to every loaded document before chunking.

Characters: Unicode NFC, no soft hyphens, zero-width characters, ligatures or replacement
characters. Lines: running headers and footers that repeat on most pages are dropped, words
hyphenated at a line break are joined, the lines of a paragraph become one line (table rows
stay lines), whitespace is single spaces. Empty blocks are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from regiostrat.types import Block, BlockKind, Document, Page

_MARGIN_LINES = 2  # lines at the top and at the bottom of a page that may be header/footer
_MIN_PAGES_FOR_MARGINS = 3
_MARGIN_SHARE = 0.6  # a margin line on at least this share of pages is a header/footer
_MAX_MARGIN_ROUNDS = 3

_CHARACTERS = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2007": " ",
        "\u202f": " ",
        "\t": " ",
        "\f": "\n",
        "\r": "\n",
        "\u200b": None,  # zero-width space, non-joiner, joiner, word joiner, BOM
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "\ufffd": None,  # replacement character: an unmapped glyph
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
_SOFT_HYPHEN_BREAK = re.compile(r"\u00ad[ \t]*\n[ \t]*")
_HYPHEN_BREAK = re.compile(r"(?<=\w)[-\u2010][ \t]*\n[ \t]*(?=(\S+))")
# "Stadt-\nund Land" keeps its hyphen: the first word's ending is elided ("Stadt- und Land").
_ELISION_WORD = re.compile(r"und|oder|bzw|sowie|bis|als|wie|noch|u|respektive|beziehungsweise")
_LINE_BREAK = re.compile(r"[ \t]*\n\s*")
_SPACES = re.compile(r"[ \t\u2000-\u200a\u3000]+")
_DIGITS = re.compile(r"\d+")


def clean_document(doc: Document) -> Document:
    """A cleaned copy of `doc`; page numbers and block kinds stay as they are."""
    pages = [
        page.model_copy(update={"blocks": [_normalise_characters(b) for b in page.blocks]})
        for page in doc.pages
    ]
    if len(pages) >= _MIN_PAGES_FOR_MARGINS:
        pages = _drop_running_lines(pages)
    cleaned = []
    for page in pages:
        blocks = [block for b in page.blocks if (block := _clean_block(b)).text]
        cleaned.append(page.model_copy(update={"blocks": blocks}))
    return doc.model_copy(update={"pages": cleaned})


def _normalise_characters(block: Block) -> Block:
    text = unicodedata.normalize("NFC", block.text.replace("\r\n", "\n")).translate(_CHARACTERS)
    return block.model_copy(update={"text": text})


def _clean_block(block: Block) -> Block:
    if block.kind is BlockKind.table:
        rows = (_SPACES.sub(" ", row).strip() for row in block.text.split("\n"))
        text = "\n".join(row for row in rows if row).replace("\u00ad", "")
    else:
        text = _SOFT_HYPHEN_BREAK.sub("", block.text).replace("\u00ad", "")
        text = _HYPHEN_BREAK.sub(_join_hyphenated, text)
        text = _SPACES.sub(" ", _LINE_BREAK.sub(" ", text)).strip()
    return block.model_copy(update={"text": text})


def _join_hyphenated(match: re.Match[str]) -> str:
    """What replaces "-\\n" between a word and the next line."""
    before = match.string[match.start() - 1]
    following = match.group(1)
    first_word = re.match(r"\w*", following)
    if first_word and _ELISION_WORD.fullmatch(first_word.group().lower()):
        return "- "  # "Stadt- und Landkreis"
    if before.isdigit() or not following[0].islower():
        return "-"  # "2-stufig", "Nord-Süd", "E-Mail"
    return ""  # "Regional-\nentwicklung"


def _drop_running_lines(pages: list[Page]) -> list[Page]:
    """Drop headers and footers layer by layer: a header of three lines takes two rounds."""
    for _ in range(_MAX_MARGIN_ROUNDS):
        pages, dropped = _drop_margin_layer(pages)
        if not dropped:
            break
    return pages


def _drop_margin_layer(pages: list[Page]) -> tuple[list[Page], bool]:
    """Drop margin lines that repeat on most pages (digits ignored); whether any were."""
    margins = [_margin_lines(page) for page in pages]
    counts = Counter(key for page_margins in margins for key in set(page_margins.values()))
    running = {key for key, n in counts.items() if key and n >= _MARGIN_SHARE * len(pages)}
    if not running:
        return pages, False
    result = []
    for page, page_margins in zip(pages, margins, strict=True):
        drop = {position for position, key in page_margins.items() if key in running}
        blocks = []
        for b_index, block in enumerate(page.blocks):
            lines = block.text.split("\n")
            kept = [line for l_index, line in enumerate(lines) if (b_index, l_index) not in drop]
            blocks.append(block.model_copy(update={"text": "\n".join(kept)}))
        result.append(page.model_copy(update={"blocks": blocks}))
    return result, True


def _margin_lines(page: Page) -> dict[tuple[int, int], str]:
    """The first and last non-empty lines of a page by (block, line) position, as keys."""
    positions = [
        (b_index, l_index, line)
        for b_index, block in enumerate(page.blocks)
        for l_index, line in enumerate(block.text.split("\n"))
        if line.strip()
    ]
    chosen = positions[:_MARGIN_LINES] + positions[-_MARGIN_LINES:]
    return {(b, i): _line_key(line) for b, i, line in chosen}


def _line_key(line: str) -> str:
    """A line compared across pages: "Seite 3 von 12" and "Seite 4 von 12" are the same."""
    # a footer can come out glued to a table row as an extra "cell": ignore the separators
    return _DIGITS.sub("#", " ".join(line.replace("|", " ").split())).lower()

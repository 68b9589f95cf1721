"""HTML loading: the main content of a page as headings, paragraphs, list items and tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from regiostrat.types import Block, BlockKind, Document, Page

_DROPPED_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "select",
    "footer",
)
_NOISE = re.compile(r"cookie|consent|banner|breadcrumb|menu|(?<![a-z])nav", re.IGNORECASE)
_NOISE_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_INLINE = re.compile(
    r"a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|font|i|img|ins|kbd|label|mark|q|s|samp|small"
    r"|span|strong|sub|sup|time|u|var|wbr"
)
_LISTS = ("ul", "ol")
_WHITESPACE = re.compile(r"\s+")  # HTML collapses whitespace in text to one space


def load_html(path: Path, data: bytes) -> Document:
    """An HTML file as a one-page document of its main content."""
    soup = BeautifulSoup(data, "lxml")
    title = _title(soup)
    root = _main_content(soup)
    _drop_noise(root)
    collector = _Collector()
    collector.walk(root)
    collector.flush()
    return Document(
        source=path.as_posix(),
        format="html",
        title=title,
        pages=[Page(number=1, blocks=collector.blocks)],
    )


def _title(soup: BeautifulSoup) -> str:
    for tag in (soup.title, soup.find("h1")):
        if isinstance(tag, Tag) and (text := _text(tag)):
            return text
    return ""


def _main_content(soup: BeautifulSoup) -> Tag:
    """<main>, role=main or a single <article>; else the whole body."""
    for found in (soup.find("main"), soup.find(role="main")):
        if isinstance(found, Tag):
            return found
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    return soup.body or soup


def _drop_noise(root: Tag) -> None:
    for element in root.find_all(True):
        if element.decomposed:
            continue
        if element.name in _DROPPED_TAGS or _is_page_header(element) or _is_noise(element):
            element.decompose()


def _is_page_header(element: Tag) -> bool:
    """A <header> of the page; an article's or main's own <header> holds its heading."""
    return element.name == "header" and element.find_parent(["article", "main"]) is None


def _is_noise(element: Tag) -> bool:
    if str(element.get("role", "")).lower() in _NOISE_ROLES:
        return True
    classes: list[str] = element.get_attribute_list("class")
    names = " ".join([str(element.get("id", "")), *classes])
    # A wrapper of the content that merely mentions e.g. "nav-open" must stay.
    return bool(_NOISE.search(names)) and element.find(["h1", "main", "article"]) is None


class _Collector:
    """Walks the tree in document order; loose inline text becomes paragraphs."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.inline: list[str] = []

    def walk(self, element: Tag) -> None:
        for child in element.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):
                    self.inline.append(_WHITESPACE.sub(" ", child))
            elif not isinstance(child, Tag):
                continue
            elif child.name == "br":
                self.inline.append("\n")
            elif _INLINE.fullmatch(child.name):
                self.inline.extend(_strings(child))
            elif child.name in _HEADINGS:
                self.add(BlockKind.heading, _text(child), _HEADINGS[child.name])
            elif child.name == "p":
                self.add(BlockKind.paragraph, _text(child))
            elif child.name == "pre":
                self.add(BlockKind.paragraph, child.get_text())
            elif child.name == "li":
                self.add(BlockKind.list_item, _text(child, skip=_LISTS))
                for nested in child.find_all(_LISTS, recursive=False):
                    self.walk(nested)
            elif child.name == "table":
                self.add(BlockKind.table, _table_text(child))
            else:
                self.flush()
                self.walk(child)
                self.flush()

    def add(self, kind: BlockKind, text: str, level: int = 0) -> None:
        self.flush()
        if text.strip():
            self.blocks.append(Block(kind=kind, text=text, level=level))

    def flush(self) -> None:
        text = _collapse("".join(self.inline))
        self.inline = []
        if text:
            self.blocks.append(Block(kind=BlockKind.paragraph, text=text))


def _strings(element: Tag, skip: tuple[str, ...] = ()) -> Iterator[str]:
    for child in element.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, PreformattedString):
                yield _WHITESPACE.sub(" ", child)
        elif isinstance(child, Tag) and child.name not in skip:
            # Line breaks and block boundaries separate text; inline markup does not.
            boundary = "" if _INLINE.fullmatch(child.name) else "\n"
            yield boundary
            yield from _strings(child, skip)
            yield boundary


def _text(element: Tag, skip: tuple[str, ...] = ()) -> str:
    return _collapse("".join(_strings(element, skip)))


def _collapse(text: str) -> str:
    """Lines (from <br> and block boundaries) without empty ones or outer spaces."""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _table_text(table: Tag) -> str:
    rows = []
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue
        cells = (
            " ".join(_text(cell).split()) for cell in row.find_all(["td", "th"], recursive=False)
        )
        if line := " | ".join(cell for cell in cells if cell):
            rows.append(line)
    return "\n".join(rows)

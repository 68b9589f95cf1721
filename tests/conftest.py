"""Shared fixtures: isolated settings, a deterministic fake embedder, no network but loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from assistant.service import Assistant
from ingest.pipeline import ingest_paths
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.settings import EmbedderSettings, IngestSettings, PathSettings, Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["REGIOSTRAT_CONFIG"] = str(REPO / "tests" / "no-such-config.toml")
os.environ.pop("OPENAI_API_KEY", None)


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the test when shared/ is absent outside CI."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing in CI")
        pytest.skip(f"{path} not available (../shared is only present in development and CI)")
    return path


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"network access blocked in tests: {host}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may only talk to loopback servers they start themselves."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh index directory and the fake embedder, files prepared in the
    test process (a parse worker costs ~1 s to start; `test_prefetch` and the whole-corpus
    quality gate ingest with workers)."""
    return Settings(
        paths=PathSettings(data_dir=tmp_path / "index", corpus_dirs=[tmp_path / "docs"]),
        embedder=EmbedderSettings(backend="fake"),
        ingest=IngestSettings(parse_workers=0),
    )


@pytest.fixture
def open_assistant(settings: Settings) -> Iterator[Callable[[Path], Assistant]]:
    """Ingests a folder with the fake embedder and opens the assistant on it (closed after
    the test); the abstention threshold is the one calibrated for the fake embedder."""
    opened: list[Assistant] = []

    def open_on(docs: Path) -> Assistant:
        settings.answer.abstain_threshold = 0.15  # calibrated for the fake embedder's cosines
        report = ingest_paths([docs], settings, FakeEmbedder())
        assert not report.failed
        opened.append(Assistant.open(settings, FakeEmbedder()))
        return opened[-1]

    yield open_on
    for assistant in opened:
        assistant.close()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


# --- document builders for the loader and cleaning tests (ingest/loaders, ingest/clean) -------


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    """Builds a PDF in tmp_path with fpdf2 and returns its path.

    `make_pdf(name, pages, *, title=None, header=None, footer=None, user_password=None)`: each
    page is a list of items; a string is a paragraph (`"# "` makes it a 16 pt heading, `"\\n"`
    breaks the line there), a list of tuples is a table with one row per tuple. `footer` may
    contain `{page}`. Texts must be Latin-1 when the DejaVu font is missing (core Helvetica).
    """
    from fpdf import FPDF

    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

    def build(
        name: str,
        pages: Sequence[Sequence[str | Sequence[tuple[str, ...]]]],
        *,
        title: str | None = None,
        header: str | None = None,
        footer: str | None = None,
        user_password: str | None = None,
    ) -> Path:
        family = "DejaVu" if dejavu.exists() else "Helvetica"

        class Pdf(FPDF):
            def header(self) -> None:
                if header:
                    self.set_font(family, size=9)
                    self.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
                    self.ln(4)

            def footer(self) -> None:
                if footer:
                    self.set_y(-15)
                    self.set_font(family, size=9)
                    self.cell(0, 8, footer.format(page=self.page_no()), align="C")

        pdf = Pdf()
        if dejavu.exists():
            pdf.add_font(family, fname=str(dejavu))
        if title:
            pdf.set_title(title)
        for items in pages:
            pdf.add_page()
            for item in items:
                if isinstance(item, str) and item.startswith("# "):
                    pdf.set_font(family, size=16)
                    pdf.multi_cell(0, 9, item[2:], new_x="LMARGIN", new_y="NEXT")
                    pdf.ln(2)
                elif isinstance(item, str):
                    pdf.set_font(family, size=11)
                    pdf.multi_cell(0, 6, item, new_x="LMARGIN", new_y="NEXT")
                    pdf.ln(4)
                else:
                    pdf.set_font(family, size=11)
                    with pdf.table(first_row_as_headings=False) as table:
                        for cells in item:
                            row = table.row()
                            for cell in cells:
                                row.cell(cell)
                    pdf.ln(4)
        if user_password is not None:
            pdf.set_encryption(owner_password="eigentuemer", user_password=user_password)
        path = tmp_path / name
        pdf.output(str(path))
        return path

    return build


@pytest.fixture
def make_docx(tmp_path: Path) -> Callable[..., Path]:
    """Builds a DOCX in tmp_path with python-docx and returns its path.

    `make_docx(name, items, *, title=None)`: items are `("h1", text)` … `("h6", text)`,
    `("p", text)`, `("li", text)` (a "List Bullet" paragraph) or `("table", rows)`.
    """
    import docx

    def build(name: str, items: Sequence[tuple[str, Any]], *, title: str | None = None) -> Path:
        document = docx.Document()
        if title:
            document.core_properties.title = title
        for kind, content in items:
            if kind == "table":
                table = document.add_table(rows=len(content), cols=len(content[0]))
                for row, cells in zip(table.rows, content, strict=True):
                    for cell, text in zip(row.cells, cells, strict=True):
                        cell.text = text
            elif kind == "li":
                document.add_paragraph(content, style="List Bullet")
            elif kind == "p":
                document.add_paragraph(content)
            else:
                document.add_heading(content, level=int(kind[1:]))
        path = tmp_path / name
        document.save(str(path))
        return path

    return build

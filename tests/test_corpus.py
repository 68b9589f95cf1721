"""The bundled corpus: rendered files, manifest and gold questions agree with their sources.

`corpus/render.py` renders `corpus/sources/**/*.md` into `corpus/documents/` and writes
`corpus/documents/manifest.yaml`. These tests check the committed result without re-rendering
(`python corpus/render.py --check` does the full comparison):

(a) every manifest entry points to an existing file and validates,
(b) rendered files and sources correspond one to one (and the manifest agrees with the sources),
(c) every fact of every gold question occurs on one of the pages its sources name,
(d) PDFs have exactly the pages of their sources (one per `<!-- pagebreak -->` section),
(e) the scanned PDF has no text layer.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SOURCES = CORPUS / "sources"
DOCS = CORPUS / "documents"
MANIFEST = DOCS / "manifest.yaml"
QUESTIONS = REPO / "eval" / "questions"

SKIP_SOURCES = {"FORMAT.md", "README.md"}
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
PAGEBREAK = re.compile(r"^\s*<!--\s*pagebreak\s*-->\s*$", re.IGNORECASE | re.MULTILINE)
SOFT_HYPHEN = "\u00ad"


# --- loading (at collection time, so that every item gets its own test id) --------------------


def _front_matter(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8").lstrip("\ufeff").replace("\r\n", "\n")
    m = re.match(r"^---\n(.*?)\n---[ \t]*\n?(.*)$", text, re.DOTALL)
    if not m:
        return {}, text
    meta = yaml.safe_load(m.group(1))
    return (meta if isinstance(meta, dict) else {}), m.group(2)


def _sources() -> dict[str, tuple[dict[str, Any], str]]:
    """Source path relative to corpus/sources -> (front matter, body)."""
    if not SOURCES.is_dir():
        return {}
    return {
        p.relative_to(SOURCES).as_posix(): _front_matter(p)
        for p in sorted(SOURCES.rglob("*.md"))
        if p.name not in SKIP_SOURCES
    }


def _projects() -> dict[str, dict[str, Any]]:
    path = SOURCES / "projects.yaml"
    if not path.exists():
        return {}
    return {p["id"]: p for p in yaml.safe_load(path.read_text(encoding="utf-8"))["projects"]}


def _rendered_rel(source_rel: str, meta: dict[str, Any]) -> str:
    return str(Path(source_rel).with_suffix("." + str(meta.get("format", "?"))).as_posix())


def _manifest_entries() -> list[dict[str, Any]]:
    if not MANIFEST.exists():
        return []
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8")) or {}
    docs = data.get("documents") if isinstance(data, dict) else None
    return [d for d in docs or [] if isinstance(d, dict)]


def _question_files() -> list[Path]:
    final = sorted(QUESTIONS.glob("*.yaml")) + sorted(QUESTIONS.glob("*.yml"))
    if final:
        return final
    parts = QUESTIONS / "parts"
    return sorted(parts.glob("*.yaml")) + sorted(parts.glob("*.yml"))


def _questions() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in _question_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = data.get("questions", []) if isinstance(data, dict) else data or []
        for i, q in enumerate(items, start=1):
            if isinstance(q, dict):
                qid = str(q.get("id") or f"{i}")
                out.append((f"{path.stem}:{qid}", q))
    return out


SOURCE_DOCS = _sources()
PROJECTS = _projects()
ENTRIES = _manifest_entries()
QUESTION_ITEMS = _questions()
PDF_SOURCES = {k: v for k, v in SOURCE_DOCS.items() if v[0].get("format") == "pdf"}
SCAN_SOURCES = {k: v for k, v in PDF_SOURCES.items() if v[0].get("scan")}


# --- text of rendered files --------------------------------------------------------------------


@functools.cache
def pdf_pages(rel: str) -> tuple[str, ...]:
    from pypdf import PdfReader

    return tuple(p.extract_text() or "" for p in PdfReader(DOCS / rel).pages)


@functools.cache
def whole_text(rel: str) -> tuple[str, ...]:
    """Variants of a non-PDF document's text (variants differ in how markup is joined)."""
    path = DOCS / rel
    suffix = path.suffix.lower()
    if suffix == ".docx":
        import docx

        doc = docx.Document(str(path))
        parts = [p.text for p in doc.paragraphs]
        for table in doc.tables:
            for row in table.rows:
                parts.append(" ".join(c.text for c in row.cells))
        return ("\n".join(parts),)
    if suffix in (".html", ".htm"):
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
        return soup.get_text(), soup.get_text(" ")
    text = path.read_text(encoding="utf-8")
    return text, text.replace("**", "").replace("*", "")


def normalised(text: str) -> tuple[str, ...]:
    """Lower-cased, whitespace-normalised variants without soft hyphens; a line break after a
    hyphen is joined when a lowercase letter follows ("Verwaltungs-\\ngemeinschaft") in one
    variant and kept as a space in the other ("Sach-\\nund" -> "Sach- und")."""
    text = text.replace(SOFT_HYPHEN, "")
    joined = re.sub(r"-[ \t]*\n[ \t]*(?=[a-zäöüß])", "", text)
    return tuple(re.sub(r"\s+", " ", t).strip().lower() for t in (joined, text))


def _norm_fact(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(SOFT_HYPHEN, "").replace("\\-", "")).strip().lower()


# --- question shapes ---------------------------------------------------------------------------


def _question_sources(q: dict[str, Any]) -> list[tuple[str, list[int] | None]]:
    """(file relative to corpus/documents, pages or None for all) for each named source.

    Accepts `{file: x.pdf, pages: [2, 3]}` / `{file: ..., page: 2}` (also `document`/`path`
    instead of `file`) and strings `x.pdf`, `x.pdf#3`, `x.pdf:3`."""
    raw = q.get("sources", q.get("source", []))
    if raw is None:
        raw = []
    if isinstance(raw, (str, dict)):
        raw = [raw]
    out: list[tuple[str, list[int] | None]] = []
    for item in raw:
        pages: Any = None
        if isinstance(item, dict):
            file = item.get("file") or item.get("document") or item.get("path") or item.get("doc")
            pages = item.get("pages", item.get("page"))
        else:
            file, pages = str(item), None
            m = re.match(r"^(.*?)(?:#p?|:)(\d+(?:\s*,\s*\d+)*)$", file)
            if m:
                file, pages = m.group(1), [int(x) for x in m.group(2).split(",")]
        file = str(file or "").strip().removeprefix("corpus/documents/")
        if isinstance(pages, int):
            pages = [pages]
        elif isinstance(pages, str):
            pages = [int(x) for x in re.findall(r"\d+", pages)]
        out.append((file, list(pages) if pages else None))
    return out


def _question_facts(q: dict[str, Any]) -> list[list[str]]:
    """Each fact as its list of alternatives: `"text"`, `[alt1, alt2]` or `{any: [...]}`."""
    raw = q.get("facts", q.get("expected_facts", q.get("must_contain", []))) or []
    if isinstance(raw, (str, dict)):
        raw = [raw]
    facts = []
    for fact in raw:
        if isinstance(fact, dict):
            for key in ("any", "alternatives", "one_of", "any_of", "text"):
                if key in fact:
                    fact = fact[key]
                    break
        alts = [fact] if isinstance(fact, (str, int, float)) else list(fact)
        facts.append([str(a) for a in alts])
    return facts


# --- (a) manifest ------------------------------------------------------------------------------


def test_manifest_exists_and_is_generated() -> None:
    assert MANIFEST.exists(), f"{MANIFEST} fehlt: python corpus/render.py ausführen"
    head = MANIFEST.read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("#") and "GENERATED" in head
    assert ENTRIES, "das Manifest listet keine Dokumente"
    files = [e.get("file") for e in ENTRIES]
    assert len(files) == len(set(files)), "Dateien doppelt im Manifest"


def test_manifest_loads_with_ingest() -> None:
    try:
        from ingest.manifest import load_manifest
    except ImportError:
        pytest.skip("ingest.manifest not available")
    manifest = load_manifest(MANIFEST)
    assert len(manifest.entries) == len(ENTRIES)
    for entry in manifest.entries:
        meta = manifest.lookup(DOCS / entry.file)
        assert meta is not None and meta.title


@pytest.mark.parametrize("entry", ENTRIES, ids=[str(e.get("file")) for e in ENTRIES])
def test_manifest_entry(entry: dict[str, Any]) -> None:
    rel = entry.get("file")
    assert isinstance(rel, str) and rel, "file fehlt"
    assert (DOCS / rel).is_file(), f"{rel} existiert nicht unter corpus/documents/"
    assert isinstance(entry.get("title"), str) and entry["title"].strip()
    assert entry.get("doc_type") in DOC_TYPES
    assert isinstance(entry.get("date"), dt.date)
    themes = entry.get("themes")
    assert isinstance(themes, list) and themes and set(themes) <= THEMES, themes
    project = entry.get("project")
    if project is None:
        assert rel.startswith("programm/")
        assert entry.get("project_name") is None and entry.get("region") is None
    else:
        assert project in PROJECTS, f"unbekanntes Projekt {project}"
        assert rel.startswith(project + "/")
        assert entry.get("project_name") == PROJECTS[project]["name"]
        assert entry.get("region") == PROJECTS[project]["region"]
    # the entry agrees with its source's front matter
    source = Path(rel).with_suffix(".md").as_posix()
    assert source in SOURCE_DOCS, f"keine Quelle corpus/sources/{source}"
    meta = SOURCE_DOCS[source][0]
    for key in ("title", "doc_type", "date", "project", "themes"):
        assert entry.get(key) == meta.get(key), (
            f"{key}: Manifest {entry.get(key)!r}, Quelle {meta.get(key)!r}"
        )


# --- (b) sources <-> rendered files -----------------------------------------------------------


@pytest.mark.parametrize("source", sorted(SOURCE_DOCS))
def test_source_is_rendered(source: str) -> None:
    meta, _ = SOURCE_DOCS[source]
    assert meta.get("format") in FORMATS, f"format {meta.get('format')!r}"
    rel = _rendered_rel(source, meta)
    assert (DOCS / rel).is_file(), f"{rel} fehlt: python corpus/render.py ausführen"
    assert rel in {e.get("file") for e in ENTRIES}, f"{rel} fehlt im Manifest"


def test_no_rendered_file_without_source() -> None:
    expected = {_rendered_rel(s, m) for s, (m, _) in SOURCE_DOCS.items()}
    rendered = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*")
        if p.is_file() and p.name != MANIFEST.name
    }
    assert rendered - expected == set(), "gerenderte Dateien ohne Quelle"


# --- (c) gold questions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", [q for _, q in QUESTION_ITEMS], ids=[qid for qid, _ in QUESTION_ITEMS]
)
def test_question_facts_on_named_pages(question: dict[str, Any]) -> None:
    sources = _question_sources(question)
    facts = _question_facts(question)
    texts: list[tuple[str, tuple[str, ...]]] = []
    for file, pages in sources:
        assert file and (DOCS / file).is_file(), f"Quelle {file!r} existiert nicht"
        if file.lower().endswith(".pdf"):
            all_pages = pdf_pages(file)
            for page in pages or range(1, len(all_pages) + 1):
                assert 1 <= page <= len(all_pages), f"{file}: Seite {page} von {len(all_pages)}"
                texts.append((f"{file} S. {page}", normalised(all_pages[page - 1])))
        else:
            variants = tuple(v for t in whole_text(file) for v in normalised(t))
            texts.append((file, variants))
    if facts:
        assert sources, "Fakten ohne Quellen"
    missing = []
    for alternatives in facts:
        wanted = [_norm_fact(a) for a in alternatives if _norm_fact(a)]
        if not any(w in v for w in wanted for _, variants in texts for v in variants):
            missing.append(" | ".join(alternatives))
    assert not missing, f"nicht gefunden in {[name for name, _ in texts]}: {missing}"


# --- (d) page counts, (e) scans, soft hyphens --------------------------------------------------


@pytest.mark.parametrize("source", sorted(PDF_SOURCES))
def test_pdf_page_count_matches_source(source: str) -> None:
    meta, body = PDF_SOURCES[source]
    rel = _rendered_rel(source, meta)
    if not (DOCS / rel).is_file():
        pytest.fail(f"{rel} fehlt")
    expected = len(PAGEBREAK.findall(body)) + 1
    assert len(pdf_pages(rel)) == expected


@pytest.mark.parametrize("source", sorted(SCAN_SOURCES))
def test_scan_pdf_has_no_text_layer(source: str) -> None:
    from pypdf import PdfReader

    rel = _rendered_rel(source, SCAN_SOURCES[source][0])
    reader = PdfReader(DOCS / rel)
    for n, page in enumerate(reader.pages, start=1):
        assert (page.extract_text() or "").strip() == "", f"Seite {n} hat eine Textebene"
        assert len(page.images) == 1, f"Seite {n}: erwartet genau ein Seitenbild"


def test_pdfs_hyphenate_at_soft_hyphens() -> None:
    """Some words are split as "Wort-\\nteil" (the ingestion's de-hyphenation is tested on this)."""
    text_pdfs = [_rendered_rel(s, m) for s, (m, _) in PDF_SOURCES.items() if not m.get("scan")]
    text_pdfs = [r for r in text_pdfs if (DOCS / r).is_file()]
    if not text_pdfs:
        pytest.skip("no text PDFs in the corpus")
    soft_splits = {
        (left.lower(), right.lower())
        for _, body in PDF_SOURCES.values()
        for word in re.findall(r"[\wÄÖÜäöüß]+(?:\\-[\wÄÖÜäöüß]+)+", body)
        for left, right in zip(word.split("\\-"), word.split("\\-")[1:], strict=False)
    }
    splits = [
        (m.group(1).lower(), m.group(2).lower())
        for rel in text_pdfs
        for page in pdf_pages(rel)
        for m in re.finditer(r"([A-Za-zÄÖÜäöüß]{2,})-\n([a-zäöüß]{2,})", page)
    ]
    at_soft = [
        s for s in splits if any(s[0].endswith(a) and s[1].startswith(b) for a, b in soft_splits)
    ]
    assert at_soft, "kein Wort ist an einem weichen Trennstrich (\\-) über die Zeile getrennt"

"""The web app in-process, without a browser: formatting, filters, feedback, file serving,
handlers and start-up without an index."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from test_web_support import build_index, web_settings

from assistant.web import render
from assistant.web.app import ChatHandlers, Conversation, WebBackend, create_app
from assistant.web.feedback import FeedbackStore
from assistant.web.files import FileLinker, resolve_corpus_file
from assistant.web.filters import filter_choices, parse_filters
from regiostrat.errors import ConfigError, LLMError
from regiostrat.types import Answer, Chunk, Citation, DocumentMeta, Filters, Passage

SCRIPT = "<script>alert('x')</script>"


def _citation(n: int = 1, **kw: object) -> Citation:
    values: dict[str, object] = dict(
        n=n,
        source="docs/bericht.pdf",
        title="1. Zwischenbericht 2024",
        project="mv01-westkueste",
        project_name="Zukunftsregion Westküste",
        doc_type="Zwischenbericht",
        date=dt.date(2024, 12, 16),
        page=7,
        quote="Einleitung. Die Online-Umfrage erreichte 1.240 Menschen. Danach folgte mehr.",
        highlight="Die Online-Umfrage erreichte 1.240 Menschen.",
    )
    values.update(kw)
    return Citation(**values)  # type: ignore[arg-type]


def _passage(text: str, title: str = "Protokoll", page: int = 2, source: str = "x.md") -> Passage:
    chunk = Chunk(
        id="c1",
        doc_id="d1",
        source=source,
        title=title,
        text=text,
        page_start=page,
        page_end=page,
        char_start=0,
        char_end=len(text),
        content_hash="h",
        meta=DocumentMeta(project="mv02", project_name="Lausitz-Spree", doc_type="Protokoll"),
    )
    return Passage(chunk=chunk, score=0.1)


def _write_corpus(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "bericht.pdf").write_bytes(b"%PDF-1.4\n%fake\n")
    (folder / "sub" / "notiz.md").write_text("# Notiz\n\nText.", encoding="utf-8")
    (folder / "seite.html").write_text("<h1>Hallo</h1><script>alert(1)</script>", "utf-8")
    (folder / ".geheim").write_text("nicht ausliefern", encoding="utf-8")
    (folder.parent / "secret.txt").write_text("geheim", encoding="utf-8")
    return folder


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return _write_corpus(tmp_path / "docs")


# -- rendering -------------------------------------------------------------------------------------
def test_markers_link_to_sources_and_text_is_escaped() -> None:
    answer = Answer(
        question="q",
        text=f"Die Umfrage erreichte 1.240 Menschen {SCRIPT} [1] und mehr [2] [9].",
        citations=[_citation(1), _citation(2)],
    )
    html = render.answer_message(answer, turn=3)
    assert '<a class="zitat" href="#quelle-3-1"' in html
    assert 'href="#quelle-3-2"' in html
    assert "[9]" in html and "#quelle-3-9" not in html  # no citation 9: left as text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Belege:" in html


def test_source_card_shows_metadata_highlight_and_page_link(corpus_dir: Path) -> None:
    linker = FileLinker(
        [corpus_dir], known_paths={"docs/bericht.pdf": str(corpus_dir / "bericht.pdf")}
    )
    card = render.source_card(_citation(), turn=0, link=linker.url)
    assert 'id="quelle-0-1"' in card
    for text in (
        "1. Zwischenbericht 2024",
        "Zukunftsregion Westküste",
        "Zwischenbericht",
        "16.12.2024",
        "Seite</dt><dd>7",
    ):
        assert text in card
    assert "<mark>Die Online-Umfrage erreichte 1.240 Menschen.</mark>" in card
    assert 'href="/datei/0/bericht.pdf#page=7"' in card
    assert 'target="_blank"' in card


def test_source_card_escapes_hostile_document_text() -> None:
    citation = _citation(
        title=f"Titel {SCRIPT}",
        project_name="<b>Altmark</b>",
        doc_type='Protokoll" onmouseover="x',
        quote=f"Vorher </div></td> {SCRIPT} <img src=x onerror=alert(1)> Satz mit Beleg.",
        highlight=f"{SCRIPT} <img src=x onerror=alert(1)> Satz mit Beleg.",
    )
    card = render.source_card(citation, turn=0, link=None)
    assert "<script" not in card and "<img" not in card and "<b>" not in card
    assert "</td>" not in card and "</div></td>" not in card
    assert "&lt;script&gt;" in card and "&lt;b&gt;Altmark&lt;/b&gt;" in card
    assert "<mark>&lt;script&gt;" in card  # highlight still found and marked
    assert "Original nicht verfügbar" in card
    # balanced markup: the hostile quote cannot close our elements
    assert card.count("<article") == card.count("</article>") == 1
    assert card.count("<blockquote") == card.count("</blockquote>") == 1


def test_a_quoted_list_is_highlighted_in_every_paragraph() -> None:
    quote = "Einleitung.\n\nAls Daten dienen:\n\nZensus 2022;\n\nInterviews.\n\nSchluss."
    highlight = "Als Daten dienen:\n\nZensus 2022;\n\nInterviews."
    html = render._paragraphs(render.highlight_html(quote, highlight))
    assert html == (
        "<p>Einleitung.</p><p><mark>Als Daten dienen:</mark></p><p><mark>Zensus 2022;</mark></p>"
        "<p><mark>Interviews.</mark></p><p>Schluss.</p>"
    )


def test_highlight_spans_tolerate_whitespace_and_multiple_sentences() -> None:
    quote = "Erster Satz.\nZweiter  Satz hier. Dritter Satz."
    spans = render.highlight_spans(quote, "Zweiter Satz hier. … Dritter Satz.")
    assert [quote[a:b] for a, b in spans] == ["Zweiter  Satz hier.", "Dritter Satz."]
    assert render.highlight_html("a < b", "") == "a &lt; b"


def test_link_only_for_files_inside_corpus_dirs(corpus_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"%PDF")
    linker = FileLinker([corpus_dir], root_path="/regiostrat/")
    assert (
        linker.url(str(corpus_dir / "bericht.pdf"), 3) == "/regiostrat/datei/0/bericht.pdf#page=3"
    )
    assert linker.url(str(corpus_dir / "sub" / "notiz.md"), 1) == "/regiostrat/datei/0/sub/notiz.md"
    assert linker.url(str(outside), 1) is None
    assert linker.url(str(corpus_dir / "fehlt.pdf"), 1) is None
    assert linker.url(str(corpus_dir / ".geheim"), 1) is None
    assert linker.url(str(corpus_dir / ".." / "outside.pdf"), 1) is None


def test_abstention_shows_headline_and_collapsed_closest_passages() -> None:
    passages = [_passage(f"Stelle {i} {SCRIPT}", title=f"Dokument {i}") for i in range(5)]
    answer = Answer(
        question="Mondhöhe?",
        text="Dazu finde ich …",
        abstained=True,
        abstain_reason="Evidenz 0.1",
        passages=passages,
    )
    html = render.answer_message(answer, 0)
    assert "Dazu finde ich in den Dokumenten nichts Belastbares" in html
    assert "<details" in html and "Möglicherweise verwandte Stellen (3)" in html
    assert "Dokument 2" in html and "Dokument 3" not in html
    assert "<script" not in html
    no_hits = render.answer_message(Answer(question="q", text="x", abstained=True), 0)
    assert "nichts Belastbares" in no_hits and "<details" not in no_hits


def test_notice_and_nonsense_messages() -> None:
    answer = Answer(question="q", text="Antwort [1]", citations=[_citation()], notice="LLM weg")
    assert "Hinweis: LLM weg" in render.answer_message(answer, 0)
    nonsense = Answer(
        question="??",
        text="Diese Eingabe enthält keine Begriffe",
        abstained=True,
        abstain_reason="keine Suchbegriffe",
    )
    html = render.answer_message(nonsense, 0)
    assert "keine Begriffe" in html and "nichts Belastbares" not in html


def test_sources_panel_latest_open_earlier_collapsed() -> None:
    first = Answer(question="a", text="A [1]", citations=[_citation(title="Alt")])
    second = Answer(question="b", text="B [1]", citations=[_citation(title="Neu")])
    html = render.sources_panel(
        [render.TurnView("Frage eins", first, 0), render.TurnView("Frage <zwei>", second, 1)]
    )
    assert html.index("Neu") < html.index("Quellen früherer Antworten") < html.index("Alt")
    assert 'id="quelle-1-1"' in html and 'id="quelle-0-1"' in html
    assert "„Frage &lt;zwei&gt;“" in html and "(1 Quelle)" in html
    assert "Hier erscheinen" in render.sources_panel([])


def test_corpus_table_search_and_escaping() -> None:
    docs = [
        SimpleNamespace(
            title=f"Werkstatt {SCRIPT}",
            n_chunks=3,
            n_pages=2,
            format="md",
            status="complete",
            sources=["a.md"],
            meta=DocumentMeta(
                project="mv05",
                project_name="Altmark",
                doc_type="Protokoll",
                date=dt.date(2025, 2, 3),
                themes=["Mobilität"],
            ),
        ),
        SimpleNamespace(
            title="Zwischenbericht Westküste",
            n_chunks=5,
            n_pages=9,
            format="pdf",
            status="complete",
            sources=["b.pdf"],
            meta=DocumentMeta(),
        ),
    ]
    html = render.corpus_html(docs, "", "1700000000")  # type: ignore[arg-type]
    assert "<strong>2</strong> Dokumente, <strong>8</strong> Abschnitte" in html
    assert "zuletzt aufgebaut am" in html and "2023" in html
    assert "<script" not in html and "03.02.2025" in html and "Mobilität" in html
    hits = render.corpus_html(docs, "westKÜSTE")  # type: ignore[arg-type]
    assert "Zwischenbericht Westküste" in hits and "Werkstatt" not in hits
    assert "1 von 2 Dokumenten" in hits
    assert "Kein Dokumenttitel" in render.corpus_html(docs, "gibtsnicht")  # type: ignore[arg-type]
    assert render.BUILD_COMMAND in render.corpus_html([], "")


# -- filters ---------------------------------------------------------------------------------------
def test_parse_filters_valid() -> None:
    filters, errors = parse_filters(["mv01"], ["Protokoll"], None, "2024-01-01", "31.12.2025")
    assert errors == []
    assert filters == Filters(
        projects=["mv01"],
        doc_types=["Protokoll"],
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2025, 12, 31),
    )
    assert parse_filters()[0].is_empty()


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024/01/01", "", "bitte im Format JJJJ-MM-TT angeben"),
        ("gestern", "", "„von“"),
        ("", "2024-02-30", "gibt es nicht"),
        ("2025-01-01", "2024-01-01", "Der Zeitraum ist leer"),
    ],
)
def test_parse_filters_german_messages(start: str, end: str, expected: str) -> None:
    _, errors = parse_filters(None, None, None, start, end)
    assert errors and expected in " ".join(errors)


def test_filters_line_and_choices() -> None:
    line = render.filters_line(
        Filters(projects=["mv01"], themes=["Energie"], date_from=dt.date(2024, 1, 1)),
        {"mv01": "Zukunftsregion Westküste"},
    )
    assert "Aktive Filter:" in line and "Zukunftsregion Westküste" in line
    assert "Thema: Energie" in line and "ab 01.01.2024" in line
    assert "Keine Filter aktiv" in render.filters_line(Filters())
    docs = [
        SimpleNamespace(
            meta=DocumentMeta(project="b", project_name="Beta", doc_type="P", themes=["X"])
        ),
        SimpleNamespace(meta=DocumentMeta(project="a", project_name="Alpha")),
    ]
    choices = filter_choices(docs)
    assert choices.projects == [("Alpha", "a"), ("Beta", "b")]
    assert choices.doc_types == ["P"] and choices.themes == ["X"]


# -- feedback --------------------------------------------------------------------------------------
def test_feedback_round_trip(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite")
    row = store.add(
        question="Was bedeutet SREK?",
        answer="SREK steht für … [1]",
        citations=[_citation()],
        rating=-1,
        settings={"answer": {"k": 6}},
    )
    assert store.update(row, comment="  Quelle passt nicht.  ")
    store.add(question="Zweite", answer="…", rating=True)
    records = store.all()
    assert [r.rating for r in records] == [-1, 1]
    first = records[0]
    assert first.question == "Was bedeutet SREK?" and first.comment == "Quelle passt nicht."
    assert first.citations[0]["title"] == "1. Zwischenbericht 2024"
    assert first.citations[0]["date"] == "2024-12-16" and first.settings == {"answer": {"k": 6}}
    assert dt.datetime.fromisoformat(first.created_at).tzinfo is not None
    assert not first.helpful and records[1].helpful
    out = tmp_path / "export" / "feedback.jsonl"
    assert store.export_jsonl(out) == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["comment"] == "Quelle passt nicht." and lines[1]["question"] == "Zweite"
    with pytest.raises(ValueError):
        store.add(question="q", answer="a", rating=0)
    store.close()
    assert len(FeedbackStore(tmp_path / "data" / "feedback.sqlite").all()) == 2


def test_feedback_store_is_thread_safe(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")

    def work(i: int) -> None:
        for j in range(20):
            store.add(question=f"{i}-{j}", answer="a", rating=1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 160


# -- file serving ----------------------------------------------------------------------------------
def test_resolve_corpus_file_rejects_escapes(corpus_dir: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "secret.txt", corpus_dir / "link.txt")
    roots = [corpus_dir]
    assert resolve_corpus_file(roots, 0, "bericht.pdf") == (corpus_dir / "bericht.pdf").resolve()
    for bad in [
        "../secret.txt",
        "sub/../../secret.txt",
        "/etc/passwd",
        "link.txt",
        ".geheim",
        "sub",
        "",
        "sub//notiz.md",
        "..\\secret.txt",
        "bericht.pdf\x00.txt",
    ]:
        assert resolve_corpus_file(roots, 0, bad) is None, bad
    assert resolve_corpus_file(roots, 1, "bericht.pdf") is None
    assert resolve_corpus_file(roots, -1, "bericht.pdf") is None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app without an index (it must still start), over a small corpus directory."""
    tmp = tmp_path_factory.mktemp("served")
    _write_corpus(tmp / "docs")
    app = create_app(web_settings(tmp))
    with TestClient(app) as test_client:
        yield test_client


def test_file_route_serves_corpus_files(client: TestClient) -> None:
    response = client.get("/datei/0/bericht.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response.headers["x-content-type-options"] == "nosniff"
    note = client.get("/datei/0/sub/notiz.md")
    assert note.status_code == 200 and note.text.startswith("# Notiz")
    assert note.headers["content-type"].startswith("text/plain")
    page = client.get("/datei/0/seite.html")
    assert page.status_code == 200 and "sandbox" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/datei/0/../../secret.txt",
        "/datei/0/%2e%2e/%2e%2e/secret.txt",
        "/datei/0/%2e%2e%2fsecret.txt",
        "/datei/0/..%2f..%2fetc%2fpasswd",
        "/datei/0/%2fetc%2fpasswd",
        "/datei/0//etc/passwd",
        "/datei/0/sub/%2e%2e/%2e%2e/secret.txt",
        "/datei/0/..%5c..%5csecret.txt",
        "/datei/0/.geheim",
        "/datei/0/bericht.pdf%00.txt",
        "/datei/1/bericht.pdf",
        "/datei/x/bericht.pdf",
        "/datei/0/index/feedback.sqlite",
        "/datei/0/",
    ],
)
def test_file_route_blocks_traversal(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "geheim" not in response.text and "root:" not in response.text


def test_file_route_requires_login_when_auth_is_on(tmp_path: Path, corpus_dir: Path) -> None:
    settings = web_settings(tmp_path, auth_user="team", auth_password="geheim123")
    with TestClient(create_app(settings)) as client:
        assert client.get("/datei/0/bericht.pdf").status_code == 401
        login = client.post("/login", data={"username": "team", "password": "geheim123"})
        assert login.status_code == 200, login.text
        assert client.get("/datei/0/bericht.pdf").status_code == 200
        wrong = TestClient(client.app)
        wrong.post("/login", data={"username": "team", "password": "falsch"})
        assert wrong.get("/datei/0/bericht.pdf").status_code == 401


def test_half_configured_login_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REGIOSTRAT_UI__AUTH_PASSWORD"):
        create_app(web_settings(tmp_path, auth_user="team"))


# -- the app and its handlers ----------------------------------------------------------------------
def test_app_starts_without_index_and_shows_build_command(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    config = client.get("/config").json()
    text = json.dumps(config, ensure_ascii=False)
    assert "Noch kein Index vorhanden" in text
    assert "regiostrat ingest corpus/documents" in text
    backend: WebBackend = client.app.state.backend
    handlers = ChatHandlers(backend)
    chat, conv, header = list(handlers.answer("Was bedeutet SREK?", [], Conversation()))[-1]
    assert "regiostrat ingest corpus/documents" in chat[-1]["content"]
    assert header is not None and "Noch kein Index" in header
    assert "regiostrat ingest corpus/documents" in handlers.corpus("")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> WebBackend:
    settings = build_index(tmp_path_factory.mktemp("web"))
    backend = WebBackend(settings)
    yield backend
    backend.close()


def test_handlers_answer_with_citations_and_sources(indexed: WebBackend) -> None:
    handlers = ChatHandlers(indexed)
    conv = Conversation()
    steps = list(handlers.answer("Wie wurde die Regionalanalyse der Westküste erstellt?", [], conv))
    chat, conv, _ = steps[-1]
    assert steps[0][0][-1]["content"] == render.PENDING_TEXT
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert 'href="#quelle-0-1"' in chat[-1]["content"]
    panel = handlers.sources(conv)
    assert "1. Zwischenbericht 2024 – Zukunftsregion Westküste" in panel
    assert re.search(r'href="/datei/0/westkueste-zwischenbericht\.md"', panel)
    assert "<mark>Die Regionalanalyse der Zukunftsregion Westküste wurde" in panel
    # a second question in the same session: numbering per turn, hostile title escaped
    chat, conv, _ = list(handlers.answer("Welche Ortschaften verbindet der Rufbus?", chat, conv))[
        -1
    ]
    assert len(chat) == 4 and 'href="#quelle-1-1"' in chat[-1]["content"]
    assert "<script" not in chat[-1]["content"]
    panel = handlers.sources(conv)
    assert "Werkstatt &lt;script&gt;alert(&#x27;titel&#x27;)&lt;/script&gt; Mobilität" in panel
    assert "<script" not in panel and "Quellen früherer Antworten" in panel


def test_handlers_abstain_and_filter_errors(indexed: WebBackend) -> None:
    handlers = ChatHandlers(indexed)
    chat, conv, _ = list(handlers.answer("Quantenschaum Zebrastreifen Xylophon", [], None))[-1]
    assert "nichts Belastbares" in chat[-1]["content"] and "<details" in chat[-1]["content"]
    chat, conv, _ = list(handlers.answer("Rufbus?", chat, conv, start="2024-13-01"))[-1]
    assert "Filter ungültig" in chat[-1]["content"] and "gibt es nicht" in chat[-1]["content"]
    filtered = list(
        handlers.answer(
            "Welche Ortschaften verbindet der Rufbus?", [], None, projects=["mv01-westkueste"]
        )
    )[-1][0]
    assert "Werkstatt" not in filtered[-1]["content"]


def test_handlers_store_feedback_with_comment(indexed: WebBackend) -> None:
    handlers = ChatHandlers(indexed)
    chat, conv, _ = list(handlers.answer("Wofür steht SREK?", [], None))[-1]
    assert handlers.comment("zu früh", conv)[0] is False
    visible, note = handlers.rate(conv, 1, False)
    assert visible and "nicht hilfreich" in note
    assert handlers.rate(conv, 1, True)[0]  # changing the mind updates the same row
    saved, note = handlers.comment("Gute Antwort, Quelle stimmt.", conv)
    assert saved and "Kommentar gespeichert" in note
    record = indexed.feedback.get(conv.turns[0].feedback_id or 0)
    assert record is not None and record.rating == 1
    assert record.question == "Wofür steht SREK?" and "SREK steht für" in record.answer
    assert record.comment == "Gute Antwort, Quelle stimmt."
    assert record.citations[0]["title"] == "Glossar des Programms RegioStrat"
    assert record.settings["embedder"]["backend"] == "fake"
    assert handlers.rate(conv, 0, True) == (False, "")  # a user message: nothing to rate


def test_handler_errors_become_german_messages(tmp_path: Path) -> None:
    class Broken:
        def ask_stream(self, *args: object) -> object:
            yield "Teil"
            raise LLMError("Das Sprachmodell antwortet nicht (Zeitüberschreitung).")

        def ask(self, *args: object) -> object:
            raise RuntimeError("kaputt")

    backend = WebBackend(web_settings(tmp_path), assistant_factory=lambda s: Broken())
    handlers = ChatHandlers(backend)
    chat, _, _ = list(handlers.answer("Frage?", [], None))[-1]
    content = chat[-1]["content"]
    assert "Das Sprachmodell antwortet nicht" in content and "Traceback" not in content
    import gradio as gr

    with pytest.raises(gr.Error, match="Unerwarteter Fehler"):
        handlers.frage("Frage?")
    with pytest.raises(gr.Error, match="JJJJ-MM-TT"):
        handlers.frage("Frage?", start="morgen")


def test_waiting_message_shown_before_the_queue(indexed: WebBackend) -> None:
    handlers = ChatHandlers(indexed)
    chat = handlers.show("Wofür steht SREK?", [])
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert chat[-1]["content"] == render.PENDING_TEXT
    final, conv, _ = list(handlers.answer("Wofür steht SREK?", chat, None, shown=True))[-1]
    assert len(final) == 2 and "Strategisches Regionalentwicklungskonzept" in final[-1]["content"]
    assert conv.turns[0].message_index == 1


def test_root_path_prefixes_file_links(tmp_path: Path) -> None:
    settings = build_index(tmp_path, root_path="/regiostrat")
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        backend: WebBackend = app.state.backend
        source = str(tmp_path / "docs" / "schwarzwald" / "zwischenbericht-2025.pdf")
        assert backend.link(source, 2) == (
            "/regiostrat/datei/0/schwarzwald/zwischenbericht-2025.pdf#page=2"
        )
        served = client.get("/datei/0/schwarzwald/zwischenbericht-2025.pdf")
        assert served.status_code == 200
    backend.close()


def test_chat_command_is_registered(capsys: pytest.CaptureFixture[str]) -> None:
    from regiostrat.cli import main

    assert main(["chat", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--host" in out and "--index" in out and "--root-path" in out

"""End to end: the real app (`regiostrat chat` in a subprocess) on a small index, driven in
headless Debian Chromium through Playwright; plus the API and concurrency over real HTTP.

Screenshots of the answer view and of an abstention go to test-artifacts/.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_support import build_index

from regiostrat.settings import Settings
from regiostrat.types import Answer, Citation

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
ANSWERABLE = "Wie viele Rückmeldungen gingen auf der Online-Plattform ein?"
LAUSITZ_TITLE = "Protokoll der 4. Sitzung des Lenkungskreises Lausitz-Spree"
PDF_QUESTION = "Wie viele Unternehmen hat die Fachkräfteallianz als Mitglieder gewonnen?"
PDF_TITLE = "2. Zwischenbericht 2025 Schwarzwald-Baar-Heuberg"
NONSENSE = "Quantenschaum Zebrastreifen Xylophon"
HOSTILE = "Welche Ortschaften verbindet der Rufbus?"
DISLIKE = 'button[aria-label="Gefällt mir nicht"], button[aria-label="Dislike"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url_host: str, port: int, proc: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"regiostrat chat ended early:\n{log.read_text(errors='replace')}")
        try:
            conn = http.client.HTTPConnection(url_host, port, timeout=2)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"app did not start:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """`regiostrat chat --port N --index …` on a fresh small index (fake embedder)."""
    tmp = tmp_path_factory.mktemp("webapp")
    settings = build_index(tmp)
    port = _free_port()
    env = {
        **os.environ,
        "REGIOSTRAT_EMBEDDER__BACKEND": "fake",
        "REGIOSTRAT_ANSWER__ABSTAIN_THRESHOLD": str(settings.answer.abstain_threshold),
        "REGIOSTRAT_PATHS__CORPUS_DIRS": json.dumps([str(p) for p in settings.paths.corpus_dirs]),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    log = tmp / "chat.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from regiostrat.cli import entry_point; entry_point()",
             "chat", "--port", str(port), "--index", str(settings.paths.data_dir)],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for("127.0.0.1", port, proc, log)
        yield f"http://127.0.0.1:{port}", settings
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        output = log.read_text(errors="replace")
        assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing in CI (Debian package 'chromium')")
        pytest.skip(
            "/usr/bin/chromium not installed (apt-get install chromium); browser tests skipped"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, site: tuple[str, Settings]) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1400, "height": 950}, locale="de-DE"
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(site[0] + "/")
    page.wait_for_selector("#frage textarea")
    yield page
    context.close()


def _ask(page: object, question: str, turn: int) -> None:
    page.fill("#frage textarea", question)  # type: ignore[attr-defined]
    page.click("#fragen-knopf")  # type: ignore[attr-defined]
    # the sources panel is rendered after the answer: wait for this turn's panel
    page.wait_for_function(  # type: ignore[attr-defined]
        "([q, n]) => { const p = document.querySelector('#quellenpanel .zur-frage');"
        " const bots = document.querySelectorAll('#chat [data-testid=bot]');"
        " return p && p.textContent.includes(q) && bots.length >= n; }",
        arg=[question, turn + 1],
    )


def _shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
    return path


@pytest.mark.browser
def test_answer_with_citation_source_panel_and_feedback(
    page: object, site: tuple[str, Settings]
) -> None:
    p = page
    assert "Bereit: 5 Dokumente aus 4 Modellvorhaben" in p.inner_text("#kopf")  # type: ignore[attr-defined]
    _ask(p, PDF_QUESTION, 0)
    marker = p.locator("#chat a.zitat[href='#quelle-0-1']").first  # type: ignore[attr-defined]
    assert marker.inner_text() == "[1]"
    card = p.locator("#quelle-0-1")  # type: ignore[attr-defined]
    assert card.locator("h4").inner_text() == PDF_TITLE
    meta = card.locator("dl.meta").inner_text()
    assert "Seite\n2" in meta and "Zwischenbericht" in meta and "30.06.2025" in meta
    assert "Schwarzwald-Baar-Heuberg: Region der kurzen Wege" in meta
    assert "41 Unternehmen" in card.locator("mark").first.inner_text()
    link = card.locator("a.original")
    assert "(S. 2)" in link.inner_text()
    href = link.get_attribute("href")
    assert href == "/datei/0/schwarzwald/zwischenbericht-2025.pdf#page=2"
    original = p.request.get(site[0] + href.split("#")[0])  # type: ignore[attr-defined]
    assert original.status == 200 and original.headers["content-type"] == "application/pdf"
    assert original.body().startswith(b"%PDF")

    marker.click()  # jumps to the source, which lights up
    p.wait_for_selector("#quelle-0-1.aufleuchten")  # type: ignore[attr-defined]
    shot = _shot(p, "web-antwort.png")
    assert shot.stat().st_size > 10_000

    p.locator(DISLIKE).first.click()  # type: ignore[attr-defined]
    p.wait_for_selector("#rueckmeldung .danke")  # type: ignore[attr-defined]
    assert "nicht hilfreich" in p.inner_text("#rueckmeldung")  # type: ignore[attr-defined]
    p.fill("#kommentar textarea", "Die Zahl stimmt, aber wer sind die Mitglieder?")  # type: ignore[attr-defined]
    p.click("#kommentar-senden")  # type: ignore[attr-defined]
    p.wait_for_selector("text=Kommentar gespeichert")  # type: ignore[attr-defined]

    db = Path(site[1].paths.data_dir) / "feedback.sqlite"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT rating, question, answer, citations_json, settings_json, comment, created_at"
            " FROM feedback WHERE question=?",
            (PDF_QUESTION,),
        ).fetchall()
    assert len(rows) == 1
    rating, question, answer, citations, settings_json, comment, created = rows[0]
    assert rating == -1 and "41 Unternehmen" in answer
    cited = json.loads(citations)[0]
    assert cited["title"] == PDF_TITLE and cited["page"] == 2
    assert json.loads(settings_json)["embedder"]["backend"] == "fake"
    assert comment == "Die Zahl stimmt, aber wer sind die Mitglieder?" and created


@pytest.mark.browser
def test_abstention_with_collapsed_closest_passages(page: object) -> None:
    p = page
    _ask(p, NONSENSE, 0)
    bot = p.locator("#chat .enthaltung").last  # type: ignore[attr-defined]
    assert "Dazu finde ich in den Dokumenten nichts Belastbares" in bot.inner_text()
    details = p.locator("#chat details.verwandt").last  # type: ignore[attr-defined]
    assert details.get_attribute("open") is None  # collapsed
    assert "nächstliegenden Stellen" in p.inner_text("#quellenpanel")  # type: ignore[attr-defined]
    _shot(p, "web-enthaltung.png")
    details.locator("summary").click()
    assert details.locator("li").count() == 3
    assert details.locator("li").first.is_visible()


@pytest.mark.browser
def test_document_with_script_is_shown_as_text(page: object) -> None:
    p = page
    _ask(p, HOSTILE, 0)
    answer_text = p.locator("#chat [data-testid=bot]").last.inner_text()  # type: ignore[attr-defined]
    assert "<script>window.__xss = 1</script>" in answer_text
    title = p.locator("#quelle-0-1 h4").inner_text()  # type: ignore[attr-defined]
    assert title == "Werkstatt <script>alert('titel')</script> Mobilität & Rufbus"
    assert "<b>vernetzt</b>" in p.inner_text("#quelle-0-1 dl.meta")  # type: ignore[attr-defined]
    assert p.evaluate("window.__xss") is None  # type: ignore[attr-defined]
    assert p.dialogs == []  # type: ignore[attr-defined]
    assert p.locator("#quellenpanel script, #chat script").count() == 0  # type: ignore[attr-defined]
    _shot(p, "web-script-als-text.png")


@pytest.mark.browser
def test_examples_new_conversation_and_separate_sessions(
    page: object, browser: object, site: tuple[str, Settings]
) -> None:
    p = page
    p.get_by_text("Welche Erfahrungen gab es mit Online-Beteiligung?").first.click()  # type: ignore[attr-defined]
    p.wait_for_selector("#quellenpanel article.quelle")  # type: ignore[attr-defined]
    assert "Online-Beteiligung" in p.inner_text("#chat")  # type: ignore[attr-defined]

    # another browser session has its own, empty conversation
    other = browser.new_context(locale="de-DE").new_page()  # type: ignore[attr-defined]
    other.goto(site[0] + "/")
    other.wait_for_selector("#frage textarea")
    assert "Hier erscheinen" in other.inner_text("#quellenpanel")
    assert other.locator("#chat a.zitat").count() == 0
    other.context.close()

    p.click("#neue-unterhaltung")  # type: ignore[attr-defined]
    p.wait_for_selector("#quellenpanel .leer-panel")  # type: ignore[attr-defined]
    assert p.locator("#chat a.zitat").count() == 0  # type: ignore[attr-defined]
    assert "Was möchten Sie wissen?" in p.inner_text("#chat")  # type: ignore[attr-defined]


@pytest.mark.browser
def test_filters_visible_and_validated(page: object) -> None:
    p = page
    p.click("#filter button.label-wrap")  # type: ignore[attr-defined]
    p.fill("#filter-von input, #filter-von textarea", "2025-01-01")  # type: ignore[attr-defined]
    p.keyboard.press("Tab")  # type: ignore[attr-defined]
    p.wait_for_selector("text=Aktive Filter:")  # type: ignore[attr-defined]
    assert "Zeitraum: ab 01.01.2025" in p.inner_text("#aktive-filter")  # type: ignore[attr-defined]
    _ask(p, ANSWERABLE, 0)  # the Lausitz protocol is from 2025-01-22: still found
    assert LAUSITZ_TITLE in p.inner_text("#quellenpanel")  # type: ignore[attr-defined]

    p.fill("#filter-bis input, #filter-bis textarea", "31.02.2025")  # type: ignore[attr-defined]
    p.keyboard.press("Tab")  # type: ignore[attr-defined]
    p.wait_for_selector("#aktive-filter .fehler")  # type: ignore[attr-defined]
    assert "gibt es nicht" in p.inner_text("#aktive-filter")  # type: ignore[attr-defined]
    p.fill("#frage textarea", "Wofür steht SREK?")  # type: ignore[attr-defined]
    p.click("#fragen-knopf")  # type: ignore[attr-defined]
    p.wait_for_selector("#chat >> text=Filter ungültig")  # type: ignore[attr-defined]

    p.click("#filter-zuruecksetzen")  # type: ignore[attr-defined]
    p.wait_for_selector("text=Keine Filter aktiv")  # type: ignore[attr-defined]


@pytest.mark.browser
def test_corpus_tab_lists_documents_with_search(page: object) -> None:
    p = page
    p.click("button[role=tab]:has-text('Dokumente im Index')")  # type: ignore[attr-defined]
    p.wait_for_selector("#korpus table")  # type: ignore[attr-defined]
    text = p.inner_text("#korpus")  # type: ignore[attr-defined]
    assert "5 Dokumente" in text and "zuletzt aufgebaut am" in text
    assert p.locator("#korpus tbody tr").count() == 5  # type: ignore[attr-defined]
    assert "Werkstatt <script>alert('titel')</script> Mobilität & Rufbus" in text
    p.fill("#korpus-suche textarea, #korpus-suche input", "lausitz")  # type: ignore[attr-defined]
    p.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelectorAll('#korpus tbody tr').length === 1"
    )
    assert LAUSITZ_TITLE in p.inner_text("#korpus tbody")  # type: ignore[attr-defined]
    _shot(p, "web-korpus.png")


# -- over real HTTP, no browser needed -------------------------------------------------------------
def _raw_get(base: str, path: str) -> int:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)  # sent as is: no client-side normalization of ".."
    response = conn.getresponse()
    body = response.read()
    assert b"root:" not in body
    return response.status


@pytest.mark.parametrize(
    "path",
    [
        "/datei/0/../../../../../../etc/passwd",
        "/datei/0/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/datei/0/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/datei/0/%2fetc%2fpasswd",
        "/datei/0/../index/feedback.sqlite",
    ],
)
def test_file_route_blocks_traversal_over_http(site: tuple[str, Settings], path: str) -> None:
    assert _raw_get(site[0], path) in (404, 400)


def test_file_route_serves_a_corpus_file_over_http(site: tuple[str, Settings]) -> None:
    assert _raw_get(site[0], "/datei/0/glossar.html") == 200


def test_api_frage_returns_answer_json(site: tuple[str, Settings]) -> None:
    from gradio_client import Client

    client = Client(site[0] + "/", verbose=False)
    result = client.predict(ANSWERABLE, api_name="/frage")
    answer = Answer.model_validate(result)
    assert not answer.abstained and answer.citations[0].title == LAUSITZ_TITLE
    filtered = client.predict(
        ANSWERABLE, ["mv01-westkueste"], None, None, "", "", api_name="/frage"
    )
    assert all(c["project"] == "mv01-westkueste" for c in filtered["citations"])
    with pytest.raises(Exception, match="JJJJ-MM-TT"):
        client.predict(ANSWERABLE, None, None, None, "gestern", "", api_name="/frage")


# -- concurrency: one slow answer does not block another session -----------------------------------
class _SlowAssistant:
    """Stands in for the Assistant: 'langsam' takes 3 s, everything else answers at once."""

    def ask_stream(self, question: str, history: object = None, filters: object = None):  # type: ignore[no-untyped-def]
        if "langsam" in question:
            time.sleep(3)
        yield Answer(
            question=question, text="Antwort [1]",
            citations=[Citation(n=1, source="x.md", title="T", page=1, quote="q")],
        )  # fmt: skip

    def ask(self, question: str, history: object = None, filters: object = None) -> Answer:
        return list(self.ask_stream(question))[-1]


def test_slow_answer_does_not_block_other_users(tmp_path: Path) -> None:
    import uvicorn
    from gradio_client import Client
    from test_web_support import web_settings

    from assistant.web.app import create_app

    settings = web_settings(tmp_path, concurrency=4)
    app = create_app(settings, assistant_factory=lambda s: _SlowAssistant())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait_for("127.0.0.1", port, None, tmp_path / "none.log")
        url = f"http://127.0.0.1:{port}/"
        slow_client, fast_client = Client(url, verbose=False), Client(url, verbose=False)
        slow_job = slow_client.submit("langsam bitte", api_name="/frage")
        time.sleep(0.5)
        started = time.perf_counter()
        fast = fast_client.predict("schnell", api_name="/frage")
        fast_seconds = time.perf_counter() - started
        assert fast["text"] == "Antwort [1]"
        assert not slow_job.done(), "the slow answer should still be running"
        assert fast_seconds < 2.0, fast_seconds
        assert slow_job.result(timeout=15)["question"] == "langsam bitte"
    finally:
        server.should_exit = True
        thread.join(10)

"""Pure formatting for the web app: `Answer`s, citations and the corpus as HTML/Markdown strings.

Every piece of document text (titles, quotes, answer sentences, metadata) and every piece of user
input goes through `html.escape` before it is placed into markup, so a document containing
`<script>` or stray HTML is shown as text and cannot execute or break the layout. Nothing here
retrieves or answers; the functions only format what `Assistant` returned.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from regiostrat.index.registry import DocumentRecord
from regiostrat.types import Answer, Citation, Filters, Passage

LinkFn = Callable[[str, int | None], str | None]

BUILD_COMMAND = "regiostrat ingest corpus/documents"
ABSTAIN_HEADLINE = "Dazu finde ich in den Dokumenten nichts Belastbares."
PENDING_TEXT = "Ich suche in den Dokumenten …"
RELATED_SUMMARY = "Möglicherweise verwandte Stellen ({n})"
EXCERPT_CHARS = 320

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MONTHS = (
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
    "Oktober", "November", "Dezember",
)  # fmt: skip


# -- small helpers ---------------------------------------------------------------------------------
def format_date(value: dt.date | str | None) -> str:
    """German date: 31.05.2023 (empty for None)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).strftime("%d.%m.%Y")
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y")


def format_timestamp(value: float | str | None) -> str:
    """A Unix time as '3. Mai 2024, 14:05 Uhr' (local time); empty when unknown."""
    if value in (None, ""):
        return ""
    try:
        stamp = dt.datetime.fromtimestamp(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
    return f"{stamp.day}. {_MONTHS[stamp.month - 1]} {stamp.year}, {stamp:%H:%M} Uhr"


def anchor_id(turn: int, n: int) -> str:
    """The id of source n of answer number `turn` in the sources panel."""
    return f"quelle-{turn}-{n}"


def _shorten(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _project_label(project: str | None, project_name: str | None) -> str:
    return project_name or project or ""


# -- highlighting ----------------------------------------------------------------------------------
def highlight_spans(quote: str, highlight: str) -> list[tuple[int, int]]:
    """Character spans of the highlight's sentences in the quote (merged, in order)."""
    pieces = [p.strip() for p in highlight.split(" … ")] if highlight else []
    spans: list[tuple[int, int]] = []
    for piece in pieces:
        if not piece:
            continue
        start = quote.find(piece)
        if start < 0:
            # tolerate whitespace differences (line breaks in the stored passage)
            pattern = r"\s+".join(re.escape(word) for word in piece.split())
            match = re.search(pattern, quote) if pattern else None
            if match is None:
                continue
            spans.append((match.start(), match.end()))
        else:
            spans.append((start, start + len(piece)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _within_paragraphs(quote: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans cut at blank lines (a quoted list runs over several paragraphs; a <mark>
    must not)."""
    out = []
    for start, end in spans:
        for brk in _PARAGRAPH_BREAK.finditer(quote, start, end):
            out.append((start, brk.start()))
            start = brk.end()
        out.append((start, end))
    return [(start, end) for start, end in out if start < end]


def highlight_html(quote: str, highlight: str) -> str:
    """The quote, escaped, with the supporting sentence(s) wrapped in <mark>."""
    out, pos = [], 0
    for start, end in _within_paragraphs(quote, highlight_spans(quote, highlight)):
        out.append(escape(quote[pos:start]))
        out.append(f"<mark>{escape(quote[start:end])}</mark>")
        pos = end
    out.append(escape(quote[pos:]))
    return "".join(out)


def _paragraphs(html_text: str) -> str:
    """Blank lines in an (escaped) passage become paragraph breaks."""
    parts = [p.strip() for p in _PARAGRAPH_BREAK.split(html_text) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in parts)


# -- the chat message ------------------------------------------------------------------------------
def link_markers(text: str, citations: Sequence[Citation], turn: int) -> str:
    """Escape the answer text and turn each [n] with a citation into a link to its source."""
    numbers = {c.n for c in citations}
    escaped = escape(text, quote=False)

    def replace(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return (
            f'<a class="zitat" href="#{anchor_id(turn, n)}" title="Quelle {n} anzeigen">[{n}]</a>'
        )

    return _MARKER.sub(replace, escaped)


def streaming_message(text: str) -> str:
    """The growing answer text while it streams (escaped, markers not yet linked)."""
    return escape(text, quote=False) if text else PENDING_TEXT


def question_message(question: str) -> str:
    return escape(question, quote=False)


def error_message(message: str) -> str:
    return f'<div class="hinweis fehler">⚠️ {escape(message, quote=False)}</div>'


def related_passages_html(passages: Sequence[Passage], link: LinkFn | None = None) -> str:
    """The closest passages of an abstention, collapsed (<details>)."""
    if not passages:
        return ""
    items = []
    for passage in passages:
        chunk = passage.chunk
        meta = chunk.meta
        where = [f"S. {chunk.page_start}"]
        label = _project_label(meta.project, meta.project_name)
        if label:
            where.insert(0, escape(label))
        url = link(chunk.source, chunk.page_start) if link else None
        title = escape(chunk.title)
        if url:
            title = f'<a href="{escape(url)}" target="_blank" rel="noopener">{title}</a>'
        items.append(
            f'<li><strong>{title}</strong> <span class="meta">({" · ".join(where)})</span>'
            f'<br><span class="auszug">„{escape(_shorten(chunk.text))}“</span></li>'
        )
    return (
        f'<details class="verwandt"><summary>{RELATED_SUMMARY.format(n=len(passages))}'
        f"</summary><ul>{''.join(items)}</ul></details>"
    )


def answer_message(answer: Answer, turn: int, link: LinkFn | None = None) -> str:
    """The assistant's chat message for a final answer."""
    parts: list[str] = []
    if answer.abstained and not answer.citations:
        if answer.abstain_reason in ("leere Frage", "keine Suchbegriffe"):
            parts.append(f'<div class="enthaltung">{escape(answer.text, quote=False)}</div>')
        elif answer.passages:
            parts.append(
                f'<div class="enthaltung"><strong>{ABSTAIN_HEADLINE}</strong> '
                "Die folgenden Stellen könnten trotzdem verwandt sein.</div>"
            )
            parts.append(related_passages_html(answer.passages[:3], link))
        else:
            parts.append(
                f'<div class="enthaltung"><strong>{ABSTAIN_HEADLINE}</strong> '
                "Es wurden keine passenden Stellen gefunden.</div>"
            )
    else:
        parts.append(link_markers(answer.text, answer.citations, turn))
        if answer.citations:
            parts.append(
                '<div class="quellenhinweis">Belege: '
                + " ".join(
                    f'<a class="zitat" href="#{anchor_id(turn, c.n)}">[{c.n}] '
                    f"{escape(_shorten(c.title, 60))}, S. {c.page}</a>"
                    for c in answer.citations
                )
                + "</div>"
            )
    if answer.notice:
        parts.append(f'<div class="hinweis">Hinweis: {escape(answer.notice, quote=False)}</div>')
    return "\n\n".join(p for p in parts if p)


# -- the sources panel -----------------------------------------------------------------------------
def _meta_rows(
    project: str | None,
    project_name: str | None,
    doc_type: str | None,
    date: dt.date | None,
    page: int | None,
) -> str:
    rows = []
    label = _project_label(project, project_name)
    if label:
        rows.append(("Modellvorhaben", label))
    if doc_type and doc_type != "unbekannt":
        rows.append(("Dokumenttyp", doc_type))
    if date:
        rows.append(("Datum", format_date(date)))
    if page:
        rows.append(("Seite", str(page)))
    return "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)


def source_card(citation: Citation, turn: int, link: LinkFn | None = None) -> str:
    """One citation: title, metadata, the passage with the supporting sentence marked, a link."""
    url = link(citation.source, citation.page) if link else None
    open_link = (
        f'<a class="original" href="{escape(url)}" target="_blank" rel="noopener">'
        f"Original öffnen (S. {citation.page}) ↗</a>"
        if url
        else '<span class="original fehlt">Original nicht verfügbar</span>'
    )
    quote = _paragraphs(highlight_html(citation.quote, citation.highlight))
    return (
        f'<article class="quelle" id="{anchor_id(turn, citation.n)}">'
        f'<header><span class="nr">[{citation.n}]</span>'
        f"<h4>{escape(citation.title)}</h4></header>"
        f'<dl class="meta">{_meta_rows(citation.project, citation.project_name, citation.doc_type, citation.date, citation.page)}</dl>'  # noqa: E501
        f'<blockquote class="zitattext">{quote}</blockquote>'
        f"<footer>{open_link}</footer>"
        "</article>"
    )


def _turn_sources(answer: Answer, turn: int, link: LinkFn | None) -> str:
    if answer.citations:
        return "".join(source_card(c, turn, link) for c in answer.citations)
    if answer.abstained and answer.passages:
        return (
            '<p class="leer">Keine belegte Antwort. Die nächstliegenden Stellen stehen '
            "aufklappbar unter der Antwort.</p>"
        )
    return '<p class="leer">Zu dieser Antwort gibt es keine Quellen.</p>'


@dataclass
class TurnView:
    """What the sources panel needs of one answered question."""

    question: str
    answer: Answer | None
    turn: int


def sources_panel(turns: Sequence[TurnView], link: LinkFn | None = None) -> str:
    """All sources of the conversation: the latest answer open, earlier ones collapsed."""
    answered = [t for t in turns if t.answer is not None]
    if not answered:
        return empty_sources_panel()
    latest, earlier = answered[-1], answered[:-1]
    assert latest.answer is not None
    html = [
        '<div class="quellen">',
        '<h3 class="quellen-titel">Quellen</h3>',
        f'<p class="zur-frage">zur Frage „{escape(_shorten(latest.question, 140))}“</p>',
        _turn_sources(latest.answer, latest.turn, link),
    ]
    if earlier:
        html.append('<h4 class="frueher">Quellen früherer Antworten</h4>')
        for view in reversed(earlier):
            assert view.answer is not None
            html.append(
                f'<details class="frueher"><summary>„{escape(_shorten(view.question, 90))}“'
                f" ({_count(len(view.answer.citations), 'Quelle', 'Quellen')})</summary>"
                f"{_turn_sources(view.answer, view.turn, link)}</details>"
            )
    html.append("</div>")
    return "".join(html)


def empty_sources_panel() -> str:
    return (
        '<div class="quellen leer-panel"><h3 class="quellen-titel">Quellen</h3>'
        '<p class="leer">Hier erscheinen zu jeder Antwort die belegenden Textstellen: Dokument, '
        "Modellvorhaben, Dokumenttyp, Datum und Seite, der zitierte Abschnitt mit dem "
        "entscheidenden Satz markiert und ein Link zum Original.</p>"
        '<p class="leer">Ein Klick auf eine Nummer wie <span class="zitat-beispiel">[1]</span> '
        "in der Antwort springt zur Quelle.</p></div>"
    )


# -- filters ---------------------------------------------------------------------------------------
def filters_line(filters: Filters, project_labels: Mapping[str, str] | None = None) -> str:
    """'Aktive Filter: …' (Markdown-safe HTML), or a note that all documents are searched."""
    if filters.is_empty():
        return '<div class="filterzeile inaktiv">Keine Filter aktiv: gesucht wird in allen Dokumenten.</div>'  # noqa: E501
    labels = project_labels or {}
    parts = []
    if filters.projects:
        names = ", ".join(labels.get(p, p) for p in filters.projects)
        parts.append(f"Modellvorhaben: {names}")
    if filters.doc_types:
        parts.append(f"Dokumenttyp: {', '.join(filters.doc_types)}")
    if filters.themes:
        parts.append(f"Thema: {', '.join(filters.themes)}")
    if filters.date_from or filters.date_to:
        if filters.date_from and filters.date_to:
            span = f"{format_date(filters.date_from)} bis {format_date(filters.date_to)}"
        elif filters.date_from:
            span = f"ab {format_date(filters.date_from)}"
        else:
            span = f"bis {format_date(filters.date_to)}"
        parts.append(f"Zeitraum: {span}")
    return (
        '<div class="filterzeile aktiv"><strong>Aktive Filter:</strong> '
        + escape(" · ".join(parts))
        + "</div>"
    )


def filter_errors_html(errors: Sequence[str]) -> str:
    if not errors:
        return ""
    return '<div class="filterzeile fehler">' + "<br>".join(escape(e) for e in errors) + "</div>"


def feedback_thanks(rating: int, question: str) -> str:
    verdict = "hilfreich" if rating > 0 else "nicht hilfreich"
    return (
        f'<div class="danke">Danke! Ihre Bewertung <strong>„{verdict}“</strong> zur Antwort auf '
        f"„{escape(_shorten(question, 80))}“ ist gespeichert. Möchten Sie einen Kommentar "
        "ergänzen?</div>"
    )


# -- status ----------------------------------------------------------------------------------------
def header_html(status: str) -> str:
    """Title, one line on what the app does, and the status line (already rendered)."""
    return (
        '<header class="kopf"><div class="titel"><h1>RegioStrat-Assistent</h1>'
        '<p class="unterzeile">Fragen an die Berichte, Protokolle und Konzepte der '
        "Modellvorhaben – jede Aussage mit Beleg aus den Dokumenten.</p></div>"
        f'<div class="status">{status}</div></header>'
    )


def status_html(level: str, message: str, command: str | None = None) -> str:
    """The status line under the title. level: ok, warnung, fehler."""
    cmd = f' <code class="befehl">{escape(command)}</code>' if command else ""
    return f'<div class="statuszeile {escape(level)}">{escape(message)}{cmd}</div>'


# -- corpus tab ------------------------------------------------------------------------------------
def corpus_html(
    documents: Iterable[DocumentRecord],
    query: str = "",
    updated_at: str | float | None = None,
    link: LinkFn | None = None,
) -> str:
    """The indexed documents as a table, filtered by a title search."""
    docs = list(documents)
    needle = " ".join(query.lower().split())
    shown = [d for d in docs if not needle or needle in d.title.lower()]
    total_chunks = sum(d.n_chunks for d in docs)
    stamp = format_timestamp(updated_at)
    head = (
        f'<p class="korpus-info"><strong>{len(docs)}</strong> Dokumente, '
        f"<strong>{total_chunks}</strong> Abschnitte im Index"
        + (f"; zuletzt aufgebaut am {escape(stamp)}" if stamp else "")
        + ".</p>"
    )
    if not docs:
        return head + (
            '<p class="leer">Der Index enthält noch keine Dokumente. Aufbauen mit '
            f'<code class="befehl">{escape(BUILD_COMMAND)}</code>.</p>'
        )
    if needle:
        head += (
            f'<p class="korpus-treffer">{len(shown)} von {len(docs)} Dokumenten passen zu '
            f"„{escape(query.strip())}“.</p>"
        )
    if not shown:
        return head + '<p class="leer">Kein Dokumenttitel enthält diesen Suchbegriff.</p>'
    rows = []
    for doc in shown:
        meta = doc.meta
        source = doc.sources[0] if doc.sources else ""
        url = link(source, None) if link and source else None
        title = escape(doc.title)
        if url:
            title = f'<a href="{escape(url)}" target="_blank" rel="noopener">{title}</a>'
        status = (
            ""
            if doc.status == "complete"
            else ' <span class="unvollstaendig">(unvollständig)</span>'
        )
        rows.append(
            "<tr>"
            f'<td class="titel">{title}{status}</td>'
            f"<td>{escape(_project_label(meta.project, meta.project_name) or '–')}</td>"
            f"<td>{escape(meta.doc_type if meta.doc_type != 'unbekannt' else '–')}</td>"
            f'<td class="datum">{escape(format_date(meta.date))}</td>'
            f"<td>{escape(', '.join(meta.themes))}</td>"
            f'<td class="zahl">{doc.n_pages}</td>'
            f'<td class="zahl">{doc.n_chunks}</td>'
            f'<td class="format">{escape(doc.format.upper())}</td>'
            "</tr>"
        )
    return head + (
        '<div class="korpus-tabelle"><table><thead><tr>'
        "<th>Titel</th><th>Modellvorhaben</th><th>Dokumenttyp</th><th>Datum</th>"
        '<th>Themen</th><th class="zahl">Seiten</th><th class="zahl">Abschnitte</th>'
        "<th>Format</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
    )

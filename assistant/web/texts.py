"""The UI's fixed German texts: title, welcome, example questions, help tab, login prompt."""

from __future__ import annotations

APP_TITLE = "RegioStrat-Assistent"
EXAMPLE_QUESTIONS = [
    "Wie haben die Modellvorhaben ihre Regionalanalyse erstellt?",
    "Welche Erfahrungen gab es mit Online-Beteiligung?",
    "Was bedeutet SREK?",
    "Welche Erfahrungen gibt es mit Rufbussen?",
]
AUTH_MESSAGE = "Bitte melden Sie sich an. Zugangsdaten erhalten Sie von der Programmbegleitung."

WELCOME_HTML = (
    "<div class='willkommen'><h2>Was möchten Sie wissen?</h2>"
    "<p>Der Assistent antwortet ausschließlich aus den eingelesenen "
    "Dokumenten der Modellvorhaben und belegt jede Aussage mit einer "
    "nummerierten Quelle. Findet er nichts Belastbares, sagt er das."
    "</p><p>Beispiele zum Ausprobieren:</p></div>"
)

HELP_HTML = (
    '<div class="hilfe">'
    "<h3>So arbeitet der Assistent</h3>"
    "<ul>"
    "<li>Er sucht zu Ihrer Frage die passendsten Abschnitte in den eingelesenen Dokumenten "
    "(Zwischenberichte, Protokolle, Konzepte, Programmunterlagen) und antwortet nur mit "
    "Aussagen, die dort stehen.</li>"
    "<li>Jede Aussage trägt eine Nummer wie [1]. Ein Klick darauf zeigt rechts die Quelle: "
    "Dokument, Modellvorhaben, Dokumenttyp, Datum, Seite und den zitierten Abschnitt; der "
    "belegende Satz ist markiert. „Original öffnen“ zeigt das Dokument an dieser Seite.</li>"
    "<li>Findet er nichts Belastbares, sagt er das ausdrücklich und zeigt die "
    "nächstliegenden Stellen aufklappbar an – bitte dann die Frage anders formulieren oder "
    "Filter lockern.</li>"
    "<li>Nachfragen beziehen sich auf die bisherige Unterhaltung (z. B. „Und in der "
    "Lausitz?“). „Neue Unterhaltung“ beginnt von vorn.</li>"
    "<li>Mit den Filtern grenzen Sie die Suche auf Modellvorhaben, Dokumenttypen, Themen "
    "oder einen Zeitraum ein (Datum als JJJJ-MM-TT oder TT.MM.JJJJ).</li>"
    "</ul>"
    "<h3>Rückmeldungen</h3>"
    "<p>Mit Daumen hoch oder runter unter einer Antwort und einem optionalen Kommentar "
    "helfen Sie, den Assistenten zu verbessern. Gespeichert werden Frage, Antwort, Quellen, "
    "Ihre Bewertung und der Kommentar – keine Namen oder Anmeldedaten.</p>"
    "<h3>Für Programme</h3>"
    "<p>Die Funktion <code>frage</code> ist über die Gradio-API erreichbar (z. B. mit "
    '<code>gradio_client</code>: <code>Client(url).predict("Was bedeutet SREK?", '
    'api_name="/frage")</code>) und liefert die Antwort mit Quellen als JSON.</p>'
    "</div>"
)

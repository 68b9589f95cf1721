"""Header fields of minutes and notes ("Ort: Bonn, Tagungsraum des BBSR", "Datum: 22. Oktober
2024"), and the questions they answer ("Wo fand das Auftakttreffen statt?").

Such a line is no sentence (no verb, no final period), so the extractive answerer would not
quote it, and it names neither the meeting nor the question's terms; yet it is the answer to
"Wo …?" and "Wann …?" about the meeting a document records.
The answerer quotes a field only for a question asking for its kind, and judges it with the
document's title as context ("Aktennotiz zum Auftakttreffen der Modellvorhaben …").
"""

from __future__ import annotations

import re

# label (lower case) → what the field says
FIELD_KINDS = {
    "ort": "place",
    "veranstaltungsort": "place",
    "tagungsort": "place",
    "sitzungsort": "place",
    "datum": "time",
    "termin": "time",
    "zeit": "time",
    "uhrzeit": "time",
    "zeitraum": "time",
    "teilnehmende": "people",
    "teilnehmer": "people",
    "teilnehmer*innen": "people",
    "anwesend": "people",
    "anwesende": "people",
    "leitung": "people",
    "sitzungsleitung": "people",
    "moderation": "people",
    "gäste": "people",
}
# "Ort: Bonn, …" or, from a table, "Ort | Kreishaus Meschede"; OCR reads bullets as » or «
_FIELD = re.compile(r"^(?:[-–•*»«]\s*)?(?P<label>[A-ZÄÖÜ][\w*äöüß]{1,24})\s*(?::|\s\|)\s+\S")
_QUESTION_KINDS = [
    (
        "place",
        re.compile(
            r"^\W*wo\b|\bwo\s+(?:und|fand|findet|war|ist|wird|wurde|tagt)\b|"
            r"\b(?:in|an)\s+welche[rm]\s+(?:stadt|ort|gemeinde)\b",
            re.I,
        ),
    ),
    ("time", re.compile(r"\bwann\b|\ban\s+welchem\s+(?:tag|datum)\b", re.I)),
    (
        "people",
        re.compile(r"\bwer\b.*\b(?:teil\w*|anwesend|geleitet|leitete\w*|moderiert\w*)\b", re.I),
    ),
]


MAX_FIELD_CHARS = 300  # a longer "Ort: …" is running text, not a header field


def field_kind(line: str) -> str | None:
    """What a header field line says ("place", "time", "people"), or None for other text."""
    match = _FIELD.match(line) if len(line) <= MAX_FIELD_CHARS else None
    return FIELD_KINDS.get(match.group("label").lower()) if match else None


def asked_field_kinds(question: str) -> set[str]:
    """The kinds of field a question asks for ("Wo und wann …?" → place and time)."""
    return {kind for kind, pattern in _QUESTION_KINDS if pattern.search(question)}

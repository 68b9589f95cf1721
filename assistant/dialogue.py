"""Understanding the question in its conversation: follow-ups and cross-project comparisons.

Without an LLM these are deterministic rules; an LLM, when configured, may rewrite follow-ups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.projects import ProjectCatalog
from regiostrat.index.analyzer import analyze
from regiostrat.types import Turn

_FOLLOWUP_START = re.compile(
    r"^\s*(und|aber|auch|sowie|wie\s+(ist|war|sieht)\s+(es|das)|was\s+ist\s+mit|was\s+(gilt|galt)|"
    r"gilt\s+das|dort|da|dabei|hierzu|dazu|davon|desgleichen)\b",
    re.IGNORECASE,
)
_ANAPHORA = re.compile(
    r"\b(dort|dabei|davon|dazu|hierzu|daraus|darauf|diese[rsmn]?|denen|deren|das|es)\b", re.I
)
_COMPARE_SUBJECT = re.compile(
    r"\b(modellvorhaben|modellprojekte|projekte|vorhaben|regionen|modellregionen)\b", re.I
)
_COMPARE_CUE = re.compile(
    r"\b(vergleich\w*|unterschied\w*|unterscheiden|jeweils|welche[nmrs]?|wie\s+gehen|"
    r"wie\s+machen|alle[nm]?|beide[nmrs]?|einzelnen|gemeinsam\w*|ähnlich\w*|anders|verschieden\w*)\b",
    re.I,
)


@dataclass
class ResolvedQuestion:
    text: str
    is_followup: bool = False
    projects: list[str] = field(default_factory=list)


def resolve_followup(
    question: str, history: list[Turn] | None, catalog: ProjectCatalog
) -> ResolvedQuestion:
    """Make a follow-up ("und wie war das in der Altmark?") a complete question."""
    mentioned = catalog.mentioned_in(question)
    if not history:
        return ResolvedQuestion(question, False, mentioned)
    content_terms = [
        t for t in analyze(question) if not any(t in p.aliases for p in catalog.projects)
    ]
    # "Und in der Altmark?", "Wie war das dort?"; a short question of its own ("Was bedeutet
    # SREK?") is no follow-up.
    looks_like_followup = bool(
        _FOLLOWUP_START.search(question) or (len(content_terms) <= 4 and _ANAPHORA.search(question))
    )
    if not looks_like_followup:
        return ResolvedQuestion(question, False, mentioned)
    previous = history[-1].question
    if mentioned:
        previous = catalog.strip_mentions(previous)
    else:
        mentioned = catalog.mentioned_in(previous)
    return ResolvedQuestion(f"{previous} {question}".strip(), True, mentioned)


# Question words kept in a comparison's focus: they say what kind of answer is wanted.
_QUESTION_WORDS = {"wie", "wann", "wer", "wo", "wieviel", "viel", "viele", "lange", "hoch", "seit"}
# ... and those that don't ("Worin unterscheiden sich …?")
_OTHER_QUESTION_WORDS = {"worin", "wodurch", "inwiefern", "inwieweit", "weshalb", "warum", "wieso"}
_ANSWER_KINDS = [
    (
        "money",
        re.compile(
            r"\b(wie\s+viel\s+geld|geld|euro|förder(geld|summe|mittel|betrag)\w*|kosten|"
            r"budget\w*|ausgegeben|verausgabt|mittelabfluss)\b",
            re.I,
        ),
    ),
    (
        "duration",
        re.compile(
            r"\b(wie\s+lange|länger|kürzer|dauer\w*|wie\s+viel\s+zeit|zeit\s+gebraucht)\b", re.I
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(wann|früher|später|gestartet|begonnen|angefangen|start\w*|beginn\w*)\b", re.I
        ),
    ),
    ("count", re.compile(r"\b(wie\s+vielen?|größer|kleiner|anzahl|mitglieder\w*)\b", re.I)),
]


def answer_kind(question: str) -> str | None:
    """What a question asks for when it is a quantity: "money", "duration", "date", "count"."""
    for kind, pattern in _ANSWER_KINDS:
        if pattern.search(question):
            return kind
    return None


def comparison_focus(question: str, keep_subject: bool = False) -> str:
    """The topic of a comparison question: its content words and question words, without the
    words that ask for a comparison ("Wie gehen die Modellvorhaben bei der Akteursbeteiligung
    vor?" → "Akteursbeteiligung", "Wer hat länger gebraucht, …?" → "Wer länger gebraucht")."""
    rest = _COMPARE_CUE.sub(" ", question)
    if not keep_subject:
        rest = _COMPARE_SUBJECT.sub(" ", rest)
    words = []
    for word in rest.split():
        key = word.lower().strip("?.,;:!")
        if key in _QUESTION_WORDS or (analyze(word) and key not in _OTHER_QUESTION_WORDS):
            words.append(word)
    focus = " ".join(words).strip(" ,;:–-")
    return focus if analyze(focus) else question


def comparison_projects(question: str, mentioned: list[str], catalog: ProjectCatalog) -> list[str]:
    """Projects to compare, or [] when the question is not a comparison."""
    if len(mentioned) >= 2:
        return mentioned
    if mentioned or not catalog.projects:
        return []
    if _COMPARE_SUBJECT.search(question) and _COMPARE_CUE.search(question):
        return [p.id for p in catalog.projects]
    return []

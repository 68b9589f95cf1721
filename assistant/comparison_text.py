"""The text side of cross-project comparisons: the quotable units of a project's passages
(`quotable.quotable_units`, without boilerplate that recurs across the compared projects) and
whether a unit names what the question asks for (an amount, a duration, a date, a count)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.boilerplate import boilerplate_signature
from assistant.extractive import LEXICAL_WEIGHT, ScoredSentence, term_coverage, unasked_table_row
from assistant.quotable import quotable_units
from regiostrat.index.analyzer import analyze
from regiostrat.types import Passage

HEAD_MATCH = 0.5  # share of a term covered by its compound head
KIND_BONUS = 0.05  # for a comparison unit naming what is asked (an amount, a duration, a date)

_NUMBER_WORDS = (
    r"zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|"
    r"dreizehn|vierzehn|fünfzehn|sechzehn|zwanzig|dreißig|vierzig|fünfzig|hundert"
)
_MONTH_NAMES = r"Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
# What a sentence must name to answer a question of that kind (see dialogue.answer_kind).
ANSWER_PATTERNS: dict[str, re.Pattern[str]] = {
    "money": re.compile(r"\d[\d.,]*\s*(Euro|EUR|€|Mio\.|Millionen)", re.I),
    "duration": re.compile(
        rf"\b(\d+|ein|eine[mnr]?|{_NUMBER_WORDS})\s+(Monate?n?|Jahre?n?|Wochen?|Tage?n?)\b"
        rf"|\bvon\s+({_MONTH_NAMES})\s+(\d{{4}}\s+)?bis\s+({_MONTH_NAMES})",
        re.I,
    ),
    "date": re.compile(
        rf"\b\d{{1,2}}\.\s*({_MONTH_NAMES})(\s+\d{{4}})?|\b({_MONTH_NAMES})\s+\d{{4}}"
        r"|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b"
    ),
    "count": re.compile(rf"\b(\d[\d.]*|{_NUMBER_WORDS})\s+[A-ZÄÖÜ][a-zäöüß]+"),
}


def answers_kind(text: str, kind: str | None) -> bool:
    """Whether the text names what a question of `kind` asks for (an amount, a date, ...)."""
    pattern = ANSWER_PATTERNS.get(kind or "")
    return bool(pattern and pattern.search(text))


def compound_coverage(question_terms: set[str], sentence_terms: frozenset[str]) -> float:
    """`term_coverage` that also counts a compound by its head ("Akteursbeteiligung" is
    covered by "Beteiligung"), which the analyzer does not always split."""
    if not question_terms:
        return 0.0
    heads = [t for t in sentence_terms if len(t) >= 5]
    covered = 0.0
    for term in question_terms:
        if term in sentence_terms:
            covered += 1.0
        elif any(term.endswith(head) for head in heads):
            covered += HEAD_MATCH
    return covered / len(question_terms)


def comparison_units(
    passages: Sequence[Passage],
    question_terms: set[str],
    kind: str | None = None,
    boilerplate: set[frozenset[str]] | None = None,
    lexical_weight: float = LEXICAL_WEIGHT,
) -> list[ScoredSentence]:
    """Quotable units of the passages for a comparison: answer-like sentences without page
    furniture and boilerplate (signatures in `boilerplate`); a sentence that leans on the one
    before ("Sie dauerte …") is joined to it. Units naming what a question of `kind` asks for
    get a bonus; table rows are kept when they name it or the question's terms."""
    boilerplate = boilerplate or set()

    def recurring(sentence: str) -> bool:
        return boilerplate_signature(sentence) in boilerplate

    out: list[ScoredSentence] = []
    for index, passage in enumerate(passages):
        text = passage.chunk.text
        for start, end in quotable_units(passage.chunk, skip=recurring, heading_lists=False):
            sentence = text[start:end]
            terms = frozenset(analyze(sentence))
            coverage = compound_coverage(question_terms, terms)
            named = answers_kind(sentence, kind)
            if not named and unasked_table_row(sentence, term_coverage(question_terms, terms)):
                continue
            bonus = KIND_BONUS if named else 0.0
            out.append(
                ScoredSentence(
                    index, start, end, sentence, 0.0, coverage, terms, bonus, lexical_weight
                )
            )
    return out

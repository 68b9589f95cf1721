"""The default answerer, without an LLM: it selects the sentences of the retrieved passages that
answer the question, orders them readably and cites each one.

Sentences are scored by their embedding similarity to the question (the same embedder as the
index) plus the share of the question's (stemmed) terms they contain. Below the calibrated
evidence threshold the answerer abstains and the closest passages are shown as "possibly
related".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from assistant.quotable import (
    ENUMERATED,
    is_page_furniture,
    leading_heading,
    quotable_units,
    table_header,
)
from assistant.record_fields import asked_field_kinds, field_kind
from regiostrat.embedders import Embedder
from regiostrat.index.analyzer import analyze
from regiostrat.sentences import split_sentences
from regiostrat.types import Chunk, Citation, Passage

ABSTAIN_TEXT = (
    "Dazu finde ich in den Dokumenten nichts Belastbares. Die folgenden Stellen könnten "
    "trotzdem verwandt sein."
)
NO_PASSAGES_TEXT = (
    "Dazu finde ich in den Dokumenten nichts. Es wurden keine passenden Stellen gefunden."
)
LEXICAL_WEIGHT = 0.15
TABLE_ROW_COVERAGE = 0.3  # share of the question's terms a quoted table row must hold
# Cosine similarity of the closest passage below which questions are mostly unanswerable,
# per vector space (benchmarks/calibrate_abstention.py on OMoS-QA dev + gold dev: abstention
# precision 0.57, recall 0.17, 96.8 % of answerable questions still answered).
CALIBRATED_PASSAGE_SIMILARITY = {"multilingual-e5-small": 0.85}
MAX_CANDIDATES = 12  # sentences embedded per answer (latency: ~0.1 s each on 2 cores)
FIELD_BONUS = 0.05  # for a header field of the kind asked ("Ort: …" for "Wo …?")


@dataclass
class ScoredSentence:
    passage_index: int
    start: int
    end: int
    text: str
    semantic: float
    lexical: float
    terms: frozenset[str]
    bonus: float = 0.0  # e.g. for naming what the question asks for (an amount, a date)
    lexical_weight: float = LEXICAL_WEIGHT
    context: str = ""  # embedded in place of `text` when set (a field with its document title)
    sole: bool = False  # quoted only as the best unit (a list under a heading), never besides

    @property
    def score(self) -> float:
        return self.semantic + self.lexical_weight * self.lexical + self.bonus


def term_coverage(question_terms: set[str], sentence_terms: frozenset[str]) -> float:
    if not question_terms:
        return 0.0
    return len(question_terms & sentence_terms) / len(question_terms)


def unasked_table_row(sentence: str, coverage: float) -> bool:
    """A table row ("Fördersumme | 450.000 Euro") is quoted only when it names what was asked:
    `coverage`, the share of the question's terms it holds, must reach `TABLE_ROW_COVERAGE`."""
    return " | " in sentence and coverage < TABLE_ROW_COVERAGE


def candidate_sentences(
    passages: Sequence[Passage], question_terms: set[str], field_kinds: Set[str] = frozenset()
) -> list[ScoredSentence]:
    """Quotable units of the passages, best lexical matches first, capped for speed; with
    `field_kinds` (`record_fields.asked_field_kinds`) also the header fields of those kinds."""
    out: list[ScoredSentence] = []
    for index, passage in enumerate(passages):
        text = passage.chunk.text
        for start, end in quotable_units(passage.chunk):
            sentence = text[start:end]
            if field_kinds and field_kind(sentence) in field_kinds:
                continue  # judged as a field below
            terms = frozenset(analyze(sentence))
            heading = leading_heading(sentence) or table_header(sentence)
            # a list under a heading (or a table under its header row) is judged by what the
            # heading names in its document, not by all the words of its items (a table of key
            # figures holds most words of any question about them)
            named = frozenset(analyze(f"{passage.chunk.title}: {heading}")) if heading else terms
            coverage = term_coverage(question_terms, named)
            if unasked_table_row(sentence, coverage):
                continue
            out.append(
                ScoredSentence(
                    index, start, end, sentence, 0.0, coverage, terms, sole=bool(heading)
                )
            )
        if field_kinds:
            out.extend(_asked_fields(index, passage.chunk, question_terms, field_kinds))
    # keep the lexically best and the first sentences of top passages within the budget
    out.sort(key=lambda s: (-s.lexical, s.passage_index))
    return out[:MAX_CANDIDATES]


def _asked_fields(
    index: int, chunk: Chunk, question_terms: set[str], kinds: Set[str]
) -> list[ScoredSentence]:
    """Header fields of the asked kinds ("Ort: Bonn, …" for "Wo …?"), judged with the
    document's title as their context: the title says which meeting they belong to."""
    out = []
    for start, end in split_sentences(chunk.text):
        line = chunk.text[start:end]
        if field_kind(line) not in kinds or is_page_furniture(line, chunk.title, chunk.section):
            continue
        context = f"{chunk.title}: {line}"
        terms = frozenset(analyze(context))
        coverage = term_coverage(question_terms, terms)
        out.append(
            ScoredSentence(
                index, start, end, line, 0.0, coverage, terms, FIELD_BONUS, context=context
            )
        )
    return out


def score_sentences(
    embedder: Embedder,
    query_embedding: Sequence[float],
    sentences: list[ScoredSentence],
    texts: Sequence[str] | None = None,
) -> None:
    """Sets each sentence's `semantic` similarity; `texts` are embedded in place of the
    sentences' own text (or their `context`) when given."""
    if not sentences:
        return
    texts = list(texts) if texts is not None else [s.context or s.text for s in sentences]
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    query = np.asarray(query_embedding, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
    sims = vectors @ query / np.where(norms == 0, 1.0, norms)
    for sentence, sim in zip(sentences, sims, strict=True):
        sentence.semantic = float(sim)


def select_sentences(
    sentences: list[ScoredSentence],
    max_sentences: int,
    margin: float = 0.06,
    keep: Callable[[ScoredSentence], bool] | None = None,
) -> list[ScoredSentence]:
    """The best sentences within `margin` of the best one, without near-duplicates; `keep`
    (asked only for sentences that could be chosen) rules sentences out."""
    ranked = sorted(sentences, key=lambda s: s.score, reverse=True)
    best: float | None = None
    chosen: list[ScoredSentence] = []
    for sentence in ranked:
        if best is not None and (sentence.score < best - margin or len(chosen) >= max_sentences):
            break
        if keep is not None and not keep(sentence):
            continue
        if sentence.sole and chosen:
            continue
        best = sentence.score if best is None else best
        if any(
            _jaccard(sentence.terms, other.terms) > 0.7 or _overlap(sentence, other)
            for other in chosen
        ):
            continue
        chosen.append(sentence)
    # readable order: by passage rank, then position in the passage
    return sorted(chosen, key=lambda s: (s.passage_index, s.start))


def _overlap(a: ScoredSentence, b: ScoredSentence) -> bool:
    """Whether two units share text (a list under a heading and one of its rows)."""
    return a.passage_index == b.passage_index and a.start < b.end and b.start < a.end


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def cited(unit: str, n: int, as_lines: bool = False) -> str:
    """The unit with the marker [n] after each of its sentences ("… erstellt. [1] Sie dauerte
    … [1]"): every sentence of an answer carries its source. A heading introducing a list
    ("Schwerpunktthemen") is a label, not a statement: it leads with a colon and no marker.
    `as_lines`: the items of a quoted list each on a line of its own ("- Zensus 2022; [1]"),
    which Markdown shows as a list."""
    if table_header(unit):  # a whole table: a row per line, the header row first
        return "\n".join(f"- {row} [{n}]" for row in unit.split("\n"))
    heading = leading_heading(unit)
    out = f"{heading}:" if heading else ""
    previous_end = len(heading)
    for start, end in split_sentences(unit)[1 if heading else 0 :]:
        sentence = unit[start:end]
        if out and as_lines and "\n" in unit[previous_end:start]:
            marked = f"{sentence} [{n}]"
            out += "\n" + ("" if ENUMERATED.match(marked) else "- ") + marked
        else:
            out += (" " if out else "") + f"{sentence} [{n}]"
        previous_end = end
    return out


def join_cited(parts: Sequence[str]) -> str:
    """The cited units as one answer; a list stands apart from what precedes and follows."""
    text = parts[0] if parts else ""
    for previous, part in pairwise(parts):
        text += ("\n\n" if "\n" in previous or "\n" in part else " ") + part
    return text


def citation_for(n: int, passage: Passage, highlight: str = "") -> Citation:
    chunk = passage.chunk
    meta = chunk.meta
    return Citation(
        n=n,
        source=chunk.source,
        title=chunk.title,
        project=meta.project,
        project_name=meta.project_name,
        doc_type=meta.doc_type,
        date=meta.date,
        page=chunk.page_start,
        quote=chunk.text,
        highlight=highlight,
        score=round(passage.score, 6),
        chunk_id=chunk.id,
    )


@dataclass
class ExtractiveResult:
    text: str
    citations: list[Citation]
    abstained: bool
    reason: str
    evidence: float


class ExtractiveAnswerer:
    def __init__(
        self,
        embedder: Embedder,
        threshold: float,
        max_sentences: int,
        min_passage_similarity: float | None = None,
        is_boilerplate: Callable[[str, str], bool] | None = None,
    ) -> None:
        """`is_boilerplate(sentence, project)`: whether a sentence recurs across projects
        (a disclaimer, a funding notice); such sentences are never quoted."""
        self.embedder = embedder
        self.is_boilerplate = is_boilerplate
        self.threshold = threshold
        self.max_sentences = max_sentences
        if min_passage_similarity is None:
            min_passage_similarity = CALIBRATED_PASSAGE_SIMILARITY.get(embedder.space, 0.0)
        self.min_passage_similarity = min_passage_similarity

    def answer(
        self, question: str, query_embedding: Sequence[float], passages: Sequence[Passage]
    ) -> ExtractiveResult:
        if not passages:
            return ExtractiveResult(NO_PASSAGES_TEXT, [], True, "keine Treffer", 0.0)
        closest = max((p.dense_score or 0.0) for p in passages)
        if closest < self.min_passage_similarity:
            reason = (
                f"kein Abschnitt ähnlich genug ({closest:.2f} unter "
                f"{self.min_passage_similarity:.2f})"
            )
            return ExtractiveResult(ABSTAIN_TEXT, [], True, reason, 0.0)
        sentences = candidate_sentences(
            passages, set(analyze(question)), asked_field_kinds(question)
        )
        score_sentences(self.embedder, query_embedding, sentences)
        keep = self._not_boilerplate(passages)
        best = next(
            (s for s in sorted(sentences, key=lambda s: s.score, reverse=True) if keep(s)), None
        )
        evidence = best.score - best.bonus if best else 0.0  # as calibrated: no bonus
        if evidence < self.threshold:
            reason = f"Evidenz {evidence:.2f} unter der Schwelle {self.threshold:.2f}"
            return ExtractiveResult(ABSTAIN_TEXT, [], True, reason, evidence)
        chosen = select_sentences(sentences, self.max_sentences, keep=keep)
        numbers: dict[int, int] = {}
        highlights: dict[int, list[str]] = {}
        parts = []
        for sentence in chosen:
            n = numbers.setdefault(sentence.passage_index, len(numbers) + 1)
            highlights.setdefault(sentence.passage_index, []).append(sentence.text)
            parts.append(cited(sentence.text, n, as_lines=True))
        citations = [
            citation_for(n, passages[index], " … ".join(highlights[index]))
            for index, n in numbers.items()
        ]
        return ExtractiveResult(join_cited(parts), citations, False, "", evidence)

    def _not_boilerplate(self, passages: Sequence[Passage]) -> Callable[[ScoredSentence], bool]:
        """Whether a sentence may be quoted: not boilerplate recurring in other projects'
        documents (looked up only for sentences that could be chosen)."""
        is_boilerplate = self.is_boilerplate
        if is_boilerplate is None:
            return lambda sentence: True

        def keep(sentence: ScoredSentence) -> bool:
            project = passages[sentence.passage_index].chunk.meta.project or ""
            return not is_boilerplate(sentence.text, project)

        return keep

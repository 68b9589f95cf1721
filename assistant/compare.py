"""Cross-project comparisons ("Wie gehen die Modellvorhaben bei der Akteursbeteiligung vor?"):
the question is answered once per project from that project's documents, one line each, with
"keine Angaben" where a project's documents don't cover it."""

from __future__ import annotations

import time

from assistant.boilerplate import BoilerplateDetector, boilerplate_signature, recurring_signatures
from assistant.comparison_text import comparison_units
from assistant.dialogue import answer_kind, comparison_focus
from assistant.extractive import ScoredSentence, citation_for, cited, score_sentences
from assistant.projects import ProjectCatalog
from assistant.retrieval import HybridRetriever
from regiostrat.embedders import Embedder
from regiostrat.index.analyzer import analyze
from regiostrat.sentences import split_sentences
from regiostrat.settings import AnswerSettings
from regiostrat.types import Answer, Citation, Filters, Passage

# The line of a project whose documents don't answer the question (a statement about the
# documents, not a claim that needs a citation: eval.metrics leaves it out).
NO_INFORMATION = "keine Angaben in den Dokumenten von {label}."
COMPARE_PASSAGES = 5  # passages retrieved per project ...
COMPARE_PASSAGE_BUDGET = 16  # ... more when few projects are compared (16 in all) ...
COMPARE_MAX_PASSAGES = 8  # ... up to this many
COMPARE_BUDGET = 100  # units embedded per comparison (~13 ms each on 2 cores) ...
COMPARE_MIN_CANDIDATES = 8  # ... but at least this many per project ...
COMPARE_MAX_CANDIDATES = 20  # ... and at most this many
COMPARE_LEXICAL_WEIGHT = 0.08  # the section heading in each embedded unit carries the topic
# A project's best unit counts when it reaches abstain_threshold - COMPARE_THRESHOLD_OFFSET
# and lies within COMPARE_MARGIN of the comparison's best unit (e5: 0.86; tuned on the dev
# comparisons, "Wie gehen die Modellvorhaben bei der Akteursbeteiligung vor?" and questions
# like "Welche Modellvorhaben haben einen Rufbus?").
COMPARE_THRESHOLD_OFFSET = 0.02
COMPARE_MARGIN = 0.08
COMPARE_SECOND_MARGIN = 0.03  # a second sentence per project when nearly as good


class ComparisonAnswerer:
    """Answers a comparison question project by project, extractively."""

    def __init__(
        self,
        embedder: Embedder,
        retriever: HybridRetriever,
        catalog: ProjectCatalog,
        settings: AnswerSettings,
        boilerplate: BoilerplateDetector,
    ) -> None:
        self.embedder = embedder
        self.retriever = retriever
        self.catalog = catalog
        self.settings = settings
        self.boilerplate = boilerplate

    def answer(
        self,
        question: str,
        resolved: str,
        projects: list[str],
        filters: Filters,
        timings: dict[str, float],
    ) -> Answer:
        """One line per project with the sentence of its documents that answers the question,
        or "keine Angaben" where its documents don't cover it."""
        t0 = time.perf_counter()
        kind = answer_kind(resolved)
        # each fan-out is filtered by project: the names no longer tell passages apart
        asked = self.catalog.strip_mentions(resolved) or resolved
        # a quantity belongs to the project itself ("Wann ist das Vorhaben gestartet?"): then
        # the subject stays in the focus that is embedded ...
        focus = comparison_focus(asked, keep_subject=kind is not None)
        # ... but names every project alike: no term to search or match sentences by
        search = comparison_focus(asked)
        query_embedding = self.embedder.embed_query(focus)
        timings["embed_query"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        projects = projects[: self.settings.compare_max_projects]
        k = max(
            COMPARE_PASSAGES, min(COMPARE_MAX_PASSAGES, COMPARE_PASSAGE_BUDGET // len(projects))
        )
        per_project = {
            project: self.retriever.retrieve(
                search,
                filters.model_copy(update={"projects": [project]}),
                k=k,
                query_embedding=query_embedding,
            )
            for project in projects
        }
        all_passages = [p for passages in per_project.values() for p in passages]
        units = self._units(per_project, set(analyze(search)), kind)
        timings["retrieve"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        candidates = self._candidates(units)
        score_sentences(
            self.embedder,
            query_embedding,
            [unit for _, unit in candidates],
            [_in_context(unit, all_passages[unit.passage_index]) for _, unit in candidates],
        )
        chosen = self._choose(candidates)
        lines = ["Die Modellvorhaben im Vergleich:"]
        citations: list[Citation] = []
        for project in per_project:
            known = self.catalog.get(project)
            label = known.label if known else project
            picked = sorted(chosen.get(project, []), key=lambda c: (c.passage_index, c.start))
            if not picked:
                lines.append(f"- **{label}**: {NO_INFORMATION.format(label=label)}")
                continue
            parts: list[str] = []
            for sentence in picked:
                passage = all_passages[sentence.passage_index]
                existing = next((c for c in citations if c.chunk_id == passage.chunk.id), None)
                if existing is None:
                    existing = citation_for(len(citations) + 1, passage, sentence.text)
                    citations.append(existing)
                else:
                    existing.highlight += f" … {sentence.text}"
                # each sentence of a unit ("… erstellt. Sie dauerte …") carries the marker
                parts.append(cited(sentence.text, existing.n))
            lines.append(f"- **{label}**: " + " ".join(parts))
        timings["answer"] = time.perf_counter() - t0
        abstained = not citations
        return Answer(
            question=question,
            text="\n".join(lines),
            citations=citations,
            abstained=abstained,
            abstain_reason="kein Modellvorhaben mit belastbarer Evidenz" if abstained else "",
            # the best passage of each project first, then the second best, ...
            passages=[
                passage
                for rank in range(k)
                for passages in per_project.values()
                for passage in passages[rank : rank + 1]
            ],
            answerer="extractive-compare",
            extra={"compared_projects": list(per_project), "focus": focus},
        )

    @staticmethod
    def _units(
        per_project: dict[str, list[Passage]], terms: set[str], kind: str | None
    ) -> dict[str, list[ScoredSentence]]:
        """The quotable units of each project's passages (`passage_index` counts through the
        passages of all projects), without boilerplate that recurs across the projects."""
        boilerplate = recurring_signatures(
            [
                (project, boilerplate_signature(passage.chunk.text[start:end]))
                for project, passages in per_project.items()
                for passage in passages
                for start, end in split_sentences(passage.chunk.text)
            ]
        )
        units: dict[str, list[ScoredSentence]] = {}
        offset = 0
        for project, passages in per_project.items():
            found = comparison_units(
                passages, terms, kind, boilerplate, lexical_weight=COMPARE_LEXICAL_WEIGHT
            )
            for unit in found:
                unit.passage_index += offset
            units[project] = found
            offset += len(passages)
        return units

    @staticmethod
    def _candidates(
        units: dict[str, list[ScoredSentence]],
    ) -> list[tuple[str, ScoredSentence]]:
        """The units worth embedding, per project: those naming the question's terms or what
        it asks for first, then by passage rank and position, within a budget shared by the
        projects."""
        budget = max(
            COMPARE_MIN_CANDIDATES,
            min(COMPARE_MAX_CANDIDATES, COMPARE_BUDGET // max(len(units), 1)),
        )
        candidates: list[tuple[str, ScoredSentence]] = []
        for project, found in units.items():
            ranked = sorted(
                found,
                key=lambda u: (-(u.lexical + (1.0 if u.bonus else 0.0)), u.passage_index, u.start),
            )
            candidates.extend((project, unit) for unit in ranked[:budget])
        return candidates

    def _choose(
        self, candidates: list[tuple[str, ScoredSentence]]
    ) -> dict[str, list[ScoredSentence]]:
        """Per project its best unit, and a second one nearly as good: a unit counts when it is
        above an absolute floor and within a margin of the best unit of the whole comparison
        (a project whose best unit falls short gets "keine Angaben"). Boilerplate that recurs
        in other projects' documents is passed over."""
        floor = self.settings.abstain_threshold - COMPARE_THRESHOLD_OFFSET
        best: float | None = None
        chosen: dict[str, list[ScoredSentence]] = {}
        for project, unit in sorted(candidates, key=lambda c: c[1].score, reverse=True):
            if unit.score < floor or (best is not None and unit.score < best - COMPARE_MARGIN):
                break
            picked = chosen.setdefault(project, [])
            if picked and (
                len(picked) >= 2
                or unit.score < picked[0].score - COMPARE_SECOND_MARGIN
                or any(_overlaps(unit, other) for other in picked)
            ):
                continue
            if self.boilerplate.recurs_elsewhere(unit.text, project):
                continue
            picked.append(unit)
            if best is None:
                best = unit.score
        return {project: picked for project, picked in chosen.items() if picked}


def _in_context(unit: ScoredSentence, passage: Passage) -> str:
    """The unit as embedded: after the headings of its section ("3. Akteursbeteiligung und
    Netzwerkbildung › Dorfgespräche: Kern der Beteiligung sind …"), which name its topic."""
    section = " › ".join(p.strip() for p in passage.chunk.section.split("›") if p.strip())
    if not section or section in unit.text:
        return unit.text
    return f"{section}: {unit.text}"


def _overlaps(a: ScoredSentence, b: ScoredSentence) -> bool:
    if a.passage_index == b.passage_index and a.start < b.end and b.start < a.end:
        return True
    return len(a.terms & b.terms) > 0.7 * len(a.terms | b.terms)

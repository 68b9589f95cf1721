"""`Assistant`: a practitioner's question in, an `Answer` with verified citations out."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.dialogue import comparison_focus, comparison_projects, resolve_followup
from assistant.extractive import (
    ExtractiveAnswerer,
    ExtractiveResult,
    ScoredSentence,
    candidate_sentences,
    citation_for,
    score_sentences,
)
from assistant.projects import ProjectCatalog
from assistant.retrieval import HybridRetriever
from regiostrat.embedders import Embedder, create_embedder
from regiostrat.errors import IndexMissingError, LLMError
from regiostrat.index.analyzer import analyze
from regiostrat.index.store import IndexStore
from regiostrat.settings import Settings
from regiostrat.types import Answer, Citation, Filters, Passage, Turn

EMPTY_QUESTION_TEXT = "Bitte stellen Sie eine Frage."
NONSENSE_TEXT = (
    "Diese Eingabe enthält keine Begriffe, nach denen ich in den Dokumenten suchen kann. "
    "Bitte formulieren Sie eine Frage, z. B. „Wie wurde die Regionalanalyse erstellt?“"
)
FALLBACK_NOTICE = (
    "Das Sprachmodell war nicht erreichbar oder lieferte keine verwertbare Antwort "
    "({reason}); angezeigt wird die Antwort aus den Textstellen."
)
MAX_QUESTION_CHARS = 2000
COMPARE_THRESHOLD_OFFSET = 0.06
COMPARE_CANDIDATES = 4  # sentences embedded per project
COMPARE_SECOND_MARGIN = 0.03  # a second sentence per project when nearly as good


class LLMAnswerer(Protocol):
    """An answerer backed by a language model (see assistant.llm)."""

    def stream(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn]
    ) -> Iterator[str]: ...

    def finalize(
        self, text: str, question: str, passages: Sequence[Passage]
    ) -> tuple[str, list[Citation], bool]: ...


class Assistant:
    def __init__(
        self, settings: Settings, store: IndexStore, llm: LLMAnswerer | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder: Embedder = store.embedder
        self.retriever = HybridRetriever(store, settings.retrieval)
        self.extractive = ExtractiveAnswerer(
            self.embedder,
            settings.answer.abstain_threshold,
            settings.answer.max_sentences,
            settings.answer.min_passage_similarity,
        )
        self.llm = llm
        self.catalog = ProjectCatalog.from_documents(store.registry.documents())

    @classmethod
    def open(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> Assistant:
        settings = settings or Settings()
        if not IndexStore.exists(settings):
            raise IndexMissingError(
                f"Im Verzeichnis {settings.paths.data_dir} gibt es noch keinen Index. "
                "Aufbauen mit: regiostrat ingest corpus/documents"
            )
        store = IndexStore.open(settings, embedder or create_embedder(settings.embedder))
        llm = None
        if settings.answer.backend == "llm":
            from assistant.llm import ChatLLMAnswerer

            llm = ChatLLMAnswerer(settings.llm, store.embedder)
        return cls(settings, store, llm)

    def close(self) -> None:
        self.store.close()

    # -- public API -----------------------------------------------------------------------------
    def ask(
        self, question: str, history: list[Turn] | None = None, filters: Filters | None = None
    ) -> Answer:
        answer: Answer | None = None
        for event in self.ask_stream(question, history, filters):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(
        self, question: str, history: list[Turn] | None = None, filters: Filters | None = None
    ) -> Iterator[str | Answer]:
        """Yields the answer text as it grows, then the final `Answer`."""
        started = time.perf_counter()
        question = (question or "").strip()[:MAX_QUESTION_CHARS]
        if not question:
            yield Answer(
                question="", text=EMPTY_QUESTION_TEXT, abstained=True, abstain_reason="leere Frage"
            )
            return
        if not analyze(question):
            yield Answer(
                question=question,
                text=NONSENSE_TEXT,
                abstained=True,
                abstain_reason="keine Suchbegriffe",
            )
            return
        resolved = resolve_followup(question, history, self.catalog)
        filters = filters or Filters()
        query = resolved.text
        if len(resolved.projects) == 1 and not filters.projects:
            # a question about one model project is answered from its documents only
            filters = filters.model_copy(update={"projects": resolved.projects})
            query = self.catalog.strip_mentions(query) or query
        timings: dict[str, float] = {}
        compare = (
            []
            if filters.projects
            else comparison_projects(resolved.text, resolved.projects, self.catalog)
        )
        if compare:
            answer = self._compare(question, query, compare, filters, timings)
        else:
            t0 = time.perf_counter()
            query_embedding = self.embedder.embed_query(query)
            timings["embed_query"] = time.perf_counter() - t0
            answer = yield from self._answer(
                question, query, filters, history or [], query_embedding, timings
            )
        timings["total"] = time.perf_counter() - started
        answer.timings = {k: round(v, 4) for k, v in timings.items()}
        answer.resolved_question = resolved.text
        yield answer

    # -- single question --------------------------------------------------------------------------
    def _answer(
        self,
        question: str,
        resolved: str,
        filters: Filters,
        history: list[Turn],
        query_embedding: list[float],
        timings: dict[str, float],
    ) -> Iterator[str]:
        t0 = time.perf_counter()
        passages = self.retriever.retrieve(resolved, filters, query_embedding=query_embedding)
        timings["retrieve"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        notice = ""
        if self.llm is not None and passages:
            try:
                text = ""
                for delta in self.llm.stream(resolved, passages, history):
                    text += delta
                    yield text
                text, citations, abstained = self.llm.finalize(text, resolved, passages)
                timings["answer"] = time.perf_counter() - t0
                verification = getattr(self.llm, "last_verification", None)
                return Answer(
                    question=question,
                    text=text,
                    citations=citations,
                    abstained=abstained,
                    abstain_reason="Sprachmodell fand keine Antwort" if abstained else "",
                    notice=verification.notice if verification else "",
                    passages=list(passages),
                    answerer="llm",
                )
            except LLMError as exc:
                notice = FALLBACK_NOTICE.format(reason=exc)
        result = self.extractive.answer(resolved, query_embedding, passages)
        timings["answer"] = time.perf_counter() - t0
        yield result.text
        return self._to_answer(question, result, passages, notice)

    @staticmethod
    def _to_answer(
        question: str, result: ExtractiveResult, passages: list[Passage], notice: str = ""
    ) -> Answer:
        return Answer(
            question=question,
            text=result.text,
            citations=result.citations,
            abstained=result.abstained,
            abstain_reason=result.reason,
            notice=notice,
            passages=passages,
            answerer="extractive",
            extra={"evidence": round(result.evidence, 4)},
        )

    # -- cross-project comparison ------------------------------------------------------------
    def _compare(
        self,
        question: str,
        resolved: str,
        projects: list[str],
        filters: Filters,
        timings: dict[str, float],
    ) -> Answer:
        t0 = time.perf_counter()
        # each fan-out is filtered by project: the names no longer tell passages apart
        resolved = comparison_focus(self.catalog.strip_mentions(resolved) or resolved)
        query_embedding = self.embedder.embed_query(resolved)
        timings["embed_query"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        terms = set(analyze(resolved))
        per_project: dict[str, list[Passage]] = {}
        candidates: list[tuple[str, ScoredSentence]] = []
        all_passages: list[Passage] = []
        for project in projects[: self.settings.answer.compare_max_projects]:
            scoped = filters.model_copy(update={"projects": [project]})
            passages = self.retriever.retrieve(
                resolved, scoped, k=3, query_embedding=query_embedding
            )
            per_project[project] = passages
            offset = len(all_passages)
            all_passages.extend(passages)
            for sentence in candidate_sentences(passages, terms)[:COMPARE_CANDIDATES]:
                sentence.passage_index += offset
                candidates.append((project, sentence))
        timings["retrieve"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        score_sentences(self.embedder, query_embedding, [s for _, s in candidates])
        # a comparison's focus ("Akteursbeteiligung") is shorter than a question, so its
        # similarities run lower: the per-project threshold is relaxed accordingly
        threshold = self.settings.answer.abstain_threshold - COMPARE_THRESHOLD_OFFSET
        chosen: dict[str, list[ScoredSentence]] = {}
        for project, sentence in sorted(candidates, key=lambda c: c[1].score, reverse=True):
            picked = chosen.setdefault(project, [])
            if sentence.score >= threshold and (
                not picked
                or (len(picked) < 2 and sentence.score >= picked[0].score - COMPARE_SECOND_MARGIN)
            ):
                picked.append(sentence)
        lines = ["Die Modellvorhaben im Vergleich:"]
        citations: list[Citation] = []
        for project in per_project:
            label = self.catalog.get(project).label if self.catalog.get(project) else project
            picked = sorted(chosen.get(project, []), key=lambda c: (c.passage_index, c.start))
            if not picked:
                lines.append(f"- **{label}**: keine Angaben in den Dokumenten von {label}.")
                continue
            parts = []
            for sentence in picked:
                passage = all_passages[sentence.passage_index]
                existing = next((c for c in citations if c.chunk_id == passage.chunk.id), None)
                if existing is None:
                    existing = citation_for(len(citations) + 1, passage, sentence.text)
                    citations.append(existing)
                else:
                    existing.highlight += f" … {sentence.text}"
                parts.append(f"{sentence.text} [{existing.n}]")
            lines.append(f"- **{label}**: " + " ".join(parts))
        timings["answer"] = time.perf_counter() - t0
        abstained = not citations
        return Answer(
            question=question,
            text="\n".join(lines),
            citations=citations,
            abstained=abstained,
            abstain_reason="kein Modellvorhaben mit belastbarer Evidenz" if abstained else "",
            passages=all_passages,
            answerer="extractive-compare",
            extra={"compared_projects": list(per_project)},
        )

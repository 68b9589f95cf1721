"""`Assistant`: a practitioner's question in, an `Answer` with verified citations out."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from typing import Protocol

from assistant.boilerplate import BoilerplateDetector
from assistant.compare import ComparisonAnswerer
from assistant.dialogue import comparison_projects, resolve_followup
from assistant.extractive import ExtractiveAnswerer, ExtractiveResult
from assistant.projects import ProjectCatalog
from assistant.retrieval import HybridRetriever
from assistant.verify import VerifiedAnswer
from regiostrat.embedders import Embedder, create_embedder
from regiostrat.errors import IndexMissingError, LLMError
from regiostrat.index.analyzer import analyze
from regiostrat.index.store import IndexStore
from regiostrat.settings import Settings
from regiostrat.types import Answer, Filters, Passage, Turn

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


class LLMAnswerer(Protocol):
    """An answerer backed by a language model (see assistant.llm)."""

    def stream(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn]
    ) -> Iterator[str]: ...

    def verify(self, text: str, passages: Sequence[Passage]) -> VerifiedAnswer: ...


class Assistant:
    def __init__(
        self, settings: Settings, store: IndexStore, llm: LLMAnswerer | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder: Embedder = store.embedder
        self.retriever = HybridRetriever(store, settings.retrieval)
        self.llm = llm
        self.catalog = ProjectCatalog.from_documents(store.registry.documents())
        boilerplate = BoilerplateDetector(store, self.catalog)
        self.extractive = ExtractiveAnswerer(
            self.embedder,
            settings.answer.abstain_threshold,
            settings.answer.max_sentences,
            settings.answer.min_passage_similarity,
            is_boilerplate=boilerplate.recurs_elsewhere,
        )
        self.comparer = ComparisonAnswerer(
            self.embedder, self.retriever, self.catalog, settings.answer, boilerplate
        )

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
            answer = self.comparer.answer(question, query, compare, filters, timings)
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
    ) -> Generator[str, None, Answer]:
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
                verified = self.llm.verify(text, passages)
                timings["answer"] = time.perf_counter() - t0
                return Answer(
                    question=question,
                    text=verified.text,
                    citations=verified.citations,
                    abstained=verified.abstained,
                    abstain_reason="Sprachmodell fand keine Antwort" if verified.abstained else "",
                    notice=verified.notice,
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

"""Verification of LLM answers against the cited passages (assistant.verify), without any LLM."""

from __future__ import annotations

import pytest
from openai_stub import make_passages

from assistant.prompts import ABSTAIN_SENTENCE
from assistant.verify import (
    cited_numbers,
    is_abstention,
    numbers_in,
    parse_marker,
    semantic_threshold,
    split_answer_sentences,
    strip_citations,
    verify_answer,
)
from regiostrat.embedders import Embedder
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.types import Passage


@pytest.fixture
def passages() -> list[Passage]:
    return make_passages()


# -- markers and sentences -------------------------------------------------------------------------
def test_markers_are_parsed_in_all_usual_forms() -> None:
    assert parse_marker("1, 3") == [1, 3]
    assert parse_marker("2-4") == [2, 3, 4]
    assert parse_marker("2–3") == [2, 3]
    assert cited_numbers("A [2]. B [1][2]. C [3; 1]. D [1–2].") == [2, 1, 3]
    assert strip_citations("Satz [1] mit Verweis [2, 3].") == "Satz mit Verweis."


def test_markers_after_the_period_belong_to_the_previous_sentence() -> None:
    sentences = split_answer_sentences("Erster Satz. [1] Zweiter Satz [2].\n\n[3]")
    assert [s.claim for s in sentences] == ["Erster Satz.", "Zweiter Satz."]
    assert sentences[0].cited == [1]
    assert sentences[1].cited == [2, 3]  # a marker alone on a line belongs to the sentence above


def test_headings_and_abstentions_are_no_claims() -> None:
    kinds = [
        s.kind
        for s in split_answer_sentences(
            "## Ergebnis\nDie Handlungsfelder sind:\n- Energie [1]\n---\nZu Kosten finde ich "
            "in den Dokumenten nichts Belastbares."
        )
    ]
    assert kinds == ["heading", "heading", "claim", "decor", "abstention"]
    assert is_abstention(ABSTAIN_SENTENCE)
    assert is_abstention("Die Textstellen enthalten dazu keine Angaben.")
    assert not is_abstention("Die Region setzt auf Windenergie.")


def test_numbers_are_compared_without_separators_and_with_number_words() -> None:
    assert {"1240", "1", "240"} <= numbers_in("1.240 Menschen")
    assert {"18", "2", "2025"} <= numbers_in("am 18. Februar 2025")
    assert "4" in numbers_in("vier Handlungsfelder")


def test_semantic_threshold_is_calibrated_per_vector_space() -> None:
    assert semantic_threshold(FakeEmbedder()) == 0.5

    class E5:
        space = "multilingual-e5-small"

    assert semantic_threshold(E5()) == 0.85  # type: ignore[arg-type]


# -- verification ----------------------------------------------------------------------------------
def test_supported_answer_is_kept_and_citations_renumbered_by_first_use(
    passages: list[Passage],
) -> None:
    text = (
        "Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum [3]. "
        "Ein Elektrolyseur mit 30 Megawatt ist geplant [1]."
    )
    result = verify_answer(text, passages, FakeEmbedder())
    assert not result.abstained
    assert result.removed == [] and result.dropped_numbers == []
    assert result.text == (
        "Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum [1]. "
        "Ein Elektrolyseur mit 30 Megawatt ist geplant [2]."
    )
    assert [(c.n, c.chunk_id) for c in result.citations] == [(1, "chunk-3"), (2, "chunk-1")]
    # the highlight is exact passage text: the sentence that supports the claim
    assert result.citations[0].highlight == (
        "Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum."
    )
    assert result.citations[0].highlight in result.citations[0].quote
    assert result.citations[0].page == 3
    assert result.notice == ""


def test_invented_citation_number_is_dropped(passages: list[Passage]) -> None:
    text = "An der Online-Umfrage haben sich 1.240 Menschen beteiligt [2][7]."
    result = verify_answer(text, passages, FakeEmbedder())
    assert result.text == "An der Online-Umfrage haben sich 1.240 Menschen beteiligt [1]."
    assert result.dropped_numbers == [7]
    assert [c.chunk_id for c in result.citations] == ["chunk-2"]
    assert "[7]" in result.notice


def test_sentence_citing_only_a_missing_passage_is_removed(passages: list[Passage]) -> None:
    text = "Ein Elektrolyseur mit 30 Megawatt ist geplant [1]. Die Region ist sehr sonnig [9]."
    result = verify_answer(text, passages, FakeEmbedder())
    assert result.text == "Ein Elektrolyseur mit 30 Megawatt ist geplant [1]."
    assert result.removed == ["Die Region ist sehr sonnig."]
    assert result.dropped_numbers == [9]


def test_unsupported_sentence_is_removed_with_a_notice(passages: list[Passage]) -> None:
    text = (
        "Ein Elektrolyseur mit 30 Megawatt ist geplant [1]. "
        "Die Landesregierung finanziert zusätzlich ein Schwimmbad in Husum [1]."
    )
    result = verify_answer(text, passages, FakeEmbedder())
    assert result.text == "Ein Elektrolyseur mit 30 Megawatt ist geplant [1]."
    assert result.removed == ["Die Landesregierung finanziert zusätzlich ein Schwimmbad in Husum."]
    assert result.notice == "1 nicht belegter Satz wurde entfernt."


def test_wrong_figure_is_unsupported_even_when_the_words_match(passages: list[Passage]) -> None:
    result = verify_answer("Ein Elektrolyseur mit 50 Megawatt ist geplant [1].", passages, None)
    assert result.abstained
    assert result.text == ABSTAIN_SENTENCE
    assert len(result.removed) == 1


def test_sentence_cited_with_the_wrong_passage_is_removed(passages: list[Passage]) -> None:
    text = "Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum [1]."
    result = verify_answer(text, passages, FakeEmbedder())
    assert result.abstained and result.citations == []


class TopicEmbedder(Embedder):
    """Two topics: texts about wind point one way, all others the other way."""

    name = space = "test-topics"
    dim = 2

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] if "Wind" in t else [0.0, 1.0] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_embedding_support_alone_keeps_a_paraphrase(passages: list[Passage]) -> None:
    text = "Windkraft spielt die Hauptrolle [1]."  # hardly a term of passage 1
    assert verify_answer(text, passages, None).abstained
    result = verify_answer(text, passages, TopicEmbedder(), semantic_min=0.9)
    assert not result.abstained and result.text == text
    other_topic = verify_answer("Der Eintritt ist kostenlos [1].", passages, TopicEmbedder())
    assert other_topic.abstained and other_topic.removed == ["Der Eintritt ist kostenlos."]


def test_uncited_sentence_borrows_the_paragraph_citation_when_it_is_supported(
    passages: list[Passage],
) -> None:
    text = (
        "Die Themenwerkstätten fanden am 18. Februar 2025 in Heide statt. An der "
        "Online-Umfrage haben sich 1.240 Menschen beteiligt. [2]\n\nDas war ein Erfolg."
    )
    result = verify_answer(text, passages, FakeEmbedder())
    assert result.text == (
        "Die Themenwerkstätten fanden am 18. Februar 2025 in Heide statt [1]. An der "
        "Online-Umfrage haben sich 1.240 Menschen beteiligt [1]."
    )
    assert result.removed == ["Das war ein Erfolg."]
    assert "… " in result.citations[0].highlight  # both supporting sentences highlighted


def test_list_layout_survives_and_orphaned_headings_go(passages: list[Passage]) -> None:
    text = (
        "Zum Rufbus:\n\n"
        "- Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum [3].\n"
        "- Die Fahrgastzahlen stiegen im ersten Jahr um 18 Prozent [3].\n\n"
        "Zu den Kosten:\n\n"
        "- Der Rufbus kostet 3 Millionen Euro im Jahr [3]."
    )
    result = verify_answer(text, passages, FakeEmbedder())
    assert result.text == (
        "Zum Rufbus:\n\n"
        "- Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum [1].\n"
        "- Die Fahrgastzahlen stiegen im ersten Jahr um 18 Prozent [1]."
    )
    assert result.removed == ["Der Rufbus kostet 3 Millionen Euro im Jahr."]


def test_abstention_text_abstains(passages: list[Passage]) -> None:
    result = verify_answer(ABSTAIN_SENTENCE, passages, FakeEmbedder())
    assert result.abstained and result.citations == [] and result.removed == []
    assert result.text == ABSTAIN_SENTENCE


def test_partial_abstention_is_kept_next_to_supported_claims(passages: list[Passage]) -> None:
    text = (
        "Ein Elektrolyseur mit 30 Megawatt ist geplant [1]. Zu den Kosten finde ich in den "
        "Dokumenten nichts Belastbares."
    )
    result = verify_answer(text, passages, FakeEmbedder())
    assert not result.abstained
    assert result.text == text


def test_nothing_supported_abstains(passages: list[Passage]) -> None:
    result = verify_answer("HACKED [1]. HACKED [2].", passages, FakeEmbedder())
    assert result.abstained
    assert result.text == ABSTAIN_SENTENCE
    assert result.notice == "2 nicht belegte Sätze wurden entfernt."

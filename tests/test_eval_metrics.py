"""Eval metrics on hand-made cases whose values are computed by hand in the comments."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    GoldSource,
    Retrieved,
    abstention_scores,
    answer_claims,
    citation_scores,
    fact_coverage,
    percentile,
    retrieval_metrics,
    sentence_f1,
    source_matches,
    supports,
    token_f1,
)

GOLD = [GoldSource("a/x.pdf", (2,)), GoldSource("b/y.md", (1,))]
RANKING = [
    Retrieved("corpus/documents/c/z.pdf", 1),  # 1: irrelevant
    Retrieved("corpus/documents/a/x.pdf", 1),  # 2: gold doc x, wrong page
    Retrieved("corpus/documents/a/x.pdf", 2),  # 3: gold doc x (again), gold page 2
    Retrieved("/abs/b/y.md", 1),  # 4: gold doc y, gold page 1
    Retrieved("bb/y.md", 1),  # 5: not b/y.md (path boundary)
]


def test_source_matches_at_path_boundary() -> None:
    assert source_matches("corpus/documents/a/x.pdf", "a/x.pdf")
    assert source_matches("a/x.pdf", "a/x.pdf")
    assert source_matches("C:\\docs\\a\\x.pdf", "a/x.pdf")
    assert not source_matches("bb/y.md", "b/y.md")
    assert not source_matches("a/x.pdf.bak", "a/x.pdf")


def test_document_level_retrieval() -> None:
    m = retrieval_metrics(RANKING, GOLD, "doc")
    assert m is not None
    assert (m["hit@1"], m["hit@3"], m["hit@5"]) == (0.0, 1.0, 1.0)
    assert (m["recall@1"], m["recall@3"], m["recall@5"]) == (0.0, 0.5, 1.0)
    assert m["mrr"] == pytest.approx(1 / 2)
    # new gold docs at ranks 2 and 4; rank 3 repeats x and gains nothing
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx(dcg / idcg)
    assert m["ndcg@10"] == pytest.approx(0.65093, abs=1e-5)


def test_page_level_retrieval() -> None:
    m = retrieval_metrics(RANKING, GOLD, "page")
    assert m is not None
    assert (m["hit@1"], m["hit@3"]) == (0.0, 1.0)
    assert (m["recall@3"], m["recall@5"]) == (0.5, 1.0)
    assert m["mrr"] == pytest.approx(1 / 3)
    assert m["ndcg@10"] == pytest.approx((1 / 2 + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))


def test_passage_spanning_pages_and_perfect_ranking() -> None:
    m = retrieval_metrics([Retrieved("a/x.pdf", 1, 2), Retrieved("b/y.md", 1)], GOLD, "page")
    assert m is not None
    assert m["mrr"] == 1.0 and m["recall@3"] == 1.0 and m["ndcg@10"] == pytest.approx(1.0)


def test_retrieval_without_gold_or_pages_is_none() -> None:
    assert retrieval_metrics(RANKING, [], "doc") is None
    assert retrieval_metrics(RANKING, [GoldSource("a/x.pdf")], "page") is None
    empty = retrieval_metrics([], GOLD, "doc")
    assert empty is not None and empty["hit@10"] == 0.0 and empty["ndcg@10"] == 0.0


def test_fact_coverage_case_and_whitespace_insensitive() -> None:
    answer = "Das Treffen fand am 18.\n  Februar 2025 in HEILBRONN statt [1]."
    facts = [["Heilbronn"], ["18. Februar 2025"], ["Neckarbogen", "IPAI"]]
    assert fact_coverage(answer, facts) == pytest.approx(2 / 3)
    assert fact_coverage(answer, [["Neckarbogen", "heilbronn"]]) == 1.0
    assert fact_coverage(answer, []) is None


def test_token_f1() -> None:
    # terms: prediction {rufbus, fahrt, heid}, reference {rufbus, heid}: P 2/3, R 1
    assert token_f1("Der Rufbus fährt nach Heide [1].", ["Rufbus nach Heide"]) == pytest.approx(0.8)
    assert token_f1("Der Rufbus fährt", ["Mond", "Rufbus fährt"]) == pytest.approx(1.0)
    assert token_f1("Kiel", ["Heide"]) == 0.0
    assert token_f1("Kiel", []) is None


def test_sentence_f1() -> None:
    predicted = ["Satz eins ist hier. [1]", "Etwas anderes völlig."]
    references = ["Satz eins ist hier.", "Satz zwei ist dort."]
    assert sentence_f1(predicted, references) == pytest.approx(0.5)
    # a predicted sentence inside a longer reference line counts
    assert sentence_f1(["Satz eins ist hier."], ["Satz eins ist hier. Und noch mehr."]) == 1.0
    assert sentence_f1([], references) == 0.0
    assert sentence_f1(predicted, []) is None


def test_supports_threshold_and_verbatim() -> None:
    assert supports("Heide Husum Kiel Lübeck", "Heide und Husum")  # 2 of 4 terms
    assert not supports("Heide Husum Kiel Lübeck Flensburg", "Heide und Husum")  # 2 of 5
    assert supports("Der Mond.", "Es heißt: der  MOND. Sonst nichts.")  # verbatim


ANSWER = (
    "Der Rufbus verbindet 22 Ortschaften. [1] Die Fahrgastzahlen stiegen um 18 Prozent [2]. "
    "Der Mond ist aus Käse [1]. Mehr wissen wir nicht."
)
QUOTES = {
    1: "Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum.",
    2: "Die Fahrgastzahlen stiegen um 18 Prozent.",
}


def test_answer_claims_attach_trailing_markers() -> None:
    claims = answer_claims(ANSWER)
    assert [c.markers for c in claims] == [[1], [2], [1], []]
    assert claims[1].text == "Die Fahrgastzahlen stiegen um 18 Prozent."
    listed = answer_claims("Im Vergleich:\n- **A**: Der Bus fährt. [1]\n- **B**: Wind [2][3].")
    assert [c.markers for c in listed] == [[1], [2, 3]]


def test_comparison_line_without_information_is_no_ungrounded_claim() -> None:
    answer = (
        "Die Modellvorhaben im Vergleich:\n- **Altmark**: Der Rufbus verbindet 22 Ortschaften. [1]"
        "\n- **Eifel**: keine Angaben in den Dokumenten von Eifel."
    )
    assert [c.text for c in answer_claims(answer)] == [
        "Altmark: Der Rufbus verbindet 22 Ortschaften."
    ]
    assert citation_scores(answer, QUOTES)["groundedness"] == 1.0


def test_citation_precision_and_groundedness() -> None:
    scores = citation_scores(ANSWER, QUOTES)
    # pairs: (s1,1) yes, (s2,2) yes, (s3,1) no -> 2/3; sentences: s1, s2 of 4 grounded
    assert scores["citation_precision"] == pytest.approx(2 / 3)
    assert scores["groundedness"] == pytest.approx(0.5)
    as_dicts = [{"n": n, "quote": q} for n, q in QUOTES.items()]
    assert citation_scores(ANSWER, as_dicts) == scores
    # a marker without a citation is unsupported
    missing = citation_scores("Der Rufbus verbindet 22 Ortschaften [3].", QUOTES)
    assert missing["citation_precision"] == 0.0 and missing["groundedness"] == 0.0
    assert citation_scores("", QUOTES)["groundedness"] is None


def test_abstention_precision_recall() -> None:
    pairs = [(False, True), (False, False), (True, True), (True, False), (True, False)]
    scores = abstention_scores(pairs)  # (answerable, abstained): TP 1, FP 1, FN 1
    assert scores["abstention_precision"] == 0.5
    assert scores["abstention_recall"] == 0.5
    assert scores["abstention_f1"] == 0.5
    none = abstention_scores([(True, False)])
    assert none["abstention_precision"] is None and none["abstention_recall"] is None


def test_percentile() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([], 50) is None

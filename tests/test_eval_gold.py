"""Loading gold questions, feedback exports and benchmark adapters into `EvalItem`s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, shared_path

from eval.benchmarks import doc_filename, get_benchmark, hash_split
from eval.gold import (
    EvalInputError,
    EvalItem,
    is_feedback_file,
    load_feedback,
    load_gold,
    subsample,
)
from eval.metrics import GoldSource
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.settings import Settings

GOLD_YAML = """
- id: t-001
  question: "Wie viele Ortschaften verbindet der Rufbus?"
  kind: number
  split: dev
  sources:
    - file: mobil.txt
      pages: [1]
  facts:
    - ["22 Ortschaften", "zweiundzwanzig"]
- id: t-002
  question: "Und seit wann?"
  kind: followup
  split: test
  history:
    - question: "Was ist der Rufbus?"
      answer: "Ein Bus auf Bestellung."
  sources:
    - file: mobil.txt
      pages: [1, 2]
  facts:
    - ["1. April 2024"]
- id: t-003
  question: "Wer regiert Frankreich?"
  kind: unanswerable
  split: dev
  sources: []
  facts: []
"""


def test_load_gold_file_folder_and_split(tmp_path: Path) -> None:
    folder = tmp_path / "questions" / "parts"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(GOLD_YAML, encoding="utf-8")
    items = load_gold(tmp_path / "questions")
    assert [i.id for i in items] == ["t-001", "t-002", "t-003"]
    first, followup, unanswerable = items
    assert first.sources == [GoldSource("mobil.txt", (1,))]
    assert first.facts == [["22 Ortschaften", "zweiundzwanzig"]]
    assert followup.history[0].answer == "Ein Bus auf Bestellung."
    assert unanswerable.answerable is False and first.answerable is True
    assert [i.id for i in load_gold(folder / "a.yaml", split="dev")] == ["t-001", "t-003"]
    # the same question in a combined file and its part is read once
    (tmp_path / "questions" / "all.yaml").write_text(GOLD_YAML, encoding="utf-8")
    assert len(load_gold(tmp_path / "questions")) == 3


def test_gold_errors_name_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x-1\n  kind: fact\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"bad\.yaml.*'question'"):
        load_gold(bad)
    bad.write_text("- id: x-1\n  question: [unclosed\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"bad\.yaml, Zeile"):
        load_gold(bad)
    other = tmp_path / "other.yaml"
    other.write_text("- id: x-1\n  question: Eine andere Frage?\n", encoding="utf-8")
    bad.write_text("- id: x-1\n  question: Erste Frage?\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="x-1 kommt doppelt"):
        load_gold(tmp_path)


def test_repository_gold_set_loads() -> None:
    folder = REPO / "eval" / "questions"
    if not any(folder.rglob("*.yaml")):
        pytest.skip("no gold questions yet")
    items = load_gold(folder)
    assert items and all(i.question for i in items)
    assert all(i.sources for i in items if i.answerable)


def test_subsample_spreads_evenly() -> None:
    items = [EvalItem(id=str(i), question=f"F{i}?") for i in range(10)]
    assert [i.id for i in subsample(items, 4)] == ["0", "2", "5", "7"]
    assert subsample(items, None) == items and subsample(items, 20) == items


def test_feedback_export(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    rows = [
        {"question": "A?", "answer": "Antwort [1].", "citations": [{"n": 1, "quote": "Antwort"}],
         "rating": "up"},
        {"question": "B?", "answer": "Falsch [1].", "citations": [], "rating": "down",
         "comment": "stimmt nicht"},
        {"question": "C?", "answer": "", "citations": [], "rating": -1},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert is_feedback_file(path)
    loaded = load_feedback(path)
    assert [r.rating for r in loaded] == ["up", "down", "down"]
    assert loaded[1].comment == "stimmt nicht" and loaded[0].citations[0]["n"] == 1
    path.write_text('{"question": "A?", "rating": "up"}\n{kaputt\n', encoding="utf-8")
    with pytest.raises(EvalInputError, match="Zeile 2"):
        load_feedback(path)


def _fake_omos(folder: Path) -> Path:
    bench = folder / "omos-qa"
    bench.mkdir(parents=True)
    corpus = [
        {"doc_id": "stadt_1", "text": "Müll\nDer Müll wird montags abgeholt.\nDie Tonne ist grau."},
        {"doc_id": "stadt_2", "text": "Bücherei\nDie Bücherei öffnet um 9 Uhr.\nSie ist frei."},
    ]
    queries = [
        {"qid": "1", "question": "Wann wird der Müll abgeholt?", "relevant_doc_ids": ["stadt_1"],
         "answers": ["Der Müll wird montags abgeholt."], "answer_sentence_idx": [1],
         "answerable": True, "split": "dev"},
        {"qid": "2", "question": "Wann öffnet die Bücherei?", "relevant_doc_ids": ["stadt_2"],
         "answers": ["Die Bücherei öffnet um 9 Uhr."], "answer_sentence_idx": [1],
         "answerable": True, "split": "test"},
        {"qid": "3", "question": "Was kostet der Bus?", "relevant_doc_ids": ["stadt_2"],
         "answers": [], "answer_sentence_idx": [], "answerable": False, "split": "dev"},
    ]  # fmt: skip
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        (bench / name).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    return folder


def test_omos_adapter_items(tmp_path: Path) -> None:
    bench = get_benchmark("omos-qa", _fake_omos(tmp_path / "benchmarks"))
    items = bench.items("dev")
    assert [i.id for i in items] == ["omos-qa:1", "omos-qa:3"]
    assert items[0].sources == [GoldSource("stadt_1.txt")]
    assert items[0].reference_sentences == ["Der Müll wird montags abgeholt."]
    assert items[1].answerable is False and items[1].kind == "unanswerable"
    assert items[1].sources == []
    assert len(bench.items(limit=1)) == 1
    docs = dict(bench.documents())
    assert docs["stadt_1.txt"] == "Müll\n\nDer Müll wird montags abgeholt.\n\nDie Tonne ist grau."


def test_doc_filenames_and_hash_split() -> None:
    assert doc_filename("muenchen_5535006") == "muenchen_5535006.txt"
    assert doc_filename("regelungsrahmen/ort/Satzung.md") == "regelungsrahmen/ort/Satzung.md"
    assert doc_filename("../../etc/passwd") == "etc/passwd.txt"
    assert hash_split("abc") == hash_split("abc") in ("dev", "test")


def test_benchmark_index_is_built_once(tmp_path: Path, settings: Settings) -> None:
    bench = get_benchmark("omos-qa", _fake_omos(tmp_path / "benchmarks"))
    embedder = FakeEmbedder()
    calls: list[int] = []
    bench_settings, built = bench.ensure_index(settings, embedder, lambda d, t: calls.append(d))
    assert built and calls == [1, 2]
    assert "benchmarks/omos-qa/index-fake-hashing" in bench_settings.paths.data_dir.as_posix()
    assert embedder.texts_embedded > 0
    embedded = embedder.texts_embedded
    again, built_again = bench.ensure_index(settings, embedder)
    assert not built_again and embedder.texts_embedded == embedded
    assert again.paths.data_dir == bench_settings.paths.data_dir


@pytest.mark.shared
def test_shared_benchmarks_load() -> None:
    root = shared_path("benchmarks")
    omos = get_benchmark("omos-qa", root)
    dev = omos.items("dev")
    assert len(dev) == 193
    answerable = [i for i in dev if i.answerable]
    assert answerable and all(i.reference_sentences for i in answerable)
    xquad = get_benchmark("xquad-de", root).items("test", limit=5)
    assert len(xquad) == 5 and all(i.facts for i in xquad)
    rag = get_benchmark("ragsource-bw", root).items(limit=3)
    assert all(i.sources[0].file.endswith(".md") for i in rag)


def test_feedback_store_export_is_accepted(tmp_path: Path) -> None:
    feedback = pytest.importorskip("assistant.web.feedback")
    store = feedback.FeedbackStore(tmp_path / "feedback.sqlite")
    try:
        citation = {"n": 1, "source": "a.md", "title": "A", "page": 1, "quote": "Der Bus fährt."}
        store.add(question="Fährt der Bus?", answer="Der Bus fährt. [1]", rating=1,
                  citations=[citation])  # fmt: skip
        store.add(question="Wer zahlt?", answer="Dazu finde ich nichts.", rating=-1,
                  comment="fehlt", abstained=True)  # fmt: skip
        store.export_jsonl(tmp_path / "export.jsonl")
    finally:
        store.close()
    assert is_feedback_file(tmp_path / "export.jsonl")
    rows = load_feedback(tmp_path / "export.jsonl")
    assert [(r.rating, r.abstained, r.comment) for r in rows] == [
        ("up", False, ""),
        ("down", True, "fehlt"),
    ]
    assert rows[0].citations[0]["quote"] == "Der Bus fährt." and rows[0].timestamp

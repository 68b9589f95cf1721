"""`regiostrat eval` end to end on a tiny gold set over a tiny index (fake embedder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.service import Assistant
from eval.report import check_thresholds, compare_runs, render_html, svg_bars, svg_histogram
from ingest.pipeline import ingest_paths
from regiostrat.cli import main
from regiostrat.embedders.fake import FakeEmbedder
from regiostrat.settings import EmbedderSettings, PathSettings, Settings

DOCS = {
    "mv01/bericht.md": "# Zwischenbericht Westküste\n\nDie Region setzt auf Windenergie und "
    "Wasserstoff. Ein Elektrolyseur mit 30 Megawatt ist in Heide geplant.\n\n## Beteiligung\n\n"
    "An der Online-Umfrage haben sich 1.240 Menschen beteiligt. Die Themenwerkstätten fanden "
    "in Heide statt.\n",
    "mobil.txt": "Mobilität im ländlichen Raum\n\nDer Rufbus verbindet 22 Ortschaften mit dem "
    "Mittelzentrum. Die Fahrgastzahlen stiegen um 18 Prozent.\n\nDer Rufbus fährt seit dem "
    "1. April 2024 und wird per App gebucht.\n",
}
GOLD = """
- id: g-1
  question: "Wie viele Ortschaften verbindet der Rufbus?"
  kind: number
  split: dev
  sources: [{file: mobil.txt, pages: [1]}]
  facts: [["22 Ortschaften"]]
- id: g-2
  question: "Wie viele Menschen haben sich an der Online-Umfrage beteiligt?"
  kind: number
  split: dev
  sources: [{file: mv01/bericht.md, pages: [1]}]
  facts: [["1.240"]]
- id: g-3
  question: "Welcher Elektrolyseur ist in Heide geplant?"
  kind: fact
  split: test
  sources: [{file: mv01/bericht.md, pages: [1]}]
  facts: [["30 Megawatt"], ["Windpark Nord"]]
- id: g-4
  question: "Wer ist Präsident von Frankreich?"
  kind: unanswerable
  split: test
  sources: []
  facts: []
"""


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eval-index")
    for name, text in DOCS.items():
        path = root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    settings = Settings(
        paths=PathSettings(data_dir=root / "index"), embedder=EmbedderSettings(backend="fake")
    )
    report = ingest_paths([root / "docs"], settings, FakeEmbedder())
    assert not report.failed
    return root / "index"


@pytest.fixture
def env(tiny_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(tiny_index))
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    monkeypatch.setenv("REGIOSTRAT_ANSWER__ABSTAIN_THRESHOLD", "0.3")
    monkeypatch.setenv("REGIOSTRAT_LLM__API_KEY", "geheim-123")
    gold = tmp_path / "gold.yaml"
    gold.write_text(GOLD, encoding="utf-8")
    return gold


def _count_asks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    original = Assistant.ask

    def counting(self: Assistant, question: str, *args: object, **kwargs: object) -> object:
        asked.append(question)
        return original(self, question, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Assistant, "ask", counting)
    return asked


def test_eval_writes_run_json_and_report(env: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["eval", str(env), "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["n_done"] == 4 and len(run["per_question"]) == 4
    assert "geheim" not in json.dumps(run) and "api_key" not in run["settings"]["llm"]
    assert run["settings"]["embedder"]["backend"] == "fake"
    by_id = {q["id"]: q for q in run["per_question"]}
    first = by_id["g-1"]["metrics"]
    assert first["doc.hit@1"] == 1.0 and first["page.mrr"] == 1.0
    assert first["fact_coverage"] == 1.0 and first["groundedness"] == 1.0
    assert first["citation_precision"] == 1.0
    assert by_id["g-3"]["metrics"]["fact_coverage"] == 0.5
    assert by_id["g-4"]["abstained"] is True
    assert len(by_id["g-1"]["retrieved"]) >= 3  # every chunk of the tiny index
    overall = run["aggregate"]["overall"]
    assert overall["n"] == 4 and overall["abstention_recall"] == 1.0
    assert overall["latency_p50"] is not None and overall["latency_p95"] >= overall["latency_p50"]
    assert set(run["aggregate"]["by_kind"]) == {"number", "fact", "unanswerable"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "<svg" in html
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "Schwächste Fragen" in html and "Wer ist Präsident von Frankreich?" in html
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4


def test_split_limit_and_fail_under(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dev"
    gates = ["--fail-under", "doc.hit@1=0.5", "--fail-under", "fact_coverage:number=0.9"]
    code = main(["eval", str(env), "--split", "dev", "--out", str(out), *gates])
    assert code == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {q["id"] for q in run["per_question"]} == {"g-1", "g-2"}
    capsys.readouterr()
    assert main(["eval", str(env), "--split", "dev", "--out", str(out),
                 "--fail-under", "groundedness=1.01"]) == 1  # fmt: skip
    assert "groundedness" in capsys.readouterr().err
    assert main(["eval", str(env), "--out", str(out), "--split", "dev",
                 "--fail-under", "no_such_metric=1"]) == 2  # fmt: skip
    assert "no_such_metric" in capsys.readouterr().err
    assert main(["eval", str(env), "--fail-under", "doc.hit@1"]) == 2


def test_resume_skips_done_questions(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = _count_asks(monkeypatch)
    out = tmp_path / "run"
    assert main(["eval", str(env), "--out", str(out), "--limit", "2"]) == 0
    assert len(asked) == 2
    with (out / "results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "g-2", "question": "Wie viele Mens')  # a run killed mid-line
    capsys.readouterr()
    assert main(["eval", str(env), "--out", str(out)]) == 0
    # --limit 2 spreads over the set (g-1, g-3); the rest is asked on resume
    assert len(asked) == 4 and asked[2:] == [
        "Wie viele Menschen haben sich an der Online-Umfrage beteiligt?",
        "Wer ist Präsident von Frankreich?",
    ]
    assert "2 von 4 Fragen sind schon ausgewertet" in capsys.readouterr().err
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["g-1", "g-3", "g-2", "g-4"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert [q["id"] for q in run["per_question"]] == ["g-1", "g-2", "g-3", "g-4"]
    assert main(["eval", str(env), "--out", str(out)]) == 0
    assert len(asked) == 4  # nothing left to ask
    assert main(["eval", str(env), "--out", str(out), "--fresh"]) == 0
    assert len(asked) == 8
    # results of another configuration are not mixed in
    monkeypatch.setenv("REGIOSTRAT_RETRIEVAL__K", "3")
    assert main(["eval", str(env), "--out", str(out)]) == 2
    assert "--fresh" in capsys.readouterr().err


def test_compare_shows_changed_questions(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(env), "--out", str(tmp_path / "a")]) == 0
    monkeypatch.setenv("REGIOSTRAT_ANSWER__ABSTAIN_THRESHOLD", "0.99")  # abstains everywhere
    assert main(["eval", str(env), "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    assert main(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b" / "run.json")]) == 0
    text = capsys.readouterr().out
    assert "Verschlechtert (3)" in text and "Verbessert (0)" in text
    assert "g-1" in text and "fact_coverage 1.000→0.000" in text
    assert "abstention_rate" in text


def test_feedback_report(env: Path, tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.jsonl"
    rows = [
        {"question": "Wie viele Ortschaften?", "rating": "up",
         "answer": "Der Rufbus verbindet 22 Ortschaften mit dem Mittelzentrum. [1]",
         "citations": [{"n": 1, "source": "mobil.txt", "title": "Mobilität", "page": 1,
                        "quote": DOCS["mobil.txt"]}]},
        {"question": "Was plant <Heide>?", "rating": "down", "comment": "Quelle <falsch>",
         "answer": "Ein Windpark [1].", "citations": [{"n": 1, "quote": "Heide plant etwas."}]},
        {"question": "Wer?", "rating": "up", "answer": "Niemand.", "citations": []},
    ]  # fmt: skip
    feedback.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "fb"
    assert main(["eval", str(feedback), "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    overall = run["aggregate"]["overall"]
    assert overall["thumbs_down"] == 1 and overall["thumbs_down_share"] == pytest.approx(1 / 3)
    assert run["per_question"][0]["metrics"]["groundedness"] == 1.0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Daumen runter (1" in html and "Quelle &lt;falsch&gt;" in html
    assert "<falsch>" not in html
    assert main(["eval", str(feedback), "--out", str(out), "--fail-above",
                 "thumbs_down_share=0.5", "--fail-under", "groundedness=0.3"]) == 0  # fmt: skip
    assert main(["eval", str(feedback), "--out", str(out), "--fail-above",
                 "thumbs_down_share=0.2"]) == 1  # fmt: skip


def test_benchmark_adapter_end_to_end(
    tiny_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bench = tmp_path / "benchmarks" / "xquad-de"
    bench.mkdir(parents=True)
    corpus = [{"doc_id": "xq_0", "title": "Heide", "text": DOCS["mv01/bericht.md"]},
              {"doc_id": "xq_1", "title": "Bus", "text": DOCS["mobil.txt"]}]  # fmt: skip
    queries = [
        {"qid": "q1", "question": "Wie viele Ortschaften verbindet der Rufbus?",
         "relevant_doc_ids": ["xq_1"], "answers": ["22"], "answerable": True},
        {"qid": "q2", "question": "Wie groß ist der Elektrolyseur in Heide?",
         "relevant_doc_ids": ["xq_0"], "answers": ["30 Megawatt"], "answerable": True},
    ]  # fmt: skip
    for name, data in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        (bench / name).write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    monkeypatch.setenv("REGIOSTRAT_PATHS__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REGIOSTRAT_EMBEDDER__BACKEND", "fake")
    monkeypatch.setenv("REGIOSTRAT_ANSWER__ABSTAIN_THRESHOLD", "0.3")
    args = ["eval", "xquad-de", "--benchmarks-dir", str(tmp_path / "benchmarks"),
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 0
    assert "Index für xquad-de aufgebaut" in capsys.readouterr().err
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run["aggregate"]["overall"]["doc.hit@10"] == 1.0
    assert run["aggregate"]["overall"]["fact_coverage"] == 1.0
    assert run["aggregate"]["overall"]["token_f1"] > 0
    assert (tmp_path / "data" / "benchmarks" / "xquad-de" / "docs" / "xq_1.txt").is_file()
    assert main([*args, "--fresh"]) == 0
    assert "aufgebaut" not in capsys.readouterr().err  # the index is reused


def test_unknown_questions_argument(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "no-such-benchmark"]) == 2
    assert "no-such-benchmark" in capsys.readouterr().err


def test_report_helpers_escape_and_gate() -> None:
    svg = svg_bars("<Titel>", ["a&b", "c"], [0.5, None])
    assert svg.startswith("<svg") and "&lt;Titel&gt;" in svg and "a&amp;b" in svg
    assert "<rect" in svg_histogram("Latenz", [0.1, 0.2, 0.2, 1.5])
    run = {
        "dataset": "x",
        "aggregate": {"overall": {"n": 1, "doc.hit@5": 0.5}, "by_kind": {}},
        "per_question": [{"id": "1", "question": "<b>?", "answer": "<script>x</script>",
                          "metrics": {"score": 0.1}, "citations": []}],
    }  # fmt: skip
    page = render_html(run)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert check_thresholds(run["aggregate"], ["doc.hit@5=0.4"]) == []
    assert "doc.hit@5" in check_thresholds(run["aggregate"], ["doc.hit@5=0.6"])[0]
    other = json.loads(json.dumps(run))
    other["per_question"][0]["metrics"]["score"] = 0.9
    assert "Verbessert (1)" in compare_runs(run, other)


def test_interrupted_questions_folder_copy(env: Path, tmp_path: Path) -> None:
    """A gold folder works like a file; a copy of a run folder compares equal."""
    folder = tmp_path / "questions"
    folder.mkdir()
    shutil.copy(env, folder / "part.yaml")
    assert main(["eval", str(folder), "--out", str(tmp_path / "r"), "--limit", "1"]) == 0
    shutil.copytree(tmp_path / "r", tmp_path / "r2")
    assert main(["eval", "compare", str(tmp_path / "r"), str(tmp_path / "r2")]) == 0

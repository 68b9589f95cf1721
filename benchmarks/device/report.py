"""The report: Markdown (title, facts, the rows, other references, the import sweep) + JSON.

Rewritten after every step of a run, so a run cut short still leaves its numbers; the JSON
beside it (same name, `.json`) has the raw numbers (rows without their vectors).
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.device import T0


def render(b: Any) -> str:
    """The Markdown report of a `measure.Bench`."""
    a = b.args
    lines = [
        f"# Embedders on {b.info.get('gpu') or b.device}: "
        + ("cuda vs cpu" if b.cuda else "cpu self-test"),
        "",
        f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        "- Command: `"
        + " ".join(shlex.quote(x) for x in [Path(sys.executable).name, *sys.argv])
        + f"` ({time.perf_counter() - T0:.0f} s so far)",
    ]
    lines += [f"- {k}: {v}" for k, v in b.info.items() if k != "gpu"]
    lines += [f"- {n}" for n in b.notes]
    hdr = (
        "| backend | device | precision | batch | passages | passages/s (median of "
        f"{a.rounds}) | first pass /s | query latency ms (median / p90) | cos vs cpu "
        "passages min / mean | cos vs cpu queries min / mean | peak GPU MiB | load s |"
    )
    lines += ["", "## Throughput and agreement with the CPU", "", hdr, "|" + "---|" * 12]
    for r in b.rows:
        peak = "" if r["peak_gpu_mib"] is None else f"{r['peak_gpu_mib']:.0f}"
        load = "" if r["load_s"] is None else f"{r['load_s']:.1f}"
        lines.append(
            f"| {r['backend']} | {r['device']} | {r['precision']} | {r['batch']} | "
            f"{r['passages']} | {r['per_s']:.1f} | {r['first_pass_per_s']:.1f} | "
            f"{r['query_ms_median']:.1f} / {r['query_ms_p90']:.1f} | "
            f"{r['cos_p_min']:.6f} / {r['cos_p_mean']:.6f} | "
            f"{r['cos_q_min']:.6f} / {r['cos_q_mean']:.6f} | {peak} | {load} |"
        )
    lines += [
        "",
        "Cosines per text against the first CPU run of the same backend "
        "(its first passages and all queries; on a CPU-only run that is the row itself). "
        "`first pass` is the warm-up round (for fast-e5 it includes filling the tokenizer's "
        "word memo; the timed rounds reuse it). Peak GPU memory: "
        "torch.cuda.max_memory_allocated during the row, weights included.",
    ]
    if b.extra:
        lines += [
            "",
            "## Other references",
            "",
            "| vectors | vs | passages cos min / mean | queries cos min / mean | note |",
            "|---|---|---|---|---|",
        ]
        for e in b.extra:
            lines.append(
                f"| {e['what']} | {e['vs']} | {e['p_min']:.6f} / {e['p_mean']:.6f} | "
                f"{e['q_min']:.6f} / {e['q_mean']:.6f} | {e.get('note', '')} |"
            )
    if "imports" in b.info_extra:
        ok = [m for m, s in b.info_extra["imports"] if s == "ok"]
        bad = [(m, s) for m, s in b.info_extra["imports"] if s != "ok"]
        lines += [
            "",
            "## Our modules importing on this machine",
            "",
            f"{len(ok)} of {len(ok) + len(bad)} import: " + ", ".join(ok),
            "",
        ]
        lines += [f"- `{m}`: {s}" for m, s in bad]
    return "\n".join(lines) + "\n"


def write(b: Any) -> None:
    """Write the report to b.args.out and the raw numbers beside it (.json)."""
    out = Path(b.args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(b), encoding="utf-8")
    raw = {
        "info": b.info,
        "notes": b.notes,
        "rows": [{k: v for k, v in r.items() if not k.startswith("_")} for r in b.rows],
        "extra": b.extra,
        **b.info_extra,
    }
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))

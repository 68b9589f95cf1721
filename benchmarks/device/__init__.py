"""Embedders on a GPU vs the CPU: the parts of benchmarks/bench_embedding_device.py.

The script itself is the command line (argparse and main); the work is here:

* `texts`: German passages and questions from ../shared (or corpus/sources).
* `bundle`: `--prepare` (wheels, texts, pruned models, manifest) and opening the bundle on the
  device; `prune` shrinks the two models to the vocabulary of those texts.
* `env`: the carried wheels on sys.path, importing our embedders, the import sweep, machine facts.
* `measure`: timing and the rows; `report`: the Markdown report and its JSON.
* `backends`: the measured sequence per embedder; `run`: one whole run.

At module level they import the standard library, benchmarks/common.py (standard library only)
and (`texts`) benchmarks/bench_embedding.py, which needs only numpy; torch and our package are
imported inside functions, after the carried wheels are on sys.path. This module holds what they
share: paths, the run's clock, the log, file hashes and gzip.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SCRIPT = REPO / "benchmarks" / "bench_embedding_device.py"  # re-run for the import sweep
T0 = time.perf_counter()  # the run's clock: log times, --budget-s, "s so far"


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def gz_compress(src: Path, dst: Path) -> None:
    """gzip, not xz: zlib is in every Python build (lzma is optional); 1.6 MB more in all."""
    with open(src, "rb") as fi, gzip.GzipFile(dst, "wb", compresslevel=6, mtime=0) as fo:
        shutil.copyfileobj(fi, fo, 1 << 22)


def gz_decompress(src: Path, dst: Path) -> None:
    with gzip.open(src, "rb") as fi, open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo, 1 << 22)

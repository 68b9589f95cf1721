"""The run's Python environment: carried wheels, importing our embedders, machine facts.

On the GPU machine the bundle's wheels are unpacked into a temporary folder that is *appended*
to sys.path (typing-extensions prepended), so the machine's own torch / numpy / transformers are
never shadowed; no pip needed. Our embedders are imported through the package when its imports
work, else past its `__init__` (with a stub for langchain-core's Embeddings if that is missing).
The import sweep (every module of ours) runs in a child process, the script re-run.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path
from typing import Any

from benchmarks.common import cpu_flags, cpu_model
from benchmarks.device import REPO, SCRIPT

PREPEND = {"typing_extensions"}  # newer than the machine's is harmless, older could break pydantic


def setup_wheels(bundle: Path) -> dict[str, Any]:
    """Unpack the bundle's wheels; prepend typing-extensions, append everything else."""
    wheels = sorted(bundle.glob("*.whl"))
    if not wheels:
        return {"wheels": 0}
    root = Path(tempfile.mkdtemp(prefix="bench-site-"))
    atexit.register(shutil.rmtree, root, True)
    pre, post = root / "pre", root / "post"
    for whl in wheels:
        with zipfile.ZipFile(whl) as zf:
            top = {n.split("/")[0] for n in zf.namelist()}
            target = pre if any(t.split(".")[0] in PREPEND for t in top) else post
            zf.extractall(target)
        for data_dir in target.glob("*.data"):
            for sub in ("purelib", "platlib"):
                if (data_dir / sub).is_dir():
                    shutil.copytree(data_dir / sub, target, dirs_exist_ok=True)
    sys.path.insert(1, str(pre))  # after the repo
    sys.path.append(str(post))
    return {"wheels": len(wheels), "pre": str(pre), "post": str(post)}


_OURS: dict[str, Any] = {}


def import_ours() -> dict[str, Any]:
    """fast_e5 and st_backend: through the package if its imports work, else past its __init__."""
    if _OURS:
        return _OURS
    try:
        _OURS["fast_e5"] = importlib.import_module("regiostrat.embedders.fast_e5")
        _OURS["st_backend"] = importlib.import_module("regiostrat.embedders.st_backend")
        _OURS["mode"] = "package (regiostrat.embedders imported normally: pydantic, langchain-core)"
        return _OURS
    except ImportError as exc:
        reason = f"{type(exc).__name__}: {exc}"
    for name in [m for m in sys.modules if m == "regiostrat" or m.startswith("regiostrat.")]:
        del sys.modules[name]
    try:
        importlib.import_module("langchain_core.embeddings")
    except ImportError:
        from abc import ABC, abstractmethod

        class Embeddings(ABC):
            @abstractmethod
            def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

            @abstractmethod
            def embed_query(self, text: str) -> list[float]: ...

        lc = types.ModuleType("langchain_core")
        lc.__path__ = []  # type: ignore[attr-defined]
        lce = types.ModuleType("langchain_core.embeddings")
        lce.Embeddings = Embeddings  # type: ignore[attr-defined]
        sys.modules["langchain_core"] = lc
        sys.modules["langchain_core.embeddings"] = lce
        reason += "; langchain_core.embeddings.Embeddings stubbed"
    for pkg in ("regiostrat", "regiostrat.embedders"):
        mod = types.ModuleType(pkg)
        mod.__path__ = [str(REPO / pkg.replace(".", "/"))]  # type: ignore[attr-defined]
        sys.modules[pkg] = mod
    _OURS["fast_e5"] = importlib.import_module("regiostrat.embedders.fast_e5")
    _OURS["st_backend"] = importlib.import_module("regiostrat.embedders.st_backend")
    _OURS["mode"] = f"shim (package __init__ skipped: {reason})"
    return _OURS


def import_sweep() -> list[tuple[str, str]]:
    """Import every module of ours (run in a child process); (module, 'ok' or the error)."""
    mods = []
    for pkg in ("regiostrat", "ingest", "assistant", "eval"):
        for f in sorted((REPO / pkg).rglob("*.py")):
            rel = f.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts[-1] == "__main__":
                continue
            mods.append(".".join(parts))
    out = []
    for m in mods:
        try:
            importlib.import_module(m)
            out.append((m, "ok"))
        except BaseException as exc:  # noqa: BLE001 - report whatever fails
            first = str(exc).splitlines()[0][:120] if str(exc) else ""
            out.append((m, f"{type(exc).__name__}: {first}"))
    return out


def import_sweep_child(bundle: Path, wheels: bool, timeout: float) -> list[tuple[str, str]]:
    """The import sweep in a fresh process (the script with --_import-sweep): its result."""
    cmd = [sys.executable, str(SCRIPT), "--_import-sweep", "--bundle", str(bundle)]
    if not wheels:
        cmd.append("--no-wheels")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return json.loads(res.stdout.strip().splitlines()[-1])


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def machine_info(torch: Any, cuda: bool) -> dict[str, str]:
    """The report's `gpu` (title), GPU, CPU and Software lines."""
    info = {}
    cpu_desc = f"{cpu_model()} ({cpu_flags(('avx512f', 'avx512_bf16', 'amx_bf16'))})"
    if cuda:
        info["gpu"] = torch.cuda.get_device_name(0)
        props = torch.cuda.get_device_properties(0)
        info["GPU"] = (
            f"{torch.cuda.get_device_name(0)}, {props.total_memory / 2**30:.0f} GiB, "
            f"CUDA {torch.version.cuda}, capability {props.major}.{props.minor}"
        )
    info["CPU"] = f"{os.cpu_count()} cores (os.cpu_count), {cpu_desc}; torch threads " + str(
        torch.get_num_threads()
    )
    vers = [f"Python {platform.python_version()}", f"torch {torch.__version__}"]
    for pkg in ("numpy", "sentence_transformers", "transformers", "pydantic", "langchain_core"):
        try:
            vers.append(f"{pkg} {importlib.import_module(pkg).__version__}")
        except Exception:  # noqa: BLE001
            vers.append(f"{pkg} -")
    info["Software"] = ", ".join(vers)
    return info

"""A real Chroma server for integration tests, started the way users start it.

    from tests.chroma_server import chroma_server  # noqa: F401  (pytest fixture)

`chroma run --path <tmp> --host 127.0.0.1 --port <free port>` runs as a subprocess for the whole
test session; the fixture yields `(host, port)` once `/api/v2/heartbeat` answers and stops the
server afterwards. Skips (fails in CI) when the `chroma` CLI is not installed next to Python.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0


def chroma_executable() -> Path | None:
    """The `chroma` CLI of this environment (next to sys.executable), else the one on PATH."""
    local = Path(sys.executable).parent / ("chroma.exe" if os.name == "nt" else "chroma")
    if local.is_file():
        return local
    found = shutil.which("chroma")
    return Path(found) if found else None


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def heartbeat_ok(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def start_chroma_server(path: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    """Start `chroma run` and wait until it answers; raises RuntimeError with its log if not."""
    executable = chroma_executable()
    if executable is None:
        raise FileNotFoundError("chroma CLI not found")
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(executable), "run", "--path", str(path), "--host", HOST, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if heartbeat_ok(HOST, port):
            return process, HOST, port
        time.sleep(0.25)
    _stop(process)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(
        f"chroma run did not answer on {HOST}:{port} within {START_TIMEOUT_S:.0f} s "
        f"(exit code {process.returncode}). Log:\n{tail}"
    )


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[tuple[str, int]]:
    """(host, port) of a Chroma server running for the whole test session."""
    if chroma_executable() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the chroma CLI is missing in CI (pip install chromadb)")
        pytest.skip("chroma CLI not installed")
    with tempfile.TemporaryDirectory(prefix="regiostrat-chroma-") as tmp:
        process, host, port = start_chroma_server(Path(tmp) / "db", Path(tmp) / "chroma.log")
        try:
            yield host, port
        finally:
            _stop(process)

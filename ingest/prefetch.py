"""Files prepared ahead in worker processes while the ingesting process embeds and stores.

Preparing a file (`ingest.prepare`: parsing with pypdf, OCR, DOCX, cleaning, chunking, lexical
analysis) is single-threaded Python; embedding and storing keep the ingesting process busy.
Worker processes prepare the next files meanwhile. They run at the lowest CPU priority (nice
19): on a small machine they take the time the embedder leaves idle instead of slowing it down;
on a larger machine, or with the embedder on a GPU, they work in parallel.

- Results are taken in file order, so reports and progress stay as without workers.
- A file no worker has started yet when the run needs it is prepared by the ingesting process
  itself (waiting would be slower). While the run waits for a file a worker is preparing, it
  prepares the next file no worker has started yet, once it has prepared one itself before:
  when the workers came up late, before the first batch is ready to embed it would otherwise
  idle (bundled corpus, 2 cores: embedding started 0.35 s sooner).
- `regiostrat ingest` starts the workers before it loads the embedder, so they are up when the
  run begins, and the run hands them its first files before it opens Chroma (about 1 s in a
  fresh process). Until a worker is up (importing the parsers and loading the compound
  splitter's tables takes ~1.5 s), the run prepares its files itself. A run of only a few files
  starts none (`MIN_FILES_FOR_WORKERS`).
- A worker that dies on a file (a parser crash on a hostile PDF) costs that file only: the file
  is prepared once more alone in a fresh worker, and reported as failed if that one dies too.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ingest.prepare import FileJob, PreparedFile, prepare_file
from regiostrat.errors import IngestError
from regiostrat.index.analyzer import preload_compound_splitter

PrepareFunction = Callable[[FileJob], PreparedFile]

LOOKAHEAD_FILES = 16
"""Files submitted ahead of the one being ingested; bounds the parsed documents held at once."""

MIN_FILES_FOR_WORKERS = 4
"""Runs with fewer files to read parse them in the ingesting process: starting a worker costs
about as much as parsing a few small files."""

_WORKER_NICE = 19


def default_workers() -> int:
    """One worker per core beyond the first, at most four (parsing more at once rarely pays)."""
    return min(4, max(1, (os.cpu_count() or 1) - 1))


def _ready() -> None:
    """A no-op task: submitting it makes the pool start its workers."""


def _init_worker() -> None:
    """Worker set-up: lowest priority, and Ctrl+C left to the ingesting process (which stops
    the workers), so an interrupted run does not print a traceback per worker. The compound
    splitter's tables are loaded now (~0.4 s), not on the first file: a worker started before
    the embedder loads (`regiostrat ingest`) is then fully ready when the run begins."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # no nice() on this platform, or not permitted: the worker runs at normal priority
    with contextlib.suppress(AttributeError, OSError):
        os.nice(_WORKER_NICE)
    preload_compound_splitter()


class ParsePrefetcher:
    """Prepares submitted files in worker processes; `take` returns them in any order asked."""

    def __init__(self, workers: int, prepare: PrepareFunction = prepare_file) -> None:
        self._workers = workers
        self._prepare = prepare
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Path, Future[PreparedFile]] = {}
        self._jobs: dict[Path, FileJob] = {}  # of the workers' futures not taken yet
        self._started: Future[None] | None = None  # done once a worker is up
        self._prepared_here = False  # whether this process has prepared a file (is warmed up)
        self.prepared_by_workers = 0

    def __enter__(self) -> ParsePrefetcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        self.close(abort=exc_type is not None)

    @property
    def enabled(self) -> bool:
        return self._workers > 0

    def start(self) -> None:
        """Start the workers. Until one is up, `accepting` is False and the run prepares its
        files itself (a worker takes ~1 s to import the parsers)."""
        if self.enabled and self._started is None:
            self._started = self._executor().submit(_ready)

    @property
    def accepting(self) -> bool:
        """Whether `submit` hands jobs to workers now."""
        if not self.enabled or self._started is None or not self._started.done():
            return False
        if self._started.exception() is not None:  # the workers could not start
            self._workers = 0
            return False
        return True

    def submit(self, job: FileJob) -> None:
        """Start preparing `job` in a worker (no-op unless `accepting`, or when submitted)."""
        if not self.accepting or job.path in self._futures:
            return
        try:
            self._futures[job.path] = self._executor().submit(self._prepare, job)
        except BrokenProcessPool:
            return  # a worker died; `take` finds out on which file, then restarts them
        self._jobs[job.path] = job

    def discard(self, path: Path) -> None:
        """Forget a submitted file the run no longer needs (its content is stored already)."""
        future = self._futures.pop(path, None)
        self._jobs.pop(path, None)
        if future is not None:
            future.cancel()

    def take(self, job: FileJob) -> PreparedFile:
        """The prepared file of `job`, from a worker or prepared here when no worker has
        started on it; raises `IngestError` like `prepare_file`."""
        future = self._futures.pop(job.path, None)
        self._jobs.pop(job.path, None)
        if future is None or future.cancel():
            return self._prepare_here(job)
        while not future.done() and self._prepare_one_ahead():
            pass  # a worker is on this file: meanwhile, prepare a later one here
        try:
            prepared = future.result()
        except BrokenProcessPool:
            return self._after_crash(job)
        if not isinstance(future, _PreparedHere):
            self.prepared_by_workers += 1
        return prepared

    def _prepare_here(self, job: FileJob) -> PreparedFile:
        self._prepared_here = True
        return self._prepare(job)

    def _prepare_one_ahead(self) -> bool:
        """Prepare here the first submitted file no worker has started; False when none, and
        while this process has not prepared a file yet: its first costs ~0.5 s more (loading
        the compound splitter's tables), longer than a worker that is up needs for most files."""
        if not self._prepared_here:
            return False
        for path, future in self._futures.items():
            if path in self._jobs and future.cancel():
                here = self._futures[path] = _PreparedHere()
                try:
                    here.set_result(self._prepare_here(self._jobs.pop(path)))
                except Exception as exc:  # raised again when the run takes the file
                    here.set_exception(exc)
                return True
        return False

    def _after_crash(self, job: FileJob) -> PreparedFile:
        """A worker died: prepare `job` alone to see whether it is the culprit; the run
        prepares the other submitted files itself until a fresh worker is up."""
        self._restart()
        with _new_pool(1) as solo:
            try:
                return solo.submit(self._prepare, job).result()
            except BrokenProcessPool:
                raise IngestError(
                    job.path, "Verarbeitung abgebrochen: der Parser ist an dieser Datei abgestürzt"
                ) from None

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self._started = None
        # files prepared here stay; the others' worker is gone: `take` prepares them here
        self._futures = {p: f for p, f in self._futures.items() if isinstance(f, _PreparedHere)}
        self._jobs.clear()
        self.start()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = _new_pool(self._workers)
        return self._pool

    def close(self, abort: bool = False) -> None:
        """Stop the workers; files still queued are dropped (the next run prepares them).
        `abort` (the run failed or was interrupted): also stop the files being prepared."""
        if self._pool is not None:
            # (ProcessPoolExecutor has no public way to stop a busy worker before Python 3.14)
            processes = dict(getattr(self._pool, "_processes", None) or {}) if abort else {}
            # Workers still importing exit on their own once up: the run does not wait for them.
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes.values():
                process.terminate()
            self._pool = None
        self._futures.clear()
        self._jobs.clear()


class _PreparedHere(Future[PreparedFile]):
    """A submitted file the ingesting process prepared itself while waiting for a worker."""


def _new_pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": a fork of a process with the embedder's and Chroma's threads running can deadlock
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)

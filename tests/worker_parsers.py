"""Prepare functions for `ParsePrefetcher` tests; a module of their own, so spawned workers can
import them by name."""

from __future__ import annotations

import multiprocessing
import os
import time

from ingest.prepare import FileJob, PreparedFile, prepare_file
from regiostrat.errors import IngestError


def crash_on_marked_files(job: FileJob) -> PreparedFile:
    """`prepare_file`, but a worker process dies (as on a parser segfault) on files named
    crash*; in the test process itself such a file fails normally."""
    if job.path.name.startswith("crash"):
        if multiprocessing.parent_process() is not None:
            os._exit(3)
        raise IngestError(job.path, "nicht in einem Worker verarbeitet")
    return prepare_file(job)


def report_priority(job: FileJob) -> PreparedFile:
    """`prepare_file`, with the worker's nice value as the title."""
    prepared = prepare_file(job)
    prepared.title = str(os.nice(0))
    return prepared


def slow_in_workers(job: FileJob) -> PreparedFile:
    """`prepare_file` with the preparing process's id as the title; files named slow* take a
    worker a second."""
    if job.path.name.startswith("slow") and multiprocessing.parent_process() is not None:
        time.sleep(1)
    prepared = prepare_file(job)
    prepared.title = str(os.getpid())
    return prepared

"""Adapters for the public German benchmarks in ../shared/benchmarks (OMoS-QA, XQuAD-de,
ragsource-bw): their questions as `EvalItem`s and an index of their documents.

Each benchmark gets its own index under the data dir (``data/benchmarks/<name>/index-<space>``),
built once from its ``corpus.jsonl``: every document is written to a file under
``data/benchmarks/<name>/docs`` and ingested with the normal pipeline, so a later run (or an
interrupted build) reuses everything already embedded. A fingerprint of the documents, the
embedder and the chunking skips even the file check when nothing changed.

* OMoS-QA: splits train/dev/test from the data; answers are lines of the page, so each line is
  written as its own paragraph and answers are scored by sentence F1 and token F1; questions
  marked ``answerable: false`` are the abstention cases.
* XQuAD-de: answer spans (fact coverage = the span occurs in the answer, token F1).
* ragsource-bw: questions mapped to their regulation: document-level retrieval only.

XQuAD-de and ragsource-bw have no splits; ``dev``/``test`` are then a fixed half each, chosen
by a hash of the question id.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.gold import EvalInputError, EvalItem, subsample
from eval.metrics import GoldSource
from regiostrat.embedders import Embedder
from regiostrat.settings import Settings

BENCHMARK_NAMES = ("omos-qa", "xquad-de", "ragsource-bw")


def shared_dir() -> Path | None:
    """../shared (next to the repository or the working directory), or $REGIOSTRAT_SHARED."""
    candidates = []
    if os.environ.get("REGIOSTRAT_SHARED"):
        candidates.append(Path(os.environ["REGIOSTRAT_SHARED"]))
    candidates += [Path.cwd().parent / "shared", Path(__file__).resolve().parents[2] / "shared"]
    for candidate in candidates:
        if (candidate / "benchmarks").is_dir():
            return candidate
    return None


def benchmark_dir(name: str, root: Path | None = None) -> Path:
    if root is None:
        shared = shared_dir()
        root = shared / "benchmarks" if shared else None
    folder = root / name if root else None
    if folder is None or not folder.is_dir():
        raise EvalInputError(
            f"Benchmark '{name}' nicht gefunden: erwartet in ../shared/benchmarks/{name} "
            "(oder Ordner mit --benchmarks-dir bzw. REGIOSTRAT_SHARED angeben)."
        )
    return folder


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise EvalInputError(f"Benchmark-Datei fehlt: {path}")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise EvalInputError(f"{path}, Zeile {number}: kein gültiges JSON.") from exc


_UNSAFE = re.compile(r"[^\w.\-/]+")


def doc_filename(doc_id: str) -> str:
    """A relative file name for a benchmark document (Markdown ids keep their suffix)."""
    name = _UNSAFE.sub("_", doc_id.replace("\\", "/")).strip("/")
    name = "/".join(part for part in name.split("/") if part not in ("", ".", ".."))
    return name if name.lower().endswith((".md", ".txt")) else f"{name}.txt"


def hash_split(qid: str) -> str:
    return "dev" if hashlib.sha1(qid.encode()).digest()[0] % 2 == 0 else "test"


@dataclass
class Benchmark:
    name: str
    folder: Path

    # -- documents -----------------------------------------------------------------------------
    def documents(self) -> Iterator[tuple[str, str]]:
        """(relative file name, file text) for every document of the benchmark."""
        for row in _jsonl(self.folder / "corpus.jsonl"):
            text = str(row.get("text") or "")
            if self.name == "omos-qa":  # each line of the page is a paragraph of its own
                text = "\n\n".join(line.strip() for line in text.split("\n") if line.strip())
            yield doc_filename(str(row["doc_id"])), text

    # -- questions -----------------------------------------------------------------------------
    def items(self, split: str | None = None, limit: int | None = None) -> list[EvalItem]:
        queries = self.folder / (
            "questions.jsonl" if self.name == "ragsource-bw" else "queries.jsonl"
        )
        lines: dict[str, list[str]] = {}
        if self.name == "omos-qa":
            lines = {
                str(r["doc_id"]): str(r.get("text") or "").split("\n")
                for r in _jsonl(self.folder / "corpus.jsonl")
            }
        items = []
        for row in _jsonl(queries):
            qid = str(row["qid"])
            row_split = row.get("split") or hash_split(qid)
            if split and row_split != split:
                continue
            items.append(self._item(row, qid, str(row_split), lines))
        return subsample(items, limit)

    def _item(
        self, row: dict[str, Any], qid: str, split: str, lines: dict[str, list[str]]
    ) -> EvalItem:
        answerable = row.get("answerable") is not False
        docs = [str(d) for d in row.get("relevant_doc_ids") or []]
        sources = [GoldSource(doc_filename(d)) for d in docs] if answerable else []
        answers = [str(a) for a in row.get("answers") or [] if str(a).strip()]
        item = EvalItem(
            id=f"{self.name}:{qid}",
            question=str(row["question"]),
            split=split,
            sources=sources,
            answerable=answerable,
            origin=self.name,
        )
        if self.name == "omos-qa":
            item.kind = "answerable" if answerable else "unanswerable"
            page = lines.get(docs[0], []) if docs else []
            item.reference_sentences = [
                page[i] for i in row.get("answer_sentence_idx") or [] if 0 <= i < len(page)
            ]
            item.references = answers if answerable else []
        elif self.name == "xquad-de":
            item.kind = "span"
            item.references = answers
            item.facts = [answers] if answers else []
        else:
            item.kind = "document"
        return item

    # -- index ---------------------------------------------------------------------------------
    def settings_for(self, settings: Settings, embedder: Embedder) -> Settings:
        """Settings whose data dir is this benchmark's index for the embedder's vector space."""
        space = re.sub(r"[^\w.-]+", "_", embedder.space)
        root = Path(settings.paths.data_dir) / "benchmarks" / self.name
        return settings.model_copy(
            update={
                "paths": settings.paths.model_copy(update={"data_dir": root / f"index-{space}"}),
                "ingest": settings.ingest.model_copy(update={"manifest": None}),
                "chroma": settings.chroma.model_copy(
                    update={"collection": f"{settings.chroma.collection}-{self.name}"[:63]}
                ),
            }
        )

    def docs_dir(self, settings: Settings) -> Path:
        return Path(settings.paths.data_dir) / "benchmarks" / self.name / "docs"

    def ensure_index(
        self,
        settings: Settings,
        embedder: Embedder,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> tuple[Settings, bool]:
        """Build (or complete) the benchmark's index; returns its settings and whether ingestion
        ran. `on_progress(done, total)` is called per document."""
        from ingest.pipeline import ingest_paths
        from regiostrat.index.store import IndexStore, chunking_signature

        bench = self.settings_for(settings, embedder)
        docs = self.docs_dir(settings)
        digest = hashlib.sha256()
        files: list[Path] = []
        for name, text in self.documents():
            path = docs / name
            data = text.encode("utf-8")
            if not path.is_file() or path.read_bytes() != data:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            files.append(path)
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        digest.update(f"{embedder.space}|{chunking_signature(bench)}".encode())
        fingerprint = digest.hexdigest()
        marker = Path(bench.paths.data_dir) / "eval-built.json"
        if IndexStore.exists(bench) and marker.is_file():
            try:
                if json.loads(marker.read_text(encoding="utf-8")).get("fingerprint") == fingerprint:
                    return bench, False
            except (OSError, json.JSONDecodeError):
                pass
        done = 0

        def on_file(_: object) -> None:
            nonlocal done
            done += 1
            if on_progress:
                on_progress(done, len(files))

        report = ingest_paths([docs], bench, embedder, prune=True, on_file=on_file, files=files)
        if report.failed:
            names = ", ".join(f"{r.source} ({r.reason})" for r in report.failed[:5])
            raise EvalInputError(f"Benchmark-Index {self.name}: Dokumente fehlgeschlagen: {names}")
        marker.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
        return bench, True


def get_benchmark(name: str, root: Path | None = None) -> Benchmark:
    if name not in BENCHMARK_NAMES:
        raise EvalInputError(
            f"Unbekannter Benchmark '{name}' (bekannt: {', '.join(BENCHMARK_NAMES)})."
        )
    return Benchmark(name, benchmark_dir(name, root))

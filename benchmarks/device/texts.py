"""The texts embedded: German passages and questions, from ../shared or the repo's own corpus.

OMoS-QA pages cut into paragraphs of up to 800 characters (the splitter of
benchmarks/bench_embedding.py), topped up with RAGSource-BW regulations; the answerable OMoS-QA
test questions. Without ../shared: the paragraphs and section headings of corpus/sources.
"""

from __future__ import annotations

import random
from typing import Any

from benchmarks.bench_embedding import chunk, read_jsonl
from benchmarks.device import REPO, SHARED


def texts_from_sources(n_passages: int, n_queries: int) -> dict[str, Any]:
    """Passages and questions from ../shared (OMoS-QA, RAGSource-BW) or the repo's corpus."""
    omos = SHARED / "benchmarks" / "omos-qa"
    passages: list[str] = []
    queries: list[str] = []
    notes = []
    if (omos / "corpus.jsonl").is_file():
        pages = read_jsonl(omos / "corpus.jsonl")
        omos_p = [c for p in pages for c in chunk(p["text"]) if len(c) >= 80]
        random.Random(0).shuffle(omos_p)
        passages += omos_p[:n_passages]
        qs = read_jsonl(omos / "queries.jsonl")
        qs = [q["question"] for q in qs if q.get("answerable") and q.get("split") == "test"]
        random.Random(1).shuffle(qs)
        queries = qs[:n_queries]
        notes.append(
            f"OMoS-QA: {len(pages)} pages -> {len(omos_p)} paragraphs of <= 800 characters, "
            f"{min(len(omos_p), n_passages)} used; {len(queries)} answerable test questions"
        )
    rag = SHARED / "benchmarks" / "ragsource-bw" / "corpus.jsonl"
    if len(passages) < n_passages and rag.is_file():
        docs = read_jsonl(rag)
        rag_p = [c for d in docs for c in chunk(d["text"]) if len(c) >= 80]
        random.Random(2).shuffle(rag_p)
        extra = rag_p[: n_passages - len(passages)]
        passages += extra
        notes.append(f"RAGSource-BW regulations: {len(extra)} paragraphs of <= 800 characters")
    if len(passages) < n_passages:  # no ../shared: the repo's own German corpus sources
        src = sorted((REPO / "corpus" / "sources").rglob("*.md"))
        own = [c for f in src for c in chunk(f.read_text(encoding="utf-8")) if len(c) >= 80]
        extra = own[: n_passages - len(passages)]
        passages += extra
        notes.append(f"corpus/sources/**/*.md: {len(extra)} paragraphs of <= 800 characters")
        if len(queries) < n_queries:
            heads = [
                ln.lstrip("# ").strip() + "?"
                for f in src
                for ln in f.read_text(encoding="utf-8").splitlines()
                if ln.startswith("## ")
            ]
            queries += heads[: n_queries - len(queries)]
            notes.append("questions: section headings of corpus/sources with a '?'")
    if len(passages) < n_passages:  # repeat to reach the count (noted)
        base = list(passages)
        while base and len(passages) < n_passages:
            passages += base[: n_passages - len(passages)]
        notes.append(f"repeated to {len(passages)} passages")
    return {"passages": passages, "queries": queries, "notes": notes}

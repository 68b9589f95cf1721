"""Boilerplate: sentences that recur near-identically in the documents of different projects
(disclaimers, funding notices, "Gefördert durch …") state nothing about the project at hand and
are never quoted as an answer. Sentences are compared by a signature: their terms without
quoted names, plus their numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from assistant.projects import ProjectCatalog
from regiostrat.index.analyzer import analyze
from regiostrat.index.store import IndexStore
from regiostrat.sentences import split_sentences
from regiostrat.types import Filters

BOILERPLATE_MIN_TERMS = 10  # shorter sentences are never taken for boilerplate
BOILERPLATE_SIMILARITY = 0.6  # Jaccard similarity of the signatures of near-identical sentences
BOILERPLATE_PROBE_HITS = 5  # other projects' chunks searched for a sentence's twin
MAX_REMEMBERED = 10_000

_QUOTED = re.compile(r"„[^“]*“|\"[^\"]*\"|»[^«]*«")
_DIGITS = re.compile(r"\d[\d.,:/]*")


@lru_cache(maxsize=4096)
def boilerplate_signature(sentence: str) -> frozenset[str]:
    """The terms of a sentence without quoted names, and its numbers ("#450.000"): funding
    notices and disclaimers that differ only in the project's name have the same signature.
    Empty for table rows ("Fördersumme | 450.000 Euro" is data, however alike across
    projects). Cached: a comparison signs each sentence when it collects the boilerplate of the
    compared projects, again when it forms the quotable units and when it probes for twins."""
    if " | " in sentence:
        return frozenset()
    sentence = _QUOTED.sub(" ", sentence)
    numbers = {"#" + n.rstrip(".,:/") for n in _DIGITS.findall(sentence)}
    return frozenset(analyze(_DIGITS.sub(" ", sentence))) | numbers


def similar_signatures(
    a: frozenset[str], b: frozenset[str], similarity: float = BOILERPLATE_SIMILARITY
) -> bool:
    """Whether two boilerplate signatures are near-identical: Jaccard ≥ `similarity` and the
    same numbers (sentences alike but for an amount or a date state different facts)."""
    if not (a and b) or len(a & b) < similarity * len(a | b):
        return False
    return {t for t in a if t.startswith("#")} == {t for t in b if t.startswith("#")}


def recurring_signatures(
    signatures: Sequence[tuple[str, frozenset[str]]],
    min_terms: int = BOILERPLATE_MIN_TERMS,
    similarity: float = BOILERPLATE_SIMILARITY,
) -> set[frozenset[str]]:
    """Signatures that recur near-identically under different groups (projects): boilerplate.

    `signatures` are `(group, signature)` pairs; the result holds every signature of at least
    `min_terms` terms that has a near-duplicate in another group."""
    groups: dict[frozenset[str], set[str]] = {}
    for group, signature in signatures:
        if len(signature) >= min_terms:
            groups.setdefault(signature, set()).add(group)
    recurring = {signature for signature, seen in groups.items() if len(seen) > 1}
    items = sorted(groups.items(), key=lambda item: len(item[0]))
    for i, (a, groups_a) in enumerate(items):
        for b, groups_b in items[i + 1 :]:
            if len(a) < similarity * len(b):
                break  # sorted by size: the rest are larger still
            if len(groups_a | groups_b) > 1 and similar_signatures(a, b, similarity):
                recurring.update((a, b))
    return recurring


class BoilerplateDetector:
    """Looks a sentence's twins up in other projects' documents (lexical index), remembered per
    signature for the life of the index."""

    def __init__(self, store: IndexStore, catalog: ProjectCatalog) -> None:
        self.store = store
        self.catalog = catalog
        self._known: dict[frozenset[str], bool] = {}

    def recurs_elsewhere(self, text: str, project: str) -> bool:
        """Whether a sentence of `text` recurs near-identically in other projects' documents
        (a disclaimer, a funding notice): looked up in the lexical index, remembered."""
        for start, end in split_sentences(text):
            sentence = text[start:end]
            signature = boilerplate_signature(sentence)
            if len(signature) < BOILERPLATE_MIN_TERMS:
                continue
            known = self._known.get(signature)
            if known is None:
                known = self._probe(sentence, signature, project)
                if len(self._known) >= MAX_REMEMBERED:
                    self._known.clear()
                self._known[signature] = known
            if known:
                return True
        return False

    def _probe(self, sentence: str, signature: frozenset[str], project: str) -> bool:
        others = [p.id for p in self.catalog.projects if p.id != project]
        if not others:
            return False
        hits = self.store.lexical.search(sentence, BOILERPLATE_PROBE_HITS, Filters(projects=others))
        chunks = self.store.get_chunks([chunk_id for chunk_id, _ in hits])
        return any(
            similar_signatures(signature, boilerplate_signature(chunk.text[start:end]))
            for chunk in chunks.values()
            for start, end in split_sentences(chunk.text)
        )

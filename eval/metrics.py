"""Evaluation metrics as pure functions: retrieval, answers, citations, abstention, latency.

Nothing here touches the index or a model. Every function takes plain data so its value can be
checked by hand in the tests.

Retrieval relevance comes from the gold sources of a question. A retrieved passage is relevant
at document level when its source path ends with a gold file path (at a path-component boundary),
at page level when in addition one of the pages it spans is among that file's gold pages. A gold
*unit* is a gold file (document level) or a (file, page) pair (page level):

* ``hit@k``: 1 when one of the top k passages is relevant, else 0;
* ``recall@k``: share of the gold units covered by the top k passages;
* ``mrr``: 1 / rank of the first relevant passage within the top 10, else 0;
* ``ndcg@10``: binary gain 1 for a passage that covers a gold unit no earlier passage covered
  (so ten passages from one gold document count once), discounted by log2(rank + 1), divided by
  the best possible DCG with ``min(#units, 10)`` relevant passages.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.compare import NO_INFORMATION
from assistant.verify import lexical_support, strip_citations
from regiostrat.index.analyzer import analyze
from regiostrat.sentences import split_sentences

HIT_KS = (1, 3, 5, 10)
RECALL_KS = (1, 3, 5, 10)
NDCG_K = 10
MRR_K = 10
SUPPORT_THRESHOLD = 0.5


# -- retrieval ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoldSource:
    """A gold source: a file path relative to the corpus root and its relevant pages.

    Empty `pages` means the whole file (benchmarks without pages): then page-level metrics are
    not computed for the question.
    """

    file: str
    pages: tuple[int, ...] = ()


@dataclass(frozen=True)
class Retrieved:
    """A retrieved passage as the metrics see it."""

    source: str
    page_start: int = 1
    page_end: int | None = None
    score: float = 0.0

    @property
    def pages(self) -> range:
        return range(self.page_start, (self.page_end or self.page_start) + 1)


def normalize_path(path: str) -> str:
    return path.replace("\\", "/").strip().strip("/")


def source_matches(source: str, gold_file: str) -> bool:
    """True when `source` ends with `gold_file` at a path-component boundary."""
    source, gold = normalize_path(source), normalize_path(gold_file)
    if not gold:
        return False
    return source == gold or source.endswith("/" + gold)


def relevant_units(
    passage: Retrieved, gold: Sequence[GoldSource], level: str
) -> set[tuple[str, int]]:
    """The gold units a passage covers: (file, 0) at document level, (file, page) at page level."""
    units: set[tuple[str, int]] = set()
    for source in gold:
        if not source_matches(passage.source, source.file):
            continue
        if level == "doc":
            units.add((normalize_path(source.file), 0))
        else:
            units.update(
                (normalize_path(source.file), page)
                for page in passage.pages
                if page in source.pages
            )
    return units


def gold_units(gold: Sequence[GoldSource], level: str) -> set[tuple[str, int]]:
    if level == "doc":
        return {(normalize_path(s.file), 0) for s in gold}
    return {(normalize_path(s.file), page) for s in gold for page in s.pages}


def retrieval_metrics(
    ranking: Sequence[Retrieved], gold: Sequence[GoldSource], level: str = "doc"
) -> dict[str, float] | None:
    """hit@k, recall@k, MRR and nDCG@10 of one ranking; None without gold units at this level."""
    if level not in ("doc", "page"):
        raise ValueError(f"unknown level {level!r}")
    wanted = gold_units(gold, level)
    if not wanted:
        return None
    covered_per_rank = [relevant_units(p, gold, level) & wanted for p in ranking]
    out: dict[str, float] = {}
    for k in HIT_KS:
        out[f"hit@{k}"] = 1.0 if any(covered_per_rank[:k]) else 0.0
    for k in RECALL_KS:
        found: set[tuple[str, int]] = set().union(*covered_per_rank[:k]) if ranking else set()
        out[f"recall@{k}"] = len(found) / len(wanted)
    out["mrr"] = next(
        (1.0 / rank for rank, units in enumerate(covered_per_rank[:MRR_K], 1) if units), 0.0
    )
    seen: set[tuple[str, int]] = set()
    dcg = 0.0
    for rank, units in enumerate(covered_per_rank[:NDCG_K], 1):
        new = units - seen
        if new:
            dcg += 1.0 / math.log2(rank + 1)
            seen |= new
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), NDCG_K) + 1))
    out[f"ndcg@{NDCG_K}"] = dcg / ideal
    return out


# -- answer text -------------------------------------------------------------------------------
_SPACE = re.compile(r"\s+")
_SOFT = str.maketrans({"\u00ad": None, "\u200b": None})


def normalize_text(text: str) -> str:
    """Case-folded, NFC, soft hyphens removed, runs of whitespace as one space."""
    text = unicodedata.normalize("NFC", text).translate(_SOFT).casefold()
    return _SPACE.sub(" ", text).strip()


_MARKER = re.compile(r"\[(\d+)\]")
_LEADING_MARKERS = re.compile(r"^\s*(?:\[\d+\]\s*)+")
_MARKUP = re.compile(r"\*\*|__|^\s*(?:[-*•]|\d{1,3}[.)])\s+", re.MULTILINE)


# The text without citation markers ("Prozent [2]." -> "Prozent."), as the verifier strips them.
strip_markers = strip_citations


def fact_coverage(answer: str, facts: Sequence[Sequence[str]]) -> float | None:
    """Share of facts of which one alternative occurs in the answer; None without facts."""
    facts = [f for f in facts if any(a.strip() for a in f)]
    if not facts:
        return None
    text = normalize_text(strip_markers(answer))
    covered = sum(
        1 for alternatives in facts if any(normalize_text(a) in text for a in alternatives if a)
    )
    return covered / len(facts)


def missing_facts(answer: str, facts: Sequence[Sequence[str]]) -> list[str]:
    text = normalize_text(strip_markers(answer))
    return [
        " | ".join(alternatives)
        for alternatives in facts
        if alternatives and not any(normalize_text(a) in text for a in alternatives if a)
    ]


def token_f1(prediction: str, references: Sequence[str]) -> float | None:
    """Best bag-of-terms F1 (German analyzer terms) against any reference; None without any."""
    references = [r for r in references if r and r.strip()]
    if not references:
        return None
    predicted = Counter(analyze(strip_markers(prediction)))
    best = 0.0
    for reference in references:
        gold = Counter(analyze(reference))
        common = sum((predicted & gold).values())
        if not common:
            continue
        precision = common / sum(predicted.values())
        recall = common / sum(gold.values())
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def _sentence_match(predicted: str, reference: str) -> bool:
    if not predicted or not reference:
        return False
    return predicted == reference or (
        min(len(predicted), len(reference)) >= 12
        and (predicted in reference or reference in predicted)
    )


def sentence_f1(
    prediction_sentences: Sequence[str], reference_sentences: Sequence[str]
) -> float | None:
    """F1 of answer sentences against reference sentences (OMoS-QA marks whole page lines).

    A predicted sentence is correct when it equals, contains or lies within a reference sentence
    (normalised); recall counts the reference sentences matched by some predicted sentence.
    None without reference sentences.
    """
    refs = [normalize_text(r) for r in reference_sentences if r and r.strip()]
    if not refs:
        return None
    preds = [normalize_text(strip_markers(p)) for p in prediction_sentences]
    preds = [p for p in preds if p]
    if not preds:
        return 0.0
    precision = sum(1 for p in preds if any(_sentence_match(p, r) for r in refs)) / len(preds)
    recall = sum(1 for r in refs if any(_sentence_match(p, r) for p in preds)) / len(refs)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# -- citations ---------------------------------------------------------------------------------
_NO_INFORMATION = NO_INFORMATION.split("{")[0]


@dataclass
class Claim:
    """A sentence of an answer and the citation numbers attached to it."""

    text: str
    markers: list[int] = field(default_factory=list)


def answer_claims(answer: str) -> list[Claim]:
    """The sentences of an answer with their citation markers.

    Markers directly after a sentence's end ("... Ende. [2]") belong to that sentence. Headings
    (lines ending with ':'), Markdown markup and a comparison's statement that a project's
    documents say nothing ("keine Angaben in den Dokumenten von …") are not claims.
    """
    claims: list[Claim] = []
    for line in answer.splitlines():
        line = _MARKUP.sub("", line)
        if not line.strip():
            continue
        for start, end in split_sentences(line):
            piece = line[start:end]
            lead = _LEADING_MARKERS.match(piece)
            if lead and claims:
                claims[-1].markers.extend(int(n) for n in _MARKER.findall(lead.group()))
                piece = piece[lead.end() :]
            markers = [int(n) for n in _MARKER.findall(piece)]
            text = strip_markers(piece)
            if not text or not analyze(text):
                continue
            if not markers and (text.endswith(":") or _NO_INFORMATION in text):
                continue
            claims.append(Claim(text, markers))
    for claim in claims:
        claim.markers = list(dict.fromkeys(claim.markers))
    return claims


def supports(sentence: str, quote: str, threshold: float = SUPPORT_THRESHOLD) -> bool:
    """A quote supports a sentence when it contains it verbatim (normalised) or at least
    `threshold` of the sentence's analyzer terms."""
    if not sentence.strip() or not quote.strip():
        return False
    if normalize_text(strip_markers(sentence)) in normalize_text(quote):
        return True
    claim = strip_markers(sentence)
    if not analyze(claim):
        return False
    return lexical_support(claim, set(analyze(quote))) >= threshold


def _quotes(citations: Mapping[int, str] | Sequence[Mapping[str, Any]]) -> dict[int, str]:
    if isinstance(citations, Mapping):
        return {int(n): str(q) for n, q in citations.items()}
    out: dict[int, str] = {}
    for c in citations:
        text = " ".join(str(c.get(key) or "") for key in ("quote", "highlight"))
        out[int(c["n"])] = text
    return out


def citation_scores(
    answer: str, citations: Mapping[int, str] | Sequence[Mapping[str, Any]]
) -> dict[str, float | None]:
    """Citation precision and groundedness of one answer.

    * citation precision: of all (sentence, [n]) pairs, the share where citation n's quote
      supports the sentence (a marker without a citation counts as unsupported);
    * groundedness: share of answer sentences supported by their citations (a sentence is
      supported when it occurs verbatim in one cited quote or when the union of its cited quotes
      holds at least half of its terms); sentences without a marker are unsupported.

    Both None for an answer without sentences (or precision None without any marker).
    """
    quotes = _quotes(citations)
    claims = answer_claims(answer)
    if not claims:
        return {"citation_precision": None, "groundedness": None, "claims": 0}
    pairs = supported_pairs = grounded = 0
    for claim in claims:
        cited = [quotes.get(n, "") for n in claim.markers]
        pairs += len(cited)
        supported_pairs += sum(1 for q in cited if supports(claim.text, q))
        if cited and (
            any(supports(claim.text, q) for q in cited) or supports(claim.text, " ".join(cited))
        ):
            grounded += 1
    return {
        "citation_precision": supported_pairs / pairs if pairs else None,
        "groundedness": grounded / len(claims),
        "claims": len(claims),
    }


# -- abstention and aggregation ----------------------------------------------------------------
def abstention_scores(pairs: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """Precision and recall of abstaining on unanswerable questions.

    `pairs` are (answerable, abstained). Positive class: unanswerable. Precision = abstentions on
    unanswerable questions / all abstentions; recall = abstentions on unanswerable questions /
    unanswerable questions. None when the denominator is 0.
    """
    tp = fp = fn = 0
    for answerable, abstained in pairs:
        if abstained and not answerable:
            tp += 1
        elif abstained and answerable:
            fp += 1
        elif not abstained and not answerable:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {"abstention_precision": precision, "abstention_recall": recall, "abstention_f1": f1}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; None for no values."""
    data = sorted(values)
    if not data:
        return None
    position = (len(data) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return data[low] + (data[high] - data[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None

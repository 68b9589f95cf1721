"""The German analyzer of the lexical index, used alike for chunk texts and for queries.

A word is case-folded (so "ß" becomes "ss"), dropped when it is a stop word, and stemmed with the
Snowball German stemmer, which also folds umlauts and their spellings "ae"/"oe"/"ue" to the bare
vowel ("Maßnahmen", "Massnahme" -> "massnahm"). Compound words yield their stem and the stems of
their parts, found with `compound_split` and split again for compounds of three or more parts:
"Fachkräftesicherung" -> "fachkraftesicher", "fachkraft", "sicher", so it matches "Sicherung von
Fachkräften" both ways. A hyphen is a certain compound boundary ("Selbsthilfe-Gruppe").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache, lru_cache
from types import ModuleType

import Stemmer

from regiostrat.index import compound_tables

# The Snowball German stop word list, plus the question words that open most user queries.
STOP_WORDS: frozenset[str] = frozenset(
    """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
    anderm andern anderr anders auch auf aus bei bin bis bist da damit dann der den des dem die
    das dass daß derselbe derselben denselben desselben demselben dieselbe dieselben dasselbe dazu
    dein deine deinem deinen deiner deines denn derer dessen dich dir du dies diese diesem diesen
    dieser dieses doch dort durch ein eine einem einen einer eines einig einige einigem einigen
    einiger einiges einmal er ihn ihm es etwas euer eure eurem euren eurer eures für gegen gewesen
    hab habe haben hat hatte hatten hier hin hinter ich mich mir ihr ihre ihrem ihren ihrer ihres
    euch im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes jetzt kann
    kein keine keinem keinen keiner keines können könnte machen man manche manchem manchen mancher
    manches mein meine meinem meinen meiner meines mit muss musste nach nicht nichts noch nun nur
    ob oder ohne sehr sein seine seinem seinen seiner seines selbst sich sie ihnen sind so solche
    solchem solchen solcher solches soll sollte sondern sonst über um und uns unsere unserem
    unseren unser unseres unter viel vom von vor während war waren warst was weg weil weiter
    welche welchem welchen welcher welches wenn werde werden wie wieder will wir wird wirst wo
    wollen wollte würde würden zu zum zur zwar zwischen
    wann warum weshalb wieso wer wem wen wessen woher wohin womit wofür
    """.casefold().split()
)

MIN_TOKEN_LENGTH = 2
# Words shorter than this are not tried as compounds (both parts need MIN_PART_LENGTH letters).
MIN_COMPOUND_LENGTH = 8
MIN_PART_LENGTH = 4
# `compound_split` scores its best split roughly in [-2, 1.5]; below this, a word is kept whole.
SPLIT_THRESHOLD = 0.4

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_local = threading.local()  # PyStemmer stemmers must not be shared between threads


def analyze(text: str, split_compounds: bool = True) -> list[str]:
    """The index terms of `text`, in text order (a compound's stem first, then its parts')."""
    terms: list[str] = []
    for match in _WORD.finditer(text):
        terms.extend(_analyze_word(match.group(), split_compounds))
    return terms


@lru_cache(maxsize=200_000)
def _analyze_word(word: str, split_compounds: bool) -> tuple[str, ...]:
    word = unicodedata.normalize("NFC", word).casefold()
    segments = word.split("-")
    words = ["".join(segments)] if len(segments) > 1 else []
    for segment in segments:
        words.append(segment)
        if split_compounds:
            words.extend(_compound_parts(segment))
    terms = dict.fromkeys(_stem(w) for w in words if w not in STOP_WORDS)
    return tuple(t for t in terms if len(t) >= MIN_TOKEN_LENGTH)


@lru_cache(maxsize=200_000)
def _compound_parts(word: str) -> tuple[str, ...]:
    """All parts of a compound word, recursively (nothing for a simple word)."""
    if len(word) < MIN_COMPOUND_LENGTH or not word.isalpha():
        return ()
    score, head, tail = _char_split().split_compound(word)[0]
    head, tail = head.casefold(), tail.casefold()
    if score < SPLIT_THRESHOLD or min(len(head), len(tail)) < MIN_PART_LENGTH:
        return ()
    return (head, *_compound_parts(head), tail, *_compound_parts(tail))


_loading = threading.Lock()


@cache
def _char_split() -> ModuleType:
    """compound_split's splitter on the cached tables, loaded on the first compound (~0.4 s;
    processes that never analyze text, such as `regiostrat index-info`, skip it)."""
    with _loading:
        compound_tables.install()
        from compound_split import char_split

        return char_split


def preload_compound_splitter() -> None:
    """Load the compound splitter now rather than on the first compound (parse workers do, so
    that a worker started ahead of a run is ready for its first file)."""
    _char_split()


def _stem(word: str) -> str:
    """Snowball stem, with remaining diacritics (other than German umlauts) removed."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("german")
    stem = stemmer.stemWord(word)
    if stem.isascii():
        return stem
    decomposed = unicodedata.normalize("NFKD", stem)
    return "".join(c for c in decomposed if not unicodedata.combining(c))

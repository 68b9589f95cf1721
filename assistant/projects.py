"""The model projects known to the index, and which of them a question mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from regiostrat.index.registry import DocumentRecord

# Words too generic to identify a project on their own.
_GENERIC = {
    "region",
    "regionen",
    "landkreis",
    "landkreise",
    "kreis",
    "kreise",
    "stadt",
    "zukunft",
    "gemeinsam",
    "stark",
    "raum",
    "ländlichen",
    "zusammenarbeit",
    "kooperation",
    "konkurrenz",
    "partnern",
    "partner",
    "gestalten",
    "strukturwandel",
    "daseinsvorsorge",
    "denken",
    "neu",
    "wege",
    "kurzen",
    "grenze",
    "niederlanden",
    "tschechien",
    "luxemburg",
    "mit",
    "und",
    "der",
    "die",
    "das",
    "den",
    "des",
    "im",
    "in",
    "am",
    "an",
    "statt",
    "durch",
    "hessen",
    "bayern",
    "brandenburg",
    "sachsen-anhalt",
    "thüringen",
    "niedersachsen",
    "nordrhein-westfalen",
    "rheinland-pfalz",
    "schleswig-holstein",
    "baden-württemberg",
    "mecklenburg-vorpommern",
    "zukunftsregion",
    "wachstumsregion",
    "stadt-land-partnerschaft",
    "vernetzt",
    "grenzenlos",
    "woiwodschaft",
    "fichtelgebirge)",
    "eifelkreis",
    "altmarkkreis",
}
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß][\wÄÖÜäöüß-]+")


@dataclass
class Project:
    id: str
    name: str
    region: str
    aliases: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.name or self.id


def _aliases(project_id: str, name: str, region: str) -> set[str]:
    words = set()
    for text in (name, region):
        for word in _WORD.findall(text):
            lowered = word.lower().strip("-")
            if len(lowered) >= 5 and lowered not in _GENERIC:
                words.add(lowered)
    # the id's own words ("mv01-westkueste" → "westkueste") help ASCII spellings
    for part in project_id.split("-")[1:]:
        if len(part) >= 5:
            words.add(part)
    return words


class ProjectCatalog:
    def __init__(self, projects: list[Project]) -> None:
        self.projects = sorted(projects, key=lambda p: p.id)
        self._by_id = {p.id: p for p in self.projects}

    @classmethod
    def from_documents(cls, documents: list[DocumentRecord]) -> ProjectCatalog:
        found: dict[str, Project] = {}
        for doc in documents:
            meta = doc.meta
            if meta.project and meta.project not in found:
                found[meta.project] = Project(
                    meta.project, meta.project_name or "", meta.region or ""
                )
        for project in found.values():
            project.aliases = _aliases(project.id, project.name, project.region)
        return cls(list(found.values()))

    def get(self, project_id: str) -> Project | None:
        return self._by_id.get(project_id)

    def mentioned_in(self, text: str) -> list[str]:
        """Ids of projects whose distinctive name or region words occur in the text."""
        words = set()
        for word in _WORD.findall(text):
            word = _ascii(word.lower())
            # "Westküsten-Vorhaben" names the Westküste by one of its parts
            words.update([word, *word.split("-")])
        hits = []
        for project in self.projects:
            if any(_names(word, _ascii(alias)) for alias in project.aliases for word in words):
                hits.append(project.id)
        return hits

    def strip_mentions(self, text: str) -> str:
        """The text without the words that name a project (once a filter scopes the search,
        the project's name no longer tells passages apart)."""
        aliases = {_ascii(a) for p in self.projects for a in p.aliases}

        def names_project(word: str) -> bool:
            key = _ascii(word.lower().strip("?.,;:!„“\"'()"))
            return any(_names(key, alias) for alias in aliases)

        def without_names(word: str) -> str:
            if names_project(word):
                return ""
            # "Westküsten-Vorhaben" → "Vorhaben"
            return "-".join(part for part in word.split("-") if not names_project(part))

        return " ".join(kept for kept in map(without_names, text.split()) if kept)


def _ascii(word: str) -> str:
    return word.replace("ü", "ue").replace("ä", "ae").replace("ö", "oe").replace("ß", "ss")


def _names(word: str, alias: str) -> bool:
    """A word names an alias when it is the alias or an inflection ("Altmarks", "Eifeler")."""
    return word == alias or (word.startswith(alias) and len(word) - len(alias) <= 2)

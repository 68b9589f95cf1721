"""The German lexical index on real SQLite files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from factories import make_chunk

from regiostrat.errors import IndexMismatchError
from regiostrat.index.analyzer import analyze
from regiostrat.index.lexical import LexicalIndex
from regiostrat.types import Filters


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LexicalIndex]:
    with LexicalIndex(tmp_path / "lexical.sqlite") as idx:
        yield idx


def ids_of(hits: list[tuple[str, float]]) -> list[str]:
    return [chunk_id for chunk_id, _ in hits]


FILLER = [
    make_chunk("f1", "Der Radweg an der Küste wurde im Sommer eröffnet.", "doc-f"),
    make_chunk("f2", "Die Gemeinde plant einen neuen Spielplatz am Marktplatz.", "doc-f"),
]


def test_compound_matches_its_parts_both_ways(index: LexicalIndex) -> None:
    index.upsert(
        [
            make_chunk("compound", "Die Fachkräftesicherung ist das Ziel des Modellvorhabens."),
            make_chunk("phrase", "Es geht um die Sicherung von Fachkräften im ländlichen Raum."),
            *FILLER,
        ]
    )
    assert ids_of(index.search("Sicherung von Fachkräften", 5))[:2] == ["phrase", "compound"]
    assert ids_of(index.search("Fachkräftesicherung", 5))[:2] == ["compound", "phrase"]


def test_sharp_s_and_umlauts_fold(index: LexicalIndex) -> None:
    index.upsert([make_chunk("m", "Geplante Maßnahmen für die Ortskerne."), *FILLER])
    assert ids_of(index.search("massnahme", 5)) == ["m"]
    assert analyze("Kräfte") == analyze("Kraefte")


def test_stemming_matches_inflections(index: LexicalIndex) -> None:
    index.upsert([make_chunk("p", "Die Projekte der Region wurden bewertet."), *FILLER])
    for query in ("Projekt", "Projekts", "Projekten", "PROJEKTE"):
        assert ids_of(index.search(query, 5)) == ["p"]


def test_queries_that_analyse_to_nothing_find_nothing(index: LexicalIndex) -> None:
    index.upsert([make_chunk("s", "Und der die das ist nicht von uns."), *FILLER])
    for query in ("der die das und", "?!  ...", "", "   "):
        assert analyze(query) == []
        assert index.search(query, 5) == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"Radweg',
        "Radweg AND",
        "OR OR NOT",
        "*",
        "Rad*",
        "NEAR(Radweg Küste",
        "((Radweg",
        "Radweg)",
        "'; DROP TABLE chunks; --",
        "terms:Radweg",
        "^Radweg -Küste +Sommer",
        "\x00Radweg\x00",
        "Radweg " * 5000,
    ],
)
def test_hostile_queries_do_not_raise(index: LexicalIndex, query: str) -> None:
    index.upsert(FILLER)
    hits = index.search(query, 5)
    if "Radweg" in query:
        assert ids_of(hits)[:1] == ["f1"]
    assert index.count() == 2


def test_upsert_replaces_by_id(index: LexicalIndex) -> None:
    index.upsert([make_chunk("x", "Breitbandausbau im Landkreis"), *FILLER])
    index.upsert([make_chunk("x", "Tourismus an der Ostsee", project="p2")])
    assert index.count() == 3
    assert index.search("Breitbandausbau", 5) == []
    assert ids_of(index.search("Tourismus", 5)) == ["x"]
    assert ids_of(index.search("Tourismus", 5, Filters(projects=["p2"]))) == ["x"]


def test_duplicate_ids_in_one_call_keep_the_last(index: LexicalIndex) -> None:
    index.upsert([make_chunk("x", "Breitbandausbau"), make_chunk("x", "Tourismus")])
    assert index.count() == 1
    assert ids_of(index.search("Tourismus Breitbandausbau", 5)) == ["x"]
    assert index.search("Breitbandausbau", 5) == []


def test_deletions_remove_hits_and_ids(index: LexicalIndex) -> None:
    index.upsert(
        [
            make_chunk("a1", "Mobilität auf dem Land", "doc-a"),
            make_chunk("a2", "Mobilität und Bürgerbus", "doc-a"),
            make_chunk("b1", "Mobilität in der Stadt", "doc-b"),
            make_chunk("c1", "Mobilität am Wochenende", "doc-c"),
        ]
    )
    index.delete_ids(["b1", "unknown"])
    assert index.ids() == {"a1", "a2", "c1"}
    assert "b1" not in ids_of(index.search("Mobilität", 10))
    index.delete_documents(["doc-a"])
    assert index.ids() == {"c1"}
    assert ids_of(index.search("Mobilität Bürgerbus", 10)) == ["c1"]
    index.delete_ids([])
    index.delete_documents([])
    assert index.count() == 1


def test_data_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "lexical.sqlite"
    with LexicalIndex(path) as first:
        first.upsert([make_chunk("keep", "Daseinsvorsorge in Dörfern"), *FILLER])
        first.delete_ids(["f2"])
    with LexicalIndex(path) as second:
        assert second.ids() == {"keep", "f1"}
        assert ids_of(second.search("Daseinsvorsorge", 5)) == ["keep"]


def test_an_index_of_another_analyzer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lexical.sqlite"
    LexicalIndex(path, split_compounds=True).close()
    with pytest.raises(IndexMismatchError):
        LexicalIndex(path, split_compounds=False)


def test_filters(index: LexicalIndex) -> None:
    index.upsert(
        [
            make_chunk(
                "a",
                "Wohnen im Alter",
                project="p1",
                doc_type="Zwischenbericht",
                date=dt.date(2021, 3, 1),
                themes=["Demografie", "Wohnen"],
            ),
            make_chunk(
                "b",
                "Wohnen für Familien",
                project="p2",
                doc_type="Protokoll",
                date=dt.date(2023, 6, 15),
                themes=["Wohnen"],
            ),
            make_chunk("c", "Wohnen ohne Datum", project="p3", themes=[]),
        ]
    )

    def found(filters: Filters) -> set[str]:
        return set(ids_of(index.search("Wohnen", 10, filters)))

    assert found(Filters()) == {"a", "b", "c"}
    assert found(Filters(projects=["p1", "p3"])) == {"a", "c"}
    assert found(Filters(doc_types=["Protokoll"])) == {"b"}
    assert found(Filters(themes=["Demografie", "Mobilität"])) == {"a"}
    assert found(Filters(themes=["Wohnen"])) == {"a", "b"}
    assert found(Filters(date_from=dt.date(2022, 1, 1))) == {"b"}
    assert found(Filters(date_to=dt.date(2022, 1, 1))) == {"a"}
    assert found(Filters(date_from=dt.date(2021, 3, 1), date_to=dt.date(2023, 6, 15))) == {
        "a",
        "b",
    }
    assert found(Filters(projects=["p2"], doc_types=["Zwischenbericht"])) == set()


def test_ranking_puts_the_more_relevant_chunk_first(index: LexicalIndex) -> None:
    index.upsert(
        [
            make_chunk("weak", "Im Bericht wird der Tourismus kurz erwähnt, sonst Landwirtschaft."),
            make_chunk(
                "strong",
                "Tourismus an der Küste: Der sanfte Tourismus stärkt die Küstenorte.",
            ),
            *FILLER,
        ]
    )
    hits = index.search("sanfter Tourismus", 5)
    assert ids_of(hits)[:2] == ["strong", "weak"]
    assert hits[0][1] > hits[1][1] > 0


def test_k_limits_results(index: LexicalIndex) -> None:
    index.upsert([make_chunk(f"c{i}", f"Leerstand Nummer {i}") for i in range(10)])
    assert len(index.search("Leerstand", 3)) == 3
    assert index.search("Leerstand", 0) == []


def test_concurrent_searches_from_threads(index: LexicalIndex) -> None:
    index.upsert([make_chunk(f"c{i}", f"Fachkräftesicherung Projekt {i}") for i in range(20)])

    def search(_: int) -> int:
        return len(index.search("Sicherung von Fachkräften", 5))

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(search, range(200))) == {5}

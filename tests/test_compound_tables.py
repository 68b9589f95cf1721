"""compound_split's German tables from the cache file: the same splits, a rebuilt damaged cache,
and processes that start without importing the 39 MB table module."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from regiostrat.index import compound_tables

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def full_tables() -> ModuleType:
    """compound_split's own table module, loaded from its file under another name (the
    `compound_split.de_ngram_probs` entry of this process may be the cached stand-in)."""
    package = importlib.util.find_spec("compound_split")
    assert package is not None and package.origin is not None
    spec = importlib.util.spec_from_file_location(
        "full_de_ngram_probs", Path(package.origin).with_name("de_ngram_probs.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_words() -> list[str]:
    """Long words of the bundled corpus's Markdown and HTML documents, as the analyzer splits
    them (case-folded)."""
    words: set[str] = set()
    for path in sorted((REPO / "corpus" / "documents").rglob("*")):
        if path.suffix in {".md", ".html"}:
            text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
            words.update(w.casefold() for w in re.findall(r"[^\W\d_]{8,}", text))
    return sorted(words)


@pytest.fixture
def char_split_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Points compound_split's splitter at the given tables."""
    from compound_split import char_split

    def use(tables: object) -> ModuleType:
        monkeypatch.setattr(char_split, "de_ngram_probs", tables)
        return char_split

    yield use


def test_pruned_tables_split_every_corpus_word_as_the_full_ones(
    full_tables: ModuleType, corpus_words: list[str], char_split_on, tmp_path: Path
) -> None:
    assert len(corpus_words) > 1000
    pruned = compound_tables.prune(vars(full_tables))
    assert len(pruned["infix"]) < len(full_tables.infix) / 4  # what makes loading cheap
    cached = tmp_path / "tables.bin"
    compound_tables.write_cache(cached, "key", pruned)
    from_cache = compound_tables.read_cache(cached, "key")
    assert from_cache == pruned

    splitter = char_split_on(full_tables)
    expected = [splitter.split_compound(word)[0] for word in corpus_words]
    splitter = char_split_on(compound_tables._table_module("cached", from_cache))
    assert [splitter.split_compound(word)[0] for word in corpus_words] == expected
    assert splitter.split_compound("fachkräftesicherung")[0][1:] == ("Fachkräfte", "Sicherung")


def test_cache_is_built_once_then_read_without_the_table_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = compound_tables.load(tmp_path)
    assert tables is not None and tables["prefix"]
    [cache_file] = tmp_path.iterdir()

    def no_import(name: str) -> None:
        raise AssertionError(f"imported {name} although the cache is there")

    monkeypatch.setattr(compound_tables.importlib, "import_module", no_import)
    assert compound_tables.load(tmp_path) == tables
    assert list(tmp_path.iterdir()) == [cache_file]


@pytest.fixture(scope="module")
def built_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache_dir = tmp_path_factory.mktemp("cache")
    assert compound_tables.load(cache_dir) is not None
    [cache_file] = cache_dir.iterdir()
    return cache_file


@pytest.mark.parametrize("damage", ["truncated", "other source", "not a header"])
def test_damaged_or_stale_cache_is_rebuilt(built_cache: Path, tmp_path: Path, damage: str) -> None:
    cache_file = tmp_path / built_cache.name
    data = built_cache.read_bytes()
    if damage == "truncated":
        cache_file.write_bytes(data[: len(data) // 2])
    elif damage == "other source":
        header, _, body = data.partition(b"\n")
        stale = json.loads(header) | {"source": "compound-split 0.9"}
        cache_file.write_bytes(json.dumps(stale).encode() + b"\n" + body)
    else:
        cache_file.write_bytes(b"\x00\xff" * 100)
    assert compound_tables.read_cache(cache_file, compound_tables.source_key() or "") is None
    tables = compound_tables.load(tmp_path)
    assert tables is not None and tables == compound_tables.read_cache(
        built_cache, compound_tables.source_key() or ""
    )
    assert cache_file.read_bytes() == data


def test_without_a_writable_cache_the_table_module_is_imported(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    script = "from regiostrat.index.analyzer import analyze; print(analyze('Fachkräftesicherung'))"
    env = os.environ | {"XDG_CACHE_HOME": str(blocker / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['fachkraftesicher', 'fachkraft', 'fach', 'kraft', 'sicher']"


BLOCK_TABLE_MODULE = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "compound_split.de_ngram_probs":
            raise ImportError("the 39 MB table module was imported")
sys.meta_path.insert(0, Blocker())
"""


def test_a_process_splits_compounds_from_the_cache(tmp_path: Path) -> None:
    script = "from regiostrat.index.analyzer import analyze; print(analyze('Fachkräftesicherung'))"
    env = os.environ | {"XDG_CACHE_HOME": str(tmp_path)}

    def run(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)

    expected = "['fachkraftesicher', 'fachkraft', 'fach', 'kraft', 'sicher']"
    assert "39 MB" in run(BLOCK_TABLE_MODULE + script).stderr  # no cache yet: needs the module
    first = run(script)  # builds the cache
    assert first.stdout.strip() == expected, first.stderr
    cached = run(BLOCK_TABLE_MODULE + script)
    assert cached.stdout.strip() == expected, cached.stderr

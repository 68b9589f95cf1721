"""compound_split's German n-gram tables, loaded in a quarter of the time.

`compound_split` ships its tables (1.9 million n-grams) as a 39 MB Python module; importing it
costs ~1.5 s, which every process paid at start: the CLI, the web app and each parse worker
(2.2 s to start, of which the tables were three quarters; now 1.1 s). Two things make them cheaper:

* pruning that cannot change a split: `split_compound` looks infixes up with a default of 1, so
  the 86 % of infix entries whose value is 1 are dropped, and so are n-grams the analyzer never
  asks for (not case-folded: it splits case-folded words);
* a plain cache file, built once from the module and read back in ~0.4 s: a JSON header, then
  per table its keys (UTF-8, newline-separated) and values (float64). No pickle: reading the
  file runs no code. It lives under `~/.cache/regiostrat/` (or `$XDG_CACHE_HOME/regiostrat/`)
  and is rebuilt when compound_split's table file changes or the cache is unreadable; where no
  cache can be written, the module is imported as before.

`install()` registers the tables as `compound_split.de_ngram_probs` (and an empty stand-in for
the Dutch tables, which `char_split` imports too but we never use) before `char_split` is
imported, so its own `split_compound` runs unchanged on them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import tempfile
import types
from array import array
from collections.abc import Mapping
from pathlib import Path

FORMAT_VERSION = 1
TABLE_NAMES = ("prefix", "infix", "suffix")
GERMAN = "compound_split.de_ngram_probs"
DUTCH = "compound_split.nl_ngram_probs"
INFIX_DEFAULT = 1  # `split_compound`: infix.get(ngram, 1)

Tables = dict[str, dict[str, float]]


def default_cache_dir() -> Path:
    """Where regiostrat keeps what it derives from installed packages (never downloads)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "regiostrat"


def install(cache_dir: Path | None = None) -> None:
    """Make `compound_split.char_split` use the (cached, pruned) German tables and no Dutch ones.
    Does nothing for a table module that is loaded already."""
    if DUTCH not in sys.modules:
        sys.modules[DUTCH] = _table_module(DUTCH, {name: {} for name in TABLE_NAMES})
    if GERMAN not in sys.modules:
        tables = load(cache_dir or default_cache_dir())
        if tables is not None:
            module = sys.modules[GERMAN] = _table_module(GERMAN, tables)
            # a submodule is also an attribute of its package, which `from ... import` prefers
            package = importlib.import_module("compound_split")
            package.de_ngram_probs = module  # type: ignore[attr-defined]


def load(cache_dir: Path) -> Tables | None:
    """The pruned German tables from the cache, building the cache first when it is missing or
    stale; None when compound_split is not installed or no cache can be written."""
    key = source_key()
    if key is None:
        return None
    path = cache_dir / f"compound-split-de-v{FORMAT_VERSION}.bin"
    tables = read_cache(path, key)
    if tables is not None:
        return tables
    tables = prune(importlib.import_module(GERMAN).__dict__)
    try:
        write_cache(path, key, tables)
    except OSError:
        return None  # the imported module serves this process; the next one tries again
    return tables


def source_key() -> str | None:
    """Identifies the installed table file (package version, size, mtime) and this format."""
    spec = importlib.util.find_spec("compound_split")
    if spec is None or spec.origin is None:
        return None
    try:
        stat = os.stat(Path(spec.origin).with_name("de_ngram_probs.py"))
    except OSError:
        return None
    version = importlib.metadata.version("compound-split")
    return f"{version}|{stat.st_size}|{stat.st_mtime_ns}|{sys.byteorder}|{FORMAT_VERSION}"


def prune(module_tables: Mapping[str, object]) -> Tables:
    """The entries `split_compound` can ever use for the analyzer's case-folded words."""
    tables: Tables = {}
    for name in TABLE_NAMES:
        table = module_tables[name]
        assert isinstance(table, dict)
        tables[name] = {
            k: v
            for k, v in table.items()
            if k == k.casefold() and not (name == "infix" and v == INFIX_DEFAULT)
        }
    return tables


def write_cache(path: Path, key: str, tables: Tables) -> None:
    """Write atomically (temporary file, then rename): concurrent first uses are safe."""
    parts: list[bytes] = []
    layout = []
    for name in TABLE_NAMES:
        keys = "\n".join(tables[name]).encode()
        values = array("d", tables[name].values()).tobytes()
        layout.append([name, len(tables[name]), len(keys), len(values)])
        parts += [keys, values]
    header = json.dumps({"source": key, "tables": layout}).encode() + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(header)
            for part in parts:
                fh.write(part)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_cache(path: Path, key: str) -> Tables | None:
    """The tables, or None when the file is missing, from another table file, or damaged."""
    try:
        data = path.read_bytes()
        end = data.index(b"\n")
        header = json.loads(data[:end])
        if header["source"] != key:
            return None
        tables: Tables = {}
        offset = end + 1
        for name, count, key_bytes, value_bytes in header["tables"]:
            keys_blob = data[offset : offset + key_bytes]
            offset += key_bytes
            values = array("d")
            values.frombytes(data[offset : offset + value_bytes])
            offset += value_bytes
            keys = keys_blob.decode().split("\n") if count else []
            if len(keys) != count or len(values) != count:
                return None
            tables[name] = dict(zip(keys, values, strict=True))
        if offset != len(data) or set(tables) != set(TABLE_NAMES):
            return None
        return tables
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _table_module(name: str, tables: Tables) -> types.ModuleType:
    module = types.ModuleType(
        name, "compound_split n-gram tables (regiostrat.index.compound_tables)"
    )
    for table, values in tables.items():
        setattr(module, table, values)
    return module

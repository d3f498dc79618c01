"""The ``.lark`` grammars shipped with the package, and their parsers.

Grammar files live in the top-level ``grammar/`` directory, installed as the
package ``seamless_config.grammar``. Each parser is built once per process by
a cached factory: building a LALR table costs milliseconds, parsing a key
microseconds.
"""

from __future__ import annotations

import functools
import os



def _grammar_dir():
    import importlib.resources  # ~6 ms of imports: only when a grammar is needed

    try:
        return importlib.resources.files("seamless_config.grammar")
    except ModuleNotFoundError:
        # A source checkout that was never installed: seamless_config.grammar
        # only exists through pyproject's package-dir mapping.
        from pathlib import Path

        return Path(__file__).resolve().parent.parent / "grammar"


@functools.cache
def grammar_text(name: str) -> str:
    """The text of ``grammar/<name>.lark`` (``name`` may include ``.lark``)."""
    filename = name if name.endswith(".lark") else name + ".lark"
    return (_grammar_dir() / filename).read_text(encoding="utf-8")


@functools.cache
def parser(name: str, **lark_options):
    """A parser for ``grammar/<name>.lark``; LALR unless told otherwise.
    Options must be hashable: they are part of the cache key."""
    from lark import Lark

    text = grammar_text(name)
    options = {"parser": "lalr", **lark_options}
    cache = _cache_file(name, text, options) if options["parser"] == "lalr" else None
    if cache:
        loaded = _load_tables(cache)
        if loaded is not None:
            return loaded
    built = Lark(text, **options)
    if cache:
        _save_tables(built, cache)
    return built


def _cache_file(name: str, text: str, options: dict) -> str | None:
    """Building the LALR tables costs ~15 ms per process; lark can pickle
    them. The pickle lives in the user's own cache directory, never in a
    shared /tmp where another user could plant one, and its name carries a
    hash of the grammar, the options and lark's version."""
    import hashlib

    import lark

    from .paths import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(repr((text, sorted(options.items()), lark.__version__))
                            .encode()).hexdigest()[:16]
    return os.path.join(folder, f"{name}-{digest}.lark-tables")


# Not lark's own ``cache=``: lark writes that file in place, so a process
# starting while another one writes it can read half a table (and then fails
# on a later parse with a KeyError). Ours is written to a temporary file
# and renamed, so readers see a whole table or none.

def _load_tables(path: str):
    from lark import Lark

    try:
        with open(path, "rb") as f:
            return Lark.load(f)
    except Exception:  # absent, unreadable or from another lark: build afresh
        return None


def _save_tables(built, path: str) -> None:
    from .paths import write_cache_file

    write_cache_file(path, built.save)

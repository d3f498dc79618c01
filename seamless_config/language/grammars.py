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

        return Path(__file__).resolve().parents[2] / "grammar"


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
    """Building the LALR tables costs ~15 ms per process, so they are kept
    in the user's cache directory (``paths.cache_dir``: private, checked on
    every read), never in a shared /tmp. The name carries a hash of the
    grammar, the options and lark's version."""
    import hashlib

    import lark

    from ..core.paths import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(repr((text, sorted(options.items()), lark.__version__))
                            .encode()).hexdigest()[:16]
    return os.path.join(folder, f"{name}-{digest}.lark-json")


# The tables are stored as data, not as lark's pickle (``Lark.save``): a
# pickle runs code when loaded, so a planted one would run as the user.
# lark's own standalone parsers are built the same way, from
# ``memo_serialize`` data handed to ``Lark._load_from_dict``. JSON has no
# tuples and only string keys, which that data uses, so containers are
# tagged: {"d": [[key, value], ...]} a dict, {"t": [...]} a tuple.
# Not lark's ``cache=`` either: lark writes that file in place, so a process
# starting while another writes it can read half a table (and then fails on
# a later parse with a KeyError); ours is written to a temporary file and
# renamed, so readers see a whole table or none.

def _load_tables(path: str):
    import json

    from lark import Lark

    from ..core.paths import read_cache_file

    raw = read_cache_file(path)
    if raw is None:
        return None
    try:
        tables = json.loads(raw, object_hook=_untag)
        return Lark._load_from_dict(tables["data"], tables["memo"])
    except Exception:  # damaged, or written by another lark: build afresh
        return None


def _save_tables(built, path: str) -> None:
    import json

    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    from ..core.paths import write_cache_file

    data, memo = built.memo_serialize([TerminalDef, Rule])
    text = json.dumps(_tag({"data": data, "memo": memo}), separators=(",", ":"))
    write_cache_file(path, lambda f: f.write(text.encode("utf-8")))


def _tag(value):
    if isinstance(value, dict):
        return {"d": [[_tag(k), _tag(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"t": [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in the grammar cache")


def _untag(obj: dict):
    """json's object hook: inner objects are already converted."""
    if "d" in obj:
        return {_frozen(k): v for k, v in obj["d"]}
    return tuple(obj["t"])


def _frozen(key):
    # a dict key that JSON gave back as a list was a tuple
    return tuple(_frozen(k) for k in key) if isinstance(key, list) else key

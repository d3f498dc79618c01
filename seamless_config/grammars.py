"""The ``.lark`` grammars shipped with the package, and their parsers.

Grammar files live in the top-level ``grammar/`` directory, installed as the
package ``seamless_config.grammar``. Each parser is built once per process by
a cached factory: building a LALR table costs milliseconds, parsing a key
microseconds.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

from lark import Lark


def _grammar_dir():
    try:
        return importlib.resources.files("seamless_config.grammar")
    except ModuleNotFoundError:
        # A source checkout that was never installed: seamless_config.grammar
        # only exists through pyproject's package-dir mapping.
        return Path(__file__).resolve().parent.parent / "grammar"


@functools.cache
def grammar_text(name: str) -> str:
    """The text of ``grammar/<name>.lark`` (``name`` may include ``.lark``)."""
    filename = name if name.endswith(".lark") else name + ".lark"
    return (_grammar_dir() / filename).read_text(encoding="utf-8")


@functools.cache
def parser(name: str, **lark_options) -> Lark:
    """A parser for ``grammar/<name>.lark``; LALR unless told otherwise.
    Options must be hashable: they are part of the cache key."""
    options = {"parser": "lalr", **lark_options}
    return Lark(grammar_text(name), **options)

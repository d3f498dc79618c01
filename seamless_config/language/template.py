"""The launch-template language of ``tools.yaml`` (``grammar/template.lark``).

A template is parsed once into frozen nodes and interpreted against a
mapping of declared variables with a fixed table of filters: nothing is
evaluated, so a value can hold braces, quotes or ``$(...)`` and still come
out as exactly the text it was. Commands render to argv words split at the
template's own whitespace, never inside a value. Every problem here is a
programming error in ``tools.yaml`` or its caller, hence ``ValueError``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Union

from .._record import frozen_record
from ..core.paths import flatten
from .grammars import parser

# Closed on purpose: a filter is a named pure str -> str function.
FILTERS: Mapping[str, Callable[[str], str]] = {"flatten": flatten}


@frozen_record
class Text:
    value: str


@frozen_record
class Space:
    """Whitespace of the template: an argv word boundary."""


@frozen_record
class Var:
    name: str
    filters: tuple[str, ...] = ()


@frozen_record
class Flag:
    """``{name?}``: true when the boolean variable is true; emits nothing."""

    name: str


@frozen_record
class Fragment:
    items: tuple["Item", ...]

    def condition_names(self) -> tuple[str, ...]:
        """Variables that decide the fragment: only its direct ones, so a
        nested fragment can add detail without silencing its parent."""
        return tuple(i.name for i in self.items if isinstance(i, (Var, Flag)))


Item = Union[Text, Space, Var, Flag, Fragment]


@frozen_record
class Template:
    source: str
    items: tuple[Item, ...]

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(_names(self.items))

    def words(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The argv words; ``values`` must declare every variable used
        (None meaning unset)."""
        self._check_declared(values)
        return tuple(_split_words(_pieces(self.items, values)))

    def text(self, values: Mapping[str, Any]) -> str:
        """A template that must render to exactly one word (key, workdir)."""
        words = self.words(values)
        if len(words) != 1:
            raise ValueError(f"template {self.source!r} rendered to {len(words)} words, expected one")
        return words[0]

    def _check_declared(self, values: Mapping[str, Any]) -> None:
        missing = sorted(self.variables - set(values))
        if missing:
            raise ValueError(f"template {self.source!r} uses undeclared variable(s): {', '.join(missing)}")


def _names(items: tuple[Item, ...]):
    for item in items:
        if isinstance(item, (Var, Flag)):
            yield item.name
        elif isinstance(item, Fragment):
            yield from _names(item.items)


@functools.cache
def _to_nodes():
    """The tree transformer (lark loads only when a template is parsed;
    tools.py usually reads parsed templates from its cache)."""
    from lark import Transformer

    class _ToNodes(Transformer):
        """Parse tree -> frozen nodes; refuses unknown filters and stray tests."""

        def start(self, children):
            items = tuple(_leaf(c) for c in children)
            if any(isinstance(i, Flag) for i in items):
                raise ValueError("a test {name?} only means something inside [ ... ]")
            return items

        def var(self, children):
            return Var(str(children[0]), tuple(children[1:]))

        def filter(self, children):
            name = str(children[0])
            if name not in FILTERS:
                raise ValueError(f"unknown filter '{name}'; known: {', '.join(sorted(FILTERS))}")
            return name

        def test(self, children):
            return Flag(str(children[0]))

        def optional(self, children):
            node = Fragment(tuple(_leaf(c) for c in children))
            if not node.condition_names():
                raise ValueError("an optional fragment [ ... ] needs a variable or a test inside")
            return node

    return _ToNodes


def _leaf(child) -> Item:
    kind = getattr(child, "type", None)  # lark tokens carry their terminal's name
    if kind is not None:
        return Space() if kind == "SPACE" else Text(str(child))
    return child


@functools.cache
def parse(source: str) -> Template:
    """Parse a template; cached because tools.yaml reuses the same strings."""
    from lark.exceptions import LarkError, VisitError

    try:
        tree = parser("template").parse(source)
        return Template(source, _to_nodes()().transform(tree))
    except VisitError as exc:
        raise ValueError(f"template {source!r}: {exc.orig_exc}") from None
    except LarkError as exc:
        raise ValueError(f"template {source!r}: {_syntax_problem(exc)}") from None


def _syntax_problem(exc) -> str:
    token = getattr(exc, "token", None)
    if token is not None and token.type == "$END":
        return "unexpected end (an unclosed '{' or '[')"
    return f"syntax error at column {getattr(exc, 'column', '?')}"


# -- parsed templates as plain data, for tools.py's cache -------------------------------

FORMAT = 1  # bump when the node classes change: old cache files are then ignored


def to_data(items: tuple[Item, ...]) -> list:
    out = []
    for item in items:
        if isinstance(item, Text):
            out.append(["text", item.value])
        elif isinstance(item, Space):
            out.append(["space"])
        elif isinstance(item, Var):
            out.append(["var", item.name, list(item.filters)])
        elif isinstance(item, Flag):
            out.append(["flag", item.name])
        else:
            out.append(["fragment", to_data(item.items)])
    return out


def from_data(source: str, data: list) -> Template:
    """The inverse of ``to_data``; filters are checked against the table
    again, so a cache file cannot smuggle one in."""
    return Template(source, _items(data))


def _items(data: list) -> tuple[Item, ...]:
    kinds = {"text": lambda d: Text(d[1]), "space": lambda d: Space(),
             "var": lambda d: Var(d[1], tuple(_known_filter(f) for f in d[2])),
             "flag": lambda d: Flag(d[1]), "fragment": lambda d: Fragment(_items(d[1]))}
    return tuple(kinds[d[0]](d) for d in data)


def _known_filter(name: str) -> str:
    if name not in FILTERS:
        raise ValueError(f"unknown filter '{name}'")
    return name


# Rendering produces a flat stream of strings and word boundaries.
_BOUNDARY = Space()


def _pieces(items: tuple[Item, ...], values: Mapping[str, Any]) -> list:
    out: list = []
    for item in items:
        if isinstance(item, Space):
            out.append(_BOUNDARY)
        elif isinstance(item, Text):
            out.append(item.value)
        elif isinstance(item, Var):
            out.append(_render_var(item, values[item.name]))
        elif isinstance(item, Fragment) and _holds(item, values):
            out.extend(_pieces(item.items, values))
        # a Flag emits nothing; it only gated its fragment
    return out


def _render_var(var: Var, value: Any) -> str:
    if value is None:
        raise ValueError(f"variable '{var.name}' is unset outside an optional fragment")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"variable '{var.name}' must be a string or an integer, "
                         f"not {type(value).__name__} (booleans are tested with {{{var.name}?}})")
    text = str(value)
    for name in var.filters:
        text = FILTERS[name](text)
    return text


def _holds(fragment: Fragment, values: Mapping[str, Any]) -> bool:
    for item in fragment.items:
        if isinstance(item, Var) and values[item.name] is None:
            return False
        if isinstance(item, Flag) and not _truth(item.name, values[item.name]):
            return False
    return True


def _truth(name: str, value: Any) -> bool:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"variable '{name}' is tested with {{{name}?}} but is not a boolean")
    return bool(value)


def _split_words(pieces: list) -> list[str]:
    """Join pieces between boundaries; a word of no pieces (only tests, or
    nothing) is dropped, a word holding an empty value is kept."""
    words: list[str] = []
    current: list[str] = []
    for piece in pieces + [_BOUNDARY]:
        if piece is _BOUNDARY:
            if current:
                words.append("".join(current))
            current = []
        else:
            current.append(piece)
    return words

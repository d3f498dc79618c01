"""YAML reading that keeps positions and refuses YAML's silent surprises.

Files are composed (not constructed) so every node keeps its ``start_mark``;
callers convert nodes themselves with the helpers here, which reject
duplicate keys and YAML 1.1 booleans/numbers where a string was meant.
"""

from __future__ import annotations

import errno

import yaml

from ..errors import ConfigError, Span
from .paths import read_regular

try:  # libyaml keeps marks too and is several times faster
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"


def span_of(node: yaml.Node, path: str) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


MAX_DEPTH = 200


def _deeply_nested(text: str) -> bool:
    """True for text nested beyond MAX_DEPTH (by brackets, or by block
    indicators and indentation). libyaml's composer recurses in C and
    crashes the whole process on input such as '[' * 50000 or '- ' * 50000,
    so such text goes to the pure-Python composer, whose RecursionError we
    can catch. Real configuration files never come near the limit."""
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth = 0
        for ch in text:
            if ch in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return True
            elif ch in "]}":
                depth = max(0, depth - 1)
    return any(len(line) - len(line.lstrip(" -?:")) > 2 * MAX_DEPTH
               for line in text.splitlines() if len(line) > 2 * MAX_DEPTH)


def compose_text(text: str, path: str) -> yaml.Node | None:
    """Compose one YAML document; ``None`` for an empty file."""
    loader = yaml.SafeLoader if _deeply_nested(text) else _Loader
    try:
        node = yaml.compose(text, Loader=loader)
    except RecursionError:
        raise ConfigError(f"the YAML is nested more than {MAX_DEPTH} levels deep", Span(path, 1, 1),
                          "flatten the structure") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        context = exc.context_mark
        if exc.context and context is not None and context is not mark:
            # e.g. the '[' that was never closed, usually the real culprit
            problem += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        span = Span(path, mark.line + 1, mark.column + 1) if mark else Span(path, 1, 1)
        raise ConfigError(f"invalid YAML: {problem}", span,
                          "check indentation, quoting and the ':' after each key") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", Span(path, 1, 1)) from None
    if "*" in text:  # no '*', no alias: nothing to expand
        check_aliases(text, path, loader)
    return node


# What YAML aliases may add to a document, in nodes. A composed document
# shares an aliased node; everything that walks it (the loader's stage
# blocks, ``plain`` for values passed through such as extra_dask_config)
# sees a copy per alias, so nine nested levels of ten aliases in 900 bytes
# would be a billion nodes. Real files use a handful of aliases.
ALIAS_BUDGET = 100_000


def check_aliases(text: str, path: str, loader=_Loader) -> None:
    """A ConfigError at the alias where expanding the document's aliases
    would pass ALIAS_BUDGET nodes or MAX_DEPTH levels, or where an alias
    refers to a node that contains it (which no walk would finish).
    One pass over the parser's events: sizes and depths per anchor."""
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, depth) of its value
    stack: list[list] = [[0, 0, None]]  # open collections: [nodes, depth below, anchor]
    added = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise _alias_error(event, path, "refers to a node that contains it, which "
                                   "would repeat forever")
            size, depth = anchors[event.anchor]
            added += size
            if added > ALIAS_BUDGET or len(stack) + depth > MAX_DEPTH:
                what = (f"more than {ALIAS_BUDGET} nodes" if added > ALIAS_BUDGET
                        else f"more than {MAX_DEPTH} levels deep")
                raise _alias_error(event, path, f"makes the document expand to {what}")
            _add(stack[-1], size, depth)
        elif isinstance(event, yaml.ScalarEvent):
            _add(stack[-1], 1, 0)
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
        elif isinstance(event, yaml.CollectionStartEvent):
            anchors.pop(event.anchor, None)  # an alias inside refers to this open node
            stack.append([1, 0, event.anchor])
        elif isinstance(event, yaml.CollectionEndEvent):
            size, depth, anchor = stack.pop()
            _add(stack[-1], size, depth + 1)
            if anchor is not None:
                anchors[anchor] = (size, depth + 1)


def _add(frame: list, size: int, depth: int) -> None:
    frame[0] += size
    frame[1] = max(frame[1], depth)


def _alias_error(event, path: str, problem: str) -> ConfigError:
    mark = event.start_mark
    return ConfigError(f"YAML alias '*{event.anchor}' {problem}",
                       Span(path, mark.line + 1, mark.column + 1,
                            mark.line + 1, mark.column + 2 + len(event.anchor)),
                       "write the values out instead of nesting aliases")


def read_text(path: str) -> str:
    """The text of a configuration file: a regular file of at most
    ``paths.MAX_CONFIG_BYTES``, never a FIFO or a device (a committed link
    to ``/dev/zero`` would fill the memory, a FIFO block every command)."""
    try:
        data = read_regular(path)
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror or exc}", Span(path, 1, 1),
                          _READ_HINTS.get(exc.errno)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(f"file is not UTF-8 text (byte {exc.start})", Span(path, line, column),
                          "save it as UTF-8") from None


_READ_HINTS = {errno.EINVAL: "only regular files are read; replace it with one",
               errno.EFBIG: "split it, or check that it is the file you meant"}


def compose_file(path: str) -> yaml.Node | None:
    return compose_text(read_text(path), path)


def mapping_items(node: yaml.MappingNode, path: str, what: str = "mapping"):
    """(key_node, value_node) pairs; keys must be plain strings, never twice."""
    seen: dict[str, yaml.Node] = {}
    out = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag not in (STR,):
            raise ConfigError(f"{what} keys must be plain strings, not {describe(key)}",
                              span_of(key, path), "quote the key")
        if key.value in seen:
            first = span_of(seen[key.value], path)
            raise ConfigError(
                f"duplicate key '{key.value}' in one {what} (first at line {first.line})",
                span_of(key, path), "YAML would silently keep only the last one; remove one")
        seen[key.value] = key
        out.append((key, value))
    return out


def describe(node: yaml.Node) -> str:
    """A user-level name for a node's type."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {STR: "a string", NULL: "null", BOOL: "a boolean", INT: "an integer",
            FLOAT: "a number"}.get(node.tag, f"a value tagged {node.tag}")


def scalar(node: yaml.ScalarNode):
    """The Python value of a scalar node (YAML 1.1 core types)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def expect_string(node: yaml.Node, path: str, what: str) -> str:
    """A string value; a YAML 1.1 number/boolean/null gets a quoting hint."""
    if isinstance(node, yaml.ScalarNode) and node.tag == STR:
        return node.value
    if isinstance(node, yaml.ScalarNode) and node.tag in (BOOL, INT, FLOAT, NULL):
        hint = f"write \"{node.value}\" in quotes if you meant the text" if node.value else None
        raise ConfigError(f"{what} must be a string, but YAML reads {node.value or '(nothing)'!s} "
                          f"as {describe(node)}", span_of(node, path), hint)
    raise ConfigError(f"{what} must be a string, not {describe(node)}", span_of(node, path))


def expect_bool(node: yaml.Node, path: str, what: str) -> bool:
    if isinstance(node, yaml.ScalarNode) and node.tag == BOOL:
        return bool(scalar(node))
    raise ConfigError(f"{what} must be true or false, not {describe(node)}",
                      span_of(node, path), "write true or false")


def expect_int(node: yaml.Node, path: str, what: str, minimum: int | None = None) -> int:
    if isinstance(node, yaml.ScalarNode) and node.tag == INT:
        value = scalar(node)
        if minimum is not None and value < minimum:
            raise ConfigError(f"{what} must be at least {minimum}, not {value}",
                              span_of(node, path))
        return value
    raise ConfigError(f"{what} must be an integer, not {describe(node)}", span_of(node, path))


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL


def plain(node: yaml.Node, path: str):
    """Convert a whole subtree to Python values (for opaque fields such as
    ``extra_dask_config``), still refusing duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        return {k.value: plain(v, path) for k, v in mapping_items(node, path)}
    if isinstance(node, yaml.SequenceNode):
        return [plain(v, path) for v in node.value]
    return scalar(node)

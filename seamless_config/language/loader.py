"""One configuration file -> ``SourceFile`` of ``Command`` / ``StageBlock``.

A file is a YAML list; each item is a bare command (``- inherit_from_parent``)
or a single-key mapping (``- project: x``, ``- stage prod: [...]``). Every
value is type-checked here against the command's declared signature, so
the evaluator never sees a malformed argument. Independent mistakes in one
list are all reported together.
"""

from __future__ import annotations

import os
import re

import yaml

from .._record import frozen_record
from ..core import yaml_nodes as _yaml
from ..core.names import check_name, check_node
from ..core.yaml_nodes import describe, is_null, span_of
from ..errors import ConfigError, Span, did_you_mean, one_of, raise_all
from ..model.catalogue import parse_clusters  # only for inline cluster definitions
from .mistakes import explain_yaml_error, stage_as_value, stage_colon_error
from .nodes import Command, InlineClusters, Node, SourceFile, StageBlock, StageSelector
from .stages import parse_stage_key

# Deeper nesting only happens when a YAML alias makes a block contain itself.
MAX_DEPTH = 16
ITEM_HINT = "write '- COMMAND' or '- COMMAND: VALUE'"


@frozen_record
class Arg:
    """A command's declared argument: ``kind`` picks the check in ``_CHECKS``;
    ``placeholder`` shows the right form when the value is missing."""

    kind: str
    placeholder: str
    choices: tuple[str, ...] = ()
    nullable: bool = False  # an explicit null is a valid value
    allow_slash: bool = False
    minimum: int | None = None


ARGS = {
    "project": Arg("name", "NAME"),
    "subproject": Arg("name", "NAME", nullable=True, allow_slash=True),
    "cluster": Arg("name", "NAME", nullable=True),  # null deselects (e.g. in a stage block)
    "execution": Arg("choice", "remote", choices=("process", "spawn", "remote")),
    "queue": Arg("name", "NAME"),
    "remote": Arg("choice", "jobserver", choices=("jobserver", "daskserver"), nullable=True),
    "persistent": Arg("bool", "true"),
    "record": Arg("bool", "true"),
    "node": Arg("node", "HOSTNAME", nullable=True),
    "nparallel": Arg("int", "4", minimum=1),
}
COMMANDS = tuple(ARGS) + ("clusters", "inherit_from_parent")


def load_file(path: str) -> SourceFile:
    """Load one candidate file; ``found=False`` when it does not exist."""
    if not os.path.lexists(path):  # a dangling link or a loop is reported, not skipped
        return SourceFile(path, False)
    try:
        root = _yaml.compose_file(path)
    except ConfigError as err:
        raise explain_yaml_error(err, path) from None
    items = _top_list(root, path)
    if items is None:
        return SourceFile(path, True)
    nodes, inherit = _read_list(items, path, ())
    return SourceFile(path, True, bool(inherit[0]) if inherit else False, tuple(nodes),
                      inherit[1] if inherit and inherit[0] else None)


def _top_list(root: yaml.Node | None, path: str) -> yaml.SequenceNode | None:
    if root is None or _is_empty(root):
        return None
    if isinstance(root, yaml.SequenceNode):
        return root
    raise ConfigError(f"a configuration file must be a YAML list of commands, not {describe(root)}",
                      span_of(root, path),
                      "start each command with '- ', e.g. '- project: my-project'")


def _read_list(items: yaml.SequenceNode, path: str, within: tuple[StageSelector, ...]):
    """The nodes of one list, and what its inherit_from_parent said with
    where (None when absent). ``within`` is the chain of enclosing stage
    blocks."""
    nodes: list[Node] = []
    errors: list[ConfigError] = []
    inherit = None
    for item in items.value:
        try:
            word, key, value = _split(item, path)
            if word == "inherit_from_parent":
                inherit = (_inherit(key, value, path, within), span_of(key, path))
            else:
                nodes.append(_node(word, key, value, path, within))
        except ConfigError as exc:
            errors.append(exc)
    raise_all(errors)
    return nodes, inherit


def _split(item: yaml.Node, path: str):
    """(command word, the node holding it, value node or None when bare)."""
    if isinstance(item, yaml.ScalarNode) and item.tag == _yaml.STR:
        return item.value, item, None
    if not isinstance(item, yaml.MappingNode):
        raise ConfigError("a command must be a string or a single-key mapping, "
                          f"not {describe(item)}", span_of(item, path), ITEM_HINT)
    pairs = _yaml.mapping_items(item, path, "item")
    if not pairs:
        raise ConfigError("an empty mapping is not a command", span_of(item, path), ITEM_HINT)
    if len(pairs) > 1:
        second = pairs[1][0]
        raise ConfigError(f"a second key '{_shown(second.value)}' in one item: "
                          "each item must be a single-key mapping",
                          span_of(second, path), "start every command with '- '")
    key, value = pairs[0]
    return key.value, key, value


def _node(word: str, key: yaml.Node, value, path: str, within) -> Node:
    span = span_of(key, path)
    if word in ARGS:
        return _command(word, ARGS[word], span, value, path)
    if word == "clusters":
        return _clusters(span, value, path, within)
    if word.strip() == "stage" and isinstance(value, yaml.ScalarNode) and value.tag == _yaml.STR \
            and value.value.strip():
        raise stage_as_value(_shown(value.value.strip()), span_of(value, path))
    if value is None and key.end_mark.line > key.start_mark.line and \
            re.match(r"stage\s+\S+\s+-", word):
        # '- stage prod' over an indented '- command': one multi-line string
        raise stage_colon_error(word.split(" -")[0], span_of(key, path))
    selector = parse_stage_key(word, _text_span(key, path))
    if selector is None:
        raise _unknown(word, span)
    return _stage_block(selector, span, value, path, within)


def _command(word: str, arg: Arg, span: Span, value, path: str) -> Command:
    if value is None or (_is_empty(value) and not arg.nullable):
        raise ConfigError(f"{word} needs a value", span, f"write '- {word}: {arg.placeholder}'")
    if arg.nullable and is_null(value):
        return Command(word, None, span, span_of(value, path))
    argument = _CHECKS[arg.kind](word, arg, value, path)
    return Command(word, argument, span, span_of(value, path))


def _check_name(word: str, arg: Arg, value: yaml.Node, path: str) -> str:
    text = _yaml.expect_string(value, path, word)
    return check_name(text, span_of(value, path), word, allow_slash=arg.allow_slash)


def _check_choice(word: str, arg: Arg, value: yaml.Node, path: str) -> str:
    valid = arg.choices + (("null",) if arg.nullable else ())
    if not (isinstance(value, yaml.ScalarNode) and value.tag == _yaml.STR):
        # quoting would not help here (unlike for names): say what is valid
        raise ConfigError(f"{word} cannot be {_yaml.describe(value)}", span_of(value, path),
                          one_of(valid))
    text = value.value
    if text in arg.choices:
        return text
    hint = " ".join(filter(None, [did_you_mean(text, arg.choices), one_of(valid)]))
    raise ConfigError(f"invalid {word} '{_shown(text)}'", span_of(value, path), hint)


def _check_string(word: str, arg: Arg, value: yaml.Node, path: str) -> str:
    if arg.nullable and not isinstance(value, yaml.ScalarNode):
        raise ConfigError(f"{word} must be a string or null, not {_yaml.describe(value)}",
                          span_of(value, path), f"write '- {word}: {arg.placeholder}'")
    return _yaml.expect_string(value, path, word)


def _check_node(word: str, arg: Arg, value: yaml.Node, path: str) -> str:
    """A compute node's host name: it becomes part of a job directive."""
    return check_node(_check_string(word, arg, value, path), span_of(value, path))


_CHECKS = {
    "name": _check_name,
    "choice": _check_choice,
    "string": _check_string,
    "node": _check_node,
    "bool": lambda word, arg, value, path: _yaml.expect_bool(value, path, word),
    "int": lambda word, arg, value, path: _yaml.expect_int(value, path, word, arg.minimum),
}


def _clusters(span: Span, value, path: str, within) -> Command:
    if within:
        raise _not_top_level("clusters", span, within)
    if not isinstance(value, yaml.MappingNode):
        raise ConfigError(f"clusters needs a mapping of cluster definitions{_found(value)}",
                          _culprit(span, value, path),
                          "write '- clusters:' and indent one 'NAME:' entry per cluster under it")

    clusters, local = parse_clusters(value, path, "inline")
    return Command("clusters", InlineClusters(tuple(clusters.values()), *(local or (None, None))),
                   span, span_of(value, path))


def _stage_block(selector: StageSelector, span: Span, value, path: str, within) -> StageBlock:
    if not isinstance(value, yaml.SequenceNode):
        raise ConfigError(f"'{selector}' needs a list of commands{_found(value)}",
                          _culprit(span, value, path),
                          f"write '- {selector}:' and indent its commands under it, "
                          "each starting with '- '")
    if len(within) >= MAX_DEPTH:
        raise ConfigError(f"stage blocks nested more than {MAX_DEPTH} deep", span,
                          "does a YAML alias make a block contain itself?")
    nodes, _ = _read_list(value, path, within + (selector,))
    return StageBlock(selector, tuple(nodes), span)


def _inherit(key: yaml.Node, value, path: str, within) -> bool:
    span = span_of(key, path)
    if within:
        raise _not_top_level("inherit_from_parent", span, within)
    if value is None or _is_empty(value):
        return True
    if isinstance(value, yaml.ScalarNode) and value.tag == _yaml.BOOL:
        return _yaml.expect_bool(value, path, "inherit_from_parent")
    raise ConfigError(f"inherit_from_parent takes no value, not {describe(value)}",
                      span_of(value, path),
                      "write '- inherit_from_parent' (or 'inherit_from_parent: false')")


def _not_top_level(word: str, span: Span, within) -> ConfigError:
    return ConfigError(f"{word} must be at the top level of a file, not inside '{within[-1]}'",
                       span, "move it out of the stage block")


def _unknown(word: str, span: Span) -> ConfigError:
    head, colon, rest = word.partition(":")
    if colon and head.strip() in COMMANDS:
        # '- project:x' (no space) or '- "project: x"' is one string to YAML.
        return ConfigError(f"'{_shown(word)}' is a single string, not a command with a value",
                           span, f"write '- {head.strip()}: {_shown(rest.strip())}' "
                           "with a space after ':' and no quotes")
    words = word.split()
    guess = did_you_mean(words[0] if words else word, COMMANDS + ("stage",))
    hint = " ".join(filter(None, [guess, one_of(COMMANDS + ("stage NAME",))]))
    return ConfigError(f"unknown command '{_shown(word)}'", span, hint)


def _is_empty(node: yaml.Node) -> bool:
    """Nothing written at all (``key:`` with no value), unlike ``null``/``~``."""
    return is_null(node) and node.value == ""


def _found(value: yaml.Node | None) -> str:
    return "" if value is None or _is_empty(value) else f", not {describe(value)}"


def _culprit(key_span: Span, value: yaml.Node | None, path: str) -> Span:
    """The wrong value, or the key when no value was written."""
    return key_span if value is None or _is_empty(value) else span_of(value, path)


def _text_span(key: yaml.Node, path: str) -> Span:
    """Where the key's text starts: after the opening quote of a quoted key."""
    span = span_of(key, path)
    if getattr(key, "style", None) not in ("'", '"'):
        return span
    return Span(path, span.line, span.column + 1, span.end_line, span.end_column)


def _shown(text: str, limit: int = 60) -> str:
    """User text as it can sit inside a one-line message."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 3] + "..."

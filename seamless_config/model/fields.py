"""Typed readers of YAML values, shared by the catalogue and the queues.

Each reader takes a node, its file and a phrase naming the value ("cores
of queue 'gpu' of cluster 'hpc'"), and returns the value or raises a
ConfigError at the node. Values that end up in a batch script or on a
command line have closed shapes, matched whole.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import yaml

from ..core import yaml_nodes as _yaml
from ..core.names import token_problem
from ..core.yaml_nodes import BOOL, FLOAT, INT, STR, describe, expect_string, span_of
from ..errors import ConfigError, did_you_mean, one_of

Reader = Callable[[yaml.Node, str, str], Any]
FAILED = object()  # what ``attempt`` returns when the reader raised

# Catalogues hold thousands of scalars, and _yaml's readers build a loader
# per value; these spellings are the common case and convert directly.
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_BOOLS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def attempt(errors: list[ConfigError], read: Reader, node: yaml.Node, path: str,
            what: str) -> Any:
    """Run one reader, recording its error instead of stopping: a cluster
    is validated completely and all its mistakes are reported together."""
    try:
        return read(node, path, what)
    except ConfigError as err:
        errors.extend(err.problems)
        return FAILED


def choice_hint(word: object, candidates) -> str:
    """'did you mean ...? (expected one of: ...)', also catching case and
    '-' for '_' slips that difflib's ratio does not."""
    candidates = list(candidates)
    listing = one_of(candidates)
    guess = did_you_mean(word, candidates)
    if guess is None and isinstance(word, str):
        folded = {c.lower(): c for c in candidates}
        hit = folded.get(word.lower().replace("-", "_"))
        guess = f"did you mean '{hit}'?" if hit else None
    return f"{guess} ({listing})" if guess else listing


def items(node: yaml.MappingNode, path: str, what: str, errors: list[ConfigError]) -> list:
    """``mapping_items``, but a bad or repeated key is recorded and the rest
    still read (first occurrence wins), so one slip hides nothing else."""
    try:
        return _yaml.mapping_items(node, path, what)
    except ConfigError as err:
        errors.extend(err.problems)
    kept: dict[str, tuple] = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag == STR:
            kept.setdefault(key.value, (key, value))
    return list(kept.values())


def _constructed(read: Reader, node: yaml.Node, path: str, what: str) -> Any:
    """The full YAML constructor, for rare spellings (0x1F, 1_000, explicit
    tags); an explicit tag on a bad value (``!!int abc``) fails there."""
    try:
        return read(node, path, what)
    except ConfigError:  # already at its place (ConfigError is also a ValueError)
        raise
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        problem = str(exc).splitlines()[0]
        raise ConfigError(f"{what} cannot be read ({problem})", span_of(node, path)) from None


def read_int(node: yaml.Node, path: str, what: str, minimum: int | None = None,
             maximum: int | None = None) -> int:
    if node.tag == INT and isinstance(node, yaml.ScalarNode) and _DECIMAL.match(node.value):
        value = int(node.value)
    else:
        value = _constructed(_yaml.expect_int, node, path, what)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{what} must be at least {minimum}, not {value}", span_of(node, path))
    if maximum is not None and value > maximum:
        raise ConfigError(f"{what} must be at most {maximum}, not {value}", span_of(node, path))
    return value


def read_positive(node: yaml.Node, path: str, what: str) -> int:
    return read_int(node, path, what, 1)


def read_bool(node: yaml.Node, path: str, what: str) -> bool:
    if node.tag == BOOL and isinstance(node, yaml.ScalarNode) and node.value.lower() in _BOOLS:
        return _BOOLS[node.value.lower()]
    return _constructed(_yaml.expect_bool, node, path, what)


def field_name(what: str) -> str:
    """'conda' of "conda of queue 'q' ...": names' problem texts quote the
    value right after it, where the owner would read badly."""
    return what.partition(" of ")[0]


def read_token(node: yaml.Node, path: str, what: str) -> str:
    """One shell-safe word (conda env, interface, hostname)."""
    value = expect_string(node, path, what)
    if token_problem(value, what):
        raise ConfigError(token_problem(value, field_name(what)), span_of(node, path))
    return value


def _shaped(pattern: re.Pattern, shape: str, example: str) -> Reader:
    """A string of a closed shape: these values end up in a batch script
    (a directive line, the worker command), which a stray newline, quote
    or ``$(...)`` would turn into code; the whole value must match."""

    def read(node: yaml.Node, path: str, what: str) -> str:
        value = expect_string(node, path, what)
        if not pattern.fullmatch(value):
            shown = value.encode("unicode_escape").decode("ascii")[:60]
            raise ConfigError(f"{field_name(what)} '{shown}' {shape}", span_of(node, path),
                              f"for example {example}")
        return value

    return read


# A word of a scheduler directive: no blank, quote, newline or shell syntax.
_WORD = re.compile(r"[A-Za-z0-9@%+=:,._/~][A-Za-z0-9@%+=:,._/~-]*")
# A directory; $VAR and ${VAR} are left for the job's shell to expand.
_DIRECTORY = re.compile(r"(?:[A-Za-z0-9@%+=:,._/~]|\$[A-Za-z_]\w*|\$\{[A-Za-z_]\w*\})"
                        r"(?:[A-Za-z0-9@%+=:,._/~-]|\$[A-Za-z_]\w*|\$\{[A-Za-z_]\w*\})*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESOURCE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_DIRECTIVE = re.compile(r"[^\x00-\x1f\x7f]+")  # one line of the script's header

read_word = _shaped(_WORD, "may only contain letters, digits and '@%+=:,._/~-' "
                           "(it is written into the job script), not starting with '-'", "batch")
read_directory = _shaped(_DIRECTORY, "must be a directory path: letters, digits, '@%+=:,._/~-' "
                                     "and $VAR (it is written into the job script's worker "
                                     "command)", "/scratch/$USER")
read_property = _shaped(_IDENTIFIER, "must be an OAR property name (letters, digits, '_'; it "
                                     "becomes part of the job's SQL condition)", "memcore")


def read_directives(node: yaml.Node, path: str, what: str) -> tuple[str, ...]:
    """Scheduler directives: each one line of the job script's header."""
    entries = read_strings(node, path, what)
    for item, text in zip(node.value, entries):
        if not _DIRECTIVE.fullmatch(text):
            raise ConfigError(f"each entry of {field_name(what)} must be one line without "
                              f"control characters, not {text!r}", span_of(item, path),
                              "write one directive per entry")
    return entries


def _formatted(pattern: re.Pattern, example: str) -> Reader:
    """A reader for text of a fixed shape. A value that YAML turned into a
    number gets the quoting hint only if the quoted text would pass;
    otherwise the shape itself is the problem."""

    def read(node: yaml.Node, path: str, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            return expect_string(node, path, what)  # raises
        if not pattern.match(node.value):
            raise ConfigError(f"{what} must look like {example}, not '{node.value}'",
                              span_of(node, path))
        if node.tag != STR:  # would pass once quoted: expect_string raises with that hint
            return expect_string(node, path, what)
        return node.value

    return read


# Shapes accepted by SLURM/OAR (walltime) and dask (sizes, durations).
_WALLTIME = re.compile(r"(?:\d+-(?:[01]?\d|2[0-3]):|\d+:)?[0-5]?\d:[0-5]\d\Z")
_MEMORY = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+) ?(?:[KMGTP]i?B?|B)\Z", re.IGNORECASE)
_DURATION = re.compile(r"(?:\d+(?:\.\d+)? ?(?:ms|s|sec|m|min|h|hr|d)|\d+:[0-5]\d:[0-5]\d)\Z")

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}


def memory_bytes(text: str) -> int:
    """Bytes of a size that read_memory accepted, as dask reads it: "kB",
    "MB"... are powers of 1000, "KiB", "MiB"... powers of 1024."""
    match = re.fullmatch(r"([\d.]+) ?([KMGTP]i?)?B?", text.strip(), re.IGNORECASE)
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


read_walltime = _formatted(_WALLTIME, '"HH:MM:SS", "MM:SS" or "D-HH:MM:SS"')
read_memory = _formatted(_MEMORY, 'a size with a unit such as "32000MB", "4GB" or "1.5 GiB"')
read_duration = _formatted(_DURATION, 'a duration such as "30s", "10m", "2h" or "01:00:00"')


def read_interactive(node: yaml.Node, path: str, what: str) -> bool | int:
    if node.tag == BOOL:
        return read_bool(node, path, what)
    if node.tag == INT:
        return read_int(node, path, what, 0)
    raise ConfigError(f"{what} must be true, false or a number of jobs, not {describe(node)}",
                      span_of(node, path))


def read_strings(node: yaml.Node, path: str, what: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise ConfigError(f"{what} must be a list of strings, not {describe(node)}",
                          span_of(node, path), 'write it as ["...", "..."]')
    return tuple(expect_string(item, path, f"each entry of {what}") for item in node.value)


def read_opaque_mapping(node: yaml.Node, path: str, what: str) -> dict:
    """Passed through to dask unchanged, so only its shape is checked."""
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{what} must be a mapping, not {describe(node)}", span_of(node, path))
    return _constructed(lambda n, p, w: _yaml.plain(n, p), node, path, what)


def read_number(node: yaml.Node, path: str, what: str) -> int | float:
    if node.tag == INT:
        return read_int(node, path, what)
    if node.tag == FLOAT:
        return _constructed(lambda n, p, w: _yaml.scalar(n), node, path, what)
    raise ConfigError(f"{what} must be a number, not {describe(node)}", span_of(node, path))


def read_resources(node: yaml.Node, path: str, what: str) -> dict[str, int | float]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{what} must be a mapping of resource names to numbers, "
                          f"not {describe(node)}", span_of(node, path), "for example {GPU: 1}")
    resources = {}
    for key, value in _yaml.mapping_items(node, path, what):
        if not _RESOURCE.fullmatch(key.value):  # it becomes --resources NAME=N
            raise ConfigError(f"resource name '{key.value}' in {field_name(what)} must be letters, "
                              "digits, '_', '.' or '-', starting with a letter",
                              span_of(key, path), "for example GPU")
        resources[key.value] = read_number(value, path, f"resource '{key.value}' in {what}")
    return resources

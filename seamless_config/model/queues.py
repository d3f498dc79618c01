"""Queue definitions of a cluster (COMPAT.md section 5), and the typed
value readers that ``catalogue.py`` shares.

A queue is a mapping of fields; ``-`` in a field name reads as ``_``.
``TEMPLATE: name`` copies an earlier queue of the same cluster, then the
fields written out override it and an explicit null unsets one. Every
field keeps the span that supplied its value, through any chain of
templates, so an explanation can point at the line that really set it.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

import yaml

from ..core import yaml_nodes as _yaml
from ..core.yaml_nodes import (BOOL, FLOAT, INT, NULL, STR, describe, expect_string, is_null, span_of)
from .._record import frozen_record
from ..errors import ConfigError, Span, did_you_mean, one_of
from .types import Queue, frozen_map
from ..core.names import name_problem, token_problem

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


# job_script_prologue is the one field meant as shell code (lines of the
# user's own batch script); every other value is checked for its shape.
FIELDS: dict[str, Reader] = {
    "conda": read_token, "walltime": read_walltime, "cores": read_positive,
    "job_cores": read_positive, "memory": read_memory, "tmpdir": read_directory,
    "maximum_jobs": read_positive, "interactive": read_interactive, "project": read_word,
    "partition": read_word, "worker_threads": read_positive, "processes": read_positive,
    "unknown_task_duration": read_duration, "target_duration": read_duration,
    "lifetime_stagger": read_duration, "lifetime": read_duration, "exclusive": read_bool,
    "extra_dask_config": read_opaque_mapping, "job_extra_directives": read_directives,
    "job_script_prologue": read_strings, "dask_resources": read_resources,
    "memory_per_core_property_name": read_property,
}
TEMPLATE = "TEMPLATE"


@frozen_record
class _Scope:
    """One cluster's queues mapping while it is read. ``errors`` collects."""

    path: str
    cluster: str
    positions: Mapping[str, Span]  # every queue name -> its key, to tell "later" from "unknown"
    errors: list[ConfigError]


def parse_queues(node: yaml.Node, path: str, cluster: str, cluster_type: str | None,
                 errors: list[ConfigError], check_rules: bool = True) -> dict[str, Queue]:
    """All queues of one cluster, templates expanded, in source order.
    ``check_rules`` is off when the cluster type itself was invalid, since
    the rules depend on it."""
    pairs = items(node, path, f"queues mapping of cluster '{cluster}'", errors)
    scope = _Scope(path, cluster, {k.value: span_of(k, path) for k, _ in pairs}, errors)
    done: dict[str, Queue] = {}
    broken: set[str] = set()  # queues with errors: rules on their heirs would mislead
    for key, value in pairs:
        before = len(errors)
        problem = name_problem(key.value, "queue")
        if problem:
            errors.append(ConfigError(problem, scope.positions[key.value]))
        queue, own = _queue(key.value, value, scope, done)
        if len(errors) > before or queue.template in broken:
            broken.add(queue.name)
        elif check_rules:
            errors.extend(queue_rule_errors(queue, cluster, cluster_type, own))
        done[queue.name] = queue
    return done


def _queue(name: str, node: yaml.Node, scope: _Scope,
           done: dict[str, Queue]) -> tuple[Queue, set[str]]:
    """One queue, expanded, and the fields it writes itself."""
    where, span = f"queue '{name}' of cluster '{scope.cluster}'", scope.positions[name]
    if not isinstance(node, yaml.MappingNode):
        if not is_null(node):  # a bare name is a queue that sets nothing
            scope.errors.append(ConfigError(f"{where} must be a mapping of queue fields, not "
                                            f"{describe(node)}", span_of(node, scope.path)))
        return Queue(name, frozen_map(), frozen_map(), span), set()
    written = _written_fields(node, scope.path, where, scope.errors)
    template, fields, origins = None, {}, {}
    if TEMPLATE in written:
        template = _template(name, written.pop(TEMPLATE)[1], scope, done)
        if template is not None:
            fields, origins = dict(done[template].fields), dict(done[template].origins)
    for field, (_, value) in written.items():
        # an explicit null unsets what the template gave
        result = None if value.tag == NULL else attempt(scope.errors, FIELDS[field], value,
                                                         scope.path, f"{field} of {where}")
        if result is None or result is FAILED:
            fields.pop(field, None)
            origins.pop(field, None)
        else:  # assigned in place, so an override keeps the template's field order
            fields[field], origins[field] = result, span_of(value, scope.path)
    return Queue(name, frozen_map(fields), frozen_map(origins), span, template), set(written)


def _written_fields(node: yaml.MappingNode, path: str, where: str,
                    errors: list[ConfigError]) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """Field name (``-`` read as ``_``) -> (key, value); unknown or
    repeated names are recorded as errors and left out."""
    written: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in items(node, path, where, errors):
        field = key.value if key.value == TEMPLATE else key.value.replace("-", "_")
        if field != TEMPLATE and field not in FIELDS:
            errors.append(ConfigError(f"unknown field '{key.value}' in {where}",
                                      span_of(key, path), choice_hint(key.value,
                                                                      (TEMPLATE, *FIELDS))))
        elif field in written:
            first = written[field][0]
            errors.append(ConfigError(
                f"field '{field}' is given twice in {where} (first as '{first.value}' at line "
                f"{first.start_mark.line + 1})", span_of(key, path), "remove one"))
        else:
            written[field] = (key, value)
    return written


def _template(name: str, node: yaml.Node, scope: _Scope, done: dict[str, Queue]) -> str | None:
    """The earlier queue that ``TEMPLATE`` names, or None (error recorded)."""
    wanted = attempt(scope.errors, expect_string, node, scope.path, f"TEMPLATE of queue '{name}'")
    if wanted is FAILED or wanted in done:
        return None if wanted is FAILED else wanted
    earlier = list(done)
    listing = (f"queues defined before '{name}': " + ", ".join(earlier) if earlier
               else f"no queue is defined before '{name}'")
    if wanted == name:
        message = f"queue '{name}' cannot be its own TEMPLATE"
    elif wanted in scope.positions:
        message = (f"TEMPLATE '{wanted}' of queue '{name}' is defined later (line "
                   f"{scope.positions[wanted].line}); a template must come before the queues "
                   "using it")
    else:
        message = (f"TEMPLATE '{wanted}' of queue '{name}' is not a queue of cluster "
                   f"'{scope.cluster}'")
        guess = did_you_mean(wanted, earlier)
        listing = f"{guess} {listing}" if guess else listing
    scope.errors.append(ConfigError(message, span_of(node, scope.path), listing))
    return None


def queue_rule_errors(queue: Queue, cluster: str, cluster_type: str | None,
                      own: frozenset[str] | set[str]) -> list[ConfigError]:
    """COMPAT.md section 5, checked after expansion. An exclusive queue takes
    whole nodes, so its size comes from the node, except on local clusters,
    which have no node to take it from. ``own``: fields written in this
    queue rather than inherited (an inherited culprit is pointed at from
    the queue's name, with its origin in the message)."""
    fields, out = queue.fields, []
    where = f"queue '{queue.name}' of cluster '{cluster}'"
    exclusive = fields.get("exclusive", False)
    if exclusive and "job_cores" in fields:
        origin = queue.origins["job_cores"]
        inherited = "" if "job_cores" in own else f" (inherited from {origin})"
        out.append(ConfigError(f"exclusive {where} must not set job_cores{inherited}",
                               origin if "job_cores" in own else queue.span,
                               "an exclusive job takes whole nodes; remove job_cores"))
    if "cores" in fields:
        return out
    if exclusive and cluster_type == "local":
        out.append(ConfigError(f"exclusive {where} needs cores", queue.span,
                               "a local cluster has no node size to take it from"))
    elif not exclusive and cluster_type != "local":
        out.append(ConfigError(f"{where} needs cores", queue.span,
                               "only exclusive queues and queues of local clusters may leave "
                               "it out"))
    return out

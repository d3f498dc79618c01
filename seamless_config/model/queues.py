"""Queue definitions of a cluster (COMPAT.md section 5).

A queue is a mapping of fields; ``-`` in a field name reads as ``_``.
``TEMPLATE: name`` copies an earlier queue of the same cluster, then the
fields written out override it and an explicit null unsets one. Every
field keeps the span that supplied its value, through any chain of
templates, so an explanation can point at the line that really set it.
"""

from __future__ import annotations

from typing import Mapping

import yaml

from .._record import frozen_record
from ..core.names import name_problem
from ..core.yaml_nodes import NULL, describe, expect_string, is_null, span_of
from ..errors import ConfigError, Span, did_you_mean
from .fields import (FAILED, Reader, attempt, choice_hint, items, read_bool, read_directives,
                     read_directory, read_duration, read_interactive, read_memory,
                     read_opaque_mapping, read_positive, read_property, read_resources,
                     read_strings, read_token, read_walltime, read_word)
from .schedulers import PARAMETERS, applicable_fields, applies
from .types import Queue, frozen_map

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
    "memory_per_core_property_name": read_property, "disk": read_memory,
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
    # an inherited field is reported once, at the earlier queue that wrote it
    out.extend(not_applicable(field, cluster_type, where, queue.origins[field])
               for field in fields if field in own and not applies(field, cluster_type))
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


def not_applicable(field: str, cluster_type: str, where: str, span) -> ConfigError:
    """A field the cluster's scheduler has no use for (model/schedulers.py)."""
    usable = ", ".join(f for f in applicable_fields(cluster_type) if f in PARAMETERS)
    return ConfigError(f"{field} does not apply to a cluster of type {cluster_type} ({where})",
                       span, f"remove it; queues of type {cluster_type} take: {usable}")

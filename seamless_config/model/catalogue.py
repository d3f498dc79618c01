"""Cluster definitions: the catalogue files and inline ``clusters`` values.

``~/.seamless/clusters.yaml`` then ``~/.seamless/clusters/*.yaml`` (sorted)
each map cluster names to definitions, plus an optional ``local_cluster``.
Every cluster is validated completely and all its mistakes are raised
together, each at the node that caused it: at load time for a full load
(``seamless-config check``), on first use for a lazy one (``init`` and the
other commands, which need one cluster of possibly thousands). Pure: reads
only those files, keeps no state (the caller caches).
"""

from __future__ import annotations

import os

import yaml

from ..core.names import name_problem, path_problem
from ..core.vocabulary import FRONTEND_SERVICES as SERVICES, STORAGE_DIRECTORY
from ..core.yaml_nodes import NULL, STR, compose_text, describe, expect_string, is_null, span_of
from ..errors import ConfigError, Span, raise_all
from .fields import (FAILED, attempt, choice_hint, field_name, items, read_bool, read_int,
                     read_positive, read_property, read_token)
from .queues import not_applicable, parse_queues
from .schedulers import applies
from .types import CLUSTER_TYPES, Catalogue, Cluster, Frontend, Service, frozen_map

LOCAL_CLUSTER = "local_cluster"
_EXAMPLE = "for example 'hpc: {type: slurm, frontends: [{hostname: login.example.org}]}'"
_PORTS = ("port_start", "port_end")
_SERVICE_FIELDS = {
    "hashserver": ("bufferdir", "conda", "network_interface", *_PORTS),
    "database": ("database_dir", "conda", "network_interface", *_PORTS),
    "jobserver": ("conda", "network_interface", *_PORTS),
    "daskserver": ("conda", "network_interface", *_PORTS),
}
_FRONTEND_KEYS = ("hostname", "ssh_hostname", *SERVICES)


def _read_type(node: yaml.Node, path: str, what: str) -> str:
    value = expect_string(node, path, what)
    if value not in CLUSTER_TYPES:
        raise ConfigError(f"{what} must be one of {', '.join(CLUSTER_TYPES)}, not '{value}'",
                          span_of(node, path), choice_hint(value, CLUSTER_TYPES))
    return value


def _read_port(node: yaml.Node, path: str, what: str) -> int:
    return read_int(node, path, what, 1, 65535)


def _read_directory(node: yaml.Node, path: str, what: str) -> str:
    """Absolute, or starting with ``~``; a relative path is taken from the
    directory of the defining file (so a project profile can say
    ``buffers``). ``~`` is kept: it means the home directory of the host
    that runs the service, expanded only when that host is this machine
    (model.service_directory)."""
    value = expect_string(node, path, what)
    if not value:
        raise ConfigError(f"{what} must not be empty", span_of(node, path))
    full = value
    if not value.startswith("~"):
        full = os.path.join(os.path.dirname(os.path.abspath(path)), value)
    full = os.path.normpath(full)
    problem = path_problem(full, field_name(what))
    if problem:
        raise ConfigError(problem, span_of(node, path))
    return full


_SERVICE_READERS = {"bufferdir": _read_directory, "database_dir": _read_directory,
                    "conda": read_token, "network_interface": read_token,
                    "port_start": _read_port, "port_end": _read_port}
_CLUSTER_READERS = {"type": _read_type, "tunnel": read_bool, "workers": read_positive,
                    "default_queue": expect_string, "memory_per_core_property_name": read_property}
_CLUSTER_KEYS = (*_CLUSTER_READERS, "frontends", "queues")


def _known(node: yaml.MappingNode, path: str, where: str, known,
           errors: list[ConfigError]) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """key -> (key node, value node) for the known keys; unknown ones are
    recorded with a suggestion and the full list."""
    out = {}
    for key, value in items(node, path, where, errors):
        if key.value in known:
            out[key.value] = (key, value)
        else:
            errors.append(ConfigError(f"unknown key '{key.value}' in {where}",
                                      span_of(key, path), choice_hint(key.value, known)))
    return out


def _read_fields(given: dict, readers: dict, path: str, what: str,
                 errors: list[ConfigError]) -> tuple[dict, dict[str, Span]]:
    """Values and value spans of the given keys that have a reader; a null
    means "not given", a failed read is recorded and left out. (The hot
    loop of a large catalogue, hence ``attempt`` written out.)"""
    values, spans = {}, {}
    for name, (_, node) in given.items():
        read = readers.get(name)
        if read is None or node.tag == NULL:
            continue
        spans[name] = span_of(node, path)
        try:
            values[name] = read(node, path, f"{name} of {what}")
        except ConfigError as err:
            errors.extend(err.problems)
    return values, spans


# -- services and frontends ----------------------------------------------------

def _service(kind: str, key: yaml.Node, node: yaml.Node, path: str, cluster: str,
             errors: list[ConfigError]) -> Service:
    where = f"{kind} of cluster '{cluster}'"
    span = span_of(key, path)
    if isinstance(node, yaml.MappingNode):
        given = _known(node, path, where, _SERVICE_FIELDS[kind], errors)
    elif is_null(node):  # ``jobserver:`` alone: the service with every default
        given = {}
    else:
        errors.append(ConfigError(f"{where} must be a mapping of its settings, not "
                                  f"{describe(node)}", span_of(node, path)))
        return Service(kind, frozen_map(), span)
    fields, spans = _read_fields(given, _SERVICE_READERS, path, where, errors)
    required = STORAGE_DIRECTORY.get(kind)
    if required and required not in given:
        errors.append(ConfigError(f"{where} needs {required}", span,
                                  f"add '{required}: /some/directory'"))
    errors.extend(_port_errors(fields, spans, where))
    return Service(kind, frozen_map(fields), span, frozen_map(spans))


def _port_errors(fields: dict, spans: dict[str, Span], where: str) -> list[ConfigError]:
    """A range the server picks a free port from: both ends or neither."""
    start, end = fields.get("port_start"), fields.get("port_end")
    given = [name for name in _PORTS if name in spans]
    if len(given) == 1:
        missing = "port_end" if given[0] == "port_start" else "port_start"
        return [ConfigError(f"{where} sets {given[0]} but not {missing}", spans[given[0]],
                            "give both ends of the port range, or neither")]
    if start is not None and end is not None and start > end:
        return [ConfigError(f"port_start {start} of {where} is greater than port_end {end}",
                            spans["port_start"])]
    return []


def _frontend(index: int, node: yaml.Node, path: str, cluster: str,
              errors: list[ConfigError]) -> Frontend:
    where = f"frontend {index + 1} of cluster '{cluster}'"
    span = span_of(node, path)
    if not isinstance(node, yaml.MappingNode):
        hint = f"write '- hostname: {node.value}'" if node.tag == STR else None
        errors.append(ConfigError(f"{where} must be a mapping, not {describe(node)}", span, hint))
        return Frontend(None, None, frozen_map(), span, index)
    given = _known(node, path, where, _FRONTEND_KEYS, errors)
    names, _ = _read_fields(given, {"hostname": read_token, "ssh_hostname": read_token},
                            path, where, errors)
    services = {kind: _service(kind, *given[kind], path, cluster, errors)
                for kind in SERVICES if kind in given}
    return Frontend(names.get("hostname"), names.get("ssh_hostname"), frozen_map(services),
                    span, index)


def _frontends(given: dict, span: Span, path: str, cluster: str,
               errors: list[ConfigError]) -> tuple[Frontend, ...]:
    where = f"cluster '{cluster}'"
    if "frontends" not in given:
        errors.append(ConfigError(f"{where} needs frontends", span,
                                  "add 'frontends: [{hostname: login.example.org}]'; "
                                  "a local cluster can use 'frontends: [{}]'"))
        return ()
    node = given["frontends"][1]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        empty = is_null(node) or isinstance(node, yaml.SequenceNode)
        problem = ("must list at least one frontend" if empty
                   else f"must be a list, not {describe(node)}")
        errors.append(ConfigError(f"frontends of {where} {problem}", span_of(node, path),
                                  "start each frontend with '- '"))
        return ()
    return tuple(_frontend(i, item, path, cluster, errors) for i, item in enumerate(node.value))


# -- clusters --------------------------------------------------------------------

def _queues(given: dict, fields: dict, path: str, cluster: str, errors: list[ConfigError]):
    """The cluster's queues, or None when the mapping itself is unusable."""
    if "queues" not in given or is_null(given["queues"][1]):
        return {}
    node = given["queues"][1]
    if not isinstance(node, yaml.MappingNode):
        errors.append(ConfigError(f"queues of cluster '{cluster}' must be a mapping of queue "
                                  f"names to settings, not {describe(node)}", span_of(node, path)))
        return None
    type_ok = "type" in fields or "type" not in given or is_null(given["type"][1])
    return parse_queues(node, path, cluster, fields.get("type"), errors, check_rules=type_ok)


def _default_queue_error(fields: dict, spans: dict, queues, cluster: str) -> ConfigError | None:
    name = fields.get("default_queue")
    if name is None or queues is None or name in queues:
        return None
    return ConfigError(f"default_queue '{name}' is not a queue of cluster '{cluster}'",
                       spans["default_queue"], choice_hint(name, queues))


def _cluster(key: yaml.Node, node: yaml.Node, path: str, source: str,
             errors: list[ConfigError]) -> Cluster | None:
    """One cluster; None if anything in it was wrong (all of it recorded)."""
    name, span, before = key.value, span_of(key, path), len(errors)
    problem = name_problem(name, "cluster")
    if problem:
        errors.append(ConfigError(problem, span))
    if not isinstance(node, yaml.MappingNode):
        errors.append(ConfigError(f"cluster '{name}' must be a mapping, not {describe(node)}",
                                  span_of(node, path), _EXAMPLE))
        return None
    given = _known(node, path, f"cluster '{name}'", _CLUSTER_KEYS, errors)
    fields, spans = _read_fields(given, _CLUSTER_READERS, path, f"cluster '{name}'", errors)
    spans.update((k, span_of(given[k][1], path)) for k in ("frontends", "queues") if k in given)
    frontends = _frontends(given, span, path, name, errors)
    queues = _queues(given, fields, path, name, errors)
    wrong_default = _default_queue_error(fields, spans, queues, name)
    if wrong_default:
        errors.append(wrong_default)
    prop = "memory_per_core_property_name"
    if prop in fields and not applies(prop, fields.get("type")):
        errors.append(not_applicable(prop, fields["type"], f"cluster '{name}'", spans[prop]))
    if len(errors) > before:
        return None
    return Cluster(name, fields.get("type"), fields.get("tunnel", False), frontends,
                   frozen_map(queues), span, source, fields.get("workers"),
                   fields.get("default_queue"), fields.get("memory_per_core_property_name"),
                   frozen_map(spans))


def _local_cluster(node: yaml.Node, path: str, errors: list[ConfigError]):
    name = attempt(errors, expect_string, node, path, LOCAL_CLUSTER)
    if name is FAILED:
        return None
    problem = name_problem(name, "cluster")
    if problem:
        errors.append(ConfigError(f"{LOCAL_CLUSTER}: {problem}", span_of(node, path)))
        return None
    return name, span_of(node, path)


def parse_clusters(node: yaml.Node, path: str,
                   source: str) -> tuple[dict[str, Cluster], tuple[str, Span] | None]:
    """A mapping of cluster name -> definition (plus ``local_cluster: NAME``),
    from a catalogue file or an inline ``clusters`` command. ``source`` is
    "catalogue" or "inline". Whether ``local_cluster`` names a known
    cluster is for the caller, who sees every file."""
    if node is None or is_null(node):
        return {}, None
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"cluster definitions must be a mapping of cluster names to "
                          f"definitions, not {describe(node)}", span_of(node, path), _EXAMPLE)
    errors: list[ConfigError] = []
    clusters, local = {}, None
    for key, value in items(node, path, "mapping of clusters", errors):
        if key.value == LOCAL_CLUSTER:
            local = _local_cluster(value, path, errors)
            continue
        cluster = _cluster(key, value, path, source, errors)
        if cluster is not None:
            clusters[cluster.name] = cluster
    raise_all(errors)
    return clusters, local


def parse_python_clusters(data: dict, path: str) -> Catalogue:
    """Clusters given as Python data (``cluster.define_clusters``), checked
    as a catalogue file is; ``path`` names them in messages."""
    try:
        text = yaml.safe_dump(data, sort_keys=False)
    except yaml.YAMLError as exc:
        raise ConfigError(f"cluster definitions must be plain data (strings, numbers, "
                          f"lists, dicts): {str(exc).splitlines()[0]}", Span(path, 1, 1)) from None
    clusters, local = parse_clusters(compose_text(text, path), path, "python")
    if local is not None and local[0] not in clusters:
        raise ConfigError(f"{LOCAL_CLUSTER} '{local[0]}' is not a defined cluster", local[1],
                          choice_hint(local[0], list(clusters)))
    name, span = local if local is not None else (None, None)
    return Catalogue(frozen_map(clusters), (), name, span)

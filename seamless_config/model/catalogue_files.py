"""The catalogue files: ``~/.seamless/clusters.yaml`` and then
``~/.seamless/clusters/*.yaml``, each a mapping of cluster name to
definition plus an optional ``local_cluster``. Read whole, or (``lazy``)
cut into entries by a line scan and parsed when first used (``lazy.py``).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager

from ..core.paths import catalogue_files
from ..core.yaml_nodes import compose_file, read_text
from ..errors import ConfigError, Span, raise_all
from .catalogue import LOCAL_CLUSTER, parse_clusters
from .fields import choice_hint
from .lazy import LazyClusters, compose_entry, index_text
from .types import Catalogue, Cluster, frozen_map


@contextmanager
def _collector_paused():
    """A large catalogue is one burst of acyclic allocations (nodes, marks,
    spans) that the cyclic collector rescans for nothing: pausing it
    halves the load time. The previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_catalogue(home: str | None = None, lazy: bool = False) -> Catalogue:
    """Every cluster of the catalogue files under ``home`` (default: ~).
    A cluster or ``local_cluster`` given in two files is an error naming
    both places; all errors of all files are raised together. ``lazy``:
    clusters are validated when first used (catalogue_index.py)."""
    home = os.path.expanduser("~") if home is None else home
    files = catalogue_files(home)
    errors: list[ConfigError] = []
    clusters: dict[str, Cluster] = {}
    entries: dict = {}
    local: tuple[str, Span] | None = None
    with _collector_paused():
        for path, found in files:
            if found and lazy:
                local = _index_file(path, clusters, entries, local, errors)
            elif found:
                local = _merge_file(path, clusters, local, errors)
    # after other errors, a cluster with a mistake is missing from ``clusters``
    if local is not None and local[0] not in clusters and local[0] not in entries and not errors:
        errors.append(ConfigError(f"{LOCAL_CLUSTER} '{local[0]}' is not a defined cluster",
                                  local[1], choice_hint(local[0], [*clusters, *entries])))
    raise_all(errors)
    name, span = local if local is not None else (None, None)
    known = LazyClusters(clusters, entries, _build_entry) if lazy else frozen_map(clusters)
    return Catalogue(known, tuple(files), name, span)


def _index_file(path: str, clusters: dict[str, Cluster], entries: dict,
                local: tuple[str, Span] | None, errors: list[ConfigError]):
    """Register one file's entries for lazy parsing (or parse it whole when
    the line scan cannot vouch for it); returns the ``local_cluster`` so far."""
    try:
        text = read_text(path)
    except ConfigError as err:
        errors.append(err)
        return local
    index = index_text(text, path)
    if index is None:
        return _merge_file(path, clusters, local, errors)
    lines = text.split("\n")
    seen: dict[str, Span] = {}
    for entry in index:
        if entry.name in seen:
            errors.append(ConfigError(
                f"duplicate key '{entry.name}' in one mapping of clusters (first at line "
                f"{seen[entry.name].line})", entry.span,
                "YAML would silently keep only the last one; remove one"))
            continue
        seen[entry.name] = entry.span
        if entry.name == LOCAL_CLUSTER:
            local = _lazy_local(entry, lines, local, errors)
        elif entry.name in clusters or entry.name in entries:
            first = clusters[entry.name].span if entry.name in clusters else entries[entry.name][0].span
            errors.append(ConfigError(f"cluster '{entry.name}' is defined twice (first at "
                                      f"{first})", entry.span))
        else:
            entries[entry.name] = (entry, lines)
    return local


def _build_entry(entry, lines: list[str]) -> Cluster:
    """One entry of a line-scanned catalogue file, parsed on first use."""
    found, _ = parse_clusters(compose_entry(entry, lines), entry.path, "catalogue")
    return found[entry.name]


def _lazy_local(entry, lines, local, errors):
    try:
        _, here = parse_clusters(compose_entry(entry, lines), entry.path, "catalogue")
    except ConfigError as err:
        errors.extend(err.problems)
        return local
    if here is not None and local is not None:
        errors.append(ConfigError(f"{LOCAL_CLUSTER} is given twice (first at {local[1]})",
                                  here[1]))
        return local
    return here or local


def _merge_file(path: str, clusters: dict[str, Cluster], local: tuple[str, Span] | None,
                errors: list[ConfigError]) -> tuple[str, Span] | None:
    """Add one file's clusters; returns the ``local_cluster`` so far."""
    try:
        found, local_here = parse_clusters(compose_file(path), path, "catalogue")
    except ConfigError as err:
        errors.extend(err.problems)
        return local
    for name, cluster in found.items():
        if name in clusters:
            errors.append(ConfigError(f"cluster '{name}' is defined twice (first at "
                                      f"{clusters[name].span})", cluster.span))
        else:
            clusters[name] = cluster
    if local_here is not None and local is not None:
        errors.append(ConfigError(f"{LOCAL_CLUSTER} is given twice (first at {local[1]})",
                                  local_here[1]))
        return local
    return local_here or local

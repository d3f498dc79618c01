"""The pure pipeline from a work directory to a Context.

work-directory chain -> Program -> (catalogue + inline clusters) ->
evaluation -> defaults and derived values. ``SEAMLESS_CACHE`` replaces the
files by a synthetic local cluster storing everything under one directory.
"""

from __future__ import annotations

import os
from collections import ChainMap
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..core.names import path_problem
from ..core.paths import catalogue_files
from ..errors import ConfigError, Span
from ..model.types import Catalogue, Cluster, Frontend, Service, frozen_map

# The previous package's names, so servers either started are found by both.
CACHE_CLUSTER = "__SEAMLESS_CACHE__"
TOPLEVEL_PROJECT = "__TOPLEVEL__"


def empty_catalogue(stat_key: tuple) -> Catalogue:
    """What load_catalogue gives when no catalogue file exists, without
    loading the catalogue parser."""
    return Catalogue(frozen_map(), tuple((path, False) for path, _, _ in stat_key))


def catalogue_stat_key(home: str) -> tuple:
    """Changes whenever a catalogue file appears, vanishes or is edited."""
    key = []
    for path, _ in catalogue_files(home):
        try:
            st = os.stat(path)
            key.append((path, st.st_mtime_ns, st.st_size))
        except OSError:
            key.append((path, None, None))
    return tuple(key)


def evaluate_workdir(workdir: str | None, *, stage: str | None = None,
                     substage: str | None = None,
                     manual: Mapping[str, tuple] | None = None,
                     catalogue: Callable[[str], Catalogue] | None = None,
                     environ: Mapping[str, str] | None = None,
                     defined: Catalogue | None = None, strict: bool = True):
    """Evaluate the chain of ``workdir`` (or the SEAMLESS_CACHE setup, which
    reads no file: nothing YAML is even imported then). ``workdir`` None
    reads no file either: the selections alone, as the previous package's
    getters saw them before anything was loaded. ``defined``: clusters
    given in Python (``define_clusters``), over the catalogue. A tolerant
    evaluation (``strict=False``) keeps usage-dependent mistakes as
    ``Context.problems`` instead of raising them."""
    from ..language.nodes import Program
    from .evaluator import local_cluster_of, merge_clusters, run_program
    from .resolve import resolve

    environ = os.environ if environ is None else environ
    cache_dir = environ.get("SEAMLESS_CACHE")
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if cache_dir:
        files, program, cat = (), Program((), (), ()), cache_catalogue(cache_dir)
        layers.append(("environment", cache_selections(cache_dir, manual or {})))
    elif workdir is None:
        files, program, cat = (), Program((), (), ()), Catalogue(frozen_map(), ())
    else:
        files, program, cat = _read_chain(workdir, catalogue)
    if defined is not None and not cache_dir:
        cat = _with_defined(cat, defined)
    layers.append(("manual", dict(manual or {})))
    clusters = merge_clusters(cat, program)
    local = local_cluster_of(cat, program, clusters)
    ev = run_program(program, clusters, stage, substage, tuple(layers), strict=strict)
    return resolve(ev, clusters, strict=strict, workdir=workdir or os.getcwd(), stage=stage,
                   substage=substage, files=files, catalogue_files=cat.files,
                   local_cluster=local)


def _with_defined(cat: Catalogue, defined: Catalogue) -> Catalogue:
    """The catalogue with clusters defined in Python laid over it."""
    # A view, not a copy: copying would build every lazy catalogue cluster.
    return Catalogue(MappingProxyType(ChainMap(dict(defined.clusters), cat.clusters)), cat.files,
                     defined.local_cluster or cat.local_cluster,
                     defined.local_cluster_span or cat.local_cluster_span)


def _read_chain(workdir: str, catalogue: Callable[[str], Catalogue] | None):
    from ..language.chain import build_program, discover

    home = os.path.expanduser("~")
    files = discover(workdir)
    if catalogue is None:
        from ..model.catalogue_files import load_catalogue

        catalogue = lambda h: load_catalogue(h, lazy=True)  # noqa: E731
    return files, build_program(files), catalogue(home)


def cache_selections(cache_dir: str, manual: Mapping[str, tuple]) -> dict[str, tuple]:
    text = f"SEAMLESS_CACHE={cache_dir}"
    values = {"cluster": CACHE_CLUSTER, "execution": "process", "persistent": True}
    if "project" not in manual:
        values["project"] = TOPLEVEL_PROJECT
    return {name: (value, text) for name, value in values.items()}


def cache_catalogue(cache_dir: str) -> Catalogue:
    """A local cluster whose hashserver and database both live under
    ``cache_dir`` (the previous package's layout, so existing caches are
    found: ``<dir>/<project>`` and ``<dir>/<project>/seamless.db``)."""
    root = os.path.abspath(os.path.expanduser(cache_dir))
    span = Span("<SEAMLESS_CACHE>", 1, 1)
    problem = path_problem(root, "SEAMLESS_CACHE directory")
    if problem:
        raise ConfigError(problem, None, "set SEAMLESS_CACHE to a plain directory path")
    services = {
        "hashserver": Service("hashserver", frozen_map({
            "bufferdir": root, "network_interface": "127.0.0.1",
            "port_start": 55100, "port_end": 55199}), span),
        "database": Service("database", frozen_map({
            "database_dir": root, "network_interface": "127.0.0.1",
            "port_start": 55200, "port_end": 55299}), span),
    }
    frontend = Frontend(None, None, frozen_map(services), span)
    cluster = Cluster(CACHE_CLUSTER, "local", False, (frontend,), frozen_map(), span, "environment")
    return Catalogue(frozen_map({CACHE_CLUSTER: cluster}), (), CACHE_CLUSTER)

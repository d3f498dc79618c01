"""Compatibility: the previous package's ``seamless_config.tools``.

``configure_hashserver``, ``configure_database``, ``configure_jobserver``,
``configure_daskserver`` and ``configure_pure_daskserver`` build the launch
dict of one server for remote-http-launcher (COMPAT.md section 2), as
seamless-remote calls them; the specs come from ``plan/specs.py``. The
cluster names 0.3.2 imported here (``Cluster``, ``ClusterFrontend``,
``get_cluster``, ``get_local_cluster``) resolve on first use to
``seamless_config.cluster``'s, which imports ``dataclasses``: nothing on
the configure path does.
"""

from __future__ import annotations

import re

from .core.vocabulary import JOB_SERVICES
from .errors import ConfigError, ConfigurationError
from .evaluation.evaluator import queue_problem
from .model.types import Cluster as _ClusterModel, Frontend, Queue, plain
from .plan.spec import LaunchSpec
from .plan.specs import service_spec
from .plan.tooldefs import _tools_data
from .select import get_current, get_node, get_queue, get_record, get_selected_cluster
from .session import default_session

# ---- compatibility wrappers (COMPAT.md section 1) --------------------------
# The previous package's signatures: every None means "the current
# selection", as it did (its own scripts call configure_hashserver(mode="ro")).

DOLLAR_RE = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")  # the previous tools.yaml's variables


def load_tools() -> dict:
    """``tools.yaml`` as data (our closed template language)."""
    raw, _ = _tools_data()
    return plain(raw)


def define_tools(tools: dict) -> None:
    """Refused: launch templates are seamless-config's own ``tools.yaml``,
    in a closed language. The previous package's templates were Python
    f-strings that remote-http-launcher evaluated; accepting them would
    bring that evaluation back."""
    raise ConfigurationError("define_tools() is not supported: launch templates come from "
                             "seamless-config's tools.yaml (a closed template language), not "
                             "from Python f-strings")


def configure_hashserver(mode: str, *, cluster=None, project=None, subproject=None, stage=None,
                         frontend_name=None):
    return _storage_dict("hashserver", mode, cluster, project, subproject, stage, frontend_name)


def configure_database(mode: str, *, cluster=None, project=None, subproject=None, stage=None,
                       frontend_name=None):
    return _storage_dict("database", mode, cluster, project, subproject, stage, frontend_name)


def configure_jobserver(*, cluster=None, project=None, subproject=None, stage=None,
                        substage=None, frontend_name=None):
    from .extern_clients import collect_remote_clients

    current, clus = _current("jobserver", cluster, project, subproject, stage, substage)
    params = {**collect_remote_clients(clus.name), "record": get_record()}
    return service_spec("jobserver", cluster=clus,
                        frontend=_named_frontend(clus, "jobserver", frontend_name), mode="rw",
                        queue=None, local_cluster=_local_cluster(), file_parameters=params,
                        **current).to_dict()


def configure_daskserver(*, cluster=None, project=None, subproject=None, stage=None,
                         substage=None, frontend_name=None):
    current, clus = _current("daskserver", cluster, project, subproject, stage, substage)
    return service_spec("daskserver", cluster=clus,
                        frontend=_named_frontend(clus, "daskserver", frontend_name), mode="rw",
                        queue=_selected_queue(clus), node=get_node(), record=get_record(),
                        local_cluster=_local_cluster(), **current).to_dict()


def configure_pure_daskserver(*, cluster=None, queue: str | None = None, frontend_name=None):
    return pure_daskserver_spec(cluster=cluster, queue=queue,
                                frontend_name=frontend_name).to_dict()


def pure_daskserver_spec(*, cluster=None, queue: str | None = None,
                         frontend_name=None) -> LaunchSpec:
    """The pure Dask scheduler of ``cluster`` and ``queue`` (default: the
    current selection; the queue selected for that cluster, else its
    default_queue)."""
    name = cluster if cluster is not None else get_selected_cluster()
    if name is None:
        raise ConfigurationError("no cluster is selected (seamless_config.init() not called, "
                                 "or no 'cluster' command)")
    clus = default_session().cluster(name)
    chosen = _named_queue(clus, queue) if queue is not None else _selected_queue(clus)
    return service_spec("pure_daskserver", cluster=clus,
                        frontend=_named_frontend(clus, "daskserver", frontend_name), mode="rw",
                        project=None, subproject=None, stage=None, substage=None, queue=chosen,
                        node=get_node(), record=get_record(), local_cluster=_local_cluster())


def _storage_dict(service, mode, cluster, project, subproject, stage, frontend_name):
    current, clus = _current(service, cluster, project, subproject, stage, None)
    return service_spec(service, cluster=clus,
                        frontend=_named_frontend(clus, service, frontend_name), mode=mode,
                        queue=None, local_cluster=_local_cluster(), **current).to_dict()


def _current(service, cluster, project, subproject, stage, substage):
    """The scope with the current selection filled in (``get_current``), and
    the cluster's model. An empty string means 'none', as before."""
    cluster, project, subproject, stage, substage = get_current(
        cluster, project, subproject, stage, substage)
    scope = {"project": project, "subproject": subproject or None, "stage": stage or None,
             "substage": (substage or None) if service in JOB_SERVICES else None}
    return scope, default_session().cluster(cluster)


def _local_cluster() -> str | None:
    return default_session().context().local_cluster


def _selected_queue(cluster: _ClusterModel) -> Queue | None:
    """The queue selected for ``cluster`` (else None: its default_queue)."""
    name = get_queue(cluster.name)
    return cluster.queues.get(name) if name is not None else None


def _named_queue(cluster: _ClusterModel, name: str) -> Queue:
    if name not in cluster.queues:
        raise ConfigError(*queue_problem(cluster, name, None))
    return cluster.queues[name]


def _named_frontend(cluster: _ClusterModel, kind: str, name: str | None) -> Frontend | None:
    if name is None:
        return None
    for fe in cluster.frontends:
        if fe.name == name and kind in fe.services:
            return fe
    raise ConfigError(f"no frontend of cluster '{cluster.name}' named '{name}' offers a {kind}",
                      cluster.span)


_FROM_CLUSTER = ("Cluster", "ClusterFrontend", "get_cluster", "get_local_cluster")


def __getattr__(name: str):
    if name in _FROM_CLUSTER:
        from . import cluster

        return getattr(cluster, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_FROM_CLUSTER))

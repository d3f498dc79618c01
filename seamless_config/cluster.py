"""Compatibility: the previous package's ``seamless_config.cluster``.

``get_cluster(name)`` returns the previous package's data classes
(``Cluster``, ``ClusterFrontend``, ``ClusterQueue``, ...), with its field
names and defaults, built from our model: seamless-transformer calls
``dataclasses.asdict`` on ``get_cluster(name).queues[q]`` and hashes the
result, so a queue must read as it did. ``define_clusters`` takes a
catalogue as Python data. Our own code uses ``get_cluster_model``.

This module imports ``dataclasses``; nothing on the init path imports it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, Optional

from .errors import ConfigError
from .model.types import plain
from .session import default_session


@dataclass
class ClusterFrontendHashserver:
    bufferdir: str
    conda: Optional[str] = None
    network_interface: Optional[str] = None
    port_start: Optional[int] = None
    port_end: Optional[int] = None


@dataclass
class ClusterFrontendDatabase:
    database_dir: str
    conda: Optional[str] = None
    network_interface: Optional[str] = None
    port_start: Optional[int] = None
    port_end: Optional[int] = None


@dataclass
class ClusterFrontendJobserver:
    conda: Optional[str] = None
    network_interface: Optional[str] = None
    port_start: Optional[int] = None
    port_end: Optional[int] = None


@dataclass
class ClusterFrontendDaskserver:
    network_interface: Optional[str] = None
    port_start: Optional[int] = None
    port_end: Optional[int] = None


@dataclass
class ClusterFrontend:
    hostname: Optional[str]
    ssh_hostname: Optional[str] = None
    hashserver: Optional[ClusterFrontendHashserver] = None
    database: Optional[ClusterFrontendDatabase] = None
    jobserver: Optional[ClusterFrontendJobserver] = None
    daskserver: Optional[ClusterFrontendDaskserver] = None

    @classmethod
    def from_dict(cls, dic: dict, *, cluster_type=None) -> "ClusterFrontend":
        """One frontend from its clusters.yaml mapping, validated as there."""
        parsed = _parse_one("frontend", {"type": cluster_type, "frontends": [dic]})
        return _frontend(parsed.frontends[0])


@dataclass
class ClusterQueue:
    """A queue after TEMPLATE expansion, field for field as before (an
    unset field reads None; the booleans False)."""

    name: str
    conda: Optional[str] = None
    walltime: Optional[str] = None
    memory: Optional[str] = None
    unknown_task_duration: Optional[str] = None
    target_duration: Optional[str] = None
    maximum_jobs: Optional[int] = None
    lifetime_stagger: Optional[str] = None
    interactive: bool = False
    exclusive: bool = False
    project: Optional[str] = None
    partition: Optional[str] = None
    tmpdir: Optional[str] = None
    worker_threads: Optional[int] = None
    processes: Optional[int] = None
    lifetime: Optional[str] = None
    extra_dask_config: Optional[dict] = None
    job_extra_directives: Optional[list] = None
    job_script_prologue: Optional[list] = None
    dask_resources: Optional[dict] = None
    cores: Optional[int] = None
    job_cores: Optional[int] = None


@dataclass
class ClusterQueueWithTemplate:
    """A queue as written, before its TEMPLATE is applied."""

    name: str
    TEMPLATE: Optional[str] = None
    interactive: Optional[bool] = None
    exclusive: Optional[bool] = None
    conda: Optional[str] = None
    project: Optional[str] = None
    partition: Optional[str] = None
    walltime: Optional[str] = None
    cores: Optional[int] = None
    memory: Optional[str] = None
    tmpdir: Optional[str] = None
    unknown_task_duration: Optional[str] = None
    target_duration: Optional[str] = None
    lifetime_stagger: Optional[str] = None
    lifetime: Optional[str] = None
    extra_dask_config: Optional[dict] = None
    maximum_jobs: Optional[int] = None
    job_extra_directives: Optional[list] = None
    dask_resources: Optional[dict] = None
    worker_threads: Optional[int] = None
    processes: Optional[int] = None
    job_cores: Optional[int] = None


@dataclass
class Cluster:
    name: str
    frontends: list
    tunnel: bool = False
    type: Optional[Literal["local", "slurm", "oar"]] = None
    workers: Optional[int] = None
    memory_per_core_property_name: Optional[str] = None
    queues: Optional[dict] = None
    default_queue: Optional[str] = None

    @classmethod
    def from_dict(cls, name, dic: dict) -> "Cluster":
        """A cluster from its clusters.yaml mapping, validated as there."""
        return _as_dataclass(_parse_one(name, dic))


def _parse_one(name: str, dic: dict):
    """Our model of one cluster given as Python data."""
    from .model.catalogue import parse_python_clusters

    definition = {k: v for k, v in dict(dic).items() if v is not None}
    return parse_python_clusters({name: definition}, f"<{name}>").clusters[name]


def get_clusters() -> dict:
    """Every known cluster by name (the catalogue, inline definitions and
    ``define_clusters``), as the previous package's data classes."""
    ctx = default_session().context()
    return {name: get_cluster(name) for name in ctx.clusters}


def get_cluster(cluster) -> Cluster:
    """The cluster named ``cluster``; an unknown name raises
    ``UnknownClusterError``, which is a ``KeyError`` as before (and a
    ``ValueError``/``ConfigurationError``)."""
    return _as_dataclass(get_cluster_model(cluster))


def get_cluster_model(name):
    """Our model of the cluster named ``name`` (see ``get_cluster``)."""
    return default_session().cluster(name)


def get_local_cluster():
    """The cluster this machine belongs to (``local_cluster: NAME``), if any."""
    return default_session().context().local_cluster


def define_clusters(clusters) -> None:
    """Define clusters from Python data shaped like ``~/.seamless/clusters.yaml``
    (``local_cluster: NAME`` included), replacing earlier ones. They are
    validated as a catalogue file is, and kept over the catalogue's own
    clusters across reloads."""
    from .model.catalogue import parse_python_clusters

    if not isinstance(clusters, dict):
        raise ConfigError(f"define_clusters needs a dict of cluster definitions, "
                          f"not {type(clusters).__name__}")
    session = default_session()
    session.defined = parse_python_clusters(clusters, "<define_clusters()>")
    session._stale = True


register_clusters = define_clusters  # the previous package's other name for it


def _service(kind, service, cls):
    if service is None:
        return None
    names = [f.name for f in dataclasses.fields(cls)]
    return cls(**{n: plain(service.get(n)) for n in names})


_SERVICE_CLASSES = {"hashserver": ClusterFrontendHashserver, "database": ClusterFrontendDatabase,
                    "jobserver": ClusterFrontendJobserver,
                    "daskserver": ClusterFrontendDaskserver}


def _frontend(fe) -> ClusterFrontend:
    services = {kind: _service(kind, fe.services.get(kind), cls)
                for kind, cls in _SERVICE_CLASSES.items()}
    # The previous package named a frontend without hostname 'localhost'.
    return ClusterFrontend(fe.name, fe.ssh_hostname, **services)


def _queue(queue) -> ClusterQueue:
    fields = {f.name: plain(queue.get(f.name, f.default))
              for f in dataclasses.fields(ClusterQueue) if f.name != "name"}
    return ClusterQueue(queue.name, **fields)


def _as_dataclass(cluster) -> Cluster:
    return Cluster(cluster.name, [_frontend(fe) for fe in cluster.frontends],
                   tunnel=bool(cluster.tunnel), type=cluster.type, workers=cluster.workers,
                   memory_per_core_property_name=cluster.memory_per_core_property_name,
                   queues={n: _queue(q) for n, q in cluster.queues.items()},
                   default_queue=cluster.default_queue)

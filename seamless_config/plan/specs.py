"""Context pieces -> ``LaunchSpec``: what it takes to start one server.

``service_spec`` is a pure function of a cluster, a frontend and the
project/stage scope; it renders ``tools.yaml``'s templates (the closed
language of ``language/template.py``) into an argv list, so nothing
user-supplied reaches remote-http-launcher's f-string evaluation unescaped.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from .._record import frozen_record
from ..core.names import path_problem
from ..core.paths import launcher_dir, scope_subpath, storage_subpath
from ..core.vocabulary import DASK_SERVICES, JOB_SERVICES, SERVICES, STORAGE_DIRECTORY
from ..errors import ConfigError, one_of
from ..model.schedulers import BATCH_TYPES, CLASSES
from ..model.types import (Cluster, Frontend, Queue, Service, exposure_problem, frozen_map,
                           is_local_frontend, plain, service_directory)
from .dask_params import dask_parameters
from .spec import STATUS_FILE, LaunchSpec
from .tooldefs import ToolDef, tool_defs

# The cluster each Dask wrapper builds: ours knows dask-jobqueue's classes by
# name (dask/wrapper.py); seamless-dask's imports MODULE::CLASS, and gets
# ours (dask/jobqueue.py: one --nthreads per worker, every batch system).
CLUSTER_STRINGS = {"local": "distributed::LocalCluster",
                   **{k: f"dask_jobqueue::{CLASSES[k]}Cluster" for k in BATCH_TYPES}}
SEAMLESS_DASK_CLUSTERS = {**CLUSTER_STRINGS, **{
    k: f"seamless_config.dask.jobqueue::{CLASSES[k]}Cluster" for k in BATCH_TYPES}}
# Without network_interface a server binds loopback: only this machine, or
# an SSH tunnel ending on the frontend, talks to it. A frontend reached
# directly needs the user to say where to listen (model.exposure_problem):
# the servers have no authentication.
LOOPBACK = "127.0.0.1"
KEY_RE = re.compile(r"[A-Za-z0-9._-]+")


def service_spec(service: str, *, cluster: Cluster, frontend: Frontend | None, mode: str,
                 project: str | None, subproject: str | None, stage: str | None,
                 substage: str | None, queue: Queue | None, node: str | None = None,
                 record: bool = False, local_cluster: str | None = None,
                 file_parameters: Mapping[str, Any] | None = None) -> LaunchSpec:
    """What it takes to start ``service`` for this scope. ``file_parameters``:
    the jobserver's (collected remote clients); for dask, extra entries."""
    tool = _tool(service, mode)
    frontend = pick_frontend(cluster, frontend, tool.hosted_by)
    svc = frontend.services[tool.hosted_by]
    queue = pick_queue(cluster, queue) if service in DASK_SERVICES else None
    if queue is not None:
        check_dask_queue(cluster, queue, seamless_dask=service == "daskserver")
    scope = _Scope(project, subproject or None, stage or None, substage or None)
    local = is_local_frontend(cluster, frontend, local_cluster)
    interface = _interface(cluster, frontend, svc, local)
    values = _inputs(tool, cluster, frontend, svc, mode, scope, queue, local, interface)
    rendered = _rendered(tool, values)
    if local:  # the launcher here honours REMOTE_HTTP_LAUNCHER_DIR (launch/state.py)
        rendered["log_file"] = os.path.join(launcher_dir(), "server", rendered["key"] + ".log")
    return LaunchSpec(**rendered, **_placement(cluster, frontend, local),
                      conda=(queue.get("conda") if queue else None) or svc.get("conda"),
                      network_interface=interface,
                      port_start=svc.get("port_start"), port_end=svc.get("port_end"),
                      file_parameters=_file_parameters(service, cluster, queue, node, record,
                                                       file_parameters),
                      meta=frozen_map(_meta(service, cluster, mode, scope, queue)),
                      extra=frozen_map(_extra(service, values)))


def _tool(service: str, mode: str) -> ToolDef:
    if service not in SERVICES:
        raise ValueError(f"unknown service '{service}'; {one_of(SERVICES)}")
    if mode not in ("ro", "rw") or (service in JOB_SERVICES and mode != "rw"):
        raise ValueError(f"mode '{mode}' is not valid for a {service}")
    return tool_defs()[service]


@frozen_record
class _Scope:
    project: str | None
    subproject: str | None
    stage: str | None
    substage: str | None

    def storage(self) -> str | None:
        return storage_subpath(self.project, self.subproject, self.stage) if self.project else None

    def dispatch(self) -> str | None:
        return scope_subpath(self.project, self.subproject, self.stage,
                             self.substage) if self.project else None


def pick_frontend(cluster: Cluster, frontend: Frontend | None, kind: str) -> Frontend:
    """The given frontend if it offers ``kind``, else the first that does."""
    if frontend is not None:
        if kind not in frontend.services:
            raise ConfigError(f"frontend '{frontend.name}' of cluster '{cluster.name}' "
                              f"does not offer a {kind}", frontend.span)
        return frontend
    found = cluster.frontend_for(kind)
    if found is None:
        raise ConfigError(f"cluster '{cluster.name}' has no frontend offering a {kind}",
                          cluster.span)
    return found


def pick_queue(cluster: Cluster, queue: Queue | None) -> Queue:
    """The selected queue, else the cluster's default queue."""
    if queue is not None:
        return queue
    if cluster.default_queue and cluster.default_queue in cluster.queues:
        return cluster.queues[cluster.default_queue]
    raise ConfigError(f"no queue selected and cluster '{cluster.name}' has no default_queue",
                      cluster.span, f"queues: {', '.join(cluster.queues) or 'none defined'}")


def check_dask_queue(cluster: Cluster, queue: Queue, seamless_dask: bool = False) -> None:
    """The fields a daskserver on ``cluster`` needs; ``seamless_dask``: the
    Seamless daskserver, which derives its workers' lifetime from the
    walltime unless the queue sets lifetime."""
    if cluster.type not in CLUSTER_STRINGS:
        raise ConfigError(f"cluster '{cluster.name}' has no type; a daskserver needs one",
                          cluster.span, one_of(CLUSTER_STRINGS))
    if cluster.type == "local":
        return
    limit = "disk" if cluster.type == "htcondor" else "walltime"  # HTCondor has no walltime
    needed = (limit, "memory") if queue.get("exclusive") else ("cores", limit, "memory")
    missing = [f for f in needed if queue.get(f) is None]
    if seamless_dask and cluster.type == "htcondor" and queue.get("lifetime") is None:
        missing.append("lifetime")  # seamless-dask takes it from walltime, which HTCondor lacks
    if missing:
        raise ConfigError(f"queue '{queue.name}' of cluster '{cluster.name}' does not set "
                          f"{', '.join(missing)}, which a daskserver on a {cluster.type} "
                          "cluster needs", queue.span)


def _placement(cluster: Cluster, frontend: Frontend, local: bool) -> dict[str, Any]:
    if local:
        return {"hostname": None, "ssh_hostname": None, "tunnel": False}
    return {"hostname": frontend.hostname, "ssh_hostname": frontend.ssh_hostname,
            "tunnel": bool(cluster.tunnel)}


def _inputs(tool: ToolDef, cluster: Cluster, frontend: Frontend, svc: Service, mode: str,
            scope: _Scope, queue: Queue | None, local: bool, interface: str) -> dict[str, Any]:
    """The declared variables of ``tool``, each computed from the model."""
    every = {
        "cluster": cluster.name, "mode": mode, "queue": queue.name if queue else None,
        "storage_path": scope.storage(), "scope_path": scope.dispatch(),
        "bufferdir": _directory(svc, "bufferdir", local),
        "database_dir": _directory(svc, "database_dir", local),
        "writable": mode == "rw", "workers": cluster.workers or 1,
        "cluster_string": (SEAMLESS_DASK_CLUSTERS if tool.name == "daskserver"
                           else CLUSTER_STRINGS).get(cluster.type),
        "port_start": svc.get("port_start"), "port_end": svc.get("port_end"),
        "network_interface": interface,
    }
    values = {name: every[name] for name in tool.variables}
    _check_required(tool, cluster, frontend, svc, values)
    return values


def _interface(cluster: Cluster, frontend: Frontend, svc: Service, local: bool) -> str:
    """Where the server listens. resolve.py reports the same problem where
    the configuration is evaluated; this guard covers specs built for a
    frontend chosen otherwise (configure_*(frontend_name=...), services)."""
    problem = exposure_problem(cluster, frontend, svc, local)
    if problem is not None:
        raise problem
    return svc.get("network_interface") or LOOPBACK


def _directory(svc: Service, name: str, local: bool) -> str | None:
    # A trailing '/' would double up with the storage path's leading one.
    value = service_directory(svc, name, local)
    return None if value is None else (value.rstrip("/") or "/")


def _check_required(tool: ToolDef, cluster: Cluster, frontend: Frontend, svc: Service,
                    values: Mapping[str, Any]) -> None:
    for name in STORAGE_DIRECTORY.values():
        if name in values and values[name] is None:
            raise ConfigError(f"the {svc.kind} of frontend '{frontend.name}' in cluster "
                              f"'{cluster.name}' does not set {name}", svc.span)
    for name in ("storage_path", "scope_path"):
        if name in values and values[name] is None:
            raise ConfigError(f"a {tool.name} on cluster '{cluster.name}' needs a project")


def _rendered(tool: ToolDef, values: dict[str, Any]) -> dict[str, Any]:
    """key, workdir, log_file and argv, each re-checked: the launcher's
    regexes, and only the template's own ``{status_file}`` left open."""
    _check_values(tool, values)
    key = tool.key.text(values)
    if not KEY_RE.fullmatch(key):
        raise ValueError(f"{tool.name} key {key!r} does not match {KEY_RE.pattern}")
    workdir = tool.workdir.text({**values, "key": key})
    problem = path_problem(workdir, f"{tool.name} workdir")
    if problem:
        raise ValueError(problem)
    later = {**values, "key": key, "workdir": workdir, "timeout": tool.timeout,
             "status_file": _MARK}
    return {"service": tool.name, "key": key, "workdir": workdir,
            "argv": _argv(tool, tool.command.words(later)),
            "log_file": tool.log_file.text(later), "timeout": tool.timeout,
            "handshake": tool.handshake}


# Stands for {status_file} while rendering; values may not hold NUL, so
# only the template can produce it.
_MARK = "\0status_file\0"


def _check_values(tool: ToolDef, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if isinstance(value, str) and any(ch in value for ch in "\n\r\0"):
            raise ValueError(f"{tool.name}: {name} {value!r} holds a line break or NUL")


def _argv(tool: ToolDef, words: tuple[str, ...]) -> tuple[str, ...]:
    for word in words:
        if word == STATUS_FILE:
            raise ValueError(f"{tool.name}: a value renders as the status-file placeholder")
        if _MARK in word and word != _MARK:
            raise ValueError(f"{tool.name}: {{status_file}} must be a whole argv word")
    return tuple(STATUS_FILE if w == _MARK else w for w in words)


def _meta(service: str, cluster: Cluster, mode: str, scope: _Scope,
          queue: Queue | None) -> dict[str, Any]:
    if service in ("hashserver", "database"):
        scope = _Scope(scope.project, scope.subproject, scope.stage, None)  # storage ignores it
    elif service == "pure_daskserver":
        scope = _Scope(None, None, None, None)  # one scheduler serves every project
    return {"service": service, "cluster": cluster.name, "mode": mode,
            "project": scope.project, "subproject": scope.subproject, "stage": scope.stage,
            "substage": scope.substage, "queue": queue.name if queue is not None else None}


def _extra(service: str, values: Mapping[str, Any]) -> dict[str, Any]:
    if service == "jobserver":
        return {"workers": values["workers"]}
    if service in DASK_SERVICES:
        return {"cluster_string": values["cluster_string"]}
    return {}


def _file_parameters(service: str, cluster: Cluster, queue: Queue | None, node: str | None,
                     record: bool, given: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if service not in DASK_SERVICES:
        return None if given is None else frozen_map(plain(given))
    params = dask_parameters(cluster, queue, node, record, pure=service == "pure_daskserver")
    return frozen_map({**params, **plain(given or {})})

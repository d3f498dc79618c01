"""Seamless-level arguments -> the servers they name (pure: no sockets,
no processes, no state files read).

``--cluster``, ``--project`` and ``--stage STAGE[:SUBSTAGE]`` override the
resolved context of the work directory; each service then gets the same
``LaunchSpec`` that ``seamless-init`` would build, so keys, hosts and
paths can never disagree with what was launched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..core import paths
from ..core.vocabulary import SERVICES, STORAGE_DIRECTORY
from ..errors import RefusedError, one_of
from ..evaluation.context import Context
from ..evaluation.pipeline import evaluate_workdir
from ..model.types import service_directory
from ..plan.spec import LaunchSpec

# What "daskserver" means on the command line: the Dask scheduler of the
# configuration, Seamless's daskserver or, with persistent: false, pure Dask's.


def evaluate_scope(workdir: str, *, cluster: str | None = None, project: str | None = None,
                   stage: str | None = None, substage: str | None = None) -> Context:
    """The context of ``workdir`` with command-line overrides applied the way
    ``select_cluster``/``select_project`` would apply them."""
    manual = {}
    if cluster is not None:
        manual["cluster"] = (cluster, f"--cluster {cluster}")
    if project is not None:
        manual["project"] = (project, f"--project {project}")
    return evaluate_workdir(workdir, stage=stage, substage=substage, manual=manual)


@dataclass(frozen=True)
class Target:
    """One server named by the arguments. ``root`` is the configured
    bufferdir / database_dir and ``data_path`` the stage directory or the
    database file, both as the server's host sees them."""

    service: str
    spec: LaunchSpec
    root: str | None = None
    data_path: str | None = None

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def is_local(self) -> bool:
        return self.spec.is_local

    @property
    def host(self) -> str:
        return self.spec.hostname or "localhost"

    @property
    def hostname(self) -> str | None:
        return self.spec.hostname

    @property
    def ssh_hostname(self) -> str | None:
        return self.spec.ssh_hostname

    def sibling_keys(self) -> tuple[str, ...]:
        """Keys of the servers sharing this storage: the rw and ro ones."""
        meta = self.spec.meta
        if self.data_path is None:
            return (self.key,)
        sub = paths.storage_subpath(meta["project"], meta.get("subproject"), meta.get("stage"))
        return tuple(paths.service_key(self.service, meta["cluster"], mode, sub)
                     for mode in ("rw", "ro"))


def targets(ctx: Context, services: Sequence[str] | None) -> list[Target]:
    """The servers of ``services`` (default: every one the context uses)."""
    if ctx.cluster is None:
        raise RefusedError("no cluster is selected; pass --cluster or select one in "
                          "seamless.yaml / seamless.profile.yaml")
    if not services:
        services = [use.service for use in ctx.services]
        if not services:
            raise RefusedError(f"this configuration uses no servers (execution "
                              f"'{ctx.execution}', persistent {ctx.persistent}); "
                              f"name one with --service ({', '.join(SERVICES)})")
    return [_target(ctx, dask_service(ctx, name)) for name in services]


def dask_service(ctx: Context, service: str) -> str:
    """``daskserver`` is the scheduler this configuration uses: the pure
    Dask one when that is the one it uses."""
    if service == "daskserver" and ctx.service("daskserver") is None and \
            ctx.service("pure_daskserver") is not None:
        return "pure_daskserver"
    return service


def _target(ctx: Context, service: str) -> Target:
    from ..plan.specs import pick_frontend, service_spec

    if service not in SERVICES:
        raise RefusedError(f"unknown service '{service}'; {one_of(SERVICES)}")
    use = ctx.service(service)
    spec = service_spec(
        service, cluster=ctx.cluster, frontend=use.frontend if use else None, mode="rw",
        project=ctx.value("project"), subproject=ctx.value("subproject"), stage=ctx.stage,
        substage=ctx.substage, queue=ctx.queue, node=ctx.value("node"),
        record=bool(ctx.value("record")), local_cluster=ctx.local_cluster)
    if service not in STORAGE_DIRECTORY:
        return Target(service, spec)
    frontend = pick_frontend(ctx.cluster, use.frontend if use else None, service)
    root = service_directory(frontend.services[service], STORAGE_DIRECTORY[service], spec.is_local)
    data = spec.workdir + ("/seamless.db" if service == "database" else "")
    return Target(service, spec, root=(root or "").rstrip("/") or "/", data_path=data)


def remote_log_path(key: str) -> str:
    """The server log on a remote host, unless its REMOTE_HTTP_LAUNCHER_DIR
    moves it (only an SSH session could tell)."""
    return f"~/.remote-http-launcher/server/{key}.log"


def resolve_entry(target: Target) -> dict[str, Any]:
    """What ``resolve`` prints for one server."""
    from ..launch import state

    spec, meta = target.spec, target.spec.meta
    entry: dict[str, Any] = {
        "key": spec.key, "service": target.service, "cluster": meta.get("cluster"),
        "project": meta.get("project"), "subproject": meta.get("subproject"),
        "stage": meta.get("stage"), "substage": meta.get("substage"),
        "host": target.host, "ssh_host": None if spec.is_local else (
            spec.ssh_hostname or spec.hostname),
        "tunnel": spec.tunnel, "workdir": spec.workdir,
        "log": state.server_log_path(spec.key) if spec.is_local else remote_log_path(spec.key),
        "client_file": state.client_path(spec.key),
    }
    if target.data_path is not None:
        entry["data"] = target.data_path
        entry[STORAGE_DIRECTORY[target.service]] = target.root
    return entry


def resolve_document(found: Sequence[Target]) -> dict[str, Any]:
    return {t.service: resolve_entry(t) for t in found}


"""Defaults and derived values: Evaluation -> Context.

The rules of the previous package (COMPAT.md section 5), each producing a
``Setting`` whose origin names the rule and what triggered it, so that
``explain`` can say *why* execution is ``remote`` and not only *that* it is.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import paths
from .context import Context, Origin, ServiceUse, Setting, Warn
from .errors import ConfigError
from .evaluator import Evaluation, queue_problem
from .model import Cluster, frozen_map, is_local_frontend, service_directory

FILE_SETTINGS = ("project", "subproject", "cluster", "execution", "queue", "remote",
                 "persistent", "record", "node", "nparallel")


def _default(name: str, value: Any, rule: str, trigger: Setting | None = None) -> Setting:
    span = trigger.origin.span if trigger is not None else None
    return Setting(name, value, Origin("default", rule=rule, trigger=span))


def _cluster_note(cluster: Setting) -> str:
    where = f" at {cluster.origin.span}" if cluster.origin.span else ""
    return f"a cluster is selected ('{cluster.value}'{where})"


class _Resolver:
    def __init__(self, ev: Evaluation, clusters: Mapping[str, Cluster]):
        self.raw = {n: ev.frame.lookup(n) if ev.frame else None for n in FILE_SETTINGS}
        self.clusters = clusters
        self.out: dict[str, Setting] = {}
        self.warnings: list[Warn] = []

    def given(self, name: str) -> Setting | None:
        s = self.raw.get(name)
        return s if s is not None and s.value is not None else None

    def keep(self, name: str, fallback: Setting | None = None) -> None:
        setting = self.raw.get(name)
        if setting is None or (setting.value is None and fallback is not None):
            setting = fallback
        if setting is not None:
            self.out[name] = setting

    def cluster(self) -> Cluster | None:
        s = self.given("cluster")
        return self.clusters[s.value] if s else None

    def execution(self) -> None:
        cluster = self.given("cluster")
        given = self.given("execution")
        if given is None:
            value = "remote" if cluster else "process"
            rule = (f"{_cluster_note(cluster)} and no 'execution' command ran" if cluster
                    else "no cluster is selected and no 'execution' command ran")
            self.warnings.append(Warn(f"no 'execution' command; using '{value}' because " + (
                "a cluster is selected" if cluster else "no cluster is selected"),
                cluster.origin.span if cluster else None))
            given = _default("execution", value, rule, cluster)
        elif given.value == "remote" and cluster is None:
            raise ConfigError("execution 'remote' needs a cluster", given.origin.span,
                              "select one with '- cluster: NAME', or use 'execution: process'")
        self.out["execution"] = given

    def persistent(self) -> None:
        cluster = self.given("cluster")
        given = self.raw.get("persistent")
        if given is None:
            rule = _cluster_note(cluster) if cluster else "no cluster is selected"
            given = _default("persistent", cluster is not None, rule, cluster)
        elif given.value and cluster is None:
            raise ConfigError("persistent storage needs a cluster", given.origin.span,
                              "select one with '- cluster: NAME', or write 'persistent: false'")
        if cluster is None and given.origin.kind == "default":
            self.warnings.append(Warn("no cluster is selected: running without persistence "
                                      "(results are not cached between runs)"))
        self.out["persistent"] = given

    def remote(self, cluster: Cluster | None) -> None:
        given = self.raw.get("remote")
        if self.out["execution"].value != "remote" or cluster is None:
            self.keep("remote")
            return
        offered = cluster.offered_backends()
        if given is not None and given.value is not None:
            if given.value not in offered:
                raise ConfigError(
                    f"remote '{given.value}' is not offered by cluster '{cluster.name}' "
                    f"(defined in {cluster.span})", given.origin.span,
                    _offer_hint(offered))
            self.out["remote"] = given
            return
        self.out["remote"] = self.choose_backend(cluster, offered)

    def choose_backend(self, cluster: Cluster, offered: tuple[str, ...]) -> Setting:
        execution = self.out["execution"]
        where = execution.origin.span or self.given("cluster").origin.span
        if len(offered) == 2:
            raise ConfigError(
                f"cluster '{cluster.name}' offers both a jobserver and a daskserver "
                f"(defined in {cluster.span})", where,
                "pin one with '- remote: jobserver' or '- remote: daskserver' "
                "in seamless.profile.yaml")
        if not offered:
            raise ConfigError(
                f"execution 'remote' needs a jobserver or a daskserver, but cluster "
                f"'{cluster.name}' (defined in {cluster.span}) has neither", where,
                "add one to a frontend, or use 'execution: process'")
        return _default("remote", offered[0],
                        f"cluster '{cluster.name}' offers only a {offered[0]}",
                        self.given("cluster"))

    def queue(self, cluster: Cluster | None) -> None:
        given = self.given("queue")
        if given is not None or cluster is None or not cluster.default_queue:
            self.keep("queue")
            return
        self.out["queue"] = _default("queue", cluster.default_queue,
                                     f"the default_queue of cluster '{cluster.name}' "
                                     f"(defined in {cluster.span})", self.given("cluster"))


def _offer_hint(offered: tuple[str, ...]) -> str:
    if not offered:
        return "it has no jobserver or daskserver; add one to a frontend"
    return "it offers: " + ", ".join(offered)


def resolve(ev: Evaluation, clusters: Mapping[str, Cluster], **ctx: Any) -> Context:
    """Apply defaults, check cross-setting rules, derive paths and services."""
    r = _Resolver(ev, clusters)
    cluster = r.cluster()
    for name in ("project", "subproject", "cluster", "record", "node", "nparallel"):
        r.keep(name)
    r.execution()
    r.persistent()
    r.remote(cluster)
    r.queue(cluster)
    queue = None
    if cluster is not None and r.out.get("queue") is not None and r.out["queue"].value:
        qname = r.out["queue"].value
        if qname not in cluster.queues:  # a manual select_queue, or a stale default
            raise ConfigError(*queue_problem(cluster, qname, r.out["queue"].origin.span))
        queue = cluster.queues[qname]
    settings = frozen_map(r.out)
    derived = _derive(settings, cluster, ctx.get("stage"), ctx.get("substage"),
                      ctx.get("local_cluster"))
    return Context(settings=settings, clusters=clusters, cluster=cluster, queue=queue,
                   warnings=tuple(r.warnings), stage_names=ev.stage_names, **derived, **ctx)


def _value(settings: Mapping[str, Setting], name: str) -> Any:
    s = settings.get(name)
    return None if s is None else s.value


def _derive(settings, cluster: Cluster | None, stage, substage, local_cluster) -> dict:
    if cluster is None:
        return {}
    wanted = _wanted(settings)
    _check_node(cluster, settings.get("node"), wanted)
    project = _value(settings, "project")
    if project is None:
        if any(w != "pure_daskserver" for w in wanted):
            raise ConfigError(f"cluster '{cluster.name}' is selected but no project is set",
                              settings["cluster"].origin.span,
                              "add '- project: NAME' to seamless.yaml")
        return {"services": tuple(_use(w, cluster, None, None, settings, local_cluster)
                                  for w in wanted)}
    sub = _value(settings, "subproject")
    storage = paths.storage_subpath(project, sub, stage)
    scope = paths.scope_subpath(project, sub, stage, substage)
    services = tuple(_use(w, cluster, storage, scope, settings, local_cluster) for w in wanted)
    return {"storage_subpath": storage, "scope_subpath": scope, "services": services}


def _check_node(cluster: Cluster, node: Setting | None, wanted: list[str]) -> None:
    """Only batch systems place jobs on nodes: on a local cluster a selected
    node would be silently ignored by its Dask workers."""
    dask = {"daskserver", "pure_daskserver"} & set(wanted)
    if cluster.type != "local" or node is None or node.value is None or not dask:
        return
    raise ConfigError(f"node '{node.value}' is selected, but cluster '{cluster.name}' "
                      f"(defined in {cluster.span}) is of type local: its Dask workers run "
                      "on the frontend, not on a chosen node", node.origin.span,
                      "node selection applies to slurm and oar clusters; remove the "
                      "'node' command or select such a cluster")


def _wanted(settings) -> list[str]:
    """The services this configuration needs, in start order."""
    wanted = []
    if _value(settings, "persistent"):
        wanted += ["hashserver", "database"]
    if _value(settings, "execution") == "remote":
        backend = _value(settings, "remote")
        if backend == "daskserver" and not _value(settings, "persistent"):
            backend = "pure_daskserver"
        wanted.append(backend)
    return wanted


def _use(service: str, cluster: Cluster, storage: str, scope: str, settings,
         local_cluster: str | None) -> ServiceUse:
    host_service = "daskserver" if service == "pure_daskserver" else service
    frontend = cluster.frontend_for(host_service)
    if frontend is None:
        span = settings["cluster"].origin.span
        raise ConfigError(
            f"cluster '{cluster.name}' (defined in {cluster.span}) has no frontend with a "
            f"{host_service}, which this configuration needs", span,
            _missing_hint(service))
    if service in ("daskserver", "pure_daskserver") and not _value(settings, "queue"):
        raise ConfigError(
            f"a daskserver needs a queue, but none is selected and cluster '{cluster.name}' "
            f"(defined in {cluster.span}) has no default_queue", settings["cluster"].origin.span,
            "add '- queue: NAME' (" + (", ".join(cluster.queues) or "no queues are defined")
            + ") or a default_queue to the cluster")
    if service == "pure_daskserver":
        key = paths.pure_dask_key(cluster.name, _value(settings, "queue"))
        return ServiceUse(service, frontend, "rw", key)
    if service in ("jobserver", "daskserver"):
        return ServiceUse(service, frontend, "rw", paths.service_key(service, cluster.name, "rw", scope))
    local = is_local_frontend(cluster, frontend, local_cluster)
    root = service_directory(frontend.services[service],
                             "bufferdir" if service == "hashserver" else "database_dir", local)
    data = paths.join(root, storage) + ("/seamless.db" if service == "database" else "")
    return ServiceUse(service, frontend, "rw", paths.service_key(service, cluster.name, "rw", storage), data)


def _missing_hint(service: str) -> str:
    if service in ("hashserver", "database"):
        return "add it to a frontend, or write 'persistent: false' to run without storage"
    return "add it to a frontend, or choose another execution mode"


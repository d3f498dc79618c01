"""Defaults and derived values: Evaluation -> Context.

The rules of the previous package (COMPAT.md section 5), each producing a
``Setting`` whose origin names the rule and what triggered it, so that
``explain`` can say *why* execution is ``remote`` and not only *that* it is.

A strict resolution raises at the first mistake. A tolerant one (what the
previous package's API sees) records each mistake as a ``Problem`` naming
what it blocks, and raises nothing: the previous package found these only
when the thing was used, and callers rely on loading quietly.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..core import paths
from ..core.vocabulary import (DASK_SERVICES, JOB_SERVICES, SETTINGS, STORAGE_DIRECTORY,
                               hosting_service)
from ..errors import ConfigError, RefusedError
from ..model.types import (Cluster, binds_beyond_loopback, exposure_problem, frozen_map,
                           is_local_frontend, service_directory)
from .context import Context, Origin, Problem, ServiceUse, Setting, Warn
from .evaluator import Evaluation, queue_problem

# The previous package's warning words, which scripts and tests look for,
# come first; ours say why.
EXECUTION_WARNING = {
    "remote": "No 'execution' command found; Seamless defaults to 'remote' because a "
              "cluster is defined",
    "process": "No 'execution' command found; Seamless falls back to 'process' because no "
               "cluster is selected",
}
NO_PERSISTENCE_WARNING = ("No cluster defined; running without persistence (results are "
                          "not cached between runs)")


def _default(name: str, value: Any, rule: str, trigger: Setting | None = None) -> Setting:
    span = trigger.origin.span if trigger is not None else None
    return Setting(name, value, Origin("default", rule=rule, trigger=span))


def _cluster_note(cluster: Setting) -> str:
    where = f" at {cluster.origin.span}" if cluster.origin.span else ""
    return f"a cluster is selected ('{cluster.value}'{where})"


class _Resolver:
    def __init__(self, ev: Evaluation, clusters: Mapping[str, Cluster], strict: bool):
        self.raw = {n: ev.frame.lookup(n) if ev.frame else None for n in SETTINGS}
        self.clusters = clusters
        self.strict = strict
        self.out: dict[str, Setting] = {}
        self.warnings: list[Warn] = []
        self.problems: list[Problem] = list(ev.problems)

    def problem(self, error: ConfigError, *needs: str) -> None:
        """Raise now (strict), or keep it for when one of ``needs`` is used."""
        if self.strict:
            raise error
        self.problems.append(Problem(error, frozenset(needs)))

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
        """The selected cluster; None also when its name is unknown (a
        tolerant evaluation carries that as a problem)."""
        s = self.given("cluster")
        return self.clusters.get(s.value) if s else None

    def execution(self) -> None:
        cluster = self.given("cluster")
        given = self.given("execution")
        if given is None:
            value = "remote" if cluster else "process"
            rule = (f"{_cluster_note(cluster)} and no 'execution' command ran" if cluster
                    else "no cluster is selected and no 'execution' command ran")
            self.warnings.append(Warn(EXECUTION_WARNING[value],
                                      cluster.origin.span if cluster else None))
            given = _default("execution", value, rule, cluster)
        elif given.value == "remote" and cluster is None:
            self.problem(ConfigError("execution 'remote' needs a cluster", given.origin.span,
                                     "select one with '- cluster: NAME', or use "
                                     "'execution: process'"), "init")
        self.out["execution"] = given

    def persistent(self) -> None:
        cluster = self.given("cluster")
        given = self.raw.get("persistent")
        if given is None:
            rule = _cluster_note(cluster) if cluster else "no cluster is selected"
            given = _default("persistent", cluster is not None, rule, cluster)
        elif given.value and cluster is None:
            self.problem(ConfigError("persistent storage needs a cluster", given.origin.span,
                                     "select one with '- cluster: NAME', or write "
                                     "'persistent: false'"), "init")
        if cluster is None and given.origin.kind == "default":
            self.warnings.append(Warn(NO_PERSISTENCE_WARNING))
        self.out["persistent"] = given

    def remote(self, cluster: Cluster | None) -> None:
        given = self.raw.get("remote")
        if self.out["execution"].value != "remote" or cluster is None:
            self.keep("remote")
            return
        offered = cluster.offered_backends()
        if given is not None and given.value is not None:
            if given.value not in offered:
                self.problem(ConfigError(
                    f"remote '{given.value}' is not offered by cluster '{cluster.name}' "
                    f"(defined in {cluster.span})", given.origin.span,
                    _offer_hint(offered)), *self.backend_services(given.value))
            self.out["remote"] = given
            return
        chosen = self.choose_backend(cluster, offered)
        if chosen is not None:
            self.out["remote"] = chosen

    def backend_services(self, backend: str) -> tuple[str, ...]:
        """The service a pinned backend starts: a daskserver without
        persistence is pure Dask's scheduler."""
        if backend == "daskserver" and not self.out["persistent"].value:
            return ("pure_daskserver",)
        return (backend,)

    def choose_backend(self, cluster: Cluster, offered: tuple[str, ...]) -> Setting | None:
        execution = self.out["execution"]
        where = execution.origin.span or self.given("cluster").origin.span
        if len(offered) == 2:
            # The previous package refused this at every init (check_remote_redundancy).
            self.problem(ConfigError(
                f"cluster '{cluster.name}' offers both a jobserver and a daskserver "
                f"(defined in {cluster.span})", where,
                "pin one with '- remote: jobserver' or '- remote: daskserver' "
                "in seamless.profile.yaml"), "init", *JOB_SERVICES)
            return None
        if not offered:
            self.problem(ConfigError(
                f"execution 'remote' needs a jobserver or a daskserver, but cluster "
                f"'{cluster.name}' (defined in {cluster.span}) has neither", where,
                "add one to a frontend, or use 'execution: process'"),
                *self.backend_services("jobserver"), *self.backend_services("daskserver"))
            return None
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

    def queue_object(self, cluster: Cluster | None):
        setting = self.out.get("queue")
        if cluster is None or setting is None or not setting.value:
            return None
        if setting.value not in cluster.queues:  # a manual select_queue, or a stale default
            # named only outside the files (--queue, select_queue): no file is wrong
            error = RefusedError if setting.origin.span is None else ConfigError
            self.problem(error(*queue_problem(cluster, setting.value, setting.origin.span)),
                         "daskserver", "pure_daskserver")
            return None
        return cluster.queues[setting.value]


def _offer_hint(offered: tuple[str, ...]) -> str:
    if not offered:
        return "it has no jobserver or daskserver; add one to a frontend"
    return "it offers: " + ", ".join(offered)


def resolve(ev: Evaluation, clusters: Mapping[str, Cluster], *, strict: bool = True,
            **ctx: Any) -> Context:
    """Apply defaults, check cross-setting rules, derive paths and services."""
    r = _Resolver(ev, clusters, strict)
    cluster = r.cluster()
    for name in ("project", "subproject", "cluster", "record", "node", "nparallel"):
        r.keep(name)
    r.execution()
    r.persistent()
    r.remote(cluster)
    r.queue(cluster)
    queue = r.queue_object(cluster)
    settings = frozen_map(r.out)
    derived = _Deriver(r, settings, cluster, ctx.get("local_cluster")).derive(
        ctx.get("stage"), ctx.get("substage"))
    return Context(settings=settings, clusters=clusters, cluster=cluster, queue=queue,
                   warnings=tuple(r.warnings), stage_names=ev.stage_names,
                   problems=tuple(r.problems), **derived, **ctx)


def _value(settings: Mapping[str, Setting], name: str) -> Any:
    s = settings.get(name)
    return None if s is None else s.value


def wanted_services(settings) -> list[str]:
    """The services this configuration needs, in start order."""
    wanted = []
    if _value(settings, "persistent"):
        wanted += ["hashserver", "database"]
    if _value(settings, "execution") == "remote":
        backend = _value(settings, "remote")
        if backend == "daskserver" and not _value(settings, "persistent"):
            backend = "pure_daskserver"
        if backend is not None:
            wanted.append(backend)
    return wanted


class _Deriver:
    """Storage paths, keys and the services to start, for a selected cluster."""

    def __init__(self, r: _Resolver, settings, cluster: Cluster | None, local_cluster):
        self.r, self.settings, self.cluster, self.local_cluster = r, settings, cluster, local_cluster
        self.wanted = wanted_services(settings)

    def derive(self, stage, substage) -> dict:
        if self.cluster is None:
            self.extend_unknown_cluster()
            return {}
        self.check_node()
        project = _value(self.settings, "project")
        if project is None:
            needing = [w for w in self.wanted if w != "pure_daskserver"]
            if needing:
                self.r.problem(ConfigError(
                    f"cluster '{self.cluster.name}' is selected but no project is set",
                    self.settings["cluster"].origin.span,
                    "add '- project: NAME' to seamless.yaml"), *needing)
            return {"services": self.uses(None, None, exclude=needing)}
        sub = _value(self.settings, "subproject")
        storage = paths.storage_subpath(project, sub, stage)
        scope = paths.scope_subpath(project, sub, stage, substage)
        return {"storage_subpath": storage, "scope_subpath": scope,
                "services": self.uses(storage, scope)}

    def extend_unknown_cluster(self) -> None:
        """An unknown cluster blocks every service the settings want too, and
        any init that must choose the cluster's job backend (the previous
        package looked the cluster up for that even with launching disabled)."""
        blocked = set(self.wanted)
        if _value(self.settings, "execution") == "remote" and not _value(self.settings, "remote"):
            blocked.add("init")
        for i, p in enumerate(self.r.problems):
            if "cluster" in p.needs and blocked:
                self.r.problems[i] = Problem(p.error, p.needs | blocked)

    def uses(self, storage, scope, exclude=()) -> tuple[ServiceUse, ...]:
        found = []
        for service in self.wanted:
            if service in exclude:
                continue
            use = self.use(service, storage, scope)
            if use is not None:
                found.append(use)
        return tuple(found)

    def check_node(self) -> None:
        """Only batch systems place jobs on nodes: on a local cluster a selected
        node would be silently ignored by its Dask workers."""
        cluster, node = self.cluster, self.settings.get("node")
        dask = [w for w in self.wanted if w in DASK_SERVICES]
        if cluster.type != "local" or node is None or node.value is None or not dask:
            return
        self.r.problem(ConfigError(
            f"node '{node.value}' is selected, but cluster '{cluster.name}' "
            f"(defined in {cluster.span}) is of type local: its Dask workers run "
            "on the frontend, not on a chosen node", node.origin.span,
            "node selection applies to slurm and oar clusters; remove the "
            "'node' command or select such a cluster"), *dask)
        self.wanted = [w for w in self.wanted if w not in dask]

    def use(self, service: str, storage, scope) -> ServiceUse | None:
        cluster, settings = self.cluster, self.settings
        host_service = hosting_service(service)
        frontend = cluster.frontend_for(host_service)
        if frontend is None:
            self.r.problem(ConfigError(
                f"cluster '{cluster.name}' (defined in {cluster.span}) has no frontend with a "
                f"{host_service}, which this configuration needs",
                settings["cluster"].origin.span, _missing_hint(service)), service)
            return None
        if service in DASK_SERVICES and not _value(settings, "queue"):
            self.r.problem(ConfigError(
                f"a daskserver needs a queue, but none is selected and cluster "
                f"'{cluster.name}' (defined in {cluster.span}) has no default_queue",
                settings["cluster"].origin.span,
                "add '- queue: NAME' (" + (", ".join(cluster.queues) or "no queues are defined")
                + ") or a default_queue to the cluster"), service)
            return None
        local = is_local_frontend(cluster, frontend, self.local_cluster)
        exposed = exposure_problem(cluster, frontend, frontend.services[host_service], local)
        if exposed is not None:
            self.r.problem(exposed, service)
            return None
        if service == "pure_daskserver":
            key = paths.pure_dask_key(cluster.name, _value(settings, "queue"))
            return ServiceUse(service, frontend, "rw", key)
        if service in ("jobserver", "daskserver"):
            return ServiceUse(service, frontend, "rw",
                              paths.service_key(service, cluster.name, "rw", scope))
        root = service_directory(frontend.services[service],
                                 STORAGE_DIRECTORY[service], local)
        data = paths.join(root, storage) + ("/seamless.db" if service == "database" else "")
        return ServiceUse(service, frontend, "rw",
                          paths.service_key(service, cluster.name, "rw", storage), data)


def _missing_hint(service: str) -> str:
    if service in ("hashserver", "database"):
        return "add it to a frontend, or write 'persistent: false' to run without storage"
    return "add it to a frontend, or choose another execution mode"


# What anyone who reaches an exposed server can do with it: none of them
# asks who is calling.
_EXPOSED_POWERS = {
    "hashserver": "read and write its buffers",
    "database": "read and write its records",
    "jobserver": "give it jobs, which run code as you",
    "daskserver": "submit tasks to its Dask scheduler, which run code as you",
    "pure_daskserver": "submit tasks to its Dask scheduler, which run code as you",
}


def exposure_warnings(ctx: Context) -> list[Warn]:
    """One warning per server of ``ctx`` told to listen beyond loopback (an
    explicit non-loopback network_interface): they have no authentication,
    so anyone who reaches that interface can use them. ``check`` and
    ``explain`` show these; loading stays quiet (the user wrote it)."""
    found = []
    for use in ctx.services:
        kind = "daskserver" if use.service == "pure_daskserver" else use.service
        svc = use.frontend.services.get(kind)
        interface = svc.get("network_interface") if svc is not None else None
        if not binds_beyond_loopback(interface):
            continue
        where = ("this machine" if is_local_frontend(ctx.cluster, use.frontend, ctx.local_cluster)
                 else f"frontend '{use.frontend.name}'")
        found.append(Warn(
            f"the {use.service} on {where} of cluster '{ctx.cluster.name}' will listen on "
            f"{interface}, beyond loopback, without authentication: anyone who reaches that "
            f"address can {_EXPOSED_POWERS[use.service]}",
            svc.field_spans.get("network_interface", svc.span)))
    return found

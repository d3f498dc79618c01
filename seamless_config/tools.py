"""Launch specifications for the five servers, from ``tools.yaml``.

``service_spec`` is a pure function of a cluster, a frontend and the
project/stage scope; the ``configure_*`` wrappers keep the signatures
seamless-remote calls (COMPAT.md section 1) and read the rest from the
default session. Templates are interpreted by ``template.py``; the launch
dict is ``LaunchSpec.to_dict()``, so nothing user-supplied reaches
remote-http-launcher's f-string evaluation unescaped.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Mapping

from ._record import frozen_record
from .errors import ConfigError, ConfigurationError, did_you_mean, one_of
from .plan.spec import STATUS_FILE, LaunchSpec
from .model.types import (Cluster, Frontend, Queue, Service, exposure_problem, frozen_map, is_local_frontend, plain, service_directory)
from .core.names import node_problem, path_problem
from .core.paths import scope_subpath, storage_subpath

if TYPE_CHECKING:  # lark (through template) loads only when a spec is built
    from .language import template

SERVICES = ("hashserver", "database", "jobserver", "daskserver", "pure_daskserver")
JOB_SERVICES = ("jobserver", "daskserver", "pure_daskserver")
DASK_SERVICES = ("daskserver", "pure_daskserver")
# What tools.yaml may declare; service_spec computes each of them.
INPUTS = frozenset({"cluster", "mode", "queue", "storage_path", "scope_path", "bufferdir",
                    "database_dir", "writable", "workers", "cluster_string",
                    "port_start", "port_end", "network_interface"})
# Per template, what is known by the time it is rendered, besides the inputs.
DERIVED = {"key": frozenset(), "workdir": frozenset({"key"}), "log_file": frozenset({"key"}),
           "command": frozenset({"key", "workdir", "timeout", "status_file"})}
# A directory a server cannot run without, keyed by the variable that holds it.
REQUIRED_DIRS = ("bufferdir", "database_dir")
CLUSTER_STRINGS = {"local": "distributed::LocalCluster", "slurm": "dask_jobqueue::SLURMCluster",
                   "oar": "dask_jobqueue::OARCluster"}
# Without network_interface a server binds loopback: only this machine, or
# an SSH tunnel ending on the frontend, talks to it. A frontend reached
# directly needs the user to say where to listen (model.exposure_problem):
# the servers have no authentication.
LOOPBACK = "127.0.0.1"
KEY_RE = re.compile(r"[A-Za-z0-9._-]+")
# Queue fields passed to the dask wrapper, in the order it documents them;
# the ones it reads as dask config keys are spelled with '-' there.
QUEUE_PARAMETERS = ("walltime", "exclusive", "cores", "job_cores", "memory", "tmpdir", "partition",
                    "project",
                    "job_script_prologue", "worker_threads", "processes", "unknown_task_duration",
                    "target_duration", "lifetime_stagger", "lifetime", "dask_resources",
                    "interactive", "maximum_jobs", "extra_dask_config")
DASK_CONFIG_NAMES = ("unknown_task_duration", "target_duration", "lifetime_stagger", "lifetime",
                     "dask_resources")


@frozen_record
class ToolDef:
    name: str
    hosted_by: str
    variables: frozenset[str]
    key: "template.Template"
    workdir: "template.Template"
    log_file: "template.Template"
    command: "template.Template"
    handshake: Any
    timeout: int


def _tools_text() -> str:
    import os

    with open(os.path.join(os.path.dirname(__file__), "tools.yaml"), encoding="utf-8") as f:
        return f.read()


def _tools_data() -> tuple[Mapping[str, Any], dict[str, "template.Template"]]:
    """``tools.yaml`` as data, and its templates parsed. Both are kept in
    one JSON file in the user's cache directory, valid while ``tools.yaml``'s
    text is the one they were made from: a process then needs neither YAML
    (~13 ms to import where nothing else did) nor lark (~20 ms). JSON holds
    no code, the file is read only through ``paths.read_cache_file`` (this
    user's, private, regular), and each template is checked against its
    source before use."""
    from .language import template

    text = _tools_text()
    path = _tools_cache_path(template.FORMAT)
    cached = None if path is None else _read_tools_cache(path, text)
    if cached is not None:
        return cached
    import json

    import yaml

    from .core.paths import write_cache_file

    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    parsed = {src: template.parse(src) for src in sorted(_template_sources(raw))}
    if path is not None:
        blob = json.dumps({"format": TOOLS_CACHE_FORMAT, "tools_yaml": text, "tools": raw,
                           "templates": {src: template.to_data(t.items)
                                         for src, t in parsed.items()}}).encode()
        write_cache_file(path, lambda f: f.write(blob))
    return raw, parsed


TOOLS_CACHE_FORMAT = 2  # bump when the cached document changes shape (1: marshal)


def _template_sources(raw: Mapping[str, Any]) -> set[str]:
    """Every template source ``tools.yaml`` uses."""
    return {body[part] for body in raw.values() for part in DERIVED}


def _tools_cache_path(fmt: int) -> str | None:
    """One file per template node format; a file written from another
    version of tools.yaml fails the text check and is rewritten."""
    import os

    from .core.paths import cache_dir

    folder = cache_dir()
    return None if folder is None else os.path.join(folder, f"tools-v{fmt}.json")


def _read_tools_cache(path: str, text: str):
    """(data, templates) from the cache file, or None when it is absent,
    unsafe to read, written for another tools.yaml, or not what it claims:
    its templates must be exactly those its data uses, each one printing
    back to its own source."""
    import json

    from .language import template
    from .core.paths import read_cache_file

    blob = read_cache_file(path)
    if blob is None:
        return None
    try:
        doc = json.loads(blob)
        if doc["format"] != TOOLS_CACHE_FORMAT or doc["tools_yaml"] != text:
            return None
        raw, data = doc["tools"], doc["templates"]
        if set(data) != _template_sources(raw):
            return None
        parsed = {src: template.from_data(src, items) for src, items in data.items()}
        if not all(_source_of(t.items) == _spaced(src) for src, t in parsed.items()):
            return None
        _defs(raw, parsed)  # every field tool_defs reads is there, of its type
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError):
        return None  # not a document we wrote: parse again
    return raw, parsed


# The template language's tokens (grammar/template.lark), to print a parsed
# template back; a cached one is used only when that gives its source, so
# that its data cannot say more, or other, than tools.yaml.
_TEXT = re.compile(r"[^\s{}\[\]]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _spaced(source: str) -> str:
    return re.sub(r"\s+", " ", source)


def _source_of(items) -> str | None:
    """The source a parse would have read ``items`` from (whitespace as one
    space), or None when an item could not have come from a parse."""
    from .language import template

    out = []
    for item in items:
        if isinstance(item, template.Text) and _TEXT.fullmatch(item.value):
            out.append(item.value)
        elif isinstance(item, template.Space):
            out.append(" ")
        elif isinstance(item, template.Var) and _NAME.fullmatch(item.name):
            out.append("{" + "|".join((item.name, *item.filters)) + "}")
        elif isinstance(item, template.Flag) and _NAME.fullmatch(item.name):
            out.append("{" + item.name + "?}")
        elif isinstance(item, template.Fragment):
            inner = _source_of(item.items)
            if inner is None:
                return None
            out.append("[" + inner + "]")
        else:
            return None
    return "".join(out)


@functools.cache
def tool_defs() -> Mapping[str, ToolDef]:
    """``tools.yaml``, read and checked once, on first use."""
    return _defs(*_tools_data())


def _defs(raw: Mapping[str, Any], parsed) -> Mapping[str, ToolDef]:
    if sorted(raw) != sorted(SERVICES):
        raise ValueError(f"tools.yaml must describe exactly: {', '.join(SERVICES)}")
    return frozen_map({name: _tool_def(name, body, parsed) for name, body in raw.items()})


def _tool_def(name: str, body: Mapping[str, Any], templates=None) -> ToolDef:
    declared = frozenset(body["variables"])
    if declared - INPUTS:
        raise ValueError(f"tools.yaml: {name} declares unknown variable(s) "
                         f"{', '.join(sorted(declared - INPUTS))}")
    from .language import template

    parsed = {part: (templates or {}).get(body[part]) or template.parse(body[part])
              for part in DERIVED}
    for part, tpl in parsed.items():
        unknown = tpl.variables - declared - DERIVED[part]
        if unknown:
            raise ValueError(f"tools.yaml: {name}.{part} uses undeclared variable(s) "
                             f"{', '.join(sorted(unknown))}")
    handshake = body["handshake"]
    return ToolDef(name, body["hosted_by"], declared, handshake=handshake if isinstance(handshake, str)
                   else frozen_map(handshake), timeout=int(body["timeout"]), **parsed)


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
        check_dask_queue(cluster, queue)
    scope = _Scope(project, subproject or None, stage or None, substage or None)
    local = is_local_frontend(cluster, frontend, local_cluster)
    interface = _interface(cluster, frontend, svc, local)
    values = _inputs(tool, cluster, frontend, svc, mode, scope, queue, local, interface)
    return LaunchSpec(**_rendered(tool, values), **_placement(cluster, frontend, local),
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


def check_dask_queue(cluster: Cluster, queue: Queue) -> None:
    if cluster.type not in CLUSTER_STRINGS:
        raise ConfigError(f"cluster '{cluster.name}' has no type; a daskserver needs one",
                          cluster.span, one_of(CLUSTER_STRINGS))
    if cluster.type == "local":
        return
    needed = ("walltime", "memory") if queue.get("exclusive") else ("cores", "walltime", "memory")
    missing = [f for f in needed if queue.get(f) is None]
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
        "cluster_string": CLUSTER_STRINGS.get(cluster.type),
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
    for name in REQUIRED_DIRS:
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


def dask_parameters(cluster: Cluster, queue: Queue, node: str | None, record: bool,
                    pure: bool) -> dict[str, Any]:
    """COMPAT.md section 5: the queue's fields as the dask wrapper reads them."""
    params = {f.replace("_", "-") if f in DASK_CONFIG_NAMES else f: plain(queue.get(f))
              for f in QUEUE_PARAMETERS}
    params["memory_per_core_property_name"] = (queue.get("memory_per_core_property_name")
                                               or cluster.memory_per_core_property_name)
    if params["cores"] is None and cluster.type == "local":
        params["cores"] = cluster.workers
    params["job_extra_directives"] = _directives(cluster, queue, node)
    if cluster.type == "oar" and queue.get("exclusive"):
        params["resource_spec"] = "/nodes=1"
    if cluster.type == "oar":
        _join_oar_properties(params)
    params["record"] = bool(record)
    if pure:
        params["pure_dask"] = True
        params["worker_threads"] = params["worker_threads"] or 2
        if params["maximum_jobs"] is None and cluster.type == "local":
            params["maximum_jobs"] = cluster.workers
    return {k: v for k, v in params.items() if v is not None}


def _join_oar_properties(params: dict[str, Any]) -> None:
    """OAR reads a single ``-p`` property condition (SQL). dask-jobqueue 0.9
    submits the ``#OAR`` lines through ``shlex.split`` and joins a ``-p``
    directive with its memory condition inside single quotes, which breaks
    the quotes around a node name: real oarsub then refuses the job. So
    the node pin is written double-quoted, when both apply the joined
    condition is written here, and the memory property is marked not
    applicable, for every consumer of these parameters (our wrapper and
    seamless-dask). An exclusive job gets whole nodes: a memory condition
    per core (dask-jobqueue divides by one core there) asks for far more
    than any core has, so it is dropped too (checked on real OAR)."""
    import math

    from .model.queues import memory_bytes

    prop = params.get("memory_per_core_property_name")
    directives = params.get("job_extra_directives") or []
    pins = [d for d in directives if d.startswith(_OAR_PIN)]
    applies = prop not in (None, "not_applicable")
    if applies and params.get("exclusive"):
        params["memory_per_core_property_name"] = "not_applicable"
        applies = False
    if not pins:
        return
    condition = pins[-1][len("-p "):]
    if applies and params.get("cores") and params.get("memory"):
        per_core = math.ceil(memory_bytes(params["memory"]) / (params["cores"] * 2**20))  # MiB
        condition += f" AND {prop}>={per_core}"
        params["memory_per_core_property_name"] = "not_applicable"
    params["job_extra_directives"] = [d for d in directives if not d.startswith(_OAR_PIN)] + [
        f'-p "{condition}"']


_OAR_PIN = "-p host="  # how _directives pins an OAR job to a node, until joined


def _directives(cluster: Cluster, queue: Queue, node: str | None) -> list[str] | None:
    """The queue's job_extra_directives plus node pinning and exclusivity."""
    directives = list(queue.get("job_extra_directives") or ())
    if node is not None:
        problem = node_problem(node)
        if problem:
            raise ConfigError(problem)
        if cluster.type == "slurm":
            directives.append("--nodelist=" + node)
        elif cluster.type == "oar":
            directives.append("-p host='" + node + "'")
    if cluster.type == "slurm" and queue.get("exclusive") and "--exclusive" not in directives:
        directives.append("--exclusive")
    return directives or None


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
    from .select import get_record

    current, clus = _current("jobserver", cluster, project, subproject, stage, substage)
    params = {**collect_remote_clients(clus.name), "record": get_record()}
    return service_spec("jobserver", cluster=clus,
                        frontend=_named_frontend(clus, "jobserver", frontend_name), mode="rw",
                        queue=None, local_cluster=_local_cluster(), file_parameters=params,
                        **current).to_dict()


def configure_daskserver(*, cluster=None, project=None, subproject=None, stage=None,
                         substage=None, frontend_name=None):
    from .select import get_node, get_record

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
    from .session import default_session
    from .select import get_node, get_record, get_selected_cluster

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
    from .session import default_session
    from .select import get_current

    cluster, project, subproject, stage, substage = get_current(
        cluster, project, subproject, stage, substage)
    scope = {"project": project, "subproject": subproject or None, "stage": stage or None,
             "substage": (substage or None) if service in JOB_SERVICES else None}
    return scope, default_session().cluster(cluster)


def _local_cluster() -> str | None:
    from .session import default_session

    return default_session().context().local_cluster


def _selected_queue(cluster: Cluster) -> Queue | None:
    """The queue selected for ``cluster`` (else None: its default_queue)."""
    from .select import get_queue

    name = get_queue(cluster.name)
    return cluster.queues.get(name) if name is not None else None


def _named_queue(cluster: Cluster, name: str) -> Queue:
    if name not in cluster.queues:
        from .evaluation.evaluator import queue_problem

        raise ConfigError(*queue_problem(cluster, name, None))
    return cluster.queues[name]


def _named_frontend(cluster: Cluster, kind: str, name: str | None) -> Frontend | None:
    if name is None:
        return None
    for fe in cluster.frontends:
        if fe.name == name and kind in fe.services:
            return fe
    raise ConfigError(f"no frontend of cluster '{cluster.name}' named '{name}' offers a {kind}",
                      cluster.span)

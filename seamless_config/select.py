"""Compatibility: the previous package's ``seamless_config.select`` API.

Other Seamless packages call these by name, with the previous package's
signatures and meanings. ``select_*`` records a selection in the default
session; it survives reloads and wins over the files, except one made
with ``source="command"``, which the next load replaces (the previous
package's files were such calls). ``get_*`` read the current context,
evaluated again after a selection changed; before anything was loaded,
from the selections alone. Getters never raise for a mistake in the
files that nothing has used yet.
"""

from __future__ import annotations

from .api import (get_nparallel as _get_nparallel, set_nparallel, set_stage,
                  set_workdir as _set_workdir)
from .core.names import name_problem, node_problem
from .errors import ConfigError, ConfigurationError
from .session import default_session

PROJECT_TOPLEVEL = "__TOPLEVEL__"
EXECUTION_MODES = ("process", "spawn", "remote")
REMOTE_TARGETS = (None, "daskserver", "jobserver")
_SOURCES = ("manual", "command")


def _context():
    return default_session().context()


def _get(name: str, default=None):
    return _context().value(name, default)


def _invalid(message: str) -> ConfigurationError:
    """A refused value: a ValueError, as the previous package raised."""
    return ConfigError(message)


def _check_source(source: str) -> None:
    if source not in _SOURCES:
        raise _invalid(f"source must be one of {', '.join(_SOURCES)}, not {source!r}")


def _check_name(value, what: str, allow_slash: bool = False) -> None:
    if not isinstance(value, str):
        raise _invalid(f"{what} must be a string, not {value!r}")
    problem = name_problem(value, what, allow_slash)
    if problem:
        raise _invalid(problem)


def select_cluster(cluster) -> None:
    """Select a cluster by name (None deselects). Its definition is looked
    up when it is used, as before."""
    if cluster is not None:
        _check_name(cluster, "cluster")
    default_session().select("cluster", cluster)


def select_project(project) -> None:
    _check_name(project, "project")
    default_session().select("project", project)


def select_subproject(subproject) -> None:
    if subproject is not None:
        _check_name(subproject, "subproject", allow_slash=True)
    default_session().select("subproject", subproject)


def select_stage(stage) -> None:
    """Set the stage for the next ``load_config_files()`` (activates nothing)."""
    if stage is not None:
        _check_name(stage, "stage")
    session = default_session()
    session.set_stage(stage, session.substage if stage == session.stage else None)


def select_substage(substage) -> None:
    if substage is not None:
        _check_name(substage, "substage")
    session = default_session()
    session.set_stage(session.stage, substage)


def select_execution(execution: str, *, source: str = "manual") -> None:
    _check_source(source)
    if execution not in EXECUTION_MODES:
        raise _invalid(f"execution must be one of: {', '.join(EXECUTION_MODES)}; "
                       f"not {execution!r}")
    default_session().select("execution", execution, source)


def select_persistent(persistent: bool, *, source: str = "manual") -> None:
    _check_source(source)
    if not isinstance(persistent, bool):
        raise _invalid(f"persistent must be True or False, not {persistent!r}")
    default_session().select("persistent", persistent, source)


def select_record(record: bool, *, source: str = "manual") -> None:
    _check_source(source)
    if not isinstance(record, bool):
        raise _invalid(f"record must be True or False, not {record!r}")
    default_session().select("record", record, source)


def select_queue(queue: str, *, source: str = "manual") -> None:
    """Select a queue of the selected cluster; refused at once when there is
    no such cluster or queue (as before)."""
    _check_source(source)
    if not isinstance(queue, str):
        raise _invalid(f"queue must be a string, not {queue!r}")
    cluster_name = get_selected_cluster()
    if cluster_name is None:
        raise _invalid(f"queue '{queue}' needs a cluster: call select_cluster() first")
    from .evaluation.evaluator import queue_problem

    cluster = default_session().cluster(cluster_name)
    if queue not in cluster.queues:
        raise ConfigError(*queue_problem(cluster, queue, None))
    default_session().select("queue", queue, source)


def select_remote(remote, *, source: str = "manual") -> None:
    _check_source(source)
    if remote not in REMOTE_TARGETS:
        raise _invalid("remote must be one of: None, daskserver, jobserver; "
                       f"not {remote!r}")
    default_session().select("remote", remote, source)


def select_node(node, *, source: str = "manual") -> None:
    _check_source(source)
    if node is not None:
        if not isinstance(node, str) or not node.strip():
            raise _invalid(f"node must be a non-empty string or None, not {node!r}")
        problem = node_problem(node)
        if problem:
            raise _invalid(problem)
    default_session().select("node", node, source)


def select_nparallel(nparallel: int) -> None:
    set_nparallel(nparallel)


def _reset_before_load(name: str) -> None:
    default_session().forget(name, "command")


def reset_execution_before_load() -> None:
    """Drop ``select_execution(..., source="command")`` (the next load sets it)."""
    _reset_before_load("execution")


def reset_queue_before_load() -> None:
    _reset_before_load("queue")


def reset_remote_before_load() -> None:
    _reset_before_load("remote")


def reset_persistent_before_load() -> None:
    _reset_before_load("persistent")


def reset_record_before_load() -> None:
    _reset_before_load("record")


def reset_node_before_load() -> None:
    _reset_before_load("node")


def get_stage():
    return default_session().stage


def get_substage():
    return default_session().substage


def get_selected_project() -> str | None:
    return _get("project")


def get_selected_cluster() -> str | None:
    return _get("cluster")


def get_execution() -> str:
    return _get("execution", "process")


def _origin_kind(name: str) -> str | None:
    setting = _context().settings.get(name)
    return None if setting is None else setting.origin.kind


def execution_was_set_explicitly() -> bool:
    return _origin_kind("execution") in ("command", "manual", "environment")


def execution_command_seen() -> bool:
    return _origin_kind("execution") == "command"


def persistent_was_set_explicitly() -> bool:
    return _origin_kind("persistent") in ("command", "manual", "environment")


def get_persistent(cluster: str | None = None) -> bool:
    """Persistence as set; by default, whether a cluster (``cluster``, else
    the selected one) is there to persist in."""
    if cluster is not None and not persistent_was_set_explicitly():
        return True
    return bool(_get("persistent", False))


def get_record() -> bool:
    return bool(_get("record", False))


def get_queue(cluster: str | None = None) -> str | None:
    """The queue selected explicitly (a command or ``select_queue``) for
    ``cluster`` (default: the selected one); None when none was, even if
    the cluster has a default_queue (``explain`` shows the effective one)."""
    ctx = _context()
    setting = ctx.settings.get("queue")
    if setting is None or setting.value is None or setting.origin.kind == "default":
        return None
    if ctx.cluster is None or ctx.cluster.name != (cluster or ctx.cluster.name):
        return None
    return setting.value if setting.value in ctx.cluster.queues else None


def get_remote() -> str | None:
    """The pinned remote backend (None when the cluster's only one is used)."""
    setting = _context().settings.get("remote")
    if setting is None or setting.origin.kind == "default":
        return None
    return setting.value


def get_node() -> str | None:
    return _get("node")


def get_nparallel() -> int:
    return _get_nparallel()


def check_remote_redundancy(cluster: str | None = None) -> str | None:
    """The remote backend for ``cluster`` (default: the selected one): the
    pinned one, else the only one its frontends offer; raises when it offers
    both and none is pinned."""
    pinned = get_remote()
    if pinned is not None:
        return pinned
    name = cluster or get_selected_cluster()
    if name is None:
        return None
    clus = default_session().cluster(name)
    offered = clus.offered_backends()
    if len(offered) == 2:
        raise ConfigError(f"cluster '{name}' (defined in {clus.span}) offers both a jobserver "
                          "and a daskserver", None,
                          "pin one with '- remote: jobserver' or '- remote: daskserver' in "
                          "seamless.profile.yaml")
    return offered[0] if offered else None


_KEEP = object()


def change_stage(stage=_KEEP, substage=_KEEP) -> None:
    """Make the configuration effective for ``stage``/``substage``; without
    arguments, for the ones already selected (``select_stage``), as the
    Seamless command-line tools call it after ``load_config_files()``."""
    session = default_session()
    stage = session.stage if stage is _KEEP else stage
    substage = (session.substage if stage == session.stage else None) if substage is _KEEP \
        else substage
    set_stage(stage, substage, workdir=session.workdir or session.loaded_workdir)


def set_workdir(workdir) -> None:
    _set_workdir(workdir)


def get_current(cluster=None, project=None, subproject=None, stage=None, substage=None):
    """``(cluster, project, subproject, stage, substage)``, each argument
    (when not None) overriding the current value; raises when no cluster or
    project is known."""
    session = default_session()
    if cluster is None:
        cluster = get_selected_cluster()
        if cluster is None:
            raise ConfigurationError("no cluster is selected (seamless_config.init() not "
                                     "called, or no 'cluster' command)")
    if project is None:
        project = get_selected_project()
        if project is None:
            raise ConfigurationError("no project is selected: add '- project: NAME'")
    subproject = subproject if subproject is not None else _get("subproject")
    stage = stage if stage is not None else session.stage
    substage = substage if substage is not None else session.substage
    return cluster, project, subproject, stage, substage

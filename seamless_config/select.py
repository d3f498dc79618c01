"""Compatibility: the previous package's ``seamless_config.select`` API.

Other Seamless packages call these by name. ``select_*`` records a manual
selection in the default session (it survives reloads and wins over the
files); ``get_*`` reads the current context, or the manual selections when
nothing was evaluated yet.
"""

from __future__ import annotations

from .errors import ConfigurationError
from .session import default_session

_EXECUTION = ("process", "spawn", "remote")
_REMOTE = (None, "jobserver", "daskserver")


def _get(name: str, default=None):
    session = default_session()
    ctx = session.peek()
    if ctx is not None:
        return ctx.value(name, default)
    return session.manual_value(name, default)


def _check(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(map(str, allowed))}, "
                                 f"not {value!r}")


def _check_name(value, what: str, allow_slash: bool = False) -> None:
    from .names import name_problem

    if not isinstance(value, str):
        raise ConfigurationError(f"{what} must be a string, not {value!r}")
    problem = name_problem(value, what, allow_slash)
    if problem:
        raise ConfigurationError(problem)


def select_cluster(cluster: str) -> None:
    _check_name(cluster, "cluster")
    default_session().select("cluster", cluster)


def select_project(project: str) -> None:
    _check_name(project, "project")
    default_session().select("project", project)


def select_subproject(subproject: str | None) -> None:
    if subproject is not None:
        _check_name(subproject, "subproject", allow_slash=True)
    default_session().select("subproject", subproject)


def select_stage(stage: str | None) -> None:
    """Set the stage for the next ``load_config_files()`` (activates nothing)."""
    if stage is not None:
        _check_name(stage, "stage")
    session = default_session()
    session.set_stage(stage, session.substage if stage == session.stage else None)


def select_substage(substage: str | None) -> None:
    if substage is not None:
        _check_name(substage, "substage")
    session = default_session()
    session.set_stage(session.stage, substage)


def select_execution(execution: str) -> None:
    _check("execution", execution, _EXECUTION)
    default_session().select("execution", execution)


def select_persistent(persistent: bool) -> None:
    _check("persistent", persistent, (True, False))
    default_session().select("persistent", persistent)


def select_record(record: bool) -> None:
    _check("record", record, (True, False))
    default_session().select("record", record)


def select_queue(queue: str | None) -> None:
    if queue is not None:
        _check_name(queue, "queue")
    default_session().select("queue", queue)


def select_remote(remote: str | None) -> None:
    _check("remote", remote, _REMOTE)
    default_session().select("remote", remote)


def select_node(node: str | None) -> None:
    if node is not None and not isinstance(node, str):
        raise ConfigurationError(f"node must be a string or None, not {node!r}")
    default_session().select("node", node)


def select_nparallel(nparallel: int) -> None:
    from .api import set_nparallel

    set_nparallel(nparallel)


def get_stage() -> str | None:
    return default_session().stage


def get_substage() -> str | None:
    return default_session().substage


def get_selected_project() -> str | None:
    return _get("project")


def get_selected_cluster() -> str | None:
    return _get("cluster")


def get_execution() -> str:
    return _get("execution", "process")


def _origin_kind(name: str) -> str | None:
    ctx = default_session().peek()
    if ctx is not None and name in ctx.settings:
        return ctx.settings[name].origin.kind
    return "manual" if name in default_session().manual else None


def execution_was_set_explicitly() -> bool:
    return _origin_kind("execution") in ("command", "manual", "environment")


def execution_command_seen() -> bool:
    return _origin_kind("execution") == "command"


def persistent_was_set_explicitly() -> bool:
    return _origin_kind("persistent") in ("command", "manual", "environment")


def get_persistent() -> bool:
    return bool(_get("persistent", False))


def get_record() -> bool:
    return bool(_get("record", False))


def get_queue() -> str | None:
    return _get("queue")


def get_remote() -> str | None:
    return _get("remote")


def get_node() -> str | None:
    return _get("node")


def get_nparallel() -> int:
    from .api import get_nparallel as _get_nparallel

    return _get_nparallel()


def check_remote_redundancy(cluster: str | None = None) -> str | None:
    """The remote backend for ``cluster`` (default: the selected one): the
    pinned one, else the only one its frontends offer; raises when it offers
    both and none is pinned (evaluation refuses that too)."""
    from .cluster import get_cluster

    name = cluster or get_selected_cluster()
    if name is None:
        return None
    offered = get_cluster(name).offered_backends()
    pinned = get_remote()
    if pinned is not None:
        return pinned
    if len(offered) == 2:
        raise ConfigurationError(f"cluster '{name}' offers both a jobserver and a daskserver; "
                                 "pin one with 'remote: jobserver' or 'remote: daskserver'")
    return offered[0] if offered else None


_KEEP = object()


def change_stage(stage=_KEEP, substage=_KEEP) -> None:
    """Make the configuration effective for ``stage``/``substage``; without
    arguments, for the ones already selected (``select_stage``), as the
    Seamless command-line tools call it after ``load_config_files()``."""
    from .api import set_stage

    session = default_session()
    stage = session.stage if stage is _KEEP else stage
    substage = (session.substage if stage == session.stage else None) if substage is _KEEP \
        else substage
    set_stage(stage, substage, workdir=session.workdir or session.loaded_workdir)


def set_workdir(workdir: str) -> None:
    from .api import set_workdir as _set_workdir

    _set_workdir(workdir)


def get_current(cluster=None, project=None, subproject=None, stage=None, substage=None):
    """``(cluster, project, subproject, stage, substage)``, each argument
    overriding the current value; raises when no cluster or project is known."""
    session = default_session()
    cluster = cluster or get_selected_cluster()
    if cluster is None:
        raise ConfigurationError("no cluster is selected (seamless_config.init() not called, "
                                 "or no 'cluster' command)")
    project = project or get_selected_project()
    if project is None:
        raise ConfigurationError("no project is selected: add '- project: NAME'")
    subproject = subproject if subproject is not None else _get("subproject")
    stage = stage if stage is not None else session.stage
    substage = substage if substage is not None else session.substage
    return cluster, project, subproject, stage, substage

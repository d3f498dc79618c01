"""The Python API users call: init, set_stage, set_substage, set_workdir...

Thin functions over the default session. Evaluation is pure; launching and
client activation happen in ``effects`` and only when ``launch`` is true.
"""

from __future__ import annotations

import os
import sys
import warnings

from .core.names import check_name
from .core.paths import seamless_cache_dir
from .errors import ConfigurationError, SeamlessConfigWarning
from .session import default_session


def _caller_dir(depth: int) -> str:
    """Directory of the script that called the API (cwd when interactive)."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return os.getcwd()
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
            ("seamless_config", "seamless.config")):
        frame = frame.f_back
    path = frame.f_globals.get("__file__") if frame is not None else None
    if not path or path.startswith("<"):
        return os.getcwd()
    return os.path.dirname(os.path.abspath(path))


def _workdir(explicit: str | None, depth: int) -> str:
    session = default_session()
    return os.path.abspath(explicit or session.workdir or _caller_dir(depth + 1))


def _emit_warnings(ctx) -> None:
    for w in ctx.warnings:
        warnings.warn(str(w), SeamlessConfigWarning, stacklevel=4)


def _configure(workdir: str, launch: bool):
    """Load, then make effective: raise what blocks an init, and what
    blocks a service it is about to launch."""
    session = default_session()
    ctx = session.load(workdir)
    _emit_warnings(ctx)
    if launch:
        if ctx.stage is not None:
            _warn_unknown_stage(ctx)
        from .launch.activation import activate

        # Each server answers as itself; writing to it is left to the
        # first use, where the runtime's own requests show whether it works.
        session.activation = activate(ctx, session, verify=False)
    session.initialized = True
    return ctx


def _warn_unknown_stage(ctx) -> None:
    """A stage no file names and without storage is most likely a typo:
    say so before its new, empty storage starts (seamless-init refuses it)."""
    from .launch.stage_check import unknown_stage

    problem = unknown_stage(ctx)
    if problem:
        warnings.warn(f"{problem}; starting it with new, empty storage",
                      SeamlessConfigWarning, stacklevel=4)


def _in_seamless_worker() -> bool:
    """Inside a Seamless worker process the parent's configuration is
    handed down (set_remote_clients); reading files again would be wrong."""
    seamless = sys.modules.get("seamless")
    is_worker = getattr(seamless, "is_worker", None)
    try:
        return bool(is_worker()) if callable(is_worker) else False
    except Exception:  # a runtime too old or too new to say: assume not
        return False


_UNSET = object()  # "not given": None has a meaning of its own for workdir


def init(workdir=_UNSET, *, launch: bool = True):
    """Read the configuration and make it effective; a no-op when already
    initialised, or inside a Seamless worker. ``workdir`` defaults to the
    calling script's directory."""
    session = default_session()
    if session.initialized or _in_seamless_worker():
        return session.peek()
    if session.remote_clients is not None:
        from .extern_clients import activate_given_clients

        activate_given_clients(session)
        session.initialized = True
        return None
    return _configure(_workdir(None if workdir is _UNSET else workdir, 1), launch)


def set_stage(stage: str | None = None, substage: str | None = None, *,
              workdir=_UNSET, launch: bool = True):
    """Re-read every file with ``stage NAME`` blocks active; deactivates the
    clients of the previous stage first."""
    session = default_session()
    _refuse_after_remote_clients(session, "the stage")
    for value, what in ((stage, "stage"), (substage, "substage")):
        if value is not None:
            check_name(value, None, what)
    if substage is not None and stage is None:
        raise ConfigurationError("a substage needs a stage: set_stage(STAGE, SUBSTAGE)")
    _deactivate(session)
    session.set_stage(stage, substage)
    return _configure(_workdir(None if workdir is _UNSET else workdir, 1), launch)


def set_substage(substage: str | None = None, *, launch: bool = True):
    """Change the substage, keeping the stage."""
    session = default_session()
    return set_stage(session.stage, substage, workdir=session.loaded_workdir, launch=launch)


def set_workdir(workdir=_UNSET) -> None:
    """Use ``workdir`` for config file lookup from now on; without an
    argument, the calling script's directory; None: decide per call again."""
    session = default_session()
    _refuse_after_remote_clients(session, "the work directory")
    if workdir is _UNSET:
        workdir = _caller_dir(1)
    session.workdir = None if workdir is None else os.path.abspath(os.fspath(workdir))
    session._context = None


def get_workdir() -> str:
    """The work directory configuration files are read from."""
    session = default_session()
    return session.workdir or session.loaded_workdir or os.getcwd()


def _refuse_after_remote_clients(session, what: str) -> None:
    """Clients handed down by a server fix where this process stores: the
    files must not change that (the previous package refused it too)."""
    if session.remote_clients is not None:
        raise ConfigurationError(f"remote clients were set (set_remote_clients): {what} "
                                 "cannot be changed in this process")


def set_nparallel(nparallel: int) -> None:
    if not isinstance(nparallel, int) or isinstance(nparallel, bool) or nparallel < 1:
        raise ConfigurationError(f"nparallel must be a positive integer, not {nparallel!r}")
    default_session().select("nparallel", nparallel)


def get_nparallel() -> int:
    """The nparallel setting; raises when neither a command nor
    ``set_nparallel`` set it."""
    value = default_session().context().value("nparallel")
    if value is None:
        raise ConfigurationError("nparallel is not set: add '- nparallel: N' "
                                 "or call set_nparallel(N)")
    return value


def get_seamless_cache() -> str | None:
    """The ``SEAMLESS_CACHE`` directory (absolute, ``~`` expanded) when that
    mode is on, else None."""
    return seamless_cache_dir()


def get_context():
    """The resolved Context (evaluating the files of the calling script's
    directory, or of ``set_workdir``, if nothing was evaluated yet)."""
    session = default_session()
    if session.loaded_workdir is None:
        return session.load(_workdir(None, 1))
    return session.context()


def _deactivate(session) -> None:
    """Take the previous stage's clients out of the Seamless runtime; the
    servers keep running for reuse."""
    if session.activation is not None:
        session.activation.deactivate()
        session.activation = None
    session.initialized = False

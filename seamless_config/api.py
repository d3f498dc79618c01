"""The Python API users call: init, set_stage, set_substage, set_workdir...

Thin functions over the default session. Evaluation is pure; launching and
client activation happen in ``effects`` and only when ``launch`` is true.
"""

from __future__ import annotations

import os
import sys
import warnings

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
    session = default_session()
    ctx = session.load(workdir)
    _emit_warnings(ctx)
    if launch:
        from .effects import activate

        session.activation = activate(ctx, session)
    session.initialized = True
    return ctx


def _in_seamless_worker() -> bool:
    """Inside a Seamless worker process the parent's configuration is
    handed down (set_remote_clients); reading files again would be wrong."""
    seamless = sys.modules.get("seamless")
    is_worker = getattr(seamless, "is_worker", None)
    try:
        return bool(is_worker()) if callable(is_worker) else False
    except Exception:  # a runtime too old or too new to say: assume not
        return False


def init(workdir: str | None = None, *, launch: bool = True):
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
    return _configure(_workdir(workdir, 1), launch)


def set_stage(stage: str | None = None, substage: str | None = None, *,
              workdir: str | None = None, launch: bool = True):
    """Re-read every file with ``stage NAME`` blocks active; deactivates the
    clients of the previous stage first."""
    from .names import check_name

    for value, what in ((stage, "stage"), (substage, "substage")):
        if value is not None:
            check_name(value, None, what)
    if substage is not None and stage is None:
        raise ConfigurationError("a substage needs a stage: set_stage(STAGE, SUBSTAGE)")
    session = default_session()
    _deactivate(session)
    session.set_stage(stage, substage)
    return _configure(_workdir(workdir, 1), launch)


def set_substage(substage: str | None, *, launch: bool = True):
    """Change the substage, keeping the stage."""
    session = default_session()
    return set_stage(session.stage, substage, workdir=session.loaded_workdir, launch=launch)


def set_workdir(workdir: str) -> None:
    """Use ``workdir`` for config file lookup from now on."""
    session = default_session()
    session.workdir = os.path.abspath(workdir)
    session._context = None


def set_nparallel(nparallel: int) -> None:
    if not isinstance(nparallel, int) or isinstance(nparallel, bool) or nparallel < 1:
        raise ConfigurationError(f"nparallel must be a positive integer, not {nparallel!r}")
    default_session().select("nparallel", nparallel)


def get_nparallel() -> int:
    """The nparallel setting; raises when neither a command nor
    ``set_nparallel`` set it."""
    session = default_session()
    ctx = session.peek()
    value = ctx.value("nparallel") if ctx is not None else session.manual_value("nparallel")
    if value is None:
        raise ConfigurationError("nparallel is not set: add '- nparallel: N' "
                                 "or call set_nparallel(N)")
    return value


def get_seamless_cache() -> str | None:
    """The ``SEAMLESS_CACHE`` directory when that mode is on, else None."""
    return os.environ.get("SEAMLESS_CACHE") or None


def get_context():
    """The resolved Context (evaluating the files of the calling script's
    directory, or of ``set_workdir``, if nothing was evaluated yet)."""
    session = default_session()
    if session.peek() is None:
        return session.load(_workdir(None, 1))
    return session.context()


def _deactivate(session) -> None:
    """Take the previous stage's clients (or handed-down ones) out of the
    Seamless runtime; the servers keep running for reuse."""
    if session.activation is not None:
        session.activation.deactivate()
        session.activation = None
    session.remote_clients, session.in_remote = None, False  # the files rule from now on
    session.initialized = False

"""Whether the server a state file records can be reused, for one launch
(spec) on one host (``hosts.py``); and the clean-up when it cannot.

A server is reused only when its state says ``running``, its pid is that
server (its command line names the program and the key's status file, see
proc.py), its port answers as that service (health.py), and it was started
with the work directory, command and parameters this launch would use;
anything else (dead or recycled pid, ``failed``/``stale``, running but
silent, started differently, corrupt file) is cleaned up with a warning.
Only an identified process is ever signalled. Before a launch, a server of
the key that no state file accounts for is named instead of starting a
twin on the same storage.
"""

from __future__ import annotations

import logging
import os
import shlex
import time
import warnings
from typing import Any

from ..errors import SeamlessConfigWarning, ServiceError
from . import proc, state
from .hosts import Host, is_port
from ..plan.spec import LaunchSpec

logger = logging.getLogger("seamless_config")

ANSWER_TRIES = 3  # hashserver says 'running' a moment before it listens


def identity_of(spec: LaunchSpec, host: Host) -> proc.Identity:
    """What the server process of ``spec`` on ``host`` holds in its command
    line; the program is unknown to ``reuse_local``, which has no argv."""
    return proc.Identity(os.path.basename(spec.argv[0]) if spec.argv else None,
                         host.state_path(spec.key))


def is_server(spec: LaunchSpec, host: Host, pid: Any) -> bool:
    return host.runs(pid, identity_of(spec, host))


def answers_once(spec: LaunchSpec, host: Host, record: dict[str, Any]) -> bool:
    return host.answers(record, spec.service, spec.health_path, spec.health_port_name)


def _shown(value: Any) -> str:
    """A value read from a state file, as it can appear in a message: a
    printable string as it is, anything else as Python writes it; cut short."""
    printable = isinstance(value, str) and value.isprintable() and value.strip() == value
    text = value if printable else str(value) if proc.valid_pid(value) else repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


def usable(spec: LaunchSpec, host: Host, record: dict[str, Any] | None,
           deadline_at: float) -> dict[str, Any] | None:
    """The record of a healthy server to reuse, or None after cleaning up."""
    if record is None:
        return None
    pid = record.get("pid")
    if record.get("status") == state.STARTING and is_server(spec, host, pid):
        # Another launcher without our lock (remote-http-launcher) is starting it.
        record = _wait_foreign_start(spec, host, record, pid, deadline_at)
    if record.get("status") == state.RUNNING and is_port(record.get("port")) and \
            is_server(spec, host, pid) and _answers(spec, host, record):
        differs = _started_differently(spec, host, record)
        if differs is None:
            return record
        # e.g. a jobserver still pointing at a hashserver that moved, or a
        # server of the same key on other storage: reusing it would send
        # results to storage that is gone, or mix two projects' data
        warnings.warn(f"{spec.service} '{spec.key}' on {host.name}: {differs} (pid {pid}); "
                      "restarting it", SeamlessConfigWarning, stacklevel=4)
        host.kill(pid)
        host.remove(spec.key)
        return None
    _discard(spec, host, record)
    return None


def _started_differently(spec: LaunchSpec, host: Host, record: dict[str, Any]) -> str | None:
    """Why the running server of ``record`` is not the one ``spec`` would
    start, or None. ``reuse_local`` (no argv) has no opinion."""
    if not spec.argv:
        return None
    if spec.file_parameters is not None and \
            record.get("parameters") != dict(spec.file_parameters):
        return "it was started with other parameters"
    if record.get("workdir") != spec.workdir:
        return (f"it works in {_shown(record.get('workdir'))}, but this launch needs "
                f"{spec.workdir}")
    # without the conda wrapper, which state records may or may not show
    expected = spec.argv_for(host.state_path(spec.key))
    if not proc.same_command(record.get("command"), expected, host.home):
        return (f"it was started as {_shown(record.get('command'))}, but this launch runs "
                f"{shlex.join(expected)!r}")
    return None


def _wait_foreign_start(spec: LaunchSpec, host: Host, record: dict[str, Any], pid: Any,
                        deadline_at: float) -> dict[str, Any]:
    limit = time.monotonic() + max(0.0, deadline_at - time.monotonic()) / 2
    while record.get("status") == state.STARTING and time.monotonic() < limit \
            and is_server(spec, host, pid):
        time.sleep(0.1)
        record = host.read(spec.key) or {}
    return record


def _answers(spec: LaunchSpec, host: Host, record: dict[str, Any]) -> bool:
    for attempt in range(ANSWER_TRIES):
        if answers_once(spec, host, record):
            return True
        if attempt + 1 < ANSWER_TRIES:
            time.sleep(0.3)
    return False


def _discard(spec: LaunchSpec, host: Host, record: dict[str, Any]) -> None:
    status, pid = record.get("status"), record.get("pid")
    if status in (state.RUNNING, state.STARTING) and is_server(spec, host, pid):
        reason = (f"pid {pid} is {status} but does not answer as a {spec.service} on port "
                  f"{_shown(record.get(spec.health_port_name))}; killed it")
        host.kill(pid)
    elif status in (state.RUNNING, state.STARTING) and host.alive(pid):
        # a recycled pid, or a record naming some other process: never signalled
        reason = f"its pid {pid} now runs another program, which was left alone"
    elif status in (state.RUNNING, state.STARTING):
        reason = f"its process (pid {_shown(pid)}) is gone"
    elif status == state.STALE:
        # a normal stop (idle timeout, 'services stop'): nothing to warn about
        logger.info("%s '%s' on %s was stopped; relaunching", spec.service, spec.key, host.name)
        host.remove(spec.key)
        return
    else:
        shown = _shown(status)
        reason = f"its last launch left status {shown if shown != status else repr(status)}"
    warnings.warn(f"{spec.service} '{spec.key}' on {host.name}: {reason}; relaunching",
                  SeamlessConfigWarning, stacklevel=5)
    host.remove(spec.key)


def refuse_twins(spec: LaunchSpec, host: Host) -> None:
    """A server of this key that no state file accounts for (its record was
    lost, truncated or rewritten) still runs on the key's storage: name it
    rather than start a second one beside it."""
    twins = host.twins(identity_of(spec, host))
    if not twins:
        return
    listing = "; ".join(f"pid {pid}: {command}" for pid, command in twins[:3])
    raise ServiceError(
        f"{spec.service} '{spec.key}' on {host.name}: a server for this key is running but its "
        f"state file does not record it ({listing}); not starting a second one on the same "
        f"storage. Stop it (kill {' '.join(str(pid) for pid, _ in twins[:3])}) and run again",
        service=spec.service, host=host.name)

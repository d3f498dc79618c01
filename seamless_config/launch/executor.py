"""The effect executor: make the server of a ``LaunchSpec`` run, once.

``ensure_service`` holds the per-key lock while it decides: a server is
reused only when its state says ``running``, its pid is that server (its
command line names the program and the key's status file, see proc.py),
its port answers as that service (health.py), and it was started with the
work directory, command and parameters this launch would use; anything
else (dead or recycled pid, ``failed``/``stale``, running but silent,
started differently, corrupt file) is cleaned up with a warning and the
server is launched again under a deadline. Only an identified process is
ever signalled. Before a launch, a server of the key that no state file
accounts for is looked for, and named instead of starting a twin on the
same storage. Local launches are in ``local.py``, SSH ones in ``ssh.py``,
tunnels in ``tunnel.py``.
"""

from __future__ import annotations

import logging
import os
import shlex
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from ..errors import SeamlessConfigWarning, ServiceError
from . import health, proc, state
from .hosts import Host, LocalHost
from .lock import key_lock
from ..plan.spec import LaunchSpec

if TYPE_CHECKING:
    from .remote import RemoteLaunch

logger = logging.getLogger("seamless_config")

LOCK_MARGIN = 30.0  # a lock holder may use its whole deadline, then clean up
ANSWER_TRIES = 3  # hashserver says 'running' a moment before it listens


@dataclass(frozen=True)
class ServiceHandle:
    """A running server. ``url``, ``tunnel_port`` and ``dashboard_port`` are
    as this machine reaches them; ``port`` is the server's own port on its
    host. ``state`` is the server record (the client record when a remote
    server was reused without connecting to its host)."""

    service: str
    key: str
    host: str
    url: str
    port: int
    pid: int | None
    launched: bool
    seconds: float
    dashboard_port: int | None = None
    tunnel_port: int | None = None
    state: Mapping[str, Any] = field(default_factory=dict)


def identity_of(spec: LaunchSpec, host: Host) -> proc.Identity:
    """What the server process of ``spec`` on ``host`` holds in its command
    line; the program is unknown to ``reuse_local``, which has no argv."""
    return proc.Identity(os.path.basename(spec.argv[0]) if spec.argv else None,
                         host.state_path(spec.key))


def _is_server(spec: LaunchSpec, host: Host, pid: Any) -> bool:
    return host.runs(pid, identity_of(spec, host))


def _answers_once(spec: LaunchSpec, host: Host, record: dict[str, Any]) -> bool:
    return host.answers(record, spec.service, spec.health_path, spec.health_port_name)


def _is_port(port: Any) -> bool:
    return isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536


def _shown(value: Any) -> str:
    """A value read from a state file, as it can appear in a message: a
    printable string as it is, anything else as Python writes it; cut short."""
    printable = isinstance(value, str) and value.isprintable() and value.strip() == value
    text = value if printable else str(value) if proc.valid_pid(value) else repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


def ensure_service(spec: LaunchSpec, *, deadline: float = 60.0) -> ServiceHandle:
    """Reuse or launch the server of ``spec``; raise ServiceError on failure."""
    start = time.monotonic()
    try:
        with key_lock(spec.key, timeout=deadline + LOCK_MARGIN):
            deadline_at = time.monotonic() + deadline
            if spec.is_local:
                return _ensure_local(spec, start, deadline_at)
            return _ensure_remote(spec, start, deadline_at)
    except OSError as exc:
        if exc.filename is None:  # not about a local file: network errors keep their type
            raise
        raise ServiceError(_file_problem(spec, exc), service=spec.service) from None


def _file_problem(spec: LaunchSpec, exc: OSError) -> str:
    """A local file this launch needs (lock, state or log file, server
    directory) could not be made: the machine's problem, said as such."""
    from ..core.paths import launcher_dir

    return (f"{spec.service} '{spec.key}': cannot use {exc.filename}: {exc.strerror}. "
            f"Lock and state files are kept in {launcher_dir()} "
            "(set REMOTE_HTTP_LAUNCHER_DIR to use another directory).")


def ensure_parallel(specs: Iterable[LaunchSpec], *, deadline: float = 60.0,
                    on_ready: Callable[[ServiceHandle], None] | None = None) -> list[ServiceHandle]:
    """``ensure_service`` for independent services at once; after all have
    finished, raise the error, or one ServiceError listing every failure.
    ``on_ready`` is called (from a worker thread) as each one is up."""
    specs = list(specs)
    if not specs:
        return []

    def one(spec: LaunchSpec) -> ServiceHandle:
        handle = ensure_service(spec, deadline=deadline)
        if on_ready is not None:
            on_ready(handle)
        return handle
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(specs), thread_name_prefix="ensure") as pool:
        futures = [pool.submit(one, spec) for spec in specs]
    errors = [f.exception() for f in futures if f.exception() is not None]
    for exc in errors:
        if not isinstance(exc, ServiceError):
            raise exc
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ServiceError(f"{len(errors)} of {len(specs)} services failed to start:\n"
                           + "\n".join(str(e) for e in errors))
    return [f.result() for f in futures]


def reuse_local(service: str, key: str, handshake: Any) -> ServiceHandle | None:
    """A healthy server for ``key`` on this machine, found without a full
    launch spec: the warm path of seamless-init needs no templates."""
    return read_handle(LaunchSpec(service, key, (), "", "", handshake=handshake))


def read_handle(spec: LaunchSpec) -> ServiceHandle | None:
    """What serves ``spec`` now, if anything; launches and cleans nothing."""
    if spec.is_local:
        host = LocalHost()
        record = host.read(spec.key)
        if record and record.get("status") == state.RUNNING and _is_port(record.get("port")) \
                and _is_server(spec, host, record.get("pid")) and _answers_once(spec, host, record):
            return _local_handle(spec, record, launched=False, start=time.monotonic())
        return None
    client = state.read_client(spec.key)
    if _client_works(spec, client):
        return _remote_handle(spec, client, None, launched=False, start=time.monotonic())
    return None


# -- shared decision --------------------------------------------------------

def _usable(spec: LaunchSpec, host: Host, record: dict[str, Any] | None,
            deadline_at: float) -> dict[str, Any] | None:
    """The record of a healthy server to reuse, or None after cleaning up."""
    if record is None:
        return None
    pid = record.get("pid")
    if record.get("status") == state.STARTING and _is_server(spec, host, pid):
        # Another launcher without our lock (remote-http-launcher) is starting it.
        record = _wait_foreign_start(spec, host, record, pid, deadline_at)
    if record.get("status") == state.RUNNING and _is_port(record.get("port")) and \
            _is_server(spec, host, pid) and _answers(spec, host, record):
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
            and _is_server(spec, host, pid):
        time.sleep(0.1)
        record = host.read(spec.key) or {}
    return record


def _answers(spec: LaunchSpec, host: Host, record: dict[str, Any]) -> bool:
    for attempt in range(ANSWER_TRIES):
        if _answers_once(spec, host, record):
            return True
        if attempt + 1 < ANSWER_TRIES:
            time.sleep(0.3)
    return False


def _discard(spec: LaunchSpec, host: Host, record: dict[str, Any]) -> None:
    status, pid = record.get("status"), record.get("pid")
    if status in (state.RUNNING, state.STARTING) and _is_server(spec, host, pid):
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


def _refuse_twins(spec: LaunchSpec, host: Host) -> None:
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


# -- this machine ----------------------------------------------------------

def _ensure_local(spec: LaunchSpec, start: float, deadline_at: float) -> ServiceHandle:
    host = LocalHost()
    record = _usable(spec, host, host.read(spec.key), deadline_at)
    launched = record is None
    if record is None:
        from . import local

        _refuse_twins(spec, host)
        record = local.launch(spec, deadline_at)
    hostname = record.get("network_interface") or "localhost"
    state.write_client(spec.key, state.client_record(hostname, record, spec.meta))
    return _logged(_local_handle(spec, record, launched, start))


def _local_handle(spec: LaunchSpec, record: dict[str, Any], launched: bool,
                  start: float) -> ServiceHandle:
    port = record["port"]
    handle = ServiceHandle(
        service=spec.service, key=spec.key, host="localhost",
        url=health.base_url(health.connect_host(record.get("network_interface")), port),
        port=port, pid=record.get("pid"), launched=launched,
        seconds=time.monotonic() - start, dashboard_port=record.get("dashboard_port"),
        state=dict(record))
    return handle


# -- another machine -------------------------------------------------------

def _ensure_remote(spec: LaunchSpec, start: float, deadline_at: float) -> ServiceHandle:
    from . import remote, ssh, tunnel

    client = state.read_client(spec.key)
    if _client_works(spec, client):
        return _logged(_remote_handle(spec, client, None, launched=False, start=start))
    if client is not None:
        tunnel.close_tunnel(client)
        state.remove_client(spec.key)
    try:
        with remote.open_remote(spec, deadline_at) as launch, launch.launch_lock(deadline_at):
            record, launched, client = _ensure_on(spec, launch, deadline_at)
    except ssh.session_errors() as exc:
        raise ServiceError(f"{spec.service} '{spec.key}': the SSH session to "
                           f"{spec.ssh_hostname or spec.hostname} failed: "
                           f"{type(exc).__name__}: {exc}", service=spec.service,
                           host=spec.hostname) from None
    state.write_client(spec.key, client)
    return _logged(_remote_handle(spec, client, record, launched=launched, start=start))


def _ensure_on(spec: LaunchSpec, launch: RemoteLaunch, deadline_at: float):
    """(server record, launched, client record) for a server on the host of
    ``launch``."""
    host = launch.host
    record = _usable(spec, host, host.read(spec.key), deadline_at)
    launched = record is None
    if record is None:
        _refuse_twins(spec, host)
        record = launch.launch(deadline_at)
    try:
        return record, launched, _reach(spec, record, deadline_at)
    except BaseException:
        if launched:
            launch.abandon(record["pid"], record)
        raise


def _reach(spec: LaunchSpec, record: dict[str, Any], deadline_at: float) -> dict[str, Any]:
    """Client record for a server that answers on its host: via a new tunnel,
    or directly after checking that this machine reaches it."""
    from . import tunnel

    if spec.tunnel:
        return tunnel.open_tunnel(spec, record, deadline_at)
    host = health.connect_host(spec.hostname)
    port = record[spec.health_port_name]
    if not any(health.answers_as(spec.service, host, port, spec.health_path)
               for _ in range(ANSWER_TRIES)):
        from . import local

        raise local.launch_error(
            spec, spec.hostname or "?", f"answers on its host (port {port}) but not from "
            f"this machine at {health.base_url(host, port)}", command=record.get("command"),
            hint="make it listen on an interface this machine reaches (network_interface), "
                 "or set tunnel: true")
    client = state.client_record(spec.hostname, record, spec.meta)
    if spec.ssh_hostname and spec.ssh_hostname != spec.hostname:
        client["ssh_hostname"] = spec.ssh_hostname
    client["server_pid"] = record.get("pid")
    return client


def _client_works(spec: LaunchSpec, client: dict[str, Any] | None) -> bool:
    if not client or not _is_port(client.get("port")):
        return False
    if ("tunneled-port" in client) != bool(spec.tunnel):
        return False
    if "tunnel_pid" in client and not proc.pid_alive(client["tunnel_pid"]):
        return False
    port = client.get(spec.health_port_name)
    host = health.connect_host(client.get("hostname"))
    return _is_port(port) and health.answers_as(spec.service, host, port, spec.health_path)


def _remote_handle(spec: LaunchSpec, client: dict[str, Any], record: dict[str, Any] | None,
                   *, launched: bool, start: float) -> ServiceHandle:
    tunneled = "tunneled-port" in client
    local_port = client["port"]
    handle = ServiceHandle(
        service=spec.service, key=spec.key, host=spec.hostname or "localhost",
        url=health.base_url(health.connect_host(client.get("hostname")), local_port),
        port=client["tunneled-port"] if tunneled else local_port,
        pid=(record or {}).get("pid", client.get("server_pid")), launched=launched,
        seconds=time.monotonic() - start, dashboard_port=client.get("dashboard_port"),
        tunnel_port=local_port if tunneled else None, state=dict(record or client))
    return handle


def _logged(handle: ServiceHandle) -> ServiceHandle:
    logger.info("%s %s '%s' on %s at %s (pid %s) in %.2f s",
                "launched" if handle.launched else "reusing", handle.service, handle.key,
                handle.host, handle.url, handle.pid, handle.seconds)
    return handle

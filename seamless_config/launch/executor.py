"""The effect executor: make the server of a ``LaunchSpec`` run, once.

``ensure_service`` holds the per-key lock while it decides, on the host of
the spec (``hosts.py``: this machine or an SSH frontend), whether the
recorded server can be reused (``reuse.py``); if not, the server is
launched again under a deadline: here by ``local.py``, on a frontend by
``remote.py``, and reached from here directly or through a tunnel
(``tunnel.py``). The client record says how this machine reaches it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .._record import Factory, frozen_record
from ..core.paths import launcher_dir
from ..errors import ServiceError
from . import health, proc, reuse, state
from .hosts import LocalHost, is_port
from .lock import key_lock
from ..plan.spec import LaunchSpec

if TYPE_CHECKING:
    from .remote import RemoteLaunch

logger = logging.getLogger("seamless_config")

LOCK_MARGIN = 30.0  # a lock holder may use its whole deadline, then clean up


@frozen_record  # not dataclasses: the warm seamless-init needs none of it
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
    state: Mapping[str, Any] = Factory(dict)


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


def reuse_local(service: str, key: str, handshake: Any,
                probe: bool = True) -> ServiceHandle | None:
    """A healthy server for ``key`` on this machine, found without a full
    launch spec: the warm path of seamless-init needs no templates.
    ``probe`` False: the caller verifies the server itself (a request
    that only this service answers correctly), so it is not asked twice."""
    return _read_local(LaunchSpec(service, key, (), "", "", handshake=handshake), probe)


def read_handle(spec: LaunchSpec) -> ServiceHandle | None:
    """What serves ``spec`` now, if anything; launches and cleans nothing."""
    if spec.is_local:
        return _read_local(spec, probe=True)
    client = state.read_client(spec.key)
    if _client_works(spec, client):
        return _remote_handle(spec, client, None, launched=False, start=time.monotonic())
    return None


# -- this machine ----------------------------------------------------------

def _read_local(spec: LaunchSpec, probe: bool) -> ServiceHandle | None:
    host = LocalHost()
    record = host.read(spec.key)
    if record and record.get("status") == state.RUNNING and is_port(record.get("port")) \
            and reuse.is_server(spec, host, record.get("pid")) \
            and (not probe or reuse.answers_once(spec, host, record)):
        return _local_handle(spec, record, launched=False, start=time.monotonic())
    return None


def _ensure_local(spec: LaunchSpec, start: float, deadline_at: float) -> ServiceHandle:
    host = LocalHost()
    record = reuse.usable(spec, host, host.read(spec.key), deadline_at)
    launched = record is None
    if record is None:
        from . import local

        reuse.refuse_twins(spec, host)
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
    record = reuse.usable(spec, host, host.read(spec.key), deadline_at)
    launched = record is None
    if record is None:
        reuse.refuse_twins(spec, host)
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
               for _ in range(reuse.ANSWER_TRIES)):
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
    if not client or not is_port(client.get("port")):
        return False
    if ("tunneled-port" in client) != bool(spec.tunnel):
        return False
    if "tunnel_pid" in client and not proc.pid_alive(client["tunnel_pid"]):
        return False
    port = client.get(spec.health_port_name)
    host = health.connect_host(client.get("hostname"))
    return is_port(port) and health.answers_as(spec.service, host, port, spec.health_path)


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

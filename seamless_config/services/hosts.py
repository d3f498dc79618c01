"""The hosts of ``services`` (``launch/hosts.py``: this machine, or a
frontend over SSH) asked about one key: which process is its server, does
it answer; and stopping that server, which only ever signals a pid whose
command line names the recorded program and that key's status file.
"""

from __future__ import annotations

import time
from typing import Any

from ..core.vocabulary import DASK_SERVICES
from ..errors import ServiceError
from ..launch import ssh
from ..launch.proc import Identity, program_of
from ..launch.ssh_host import SshHost, open_host

CONNECT_SECONDS = 15.0
POLL = 0.1


def health_check_of(service: str | None) -> tuple[str, str]:
    """(path, port field) of the health check of ``service``."""
    return ("health", "dashboard_port") if service in DASK_SERVICES else ("healthcheck", "port")


def identity_of(host, key: str, record: dict[str, Any] | None) -> Identity:
    """What the server process of ``key`` on ``host`` holds in its command
    line: the recorded program (when the record names one) and the key's
    status file, which no unrelated process has."""
    return Identity(program_of((record or {}).get("command")), host.state_path(key))


def healthy(host, record: dict[str, Any], service: str | None) -> bool:
    """Whether the server of ``record`` answers on its host as ``service``."""
    path, port_name = health_check_of(service)
    return host.answers(record, service, path, port_name)


def open_remote_host(hostname: str | None, ssh_hostname: str | None, what: str) -> SshHost:
    """An SSH session to a frontend; ServiceError when it cannot be opened."""
    try:
        return open_host(hostname, ssh_hostname, what, time.monotonic() + CONNECT_SECONDS)
    except ssh.session_errors() as exc:
        raise ServiceError(f"the SSH session to {ssh_hostname or hostname} failed: "
                           f"{type(exc).__name__}: {exc}", host=hostname) from None


def stop_pid(host, pid: int, identity: Identity, waits=(3.0, 3.0, 2.0)) -> str | None:
    """SIGINT, then SIGTERM, then SIGKILL, each followed by a short wait;
    the name of the signal that ended it (None: no such server was running:
    a pid that is not the server of ``identity`` is never signalled)."""
    if not host.runs(pid, identity):
        return None
    for name, wait in zip(("INT", "TERM", "KILL"), waits):
        host.signal(pid, name)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if not host.runs(pid, identity):
                return "SIG" + name
            time.sleep(POLL)
    raise ServiceError(f"pid {pid} on {host.name} survived SIGKILL", host=host.name)

"""``tunnel: true``: reach a remote server through an OpenSSH port forward.

The tunnel is a detached ``ssh -L`` process, not a fabric forward: fabric's
forwards live in daemon threads and die with the launching Python process,
and OpenSSH moves data far faster (buffers can be gigabytes). Instead of
``-N`` the ssh runs a remote loop that ends when the server's pid does, so
the tunnel goes away with its server. Its pid is kept in the client file as
``tunnel_pid`` so that later processes can reuse or replace it.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
import time
from typing import Any

from . import health, state
from .local import launch_error
from .proc import cmdline, kill_process, pid_alive
from ..plan.spec import LaunchSpec

logger = logging.getLogger("seamless_config")

POLL = 0.05


def free_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def watch_command(pid: int) -> str:
    """Remote command that lasts as long as the (non-zombie) server pid."""
    pid = int(pid)
    return (f'while kill -0 {pid} 2>/dev/null && '
            f'[ "$(ps -o stat= -p {pid} 2>/dev/null | cut -c1)" != Z ]; do sleep 2; done')


def ssh_argv(ssh_host: str, forwards: list[tuple[int, str, int]], server_pid: int) -> list[str]:
    argv = ["ssh"]
    config = os.path.expanduser("~/.ssh/config")
    # OpenSSH finds its config through the passwd home, not $HOME; fabric
    # uses $HOME. Passing -F makes both read the same file.
    if os.path.exists(config):
        argv += ["-F", config]
    argv += ["-T", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
             "-o", "ServerAliveInterval=30"]
    for local_port, target_host, target_port in forwards:
        argv += ["-L", f"127.0.0.1:{local_port}:{target_host}:{target_port}"]
    # '--': the host is a positional, never read as an option
    return argv + ["--", ssh_host, watch_command(server_pid)]


def tunnel_ports(record: dict[str, Any]) -> dict[str, int]:
    """The ports to forward: ``port`` and every ``*_port`` (e.g. dashboard)."""
    ports = {"port": record["port"]}
    for name, value in record.items():
        if name.endswith("_port") and isinstance(value, int) and not isinstance(value, bool):
            ports[name] = value
    return ports


def log_path(key: str) -> str:
    return os.path.join(state.client_dir(), key + ".tunnel.log")


def open_tunnel(spec: LaunchSpec, record: dict[str, Any], deadline_at: float) -> dict[str, Any]:
    """Start the tunnel for the running server ``record``; return the client
    record once the server answers through it."""
    ssh_host = spec.ssh_hostname or spec.hostname
    target = health.connect_host(record.get("network_interface"))
    remote_ports = tunnel_ports(record)
    local_ports = {name: free_local_port() for name in remote_ports}
    forwards = [(local_ports[n], target, remote_ports[n]) for n in remote_ports]
    argv = ssh_argv(ssh_host, forwards, record["pid"])
    try:
        proc = _spawn(argv, log_path(spec.key))
    except FileNotFoundError:
        raise launch_error(spec, spec.hostname or ssh_host, "no 'ssh' client on this machine",
                           command=" ".join(argv),
                           hint="install OpenSSH's client, needed for tunnel: true") from None
    try:
        _wait_ready(spec, proc, local_ports[spec.health_port_name], argv, deadline_at)
    except BaseException:
        kill_process(proc.pid)
        raise
    threading.Thread(target=proc.wait, name=f"reap-tunnel-{spec.key}", daemon=True).start()
    logger.info("%s: tunnel 127.0.0.1:%d -> %s %s:%d (pid %d)", spec.key, local_ports["port"],
                ssh_host, target, remote_ports["port"], proc.pid)
    return _client_record(spec, record, ssh_host, target, local_ports, remote_ports, proc.pid)


def _spawn(argv: list[str], log_file: str) -> subprocess.Popen:
    state.private_dir(os.path.dirname(log_file))
    with os.fdopen(state.open_private(log_file), "wb") as log:
        # Own session: the tunnel must outlive the process that opened it.
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _wait_ready(spec: LaunchSpec, proc: subprocess.Popen, local_port: int, argv: list[str],
                deadline_at: float) -> None:
    host = spec.hostname or spec.ssh_hostname or "?"
    while True:
        if health.answers_as(spec.service, "127.0.0.1", local_port, spec.health_path,
                             timeout=2.0):
            return
        code = proc.poll()
        if code is not None or time.monotonic() >= deadline_at:
            what = (f"the SSH tunnel exited with code {code}" if code is not None
                    else "the SSH tunnel did not carry the health check in time")
            time.sleep(POLL)
            raise launch_error(spec, host, what, command=" ".join(argv),
                               log_tail=state.tail(log_path(spec.key)),
                               hint="check that 'ssh' to that host works without a "
                                    "password (BatchMode) and allows TCP forwarding")
        time.sleep(POLL)


def _client_record(spec: LaunchSpec, record: dict[str, Any], ssh_host: str, target: str,
                   local_ports: dict[str, int], remote_ports: dict[str, int],
                   tunnel_pid: int) -> dict[str, Any]:
    client: dict[str, Any] = {"hostname": "localhost"}
    for name in remote_ports:
        client[name] = local_ports[name]
        client[f"tunneled-{name}"] = remote_ports[name]
    client["tunneled-host"] = ssh_host
    client["tunneled-network-interface"] = target
    client["tunnel_pid"] = tunnel_pid
    client["server_pid"] = record.get("pid")
    if isinstance(record.get("parameters"), dict):
        client["parameters"] = record["parameters"]
    client["meta"] = dict(spec.meta or {})
    return client


def is_our_tunnel(pid: Any, local_port: Any = None) -> bool:
    """A live ``ssh`` process forwarding ``local_port`` (when given): a
    recorded tunnel pid may have been reused, even by another ssh."""
    args = cmdline(pid) if pid_alive(pid) else None
    if not args or os.path.basename(args[0]) != "ssh":
        return False
    if local_port is None:
        return True
    return any(a.startswith(f"127.0.0.1:{local_port}:") for a in args)


def close_tunnel(client: dict[str, Any] | None) -> None:
    client = client or {}
    pid = client.get("tunnel_pid")
    if is_our_tunnel(pid, client.get("port")):
        kill_process(pid, grace=1.0)

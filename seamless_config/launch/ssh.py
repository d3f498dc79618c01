"""The SSH connection to a frontend (fabric): opening it, saying in one
line why it failed and what to check, what a broken session raises, and an
HTTP probe sent through it from the host's side. The host it reaches is
``ssh_host.SshHost``; a launch there is ``remote.py``.
"""

from __future__ import annotations

import logging
import socket
import time

from ..errors import ServiceError
from . import health
from .http import parse_response


def _quiet_paramiko() -> None:
    # paramiko logs full tracebacks of its transport thread for errors that
    # we report in one line; leave any level the user configured alone.
    log = logging.getLogger("paramiko")
    if log.level == logging.NOTSET:
        log.setLevel(logging.CRITICAL)


def connect(alias: str | None, deadline_at: float, service: str | None = None):
    """An open fabric Connection to the SSH host ``alias``, or a ServiceError
    that says which host and port failed and what to check."""
    import fabric

    _quiet_paramiko()
    seconds = max(1, int(min(15.0, deadline_at - time.monotonic())))
    # The banner wait must end before the negotiation wait that encloses it,
    # or paramiko reports "No existing session" instead of the banner error.
    banner = max(0.5, seconds - 0.5)
    conn = fabric.Connection(host=alias, connect_timeout=seconds,
                             connect_kwargs={"banner_timeout": banner, "auth_timeout": seconds})
    try:
        conn.open()
    except Exception as exc:
        # fabric's close() skips a connection whose open() failed, but
        # paramiko may hold a half-open transport (e.g. after failed auth).
        conn.client.close()
        raise ServiceError(_connect_message(alias, conn, exc), service=service,
                           host=alias) from None
    return conn


def session_errors() -> tuple[type[BaseException], ...]:
    """What a broken SSH session raises after a successful connect."""
    import invoke
    import paramiko

    return (paramiko.SSHException, EOFError, invoke.exceptions.CommandTimedOut)


def _connect_message(alias: str, conn, exc: Exception) -> str:
    import paramiko

    where = f"{conn.host} port {conn.port}"
    name = alias if alias == conn.host else f"{alias} ({where})"
    prefix = f"cannot open SSH connection to {name}"
    if isinstance(exc, socket.gaierror):
        return (f"{prefix}: unknown host '{conn.host}'; check the hostname/ssh_hostname "
                "and HostName in ~/.ssh/config")
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return (f"{prefix}: connection refused at {where}; check that sshd runs there "
                "and the Port in ~/.ssh/config")
    if isinstance(exc, paramiko.AuthenticationException):
        return (f"{prefix}: authentication as '{conn.user}' failed at {where}; check User "
                "and IdentityFile in ~/.ssh/config, or load the key into ssh-agent")
    text = str(exc)
    if "No authentication methods" in text:
        return (f"{prefix}: no SSH key or agent available for '{conn.user}' at {where}; "
                "set IdentityFile in ~/.ssh/config or start ssh-agent")
    if "banner" in text or "No existing session" in text:
        return (f"{prefix}: {where} does not answer as an SSH server (no SSH banner); "
                "check the Port in ~/.ssh/config")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"{prefix}: timed out connecting to {where}; check the host and firewalls"
    return f"{prefix} at {where}: {type(exc).__name__}: {text}"



def channel_answers(transport, host: str, port: int, probe: "health.Probe",
                    timeout: float) -> bool:
    """``probe`` sent from the SSH server's side to ``host:port`` through a
    ``direct-tcpip`` channel; True when the answer passes its test."""
    import paramiko

    try:
        chan = transport.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0),
                                      timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError):
        return False
    body = probe.body or b""
    head = (f"{probe.method} {probe.path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n"
            + ("Content-Type: application/json\r\n" if body else "") + "\r\n")
    raw = b""
    try:
        chan.settimeout(timeout)
        chan.sendall(head.encode() + body)
        while len(raw) <= health.MAX_ANSWER:
            chunk = chan.recv(4096)
            if not chunk:
                break
            raw += chunk
    except (OSError, paramiko.SSHException, EOFError):
        return False
    finally:
        chan.close()
    try:
        response = parse_response(raw)
    except (ValueError, IndexError, UnicodeError):
        return False
    return bool(probe.accepts(response.status, response.content))

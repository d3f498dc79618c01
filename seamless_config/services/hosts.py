"""Where servers live, for ``services``: this machine or a frontend over SSH.

Both hosts offer the same small interface keyed by launcher key (state
files, identification of server processes, health, signals, logs) plus a
file-system view for ``clear``. A pid from a state file is acted on only
when its command line names the recorded program and that key's status
file (``launch/proc.py``). Remote files go over SFTP; the only shell lines
are ``kill``, ``ps`` and ``tail``, built from integers or ``shlex.quote``d
paths. fabric and paramiko are imported inside functions only.
"""

from __future__ import annotations

import os
import shlex
import time
from typing import IO, Any

from ..core.vocabulary import DASK_SERVICES
from ..errors import ServiceError
from ..launch import health, state
from ..launch.hosts import is_port, parse_etimes, pids_arg, state_keys, servers_by_key
from ..launch.proc import Identity, program_of

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


class RemoteHost:
    """A frontend reached over SSH; wraps an open ``launch.ssh.Remote``."""

    is_local = False

    def __init__(self, remote):
        self.remote = remote
        self.name = remote.name
        self.sftp = remote.conn.sftp()

    def _path(self, key: str, suffix: str = ".json") -> str:
        return f"{self.remote.server_dir}/{key}{suffix}"

    def _read(self, path: str) -> bytes | None:
        try:
            with self.sftp.open(path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def state_path(self, key: str) -> str:
        return self._path(key)

    def keys(self) -> list[str]:
        try:
            return state_keys(self.sftp.listdir(self.remote.server_dir))
        except OSError:
            return []

    def read(self, key: str) -> dict[str, Any] | None:
        text = self.remote._read_regular(self._path(key))
        if text is None:
            return None
        return state.parse_state(text, f"{self.name}:{self._path(key)}")

    def write(self, key: str, record: dict[str, Any]) -> None:
        import json

        from ..launch.ssh import write_private

        write_private(self.sftp, self._path(key), json.dumps(record).encode())

    def remove(self, key: str) -> bool:
        existed = False
        for suffix in (".json", ".pid"):
            try:
                self.sftp.remove(self._path(key, suffix))
                existed = existed or suffix == ".json"
            except OSError:
                pass
        return existed

    def alive(self, pid: Any) -> bool:
        return self.remote.pid_alive(pid)

    def runs(self, pid: Any, identity: Identity) -> bool:
        if not self.remote.pid_alive(pid):
            return False
        args = self.remote.cmdline(pid)
        return args is not None and identity.matches(args)

    def servers(self) -> dict[str, list[int]]:
        return servers_by_key(self.remote.server_dir, self.remote.processes())

    def answers(self, record: dict[str, Any], service: str | None, path: str = "healthcheck",
                port_name: str = "port") -> bool:
        from ..launch.ssh import channel_answers

        port = record.get(port_name)
        host = health.connect_host(record.get("network_interface"))
        return is_port(port) and channel_answers(
            self.remote.conn.transport, host, port, health.probe_for(service, path), 2.0)

    def uptimes(self, pids) -> dict[int, int]:
        if not pids_arg(pids):
            return {}
        return parse_etimes(self.remote.run(f"ps -o pid=,etimes= -p {pids_arg(pids)}").stdout)

    def signal(self, pid: int, name: str) -> None:
        pid, sig = int(pid), name if name in ("INT", "TERM", "KILL") else "TERM"
        self.remote.run(f"kill -{sig} -- -{pid} 2>/dev/null || kill -{sig} {pid} 2>/dev/null; true")

    def log_path(self, key: str, record: dict[str, Any] | None) -> str:
        log = (record or {}).get("log")
        return log if isinstance(log, str) else self._path(key, ".log")

    def write_log(self, path: str, lines: int | None, follow: bool, out: IO[str]) -> None:
        if self.fs().lstat(path) is None:
            raise ServiceError(f"no log file at {path} on {self.name}")
        count = "+1" if lines is None else str(int(lines))
        line = f"tail -n {count} {'-f ' if follow else ''}-- {shlex.quote(path)}"
        # hide="err": stdout streams to ``out`` as it arrives. Following needs a
        # pty: invoke forwards Ctrl-C as ^C, which only a terminal turns into
        # SIGINT for the remote tail, and the pty's hangup ends it if we die.
        result = self.remote.conn.run(line, hide="err", warn=True, in_stream=False, pty=follow,
                                      out_stream=out)
        if not result.ok and not follow:  # a followed tail ends by ^C
            raise ServiceError(f"cannot read the log {path} on {self.name}: "
                               f"{result.stderr.strip()}")

    def fs(self) -> "SftpFS":
        return SftpFS(self.sftp)

    def close(self) -> None:
        self.remote.close()


class SftpFS:
    """``LocalFS`` over SFTP; SFTP's realpath resolves symbolic links."""

    def __init__(self, sftp):
        self.sftp = sftp

    def expand(self, path: str) -> str:
        # SFTP resolves relative paths against the login directory: the home
        if path == "~" or path.startswith("~/"):
            return self.sftp.normalize(".").rstrip("/") + path[1:]
        return path

    def realpath(self, path: str) -> str:
        try:
            return self.sftp.normalize(path)
        except OSError:  # a missing path: resolve what exists of it
            parent, name = os.path.split(path.rstrip("/"))
            return path if parent in ("", "/", path) else self.realpath(parent) + "/" + name

    def lstat(self, path: str) -> tuple[int, int] | None:
        try:
            st = self.sftp.lstat(path)
        except OSError:
            return None
        return st.st_mode, st.st_size or 0

    def entries(self, path: str) -> list[tuple[str, int, int]]:
        # listdir_attr gives lstat-like attributes (SFTP's readdir does not follow links)
        return sorted((a.filename, a.st_mode, a.st_size or 0) for a in self.sftp.listdir_attr(path))

    def remove(self, path: str) -> None:
        self.sftp.remove(path)

    def rmdir(self, path: str) -> None:
        self.sftp.rmdir(path)


def open_remote_host(hostname: str | None, ssh_hostname: str | None, what: str) -> RemoteHost:
    """An SSH session to a frontend; ServiceError when it cannot be opened."""
    from ..launch import ssh
    from ..plan.spec import LaunchSpec

    # ssh.Remote is written for one launch; a placeholder spec gives it the
    # host and the launcher directory without naming a key.
    spec = LaunchSpec(service=what, key="-", argv=(), workdir="", log_file="",
                      hostname=hostname, ssh_hostname=ssh_hostname)
    try:
        return RemoteHost(ssh.open_remote(spec, time.monotonic() + CONNECT_SECONDS))
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

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
import signal
import stat
import subprocess
import time
from typing import IO, Any

from ..core.vocabulary import DASK_SERVICES
from ..errors import ServiceError
from ..launch import health, state
from ..launch.proc import (Identity, is_server, own_processes, pid_alive, program_of, status_files, top_level, valid_pid)

CONNECT_SECONDS = 15.0
POLL = 0.1


def health_check_of(service: str | None) -> tuple[str, str]:
    """(path, port field) of the health check of ``service``."""
    return ("health", "dashboard_port") if service in DASK_SERVICES else ("healthcheck", "port")


def is_port(port: Any) -> bool:
    return isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536


def state_keys(names: list[str]) -> list[str]:
    """Launcher keys among the file names of a ``server/`` directory
    (temporary files of atomic writes start with '.')."""
    return sorted(n[:-5] for n in names if n.endswith(".json") and not n.startswith("."))


def identity_of(host, key: str, record: dict[str, Any] | None) -> Identity:
    """What the server process of ``key`` on ``host`` holds in its command
    line: the recorded program (when the record names one) and the key's
    status file, which no unrelated process has."""
    return Identity(program_of((record or {}).get("command")), host.state_path(key))


def servers_by_key(server_dir: str, processes) -> dict[str, list[int]]:
    """Keys of the server processes among ``processes`` (pid, parent pid,
    args): those whose status file lies in ``server_dir``, each once."""
    found: dict[str, list[int]] = {}
    directory = os.path.normpath(server_dir)
    for pid, args in top_level(processes):
        for path in status_files(args):
            if os.path.dirname(path) == directory and path.endswith(".json"):
                found.setdefault(os.path.basename(path)[:-5], []).append(pid)
    return found


def parse_etimes(text: str) -> dict[int, int]:
    """``ps -o pid=,etimes=`` output as {pid: seconds since start}."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0].isdigit() and words[1].isdigit():
            found[int(words[0])] = int(words[1])
    return found


def _pids_arg(pids) -> str:
    return ",".join(str(int(p)) for p in pids if valid_pid(p))


class LocalHost:
    """This machine, through ``paths.launcher_dir()``."""

    name = "localhost"
    is_local = True

    def keys(self) -> list[str]:
        try:
            return state_keys(os.listdir(state.server_dir()))
        except FileNotFoundError:
            return []

    def state_path(self, key: str) -> str:
        return state.server_state_path(key)

    def read(self, key: str) -> dict[str, Any] | None:
        return state.read_server(key)

    def write(self, key: str, record: dict[str, Any]) -> None:
        state.write_server(key, record)

    def remove(self, key: str) -> bool:
        existed = os.path.exists(state.server_state_path(key))
        state.remove_server(key)
        return existed

    def alive(self, pid: Any) -> bool:
        return pid_alive(pid)

    def runs(self, pid: Any, identity: Identity) -> bool:
        return is_server(pid, identity)

    def servers(self) -> dict[str, list[int]]:
        """Server processes by key, whatever the state files say."""
        return servers_by_key(state.server_dir(), own_processes())

    def healthy(self, record: dict[str, Any], service: str | None) -> bool:
        path, port_name = health_check_of(service)
        port = record.get(port_name)
        host = health.connect_host(record.get("network_interface"))
        return is_port(port) and health.answers_as(service, host, port, path)

    def uptimes(self, pids) -> dict[int, int]:
        if not _pids_arg(pids):
            return {}
        out = subprocess.run(["ps", "-o", "pid=,etimes=", "-p", _pids_arg(pids)],
                             capture_output=True, text=True, check=False)
        return parse_etimes(out.stdout)

    def signal(self, pid: int, name: str) -> None:
        from ..launch.proc import signal_group

        signal_group(pid, getattr(signal, "SIG" + name))

    def log_path(self, key: str, record: dict[str, Any] | None) -> str:
        log = (record or {}).get("log")
        return log if isinstance(log, str) else state.server_log_path(key)

    def write_log(self, path: str, lines: int | None, follow: bool, out: IO[str]) -> None:
        if not os.path.exists(path):
            raise ServiceError(f"no log file at {path} on {self.name}")
        argv = ["tail", "-n", "+1" if lines is None else str(lines)]
        argv += ["-f", "--", path] if follow else ["--", path]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                              errors="replace") as proc:
            try:
                for line in proc.stdout:
                    out.write(line)
                    out.flush()
            finally:
                proc.kill()

    def fs(self) -> "LocalFS":
        return LocalFS()

    def close(self) -> None:
        pass


class LocalFS:
    """The file operations ``clear`` needs, on this machine (never following
    symbolic links except in ``realpath``)."""

    def expand(self, path: str) -> str:
        return os.path.expanduser(path)

    def realpath(self, path: str) -> str:
        return os.path.realpath(path)

    def lstat(self, path: str) -> tuple[int, int] | None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        return st.st_mode, st.st_size

    def entries(self, path: str) -> list[tuple[str, int, int]]:
        with os.scandir(path) as it:
            return sorted((e.name, *self.lstat(e.path)) for e in it)

    def remove(self, path: str) -> None:
        os.unlink(path)

    def rmdir(self, path: str) -> None:
        os.rmdir(path)


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

    def healthy(self, record: dict[str, Any], service: str | None) -> bool:
        from ..launch.ssh import channel_answers

        path, port_name = health_check_of(service)
        port = record.get(port_name)
        host = health.connect_host(record.get("network_interface"))
        return is_port(port) and channel_answers(
            self.remote.conn.transport, host, port, health.probe_for(service, path), 2.0)

    def uptimes(self, pids) -> dict[int, int]:
        if not _pids_arg(pids):
            return {}
        return parse_etimes(self.remote.run(f"ps -o pid=,etimes= -p {_pids_arg(pids)}").stdout)

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


def is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def is_dir(mode: int) -> bool:
    return stat.S_ISDIR(mode)


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

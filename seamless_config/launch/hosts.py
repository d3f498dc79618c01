"""One machine where servers live: this one (``LocalHost``) or a frontend
over SSH (``ssh_host.SshHost``), behind one interface, ``Host``.

A host answers by launcher key: its state files (``server/<key>.json``
and the log beside it), its processes (alive, the server of an identity,
every server, uptimes, signals), whether a port answers as a given
service, and a file-system view for ``clear``. The executor asks it about
one launch (host + spec), ``services`` about one machine (host + key). A
pid read from a state file is signalled or reused only once
``runs(pid, identity)`` shows it is that server (``proc.py``).
"""

from __future__ import annotations

import os
import shlex
import signal
import stat
from typing import IO, Any, Iterable, Protocol

from ..errors import ServiceError
from . import health, state
from .proc import (Identity, find_servers, is_server, kill_process, own_processes, pid_alive,
                   signal_group, status_files, top_level, valid_pid)


class Host(Protocol):
    """What the executor and ``services`` ask of a machine."""

    name: str
    is_local: bool
    home: str | None  # to compare '~' in recorded commands

    # state files, by launcher key
    def keys(self) -> list[str]: ...
    def state_path(self, key: str) -> str: ...
    def log_path(self, key: str, record: dict[str, Any] | None = None) -> str: ...
    def read(self, key: str) -> dict[str, Any] | None: ...
    def write(self, key: str, record: dict[str, Any]) -> None: ...
    def remove(self, key: str) -> bool: ...

    # processes
    def alive(self, pid: Any) -> bool: ...
    def runs(self, pid: Any, identity: Identity) -> bool: ...
    def twins(self, identity: Identity) -> list[tuple[int, str]]: ...
    def servers(self) -> dict[str, list[int]]: ...
    def uptimes(self, pids: Iterable[Any]) -> dict[int, int]: ...
    def kill(self, pid: int) -> None: ...
    def signal(self, pid: int, name: str) -> None: ...

    # health, logs, files
    def answers(self, record: dict[str, Any], service: str | None, path: str = "healthcheck",
                port_name: str = "port") -> bool: ...
    def tail(self, path: str, lines: int = 20) -> str: ...
    def write_log(self, path: str, lines: int | None, follow: bool, out: IO[str]) -> None: ...
    def fs(self) -> Any: ...
    def close(self) -> None: ...


def is_port(port: Any) -> bool:
    return isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536


def state_keys(names: list[str]) -> list[str]:
    """Launcher keys among the file names of a ``server/`` directory
    (temporary files of atomic writes start with '.')."""
    return sorted(n[:-5] for n in names if n.endswith(".json") and not n.startswith("."))


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


def pids_arg(pids) -> str:
    """The valid pids among ``pids``, as ``ps -p`` takes them."""
    return ",".join(str(int(p)) for p in pids if valid_pid(p))


def recorded_log(record: dict[str, Any] | None, default: str) -> str:
    log = (record or {}).get("log")
    return log if isinstance(log, str) else default


class LocalHost:
    """This machine, through ``paths.launcher_dir()``."""

    name = "localhost"
    is_local = True

    def __init__(self):
        self.home = os.path.expanduser("~")

    # -- state files -------------------------------------------------------
    def keys(self) -> list[str]:
        try:
            return state_keys(os.listdir(state.server_dir()))
        except FileNotFoundError:
            return []

    def state_path(self, key: str) -> str:
        return state.server_state_path(key)

    def log_path(self, key: str, record: dict[str, Any] | None = None) -> str:
        return recorded_log(record, state.server_log_path(key))

    def read(self, key: str) -> dict[str, Any] | None:
        return state.read_server(key)

    def write(self, key: str, record: dict[str, Any]) -> None:
        state.write_server(key, record)

    def remove(self, key: str) -> bool:
        existed = os.path.exists(state.server_state_path(key))
        state.remove_server(key)
        return existed

    # -- processes ---------------------------------------------------------
    def alive(self, pid: Any) -> bool:
        return pid_alive(pid)

    def runs(self, pid: Any, identity: Identity) -> bool:
        return is_server(pid, identity)

    def twins(self, identity: Identity) -> list[tuple[int, str]]:
        """The servers of ``identity`` that are running, by ``ps``, with
        their command lines: what a lost state file no longer names."""
        return [(pid, shlex.join(args)) for pid, args in find_servers(identity)]

    def servers(self) -> dict[str, list[int]]:
        """Server processes by key, whatever the state files say."""
        return servers_by_key(state.server_dir(), own_processes())

    def uptimes(self, pids) -> dict[int, int]:
        import subprocess

        if not pids_arg(pids):
            return {}
        out = subprocess.run(["ps", "-o", "pid=,etimes=", "-p", pids_arg(pids)],
                             capture_output=True, text=True, check=False)
        return parse_etimes(out.stdout)

    def kill(self, pid: int) -> None:
        kill_process(pid)

    def signal(self, pid: int, name: str) -> None:
        signal_group(pid, getattr(signal, "SIG" + name))

    # -- health, logs, files -----------------------------------------------
    def answers(self, record: dict[str, Any], service: str | None, path: str = "healthcheck",
                port_name: str = "port") -> bool:
        port = record.get(port_name)
        host = health.connect_host(record.get("network_interface"))
        return is_port(port) and health.answers_as(service, host, port, path)

    def tail(self, path: str, lines: int = 20) -> str:
        return state.tail(path, lines)

    def write_log(self, path: str, lines: int | None, follow: bool, out: IO[str]) -> None:
        import subprocess

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


def is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def is_dir(mode: int) -> bool:
    return stat.S_ISDIR(mode)

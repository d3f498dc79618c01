"""A frontend reached over SSH, as a ``Host`` (hosts.py).

Its launcher files live under
``${REMOTE_HTTP_LAUNCHER_DIR:-$HOME/.remote-http-launcher}`` on that host
and are read and written over SFTP (no shell, no quoting). Processes are
read from its /proc over SFTP where it has one, else from ``ps``. Health is
checked from the host's side through an SSH ``direct-tcpip`` channel, which
works whether or not this machine reaches the server's port. The only
shell lines are ``printf``, ``kill``, ``ps`` and ``tail``, built from
integers or ``shlex.quote``d paths.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import stat
import uuid
from typing import IO, Any

from ..errors import ServiceError
from . import health, ssh, state
from .hosts import is_port, parse_etimes, pids_arg, recorded_log, servers_by_key, state_keys
from .proc import Identity, parse_ps, top_level, valid_pid

logger = logging.getLogger("seamless_config")


def alive_test(pid: int) -> str:
    """Shell test for a live, non-zombie ``pid`` (``kill -0`` alone is true
    for zombies, which stay around when PID 1 does not reap)."""
    pid = int(pid)
    return (f'kill -0 {pid} 2>/dev/null && '
            f'[ "$(ps -o stat= -p {pid} 2>/dev/null | cut -c1)" != Z ]')


def open_host(hostname: str | None, ssh_hostname: str | None, service: str | None,
              deadline_at: float) -> "SshHost":
    """An SSH session to ``ssh_hostname`` (else ``hostname``), or a
    ServiceError that says what to check; ``service`` is what it is for."""
    conn = ssh.connect(ssh_hostname or hostname, deadline_at, service)
    try:
        return SshHost(conn, hostname or conn.host, service)
    except BaseException:
        conn.close()
        raise


class SshHost:
    """One open SSH connection (fabric) to a frontend and its launcher files."""

    is_local = False

    def __init__(self, conn, name: str, service: str | None = None):
        self.conn = conn
        self.name = name
        self.service = service  # what the session is for, named in its errors
        self.base = self._launcher_dir()
        self.server_dir = self.base + "/server"
        self.sftp = self._open_sftp()
        self._has_proc = self.exists("/proc/self/stat")
        self.home = self._home()

    def _launcher_dir(self) -> str:
        result = self.run('printf %s "${REMOTE_HTTP_LAUNCHER_DIR:-$HOME/.remote-http-launcher}"')
        if not result.ok or not result.stdout.startswith("/"):
            raise ServiceError(f"cannot find the launcher directory on {self.name}: "
                               f"{result.stderr.strip() or result.stdout.strip()}",
                               service=self.service, host=self.name)
        return result.stdout.rstrip("/")

    def _open_sftp(self):
        import paramiko

        try:
            return self.conn.sftp()
        except paramiko.SSHException as exc:
            raise ServiceError(f"the SSH server of {self.name} offers no SFTP subsystem "
                               f"({exc}); it is needed to read and write launcher state",
                               service=self.service, host=self.name) from None

    def _home(self) -> str | None:
        try:  # SFTP starts in the login directory: the home
            return self.sftp.normalize(".")
        except OSError:
            return None

    def run(self, command: str, timeout: float = 30.0):
        return self.conn.run(command, hide=True, warn=True, in_stream=False, pty=False,
                             timeout=max(1, int(timeout)))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "SshHost":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- files, over SFTP ------------------------------------------------
    def path(self, key: str, suffix: str = ".json") -> str:
        return f"{self.server_dir}/{key}{suffix}"

    def exists(self, path: str) -> bool:
        try:
            self.sftp.stat(path)
            return True
        except OSError:
            return False

    def read_text(self, path: str, limit: int | None = None) -> str | None:
        """The file at ``path`` (its last ``limit`` bytes), or None."""
        try:
            with self.sftp.open(path, "rb") as f:
                if limit is not None:
                    size = f.stat().st_size or 0
                    f.seek(max(0, size - limit))
                return f.read().decode("utf-8", "replace")
        except OSError:  # paramiko maps missing files to IOError/OSError
            return None

    def _read_regular(self, path: str, key: str) -> str | None:
        """A state file if it is a regular file of sane size (a FIFO put in
        its place must not block the session, /dev/zero not fill memory)."""
        limit = state.MAX_STATE_BYTES
        try:
            st = self.sftp.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode or 0) or (st.st_size or 0) > limit:
            logger.warning("%s: ignoring %s on %s: not a regular file of at most %d bytes",
                           key, path, self.name, limit)
            return None
        return self.read_text(path)

    def _read_bytes(self, path: str) -> bytes | None:
        try:
            with self.sftp.open(path, "rb") as f:
                return f.read(1 << 20)
        except OSError:
            return None

    def keys(self) -> list[str]:
        try:
            return state_keys(self.sftp.listdir(self.server_dir))
        except OSError:
            return []

    def state_path(self, key: str) -> str:
        return self.path(key)

    def log_path(self, key: str, record: dict[str, Any] | None = None) -> str:
        return recorded_log(record, self.path(key, ".log"))

    def read(self, key: str) -> dict[str, Any] | None:
        text = self._read_regular(self.path(key), key)
        if text is None:
            return None
        return state.parse_state(text, f"{self.name}:{self.path(key)}")

    def write(self, key: str, record: dict[str, Any]) -> None:
        write_private(self.sftp, self.path(key), json.dumps(record).encode())

    def remove(self, key: str) -> bool:
        existed = False
        for suffix in (".json", ".pid"):
            try:
                self.sftp.remove(self.path(key, suffix))
                existed = existed or suffix == ".json"
            except OSError:
                pass
        return existed

    # -- processes ---------------------------------------------------------
    def alive(self, pid: Any) -> bool:
        if not valid_pid(pid):
            return False
        if self._has_proc:
            text = self.read_text(f"/proc/{pid}/stat")
            if text is None:
                return False
            fields = text.rsplit(")", 1)[-1].split()
            return not fields or fields[0] != "Z"
        return self.run(alive_test(pid)).ok

    def cmdline(self, pid: Any) -> list[str] | None:
        """The arguments of a process on the host: /proc where there is one,
        else ``ps`` (whose words are joined by spaces)."""
        if not valid_pid(pid):
            return None
        if self._has_proc:
            raw = self._read_bytes(f"/proc/{pid}/cmdline")
            if not raw:
                return None
            return [a.decode("utf-8", "surrogateescape") for a in raw.rstrip(b"\0").split(b"\0")]
        text = self.run(f"ps -ww -o args= -p {int(pid)}").stdout.strip()
        return text.split() or None

    def runs(self, pid: Any, identity: Identity) -> bool:
        if not self.alive(pid):
            return False
        args = self.cmdline(pid)
        return args is not None and identity.matches(args)

    def processes(self) -> list[tuple[int, int, list[str]]]:
        """(pid, parent pid, words) of this user's processes on the host."""
        return parse_ps(self.run('ps -ww -o pid=,ppid=,args= -u "$(id -u)"').stdout)

    def twins(self, identity: Identity) -> list[tuple[int, str]]:
        return [(pid, " ".join(args)) for pid, args in top_level(self.processes())
                if identity.matches(args)]

    def servers(self) -> dict[str, list[int]]:
        return servers_by_key(self.server_dir, self.processes())

    def uptimes(self, pids) -> dict[int, int]:
        if not pids_arg(pids):
            return {}
        return parse_etimes(self.run(f"ps -o pid=,etimes= -p {pids_arg(pids)}").stdout)

    def kill(self, pid: int) -> None:
        """SIGTERM the group (or the process), SIGKILL after 3 s."""
        pid = int(pid)
        term = f"kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid} 2>/dev/null"
        wait = f"i=0; while [ $i -lt 30 ] && {alive_test(pid)}; do sleep 0.1; i=$((i+1)); done"
        kill = f"kill -KILL -- -{pid} 2>/dev/null || kill -KILL {pid} 2>/dev/null"
        self.run(f"{term}; {wait}; if {alive_test(pid)}; then {kill}; fi; true")

    def signal(self, pid: int, name: str) -> None:
        pid, sig = int(pid), name if name in ("INT", "TERM", "KILL") else "TERM"
        self.run(f"kill -{sig} -- -{pid} 2>/dev/null || kill -{sig} {pid} 2>/dev/null; true")

    # -- health, logs, files -----------------------------------------------
    def answers(self, record: dict[str, Any], service: str | None, path: str = "healthcheck",
                port_name: str = "port") -> bool:
        port = record.get(port_name)
        if not is_port(port):
            return False
        host = health.connect_host(record.get("network_interface"))
        probe = health.probe_for(service, path)
        return ssh.channel_answers(self.conn.transport, host, port, probe, 2.0)

    def tail(self, path: str, lines: int = 20) -> str:
        text = self.read_text(path, limit=64 * 1024) or ""
        return "\n".join(text.splitlines()[-lines:])

    def write_log(self, path: str, lines: int | None, follow: bool, out: IO[str]) -> None:
        if self.fs().lstat(path) is None:
            raise ServiceError(f"no log file at {path} on {self.name}")
        count = "+1" if lines is None else str(int(lines))
        line = f"tail -n {count} {'-f ' if follow else ''}-- {shlex.quote(path)}"
        # hide="err": stdout streams to ``out`` as it arrives. Following needs a
        # pty: invoke forwards Ctrl-C as ^C, which only a terminal turns into
        # SIGINT for the remote tail, and the pty's hangup ends it if we die.
        result = self.conn.run(line, hide="err", warn=True, in_stream=False, pty=follow,
                               out_stream=out)
        if not result.ok and not follow:  # a followed tail ends by ^C
            raise ServiceError(f"cannot read the log {path} on {self.name}: "
                               f"{result.stderr.strip()}")

    def fs(self) -> "SftpFS":
        return SftpFS(self.sftp)


def write_private(sftp, path: str, data: bytes) -> None:
    """Write ``path`` over SFTP atomically, readable by its owner only."""
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with sftp.open(tmp, "wb") as f:
        f.chmod(0o600)
        f.write(data)
    sftp.posix_rename(tmp, path)


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

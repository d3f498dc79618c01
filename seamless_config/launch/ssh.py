"""Start one server on another machine over SSH (fabric), and inspect it.

The remote side keeps the same files as a local launch, under
``${REMOTE_HTTP_LAUNCHER_DIR:-$HOME/.remote-http-launcher}`` on that host.
Files are read and written over SFTP (no shell, no quoting); the server is
detached with ``setsid -f`` so that it outlives the SSH connection, and that
launch line is the only shell text built from spec values (each word
``shlex.quote``d). Health is checked from the remote side through an SSH
``direct-tcpip`` channel, which works whether or not this machine can reach
the server's port directly. fabric is imported inside functions only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import socket
import time
import uuid
from typing import Any, Iterator

from ..errors import ServiceError
from . import health, state
from .local import launch_error
from .proc import valid_pid
from ..plan.spec import LaunchSpec

logger = logging.getLogger("seamless_config")

POLL = 0.1
# How long past its own deadline a launch lock on a host is respected: a
# holder that died leaves the lock behind, and it is taken over after that.
STALE_LOCK_MARGIN = 60.0
MISSING_EXECUTABLE = 127
WORKDIR_FAILED = 125


def alive_test(pid: int) -> str:
    """Shell test for a live, non-zombie ``pid`` (``kill -0`` alone is true
    for zombies, which stay around when PID 1 does not reap)."""
    pid = int(pid)
    return (f'kill -0 {pid} 2>/dev/null && '
            f'[ "$(ps -o stat= -p {pid} 2>/dev/null | cut -c1)" != Z ]')


def shell_word(word: str) -> str:
    """One quoted shell word; a leading ``~/`` stays the remote home."""
    if word == "~":
        return '"$HOME"'
    if word.startswith("~/"):
        return '"$HOME"/' + shlex.quote(word[2:])
    return shlex.quote(word)


def launch_line(argv: list[str], *, server_dir: str, workdir: str, create_workdir: bool,
                pid_file: str, log_file: str) -> str:
    """The remote shell script that starts ``argv`` detached. Exit 127: no
    such executable; 125: the work directory cannot be created. The server
    directory, its pid file and log are made private first (in a subshell
    with umask 077: the server itself keeps the user's umask for its data);
    ``--`` ends the options before every path."""
    inner = f"echo $$ > {shell_word(pid_file)}; exec " + " ".join(shell_word(a) for a in argv)
    private = " ".join(shell_word(p) for p in (pid_file, log_file))
    return "\n".join([
        f"command -v {shell_word(argv[0])} >/dev/null 2>&1 || exit {MISSING_EXECUTABLE}",
        f"(umask 077 && mkdir -p -- {shell_word(server_dir)} && chmod 700 -- "
        f"{shell_word(server_dir)} && : > {shell_word(pid_file)} && : > {shell_word(log_file)} "
        f"&& chmod 600 -- {private}) || exit {WORKDIR_FAILED}",
        *([f"mkdir -p -- {shell_word(workdir)} || exit {WORKDIR_FAILED}"] if create_workdir
          else []),
        f"cd -- {shell_word(workdir)} 2>/dev/null || cd",
        f"setsid -f sh -c {shlex.quote(inner)} > {shell_word(log_file)} 2>&1 < /dev/null",
        "id -u",
    ])


def _quiet_paramiko() -> None:
    # paramiko logs full tracebacks of its transport thread for errors that
    # we report in one line; leave any level the user configured alone.
    log = logging.getLogger("paramiko")
    if log.level == logging.NOTSET:
        log.setLevel(logging.CRITICAL)


def connect(spec: LaunchSpec, deadline_at: float):
    """An open fabric Connection to the spec's SSH host, or a ServiceError
    that says which host and port failed and what to check."""
    import fabric

    _quiet_paramiko()
    alias = spec.ssh_hostname or spec.hostname
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
        raise ServiceError(_connect_message(alias, conn, exc), service=spec.service,
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


def open_remote(spec: LaunchSpec, deadline_at: float) -> "Remote":
    conn = connect(spec, deadline_at)
    try:
        return Remote(spec, conn)
    except BaseException:
        conn.close()
        raise


class Remote:
    """One SSH connection to the host of ``spec`` and its launcher files."""

    def __init__(self, spec: LaunchSpec, conn):
        self.spec = spec
        self.conn = conn
        self.name = spec.hostname or conn.host
        self.base = self._launcher_dir()
        self.server_dir = self.base + "/server"
        self.state_path = f"{self.server_dir}/{spec.key}.json"
        self.log_path = f"{self.server_dir}/{spec.key}.log"
        self.pid_path = f"{self.server_dir}/{spec.key}.pid"
        self._open_sftp()
        self._has_proc = self._exists("/proc/self/stat")
        self.home = self._home()
        from .executor import identity_of

        self.identity = identity_of(spec, self.state_path)

    def _open_sftp(self) -> None:
        import paramiko

        try:
            self.conn.sftp()
        except paramiko.SSHException as exc:
            raise ServiceError(f"the SSH server of {self.name} offers no SFTP subsystem "
                               f"({exc}); it is needed to read and write launcher state",
                               service=self.spec.service, host=self.name) from None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Remote":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, command: str, timeout: float = 30.0):
        return self.conn.run(command, hide=True, warn=True, in_stream=False, pty=False,
                             timeout=max(1, int(timeout)))

    def _home(self) -> str | None:
        try:  # SFTP starts in the login directory: the home
            return self.conn.sftp().normalize(".")
        except OSError:
            return None

    def _launcher_dir(self) -> str:
        result = self.run('printf %s "${REMOTE_HTTP_LAUNCHER_DIR:-$HOME/.remote-http-launcher}"')
        if not result.ok or not result.stdout.startswith("/"):
            raise ServiceError(f"cannot find the launcher directory on {self.name}: "
                               f"{result.stderr.strip() or result.stdout.strip()}",
                               service=self.spec.service, host=self.name)
        return result.stdout.rstrip("/")

    # -- a lock on the host, for launchers on different machines ----------
    @contextlib.contextmanager
    def launch_lock(self, deadline_at: float) -> Iterator[None]:
        """Held around check-and-launch on this host. lock.py only excludes
        launchers on this machine; clients on several machines (login nodes,
        laptops) share the host's launcher directory, so this lock is a
        directory there, made with SFTP mkdir, which the host makes
        atomically. It names its holder and how long it may hold it; a lock
        left by a holder that died is taken over once that time is past."""
        path = f"{self.base}/locks/{self.spec.key}.lockdir"
        hold = max(1.0, deadline_at - time.monotonic()) + STALE_LOCK_MARGIN
        self._acquire_lock_dir(path, hold, deadline_at)
        try:
            yield
        finally:
            self._remove_lock_dir(path)

    def _acquire_lock_dir(self, path: str, hold: float, deadline_at: float) -> None:
        sftp = self.conn.sftp()
        self._mkdir_p(f"{self.base}/locks")
        delay, next_expiry_check, absent = 0.05, 0.0, 0
        while True:
            try:
                sftp.mkdir(path, 0o700)
                break
            except OSError as exc:  # SFTP says only "failure": see whether it exists
                if not self._exists(path):
                    absent += 1  # released just now, or mkdir cannot work here at all
                    if absent < 3:
                        continue
                    raise ServiceError(f"cannot create the launch lock {self.name}:{path}: "
                                       f"{exc}", service=self.spec.service,
                                       host=self.name) from None
            if time.monotonic() >= next_expiry_check:
                made = self._expired_lock_time(path)
                if made is not None:
                    self._take_over(path, made)
                    continue
                next_expiry_check = time.monotonic() + 2.0
            if time.monotonic() >= deadline_at:
                raise ServiceError(
                    f"{self.spec.service} '{self.spec.key}' on {self.name}: timed out waiting "
                    f"for another launch of it ({self._lock_holder(path)}; lock "
                    f"{path} on {self.name})", service=self.spec.service, host=self.name)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        owner = {"host": socket.gethostname(), "pid": os.getpid(), "hold_seconds": hold}
        try:
            with sftp.open(f"{path}/owner", "wb") as f:
                f.write(json.dumps(owner).encode())
        except BaseException:
            self._remove_lock_dir(path)
            raise

    def _lock_owner(self, path: str) -> dict[str, Any]:
        try:
            owner = json.loads(self._read(f"{path}/owner") or "{}")
        except ValueError:
            return {}
        return owner if isinstance(owner, dict) else {}

    def _lock_holder(self, path: str) -> str:
        owner = self._lock_owner(path)
        if "host" in owner:
            return f"held by {owner.get('host')}, pid {owner.get('pid')}"
        return "holder unknown"

    def _expired_lock_time(self, path: str) -> int | None:
        """The time of the lock at ``path`` if its holder's time is past,
        compared on the host's clock: the directory's time against what the
        host says now."""
        try:
            made = self.conn.sftp().stat(path).st_mtime
        except OSError:
            return None  # released meanwhile: the next mkdir will tell
        hold = self._lock_owner(path).get("hold_seconds")
        if not isinstance(hold, (int, float)):
            hold = STALE_LOCK_MARGIN  # its holder had not written it yet, or died before
        now = _last_int(self.run("date +%s").stdout)
        return made if now is not None and made + hold < now else None

    def _take_over(self, path: str, made: int) -> None:
        """Remove a lock left by a holder that died. It is renamed first, so
        that of several launchers finding it only one removes it; if what
        was renamed is a newer lock (another launcher took over and locked
        in between), it is given back."""
        logger.warning("%s: taking over the launch lock %s on %s, left by %s",
                       self.spec.key, path, self.name, self._lock_holder(path))
        sftp = self.conn.sftp()
        moved = f"{path}.stale-{uuid.uuid4().hex}"
        try:
            sftp.posix_rename(path, moved)
        except OSError:
            return  # another launcher took it over first
        try:
            if sftp.stat(moved).st_mtime != made:
                sftp.posix_rename(moved, path)
                return
        except OSError:
            return
        self._remove_lock_dir(moved)

    def _remove_lock_dir(self, path: str) -> None:
        sftp = self.conn.sftp()
        try:
            with contextlib.suppress(OSError):
                sftp.remove(f"{path}/owner")
            sftp.rmdir(path)
        except OSError as exc:
            logger.warning("%s: could not remove the launch lock %s on %s: %s",
                           self.spec.key, path, self.name, exc)

    def _mkdir_p(self, path: str) -> None:
        if not path or self._exists(path):
            return
        self._mkdir_p(path.rsplit("/", 1)[0])
        with contextlib.suppress(OSError):  # made meanwhile by another launcher
            self.conn.sftp().mkdir(path, 0o700)

    # -- files, over SFTP ------------------------------------------------
    def _read(self, path: str, limit: int | None = None) -> str | None:
        sftp = self.conn.sftp()
        try:
            with sftp.open(path, "rb") as f:
                if limit is not None:
                    size = f.stat().st_size or 0
                    f.seek(max(0, size - limit))
                return f.read().decode("utf-8", "replace")
        except OSError:  # paramiko maps missing files to IOError/OSError
            return None

    def _read_regular(self, path: str, limit: int = state.MAX_STATE_BYTES) -> str | None:
        """A state file if it is a regular file of sane size (a FIFO put in
        its place must not block the session, /dev/zero not fill memory)."""
        import stat as stat_module

        try:
            st = self.conn.sftp().stat(path)
        except OSError:
            return None
        if not stat_module.S_ISREG(st.st_mode or 0) or (st.st_size or 0) > limit:
            logger.warning("%s: ignoring %s on %s: not a regular file of at most %d bytes",
                           self.spec.key, path, self.name, limit)
            return None
        return self._read(path)

    def _exists(self, path: str) -> bool:
        try:
            self.conn.sftp().stat(path)
            return True
        except OSError:
            return False

    def read_state(self) -> dict[str, Any] | None:
        text = self._read_regular(self.state_path)
        if text is None:
            return None
        return state.parse_state(text, f"{self.name}:{self.state_path}")

    def write_state(self, record: dict[str, Any]) -> None:
        write_private(self.conn.sftp(), self.state_path, json.dumps(record).encode())

    def remove_state(self) -> None:
        for path in (self.state_path, self.pid_path):
            try:
                self.conn.sftp().remove(path)
            except OSError:
                pass

    def log_tail(self, lines: int = 20) -> str:
        text = self._read(self.log_path, limit=64 * 1024) or ""
        return "\n".join(text.splitlines()[-lines:])

    # -- processes ---------------------------------------------------------
    def pid_alive(self, pid: Any) -> bool:
        if not valid_pid(pid):
            return False
        if self._has_proc:
            stat = self._read(f"/proc/{pid}/stat")
            if stat is None:
                return False
            fields = stat.rsplit(")", 1)[-1].split()
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

    def is_server(self, pid: Any) -> bool:
        if not self.pid_alive(pid):
            return False
        args = self.cmdline(pid)
        return args is not None and self.identity.matches(args)

    def processes(self) -> list[tuple[int, int, list[str]]]:
        """(pid, parent pid, words) of this user's processes on the host."""
        from .proc import parse_ps

        return parse_ps(self.run('ps -ww -o pid=,ppid=,args= -u "$(id -u)"').stdout)

    def twins(self) -> list[tuple[int, str]]:
        from .proc import top_level

        return [(pid, " ".join(args)) for pid, args in top_level(self.processes())
                if self.identity.matches(args)]

    def expected_argv(self) -> list[str]:
        return self.spec.argv_for(self.state_path)

    def _read_bytes(self, path: str) -> bytes | None:
        try:
            with self.conn.sftp().open(path, "rb") as f:
                return f.read(1 << 20)
        except OSError:
            return None

    def kill(self, pid: int) -> None:
        pid = int(pid)
        term = f"kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid} 2>/dev/null"
        wait = f"i=0; while [ $i -lt 30 ] && {alive_test(pid)}; do sleep 0.1; i=$((i+1)); done"
        kill = f"kill -KILL -- -{pid} 2>/dev/null || kill -KILL {pid} 2>/dev/null"
        self.run(f"{term}; {wait}; if {alive_test(pid)}; then {kill}; fi; true")

    def answers(self, record: dict[str, Any], timeout: float = 2.0) -> bool:
        port = record.get(self.spec.health_port_name)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            return False
        host = health.connect_host(record.get("network_interface"))
        probe = health.probe_for(self.spec.service, self.spec.health_path)
        return channel_answers(self.conn.transport, host, port, probe, timeout)

    # -- launch ------------------------------------------------------------
    def launch(self, deadline_at: float) -> dict[str, Any]:
        """Start the server detached; return its ``running`` record."""
        spec = self.spec
        argv = spec.argv_for(self.state_path)
        if spec.conda:
            argv = ["conda", "run", "--no-capture-output", "-n", spec.conda, *argv]
        command = shlex.join(argv)
        self.remove_state()
        line = launch_line(argv, server_dir=self.server_dir, workdir=spec.workdir,
                           create_workdir=spec.create_workdir, pid_file=self.pid_path,
                           log_file=self.log_path)
        result = self.run(line, timeout=deadline_at - time.monotonic())
        self._check_started(result, argv, command)
        pid = self._wait_pid(deadline_at, command)
        record = state.starting_record(
            workdir=spec.workdir, log=self.log_path, command=command, pid=pid,
            network_interface=spec.network_interface or "localhost",
            parameters=spec.file_parameters, meta=spec.meta, uid=_last_int(result.stdout))
        try:
            self.write_state(record)
            running = self._wait_running(pid, command, deadline_at)
        except BaseException:
            self.abandon(pid, record)
            raise
        with contextlib.suppress(OSError):  # the server rewrote it with its own umask
            self.conn.sftp().chmod(self.state_path, state.PRIVATE_FILE)
        return running

    def abandon(self, pid: int, record: dict[str, Any]) -> None:
        """Kill a server this launch started and leave ``failed`` behind;
        best effort, so that the original error is the one reported."""
        try:
            self.kill(pid)
            self.write_state({**(self.read_state() or record), "status": state.FAILED})
        except Exception as exc:  # the connection itself may be what failed
            logger.warning("%s: cleanup on %s failed: %s", self.spec.key, self.name, exc)

    def _check_started(self, result, argv: list[str], command: str) -> None:
        if result.exited == MISSING_EXECUTABLE:
            raise launch_error(
                self.spec, self.name, f"executable '{argv[0]}' not found on the remote "
                f"PATH (exit {MISSING_EXECUTABLE})", command=command,
                hint="install it there, or set conda to the environment that has it")
        if result.exited == WORKDIR_FAILED:
            raise launch_error(
                self.spec, self.name, f"cannot create its data directory {self.spec.workdir}: "
                f"{result.stderr.strip()}", command=command,
                hint="choose a writable location (bufferdir / database_dir)")
        if not result.ok:
            raise launch_error(self.spec, self.name, f"the launch command failed "
                               f"(exit {result.exited}): {result.stderr.strip()}",
                               command=command)

    def _wait_pid(self, deadline_at: float, command: str) -> int:
        while True:
            text = self._read(self.pid_path)
            if text and text.strip().isdigit():
                return int(text.strip())
            if time.monotonic() >= deadline_at:
                raise launch_error(self.spec, self.name, "the detached server never started "
                                   "(no pid file; is 'setsid' installed?)", command=command,
                                   log_tail=self.log_tail())
            time.sleep(POLL)

    def _wait_running(self, pid: int, command: str, deadline_at: float) -> dict[str, Any]:
        start = time.monotonic()
        while True:
            record = self.read_state() or {}
            status = record.get("status")
            if status == state.FAILED:
                raise self._died("reported status 'failed'", command)
            if status == state.RUNNING and self.answers(record) and self.pid_alive(pid):
                return record
            if not self.pid_alive(pid):
                raise self._died("exited before answering its health check", command)
            if time.monotonic() >= deadline_at:
                raise self._died(f"not healthy after {time.monotonic() - start:.0f} s "
                                 f"(status: {status}, port: {record.get('port')})", command)
            time.sleep(POLL)

    def _died(self, what: str, command: str) -> ServiceError:
        time.sleep(POLL)
        return launch_error(self.spec, self.name, what, command=command,
                            log_tail=self.log_tail())


def _last_int(text: str) -> int | None:
    lines = text.strip().splitlines()
    return int(lines[-1]) if lines and lines[-1].strip().isdigit() else None


def write_private(sftp, path: str, data: bytes) -> None:
    """Write ``path`` over SFTP atomically, readable by its owner only."""
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with sftp.open(tmp, "wb") as f:
        f.chmod(0o600)
        f.write(data)
    sftp.posix_rename(tmp, path)


def channel_healthy(transport, host: str, port: int, path: str, timeout: float) -> bool:
    """``GET /<path>`` sent from the SSH server's side to ``host:port``."""
    return channel_answers(transport, host, port, health.probe_for(None, path), timeout)


def channel_answers(transport, host: str, port: int, probe: "health.Probe",
                    timeout: float) -> bool:
    """``probe`` sent from the SSH server's side to ``host:port`` through a
    ``direct-tcpip`` channel; True when the answer passes its test."""
    import paramiko

    from .http import parse_response

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

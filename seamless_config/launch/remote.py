"""Start one server on a frontend over SSH (``ssh_host.SshHost``).

The remote side keeps the same files as a local launch, under the host's
launcher directory. The server is detached with ``setsid -f`` so that it
outlives the SSH connection, and that launch line is the only shell text
built from spec values (each word ``shlex.quote``d). Launchers on several
machines share that directory, so check-and-launch is also locked there.
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
from . import state
from .local import WRITABLE_HINT, launch_error
from .ssh_host import SshHost, open_host
from ..plan.spec import LaunchSpec

logger = logging.getLogger("seamless_config")

POLL = 0.1
# How long past its own deadline a launch lock on a host is respected: a
# holder that died leaves the lock behind, and it is taken over after that.
STALE_LOCK_MARGIN = 60.0
MISSING_EXECUTABLE = 127
WORKDIR_FAILED = 125


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
        # >> on the log emptied above: seamless-dask appends to it too
        f"setsid -f sh -c {shlex.quote(inner)} >> {shell_word(log_file)} 2>&1 < /dev/null",
        "id -u",
    ])


def open_remote(spec: LaunchSpec, deadline_at: float) -> "RemoteLaunch":
    """The launch of ``spec`` on its host, over a new SSH session."""
    return RemoteLaunch(spec, open_host(spec.hostname, spec.ssh_hostname, spec.service,
                                        deadline_at))


class RemoteLaunch:
    """The launch of ``spec`` on ``host``: a launch lock there, and the
    detached start. Closing it closes the session."""

    def __init__(self, spec: LaunchSpec, host: SshHost):
        self.spec = spec
        self.host = host
        self.name = host.name

    def close(self) -> None:
        self.host.close()

    def __enter__(self) -> "RemoteLaunch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- a lock on the host, for launchers on different machines ----------
    @contextlib.contextmanager
    def launch_lock(self, deadline_at: float) -> Iterator[None]:
        """Held around check-and-launch on this host. lock.py only excludes
        launchers on this machine; clients on several machines (login nodes,
        laptops) share the host's launcher directory, so this lock is a
        directory there, made with SFTP mkdir, which the host makes
        atomically. It names its holder and how long it may hold it; a lock
        left by a holder that died is taken over once that time is past."""
        path = f"{self.host.base}/locks/{self.spec.key}.lockdir"
        hold = max(1.0, deadline_at - time.monotonic()) + STALE_LOCK_MARGIN
        self._acquire_lock_dir(path, hold, deadline_at)
        try:
            yield
        finally:
            self._remove_lock_dir(path)

    def _acquire_lock_dir(self, path: str, hold: float, deadline_at: float) -> None:
        sftp = self.host.sftp
        self._mkdir_p(f"{self.host.base}/locks")
        delay, next_expiry_check, absent = 0.05, 0.0, 0
        while True:
            try:
                sftp.mkdir(path, 0o700)
                break
            except OSError as exc:  # SFTP says only "failure": see whether it exists
                if not self.host.exists(path):
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
            owner = json.loads(self.host.read_text(f"{path}/owner") or "{}")
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
            made = self.host.sftp.stat(path).st_mtime
        except OSError:
            return None  # released meanwhile: the next mkdir will tell
        hold = self._lock_owner(path).get("hold_seconds")
        if not isinstance(hold, (int, float)):
            hold = STALE_LOCK_MARGIN  # its holder had not written it yet, or died before
        now = _last_int(self.host.run("date +%s").stdout)
        return made if now is not None and made + hold < now else None

    def _take_over(self, path: str, made: int) -> None:
        """Remove a lock left by a holder that died. It is renamed first, so
        that of several launchers finding it only one removes it; if what
        was renamed is a newer lock (another launcher took over and locked
        in between), it is given back."""
        logger.warning("%s: taking over the launch lock %s on %s, left by %s",
                       self.spec.key, path, self.name, self._lock_holder(path))
        sftp = self.host.sftp
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
        sftp = self.host.sftp
        try:
            with contextlib.suppress(OSError):
                sftp.remove(f"{path}/owner")
            sftp.rmdir(path)
        except OSError as exc:
            logger.warning("%s: could not remove the launch lock %s on %s: %s",
                           self.spec.key, path, self.name, exc)

    def _mkdir_p(self, path: str) -> None:
        if not path or self.host.exists(path):
            return
        self._mkdir_p(path.rsplit("/", 1)[0])
        with contextlib.suppress(OSError):  # made meanwhile by another launcher
            self.host.sftp.mkdir(path, 0o700)

    # -- launch ------------------------------------------------------------
    def launch(self, deadline_at: float) -> dict[str, Any]:
        """Start the server detached; return its ``running`` record."""
        spec, host = self.spec, self.host
        argv = spec.argv_for(host.state_path(spec.key))
        if spec.conda:
            argv = ["conda", "run", "--no-capture-output", "-n", spec.conda, *argv]
        command = shlex.join(argv)
        host.remove(spec.key)
        log_path = host.log_path(spec.key)
        line = launch_line(argv, server_dir=host.server_dir, workdir=spec.workdir,
                           create_workdir=spec.create_workdir,
                           pid_file=host.path(spec.key, ".pid"), log_file=log_path)
        result = host.run(line, timeout=deadline_at - time.monotonic())
        self._check_started(result, argv, command)
        pid = self._wait_pid(deadline_at, command)
        record = state.starting_record(
            workdir=spec.workdir, log=log_path, command=command, pid=pid,
            network_interface=spec.network_interface or "localhost",
            parameters=spec.file_parameters, meta=spec.meta, uid=_last_int(result.stdout))
        try:
            host.write(spec.key, record)
            running = self._wait_running(pid, command, deadline_at)
        except BaseException:
            self.abandon(pid, record)
            raise
        with contextlib.suppress(OSError):  # the server rewrote it with its own umask
            host.sftp.chmod(host.state_path(spec.key), state.PRIVATE_FILE)
        return running

    def abandon(self, pid: int, record: dict[str, Any]) -> None:
        """Kill a server this launch started and leave ``failed`` behind;
        best effort, so that the original error is the one reported."""
        try:
            self.host.kill(pid)
            self.host.write(self.spec.key,
                            {**(self.host.read(self.spec.key) or record), "status": state.FAILED})
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
                f"{result.stderr.strip()}", command=command, hint=WRITABLE_HINT)
        if not result.ok:
            raise launch_error(self.spec, self.name, f"the launch command failed "
                               f"(exit {result.exited}): {result.stderr.strip()}",
                               command=command)

    def _wait_pid(self, deadline_at: float, command: str) -> int:
        while True:
            text = self.host.read_text(self.host.path(self.spec.key, ".pid"))
            if text and text.strip().isdigit():
                return int(text.strip())
            if time.monotonic() >= deadline_at:
                raise launch_error(self.spec, self.name, "the detached server never started "
                                   "(no pid file; is 'setsid' installed?)", command=command,
                                   log_tail=self._log_tail())
            time.sleep(POLL)

    def _wait_running(self, pid: int, command: str, deadline_at: float) -> dict[str, Any]:
        spec, host = self.spec, self.host
        start = time.monotonic()
        while True:
            record = host.read(spec.key) or {}
            status = record.get("status")
            if status == state.FAILED:
                raise self._died("reported status 'failed'", command)
            if status == state.RUNNING and host.answers(
                    record, spec.service, spec.health_path, spec.health_port_name) \
                    and host.alive(pid):
                return record
            if not host.alive(pid):
                raise self._died("exited before answering its health check", command)
            if time.monotonic() >= deadline_at:
                raise self._died(f"not healthy after {time.monotonic() - start:.0f} s "
                                 f"(status: {status}, port: {record.get('port')})", command)
            time.sleep(POLL)

    def _log_tail(self) -> str:
        return self.host.tail(self.host.log_path(self.spec.key))

    def _died(self, what: str, command: str) -> ServiceError:
        time.sleep(POLL)
        return launch_error(self.spec, self.name, what, command=command,
                            log_tail=self._log_tail())


def _last_int(text: str) -> int | None:
    lines = text.strip().splitlines()
    return int(lines[-1]) if lines and lines[-1].strip().isdigit() else None

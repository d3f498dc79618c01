"""Start one server on this machine and wait until it answers.

Protocol (COMPAT.md sections 3 and 4): start the server with
``--status-file`` pointing at ``server/<key>.json``, then write the
``starting`` record with its pid; the server (which waits for that file)
keeps the record's fields and adds ``status: running`` and ``port``.
``running`` alone proves nothing (hashserver writes it before binding), so
the launch succeeds only when the health check answers while the process
still lives. Any failure kills the process group and leaves ``failed``.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import threading
import time
from typing import Any

from ..core.vocabulary import STORAGE_DIRECTORY
from ..errors import ServiceError
from . import health, state
from .executables import server_executable
from .proc import kill_process, pid_alive  # noqa: F401  (pid_alive: this module's interface)
from ..plan.spec import LaunchSpec

logger = logging.getLogger("seamless_config")

# How often a starting server's state file and port are looked at: each
# look is a small file read and at most one refused connection, and the
# wait is the whole of a cold seamless-init (0.05 s cost it ~25 ms on
# average; measured with the full stack: cold median ~700 -> ~520 ms).
POLL = 0.01
LAST_WORDS = 0.05  # for a dying server's last lines to reach its log
# Where a data directory that cannot be made is configured.
WRITABLE_HINT = f"choose a writable location ({' / '.join(STORAGE_DIRECTORY.values())})"


def launch_error(spec: LaunchSpec, host: str, what: str, *, command: str | None,
                 log_tail: str = "", hint: str | None = None) -> ServiceError:
    """The one shape of a launch failure: service, key, host, what happened,
    a hint read from the log when it tells the cause, command and log tail."""
    hint = hint or diagnose(spec, log_tail)
    message = f"{spec.service} '{spec.key}' on {host}: {what}"
    if hint:
        message += f"; {hint}"
    return ServiceError(message, service=spec.service, host=host, command=command,
                        log_tail=log_tail or None)


# how MissingExtraError names its remedy (errors.py)
EXTRA_NAMED = re.compile(r'pip install "seamless-config\[[a-z]+\]"')


def diagnose(spec: LaunchSpec, log_tail: str) -> str | None:
    extra = EXTRA_NAMED.search(log_tail)
    if extra:  # the server's own one-line report of a missing optional package
        return f"install the missing extra where the server runs: {extra.group(0)}"
    text = log_tail.lower()
    if "no free port available" in text or "already in use" in text:
        ports = ""
        if spec.port_start is not None:
            ports = f" {spec.port_start}-{spec.port_end}"
        return (f"the port range{ports} is exhausted (every port in it is taken); "
                "free a port or widen port_start/port_end")
    if "permission denied" in text or "read-only file system" in text:
        return "the data directory is not writable; check its path and permissions"
    if "not a directory" in text or "unable to open database file" in text:
        return "the data directory cannot be created or opened; check its path"
    if "does not exist" in text:
        return "a file or directory it needs does not exist"
    return None


def launch(spec: LaunchSpec, deadline_at: float) -> dict[str, Any]:
    """Start the server of ``spec``; return its ``running`` state record."""
    status_path = state.server_state_path(spec.key)
    log_path = state.server_log_path(spec.key)
    workdir = os.path.expanduser(spec.workdir)
    if spec.create_workdir:
        _make_workdir(spec, workdir)
    state.remove_server(spec.key)
    argv = _with_conda(spec, spec.argv_for(status_path))
    proc = _spawn(spec, argv, workdir, log_path)
    record = state.starting_record(
        workdir=spec.workdir, log=log_path, command=shlex.join(argv), pid=proc.pid,
        network_interface=spec.network_interface or "localhost",
        parameters=spec.file_parameters, meta=spec.meta)
    try:
        state.write_server(spec.key, record)
        running = _wait_running(spec, proc, argv, log_path, deadline_at)
    except BaseException:
        kill_process(proc.pid)
        _reap(proc, timeout=1.0)
        state.mark_failed(spec.key, state.read_server(spec.key) or record)
        raise
    _reap_in_background(proc, spec.key)
    _keep_private(status_path)
    return running


def _keep_private(path: str) -> None:
    # The server rewrites its state file with its own umask (often 0644);
    # the directory already keeps others out, the file mode says so too.
    try:
        os.chmod(path, state.PRIVATE_FILE)
    except OSError:
        pass


def _make_workdir(spec: LaunchSpec, workdir: str) -> None:
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as exc:
        raise launch_error(
            spec, "localhost", f"cannot create its data directory {workdir}: "
            f"{exc.strerror or exc}", command=shlex.join(spec.argv),
            hint=WRITABLE_HINT) from None


def _with_conda(spec: LaunchSpec, argv: list[str]) -> list[str]:
    """The argv that runs: the executable found beside this interpreter or
    on PATH (``executables``), or the name inside the conda environment."""
    if not spec.conda:
        return [server_executable(argv[0]) or argv[0], *argv[1:]]
    import shutil  # ~5 ms (zlib, bz2, lzma): only for conda, not before every launch

    conda = shutil.which("conda")
    if conda is None:
        logger.warning("%s: conda environment '%s' requested but no 'conda' on PATH; "
                       "running from the current environment", spec.key, spec.conda)
        return argv
    return [conda, "run", "--no-capture-output", "-n", spec.conda, *argv]


def _spawn(spec: LaunchSpec, argv: list[str], workdir: str, log_path: str) -> subprocess.Popen:
    state.private_dir(os.path.dirname(log_path))
    cwd = workdir if os.path.isdir(workdir) else os.getcwd()
    # PWD as a shell's cd would leave it: some programs take their directory
    # from it rather than from getcwd() (oarsub puts a job's OAR.*.stdout
    # and .stderr in $PWD), and ours would name the user's directory.
    env = {**os.environ, "PWD": cwd}
    # A fresh log, in append mode: seamless-dask's wrapper appends its own
    # lines (the job script it submits) to this same file, which the
    # server's output at its own offset would overwrite.
    with os.fdopen(state.open_private(log_path, append=True, truncate=True), "wb") as log:
        try:
            # A new session: the server must survive this process and its
            # terminal, and the whole group can be killed on failure.
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                    start_new_session=True, close_fds=True)
        except FileNotFoundError:
            raise launch_error(
                spec, "localhost", f"executable '{argv[0]}' not found on PATH",
                command=shlex.join(argv),
                hint="install the server (pip install seamless-config[servers]) or "
                     "select the environment that has it (conda)") from None
        except PermissionError as exc:
            raise launch_error(spec, "localhost", f"cannot execute '{argv[0]}': {exc.strerror}",
                               command=shlex.join(argv)) from None


def _wait_running(spec: LaunchSpec, proc: subprocess.Popen, argv: list[str],
                  log_path: str, deadline_at: float) -> dict[str, Any]:
    command = shlex.join(argv)
    start = time.monotonic()
    while True:
        record = state.read_server(spec.key) or {}
        if record.get("status") == state.FAILED:
            raise _died(spec, "reported status 'failed'", command, log_path)
        port = record.get(spec.health_port_name)
        if record.get("status") == state.RUNNING and isinstance(port, int):
            host = health.connect_host(record.get("network_interface"))
            # Alive after answering: a server that lost the port race answers
            # through the winner's socket, then exits.
            if health.answers_as(spec.service, host, port, spec.health_path, timeout=2.0) \
                    and proc.poll() is None:
                return record
        code = proc.poll()
        if code is not None:
            raise _died(spec, f"exited with code {code} before answering its health check",
                        command, log_path)
        if time.monotonic() >= deadline_at:
            what = (f"not healthy after {time.monotonic() - start:.0f} s "
                    f"(status: {record.get('status')}, port: {port})")
            raise _died(spec, what, command, log_path)
        time.sleep(POLL)


def _died(spec: LaunchSpec, what: str, command: str, log_path: str) -> ServiceError:
    time.sleep(LAST_WORDS)
    return launch_error(spec, "localhost", what, command=command,
                        log_tail=state.tail(log_path))


def _reap(proc: subprocess.Popen, timeout: float) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def _reap_in_background(proc: subprocess.Popen, key: str) -> None:
    # Without a waiter, a server that dies while this process lives stays a
    # zombie of ours; a daemon thread reaps it and dies with the process.
    threading.Thread(target=proc.wait, name=f"reap-{key}", daemon=True).start()

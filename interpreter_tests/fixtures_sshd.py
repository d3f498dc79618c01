"""Fixtures for launch tests: a private sshd on loopback, a fake HOME, and
cleanup of every process a test started (by pid, read from state files).

``conftest.py`` re-exports ``__all__`` (the fixtures and helpers). Nothing is installed here: a missing sshd fails the test
with the package to install.

This machine's PID 1 does not reap orphans, so detached servers that die
would linger as zombies; the test process makes itself a child subreaper
and reaps what it kills.
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from seamless_config.launch.local import pid_alive

__all__ = ["sshd", "fake_home", "remote_cleanup", "SshServer", "become_subreaper",
           "free_port", "kill_pid", "kill_started", "started_pids", "hashserver_spec",
           "database_spec", "jobserver_spec", "REPO"]

SSHD = "/usr/sbin/sshd"
PR_SET_CHILD_SUBREAPER = 36
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def become_subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- cleanup by pid ----------------------------------------------------------

def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def started(argv: list[str], timeout: float = 10.0) -> subprocess.Popen:
    """``Popen(argv)`` in a new session, returned once the child runs
    ``argv``: until its exec, /proc shows the parent's command line, which
    an identity check rightly takes for another program."""
    proc = subprocess.Popen(argv, start_new_session=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                if f.read().split(b"\0")[:-1] == [os.fsencode(a) for a in argv]:
                    return proc
        except OSError:
            pass
        time.sleep(0.005)
    proc.kill()
    raise AssertionError(f"{argv[:3]} did not start within {timeout} s")


def kill_pid(pid: int, grace: float = 3.0) -> None:
    """SIGTERM (group first), SIGKILL after ``grace``; reap if it is ours."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not pid_alive(pid):
            break
        for target in (lambda: os.killpg(pid, sig), lambda: os.kill(pid, sig)):
            try:
                target()
                break
            except (ProcessLookupError, PermissionError):
                continue
        end = time.monotonic() + grace
        while pid_alive(pid) and time.monotonic() < end:
            _reap(pid)
            time.sleep(0.05)
    _reap(pid)


def started_pids(launcher_dir: str) -> set[int]:
    """Server pids, tunnel pids and remote pid files under a launcher dir."""
    pids: set[int] = set()
    for path in glob.glob(os.path.join(launcher_dir, "server", "*.json")) + \
            glob.glob(os.path.join(launcher_dir, "client", "*.json")) + \
            glob.glob(os.path.join(launcher_dir, "*.json")):
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        for name in ("pid", "tunnel_pid"):
            if isinstance(data, dict) and isinstance(data.get(name), int):
                pids.add(data[name])
    for path in glob.glob(os.path.join(launcher_dir, "server", "*.pid")):
        try:
            with open(path) as f:
                pids.add(int(f.read().strip()))
        except (OSError, ValueError):
            continue
    return {p for p in pids if p > 1 and p != os.getpid()}


def kill_started(*launcher_dirs: str) -> None:
    for directory in launcher_dirs:
        for pid in started_pids(directory):
            kill_pid(pid)
    reap_zombie_children()


def reap_zombie_children() -> None:
    """Reap dead orphans handed to us as subreaper (detached servers, ssh
    session helpers); live children and other processes are left alone."""
    for pid in _children(os.getpid()):
        try:
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(")", 1)[-1].split()[0] == "Z"
        except (OSError, IndexError):
            continue
        if zombie:
            _reap(pid)


# -- fake HOME ----------------------------------------------------------------

@pytest.fixture
def fake_home(tmp_path, monkeypatch):
    """A fresh HOME with REMOTE_HTTP_LAUNCHER_DIR under it; at teardown every
    process recorded in its state files is killed."""
    become_subreaper()
    home = tmp_path / "home"
    home.mkdir()
    launcher_dir = home / ".remote-http-launcher"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(launcher_dir))
    try:
        yield home
    finally:
        kill_started(str(launcher_dir))


# -- sshd ---------------------------------------------------------------------

@dataclass(frozen=True)
class SshServer:
    port: int
    alias: str
    remote_launcher_dir: str
    key_file: str

    def write_client_config(self, home, hosts: dict[str, int] | None = None,
                            key_file: str | None = None) -> str:
        """Write ``<home>/.ssh/config`` with one entry per alias -> port
        (default: this server under its alias)."""
        hosts = hosts if hosts is not None else {self.alias: self.port}
        ssh_dir = os.path.join(str(home), ".ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        text = "".join(
            f"Host {alias}\n HostName 127.0.0.1\n Port {port}\n User root\n"
            f" IdentityFile {key_file or self.key_file}\n IdentitiesOnly yes\n"
            " StrictHostKeyChecking no\n UserKnownHostsFile /dev/null\n LogLevel ERROR\n"
            for alias, port in hosts.items())
        path = os.path.join(ssh_dir, "config")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)  # OpenSSH refuses group/world-writable configs
        return path


def _keygen(path: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path],
                   check=True, stdin=subprocess.DEVNULL)


def _sshd_config(directory: str, port: int, remote_dir: str) -> str:
    path_env = f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin"
    lines = [
        f"Port {port}", "ListenAddress 127.0.0.1",
        f"HostKey {directory}/hostkey", f"PidFile {directory}/sshd.pid",
        f"AuthorizedKeysFile {directory}/authorized_keys",
        "PubkeyAuthentication yes", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
        "PermitRootLogin prohibit-password", "AllowTcpForwarding yes",
        "Subsystem sftp /usr/lib/openssh/sftp-server",
        f"SetEnv PATH={path_env} REMOTE_HTTP_LAUNCHER_DIR={remote_dir}",
    ]
    path = os.path.join(directory, "sshd_config")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _start_sshd(directory: str, remote_dir: str):
    """(process, port) of an sshd that answers with its banner; retries when
    the chosen port was taken in between (sshd then exits 255)."""
    for _ in range(3):
        port = free_port()
        config = _sshd_config(directory, port, remote_dir)
        log = open(os.path.join(directory, "sshd.log"), "ab")
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", config], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
        log.close()
        end = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < end:
            if _banner(port):
                return proc, port
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(os.path.join(directory, "sshd.log")) as f:
        pytest.fail("sshd did not start:\n" + f.read()[-2000:])


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A private sshd on a free loopback port, root login by key only."""
    if not os.path.exists(SSHD):
        pytest.fail("install openssh-server (.ci/run does)")
    become_subreaper()
    directory = str(tmp_path_factory.mktemp("sshd"))
    _keygen(os.path.join(directory, "hostkey"))
    key_file = os.path.join(directory, "userkey")
    _keygen(key_file)
    with open(key_file + ".pub") as src, open(os.path.join(directory, "authorized_keys"), "w") as dst:
        dst.write(src.read())
    remote_dir = os.path.join(directory, "remote-launcher")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    proc, port = _start_sshd(directory, remote_dir)
    try:
        yield SshServer(port=port, alias="seamless-test-sshd",
                        remote_launcher_dir=remote_dir, key_file=key_file)
    finally:
        kill_started(remote_dir)
        _stop_sshd(proc)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[-1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _stop_sshd(proc) -> None:
    """Let closing connections finish, stop sshd, then kill and reap the
    connection processes it leaves (they become ours as subreaper)."""
    end = time.monotonic() + 3
    while _children(proc.pid) and time.monotonic() < end:
        time.sleep(0.05)
    leftovers = _children(proc.pid)
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in leftovers:
        kill_pid(pid, grace=1.0)
    reap_zombie_children()


@pytest.fixture
def remote_cleanup(sshd):
    """Kill, after the test, every process recorded on the sshd side."""
    yield sshd
    kill_started(sshd.remote_launcher_dir)


# -- launch specs built by hand (what tools.py would produce) -----------------

PORTS = (40000, 49999)


def hashserver_spec(root, key: str, *, ports=PORTS, writable: bool = True, **fields):
    from seamless_config.plan.spec import STATUS_FILE, LaunchSpec

    workdir = fields.pop("workdir", os.path.join(str(root), "buffers"))
    argv = ["hashserver", workdir] + (["--writable"] if writable else []) + [
        "--port-range", str(ports[0]), str(ports[1]), "--status-file", STATUS_FILE,
        "--host", "127.0.0.1", "--timeout", "600"]
    return LaunchSpec(service="hashserver", key=key, argv=tuple(argv), workdir=workdir,
                      log_file=os.path.join(str(root), "launch-logs", key + ".log"),
                      network_interface="127.0.0.1", port_start=ports[0], port_end=ports[1],
                      **fields)


def database_spec(root, key: str, *, ports=PORTS, **fields):
    from seamless_config.plan.spec import STATUS_FILE, LaunchSpec

    workdir = fields.pop("workdir", os.path.join(str(root), "database"))
    dbfile = fields.pop("dbfile", os.path.join(workdir, "seamless.db"))
    argv = ["seamless-database", dbfile, "--writable", "--port-range", str(ports[0]),
            str(ports[1]), "--status-file", STATUS_FILE, "--host", "127.0.0.1",
            "--timeout", "600"]
    return LaunchSpec(service="database", key=key, argv=tuple(argv), workdir=workdir,
                      log_file=os.path.join(str(root), "launch-logs", key + ".log"),
                      network_interface="127.0.0.1", port_start=ports[0], port_end=ports[1],
                      **fields)


def jobserver_spec(root, key: str, *, ports=PORTS, **fields):
    from seamless_config.plan.spec import STATUS_FILE, LaunchSpec

    workdir = os.path.join(str(root), "jobserver")
    argv = ["seamless-jobserver", "--workers", "1", "--port-range", str(ports[0]),
            str(ports[1]), "--status-file", STATUS_FILE, "--host", "127.0.0.1",
            "--timeout", "600"]
    return LaunchSpec(service="jobserver", key=key, argv=tuple(argv), workdir=workdir,
                      log_file=os.path.join(str(root), "launch-logs", key + ".log"),
                      network_interface="127.0.0.1", port_start=ports[0], port_end=ports[1],
                      **fields)

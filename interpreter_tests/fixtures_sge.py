"""A private single-node Grid Engine (Son of Grid Engine 8.1.9) for the
dask-jobqueue tests.

``sge_cluster`` (session) builds a cell whose whole state (configuration,
spool, per-job TMPDIR) lives in a fresh temporary directory, starts
``sge_qmaster`` and ``sge_execd`` (both daemonize: their pids come from
their pid files, and they are ours as subreaper) and stops them by pid.
``sge`` (per test) sets the four variables every SGE client needs and
deletes the test's jobs afterwards. Nothing is installed here and nothing
outside the directory is touched; SCHEDULERS.md lists the facts this
relies on.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from interpreter_tests.fixtures_oar import (descendants, free_ports, scheduler_packages_missing,
                                            tail)
from interpreter_tests.fixtures_sshd import become_subreaper, kill_pid, reap_zombie_children

__all__ = ["sge_cluster", "sge", "SgeCluster"]

SHARE = "/usr/share/gridengine"
LIB = "/usr/lib/gridengine"
NEEDED = ("/usr/sbin/sge_qmaster", "/usr/sbin/sge_execd", LIB + "/spoolinit",
          LIB + "/spooldefaults", "/usr/bin/qconf", "/usr/bin/qsub", "/usr/bin/qstat",
          "/usr/bin/qdel", SHARE + "/default-configuration", "/var/lib/gridengine/bin")
PORTS = (47950, 47999)  # sge_qmaster and sge_execd; the SGE tests use 47200-47399
READY_SECONDS = 30
QUEUE = "all.q"
# qstat -f once the host reports load: "all.q@vm  BI  0/0/2  0.15  lx-amd64" (no state letters)
READY_LINE = re.compile(r"^all\.q@\S+\s+BI\s+0/0/\d+\s+[\d.]+\s+lx-amd64\s*$", re.M)


@dataclass(frozen=True)
class SgeCluster:
    root: str  # SGE_ROOT: every file of this cell
    host: str
    qmaster_port: int
    execd_port: int
    queue: str = QUEUE

    @property
    def variables(self) -> dict[str, str]:
        """What every SGE client and daemon needs, and nothing else."""
        return {"SGE_ROOT": self.root, "SGE_CELL": "default",
                "SGE_QMASTER_PORT": str(self.qmaster_port),
                "SGE_EXECD_PORT": str(self.execd_port)}

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.variables}

    def run(self, *argv: str, check: bool = True, cwd: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=check, cwd=cwd, stdin=subprocess.DEVNULL)

    def pid(self, daemon: str) -> int | None:
        """The daemon's pid from its pid file, if that process is one we
        started (a descendant of this test process) and still alive."""
        pattern = {"qmaster": "spool/qmaster/qmaster.pid",
                   "execd": "spool/execd/*/execd.pid"}[daemon]  # execd's dir: the resolved name
        for path in glob.glob(os.path.join(self.root, pattern)):
            try:
                with open(path) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if pid in descendants(os.getpid()):
                return pid
        return None

    def jobs(self) -> list[str]:
        if self.pid("qmaster") is None:  # qstat would retry a dead qmaster for many seconds
            return []
        out = self.run("qstat", "-u", "*", check=False).stdout.splitlines()
        return [ln.split()[0] for ln in out[2:] if ln.strip()]

    def delete_all(self, wait: float = 10.0) -> None:
        """Only this fixture's qmaster sees these jobs: deleting every job
        is safe here and nowhere else. Stopping execd would not stop them."""
        if self.jobs():
            self.run("qdel", "-f", "-u", "*", check=False)
        end = time.monotonic() + wait
        while self.jobs() and time.monotonic() < end:
            time.sleep(0.2)
        self._kill_job_processes()

    def _kill_job_processes(self) -> None:
        """sge_shepherd and the job below execd, and what they left to us."""
        daemons = {self.pid("qmaster"), self.pid("execd")}
        execd = self.pid("execd")
        doomed = set(descendants(execd)) if execd else set()
        marker = f"SGE_ROOT={self.root}".encode()
        for pid in descendants(os.getpid()):
            if pid not in daemons and _environ_has(pid, marker):
                doomed.add(pid)
        for pid in doomed:
            kill_pid(pid, grace=0.2)
        reap_zombie_children()

    def log_tail(self) -> str:
        logs = [os.path.join(self.root, n) for n in ("setup.log", "qmaster.out", "execd.out")]
        logs += glob.glob(os.path.join(self.root, "spool", "qmaster", "messages"))
        logs += glob.glob(os.path.join(self.root, "spool", "execd", "*", "messages"))
        return "\n".join(f"--- {path}\n" + tail(path) for path in logs)


def _environ_has(pid: int, entry: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return entry in f.read().split(b"\0")
    except OSError:
        return False


# -- the cell -------------------------------------------------------------------------------

def _bootstrap(root: str) -> str:
    # admin_user root: the daemons stay root, nothing to chown to sgeadmin
    return "".join(f"{k:<24}{v}\n" for k, v in (
        ("admin_user", "root"), ("default_domain", "none"), ("ignore_fqdn", "true"),
        ("spooling_method", "berkeleydb"), ("spooling_lib", "libspoolb"),
        ("spooling_params", f"{root}/spool/spooldb"), ("binary_path", "/usr/sbin"),
        ("qmaster_spool_dir", f"{root}/spool/qmaster"), ("security_mode", "none"),
        ("listener_threads", "2"), ("worker_threads", "2"), ("scheduler_threads", "1")))


def _replace_keys(text: str, values: dict[str, str]) -> str:
    """SGE's 'key value' configuration text with some values replaced."""
    lines = []
    for line in text.splitlines():
        key = line.split(None, 1)[0] if line.strip() else ""
        lines.append(f"{key} {values[key]}" if key in values else line)
    return "\n".join(lines) + "\n"


def _write_cell(cluster: SgeCluster) -> None:
    root = cluster.root
    for sub in ("default/common", "spool/qmaster/job_scripts", "spool/spooldb",
                "spool/execd", "conf", "tmp"):
        os.makedirs(os.path.join(root, sub), mode=0o700)
    for name in ("bin", "lib", "utilbin", "util"):  # found relative to SGE_ROOT
        os.symlink(f"/var/lib/gridengine/{name}", os.path.join(root, name))
    common = os.path.join(root, "default", "common")
    files = {
        "bootstrap": _bootstrap(root),
        # hostname -> 127.0.0.1 -> 'localhost' (first name in /etc/hosts): without the
        # alias every client is refused ("client IP resolved to host name localhost")
        "host_aliases": f"{cluster.host} localhost\n",
        "act_qmaster": f"{cluster.host}\n",
    }
    for name, text in files.items():
        with open(os.path.join(common, name), "w") as f:
            f.write(text)
    with open(SHARE + "/default-configuration") as f:
        default = f.read()
    # root's jobs allowed (min_uid 0), load reports often, no mail; the file must be
    # named after the configuration: "global"
    with open(os.path.join(root, "conf", "global"), "w") as f:
        f.write(_replace_keys(default, {
            "execd_spool_dir": f"{root}/spool/execd", "min_uid": "0", "min_gid": "0",
            "load_report_time": "00:00:05", "mailer": "/bin/true"}))


def _spool_defaults(cluster: SgeCluster) -> None:
    root = cluster.root
    for argv in ([LIB + "/spoolinit", "berkeleydb", "libspoolb", f"{root}/spool/spooldb", "init"],
                 [LIB + "/spooldefaults", "configuration", f"{root}/conf/global"],
                 [LIB + "/spooldefaults", "complexes", SHARE + "/util/resources/centry"],
                 [LIB + "/spooldefaults", "usersets", SHARE + "/util/resources/usersets"],
                 [LIB + "/spooldefaults", "managers", "root"]):
        _setup(cluster, argv)


def _setup(cluster: SgeCluster, argv: list[str]) -> str:
    done = cluster.run(*argv, check=False)
    with open(os.path.join(cluster.root, "setup.log"), "a") as log:  # what went wrong, if any
        log.write(f"$ {' '.join(argv)}\n{done.stdout if done.returncode else ''}{done.stderr}")
    if done.returncode:
        pytest.fail(f"{' '.join(argv)} failed (exit {done.returncode}):\n{cluster.log_tail()}")
    return done.stdout


def _qconf_add(cluster: SgeCluster, option: str, name: str, text: str) -> None:
    path = os.path.join(cluster.root, "conf", name)
    with open(path, "w") as f:
        f.write(text)
    _setup(cluster, ["qconf", option, path])


def _configure(cluster: SgeCluster) -> None:
    """Submit host, a 1 s scheduler, this host as exec host in @allhosts,
    and the queue (from qconf's template)."""
    _setup(cluster, ["qconf", "-as", cluster.host])
    _qconf_add(cluster, "-Msconf", "sched", _replace_keys(
        _setup(cluster, ["qconf", "-ssconf"]),
        {"schedule_interval": "0:0:1", "flush_submit_sec": "1", "flush_finish_sec": "1"}))
    _qconf_add(cluster, "-Ae", "exechost", f"hostname {cluster.host}\n" + "".join(
        f"{k} NONE\n" for k in ("load_scaling", "complex_values", "user_lists", "xuser_lists",
                                "projects", "xprojects", "usage_scaling", "report_variables")))
    _qconf_add(cluster, "-Ahgrp", "hostgroup", f"group_name @allhosts\nhostlist {cluster.host}\n")
    _qconf_add(cluster, "-Aq", "queue", _replace_keys(_setup(cluster, ["qconf", "-sq"]), {
        "qname": QUEUE, "hostlist": "@allhosts", "slots": str(os.cpu_count() or 1),
        # honour the script's #! line (dask-jobqueue's is bash), not the queue's /bin/sh
        "shell_start_mode": "unix_behavior", "load_thresholds": "NONE",
        "pe_list": "NONE",  # the template names PEs that do not exist
        # per-job TMPDIR in the cell, not in /tmp (a killed dask job leaves its scratch)
        "tmpdir": f"{cluster.root}/tmp"}))


def _start_daemon(cluster: SgeCluster, daemon: str, ready) -> int:
    """Start sge_<daemon>; it forks into the background and its first
    process exits at once."""
    with open(os.path.join(cluster.root, daemon + ".out"), "ab") as log:
        first = subprocess.run(["/usr/sbin/sge_" + daemon], env=cluster.env, cwd=cluster.root,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               timeout=30)
    end = time.monotonic() + READY_SECONDS
    while time.monotonic() < end:
        pid = cluster.pid(daemon)
        if pid is not None and ready():
            return pid
        time.sleep(0.1)
    pytest.fail(f"sge_{daemon} (exit {first.returncode}) did not get ready within "
                f"{READY_SECONDS} s:\n{cluster.log_tail()}")


def _stop_daemons(cluster: SgeCluster) -> None:
    """SIGTERM both; execd takes ~3 s and qmaster's controlled shutdown
    ~10 s, needless when the whole cell is deleted next: SIGKILL after 1 s."""
    pids = [p for p in (cluster.pid("execd"), cluster.pid("qmaster")) if p is not None]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    for pid in pids:
        kill_pid(pid, grace=1.0)  # waits for the SIGKILL too, then reaps
    reap_zombie_children()


@pytest.fixture(scope="session")
def sge_cluster():
    """sge_qmaster + sge_execd for this host, private to the session."""
    scheduler_packages_missing(NEEDED, "gridengine-master gridengine-exec gridengine-client")
    become_subreaper()
    root = tempfile.mkdtemp(prefix="seamless-sge-")
    qmaster_port, execd_port = free_ports(2, PORTS, "sge_qmaster and sge_execd")
    cluster = SgeCluster(root=root, host=socket.gethostname(), qmaster_port=qmaster_port,
                         execd_port=execd_port)
    try:
        _write_cell(cluster)
        _spool_defaults(cluster)
        _start_daemon(cluster, "qmaster", lambda: cluster.run("qstat", check=False,
                                                              timeout=10).returncode == 0)
        _configure(cluster)
        _start_daemon(cluster, "execd", lambda: READY_LINE.search(
            cluster.run("qstat", "-f", check=False, timeout=10).stdout) is not None)
        yield cluster
    finally:
        cluster.delete_all()
        _stop_daemons(cluster)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sge(sge_cluster, tmp_path, monkeypatch):
    """The session SGE with its four variables set for this test (so
    dask-jobqueue's qsub, or a wrapper the executor launches, reaches it);
    the test's jobs are deleted after."""
    for name, value in sge_cluster.variables.items():
        monkeypatch.setenv(name, value)
    jobs_dir = tmp_path / "sge-jobs"
    jobs_dir.mkdir()
    monkeypatch.chdir(jobs_dir)
    try:
        yield sge_cluster
    finally:
        sge_cluster.delete_all()

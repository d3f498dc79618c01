"""A private single-node SLURM for the dask-jobqueue tests.

``slurm_cluster`` (session) writes a minimal slurm.conf for this host in a
fresh temporary directory, starts ``munged``, ``slurmctld -D`` and
``slurmd -D`` as children and stops them by pid. ``slurm`` (per test)
points SLURM_CONF at it and cancels the test's jobs afterwards. Nothing is
installed here (TEST-ENVIRONMENT.md lists the facts this relies on).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from interpreter_tests.fixtures_sshd import become_subreaper, kill_pid

__all__ = ["slurm_cluster", "slurm", "SlurmCluster"]

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd")
PORTS = (45900, 45999)  # slurmctld and slurmd; the dask tests use 45000-45899
READY_SECONDS = 30


@dataclass(frozen=True)
class SlurmCluster:
    conf: str  # the slurm.conf every daemon and client reads (SLURM_CONF)
    directory: str
    node: str
    partition: str = "debug"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": self.conf}

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True,
                              timeout=30, check=check)

    def jobs(self) -> list[str]:
        out = self.run("squeue", "--noheader", "--format=%i", check=False)
        return out.stdout.split()

    def cancel_all(self, wait: float = 20.0) -> None:
        """Only this fixture's slurmctld sees these jobs: cancelling every
        root job is safe here and nowhere else."""
        self.run("scancel", "--full", "--user=root", check=False)
        end = time.monotonic() + wait
        while self.jobs() and time.monotonic() < end:
            time.sleep(0.2)


def _missing() -> list[str]:
    return [d for d in DAEMONS if shutil.which(d) is None and not os.path.exists("/usr/sbin/" + d)]


def _exe(name: str) -> str:
    return shutil.which(name) or "/usr/sbin/" + name


def _free_ports(count: int) -> list[int]:
    found = []
    for port in range(*PORTS):
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"no {count} free ports in {PORTS[0]}-{PORTS[1]} for slurmctld/slurmd")


def _conf_text(directory: str, node: str, socket_path: str, ports: list[int]) -> str:
    keys = {
        "ClusterName": "seamlesstest", "SlurmctldHost": node, "SlurmUser": "root",
        "SlurmdUser": "root", "AuthType": "auth/munge", "CredType": "cred/munge",
        "AuthInfo": f"socket={socket_path}", "SlurmctldPort": ports[0],
        "SlurmdPort": ports[1], "StateSaveLocation": f"{directory}/state",
        "SlurmdSpoolDir": f"{directory}/spool/%n",
        "SlurmctldPidFile": f"{directory}/slurmctld.pid",
        "SlurmdPidFile": f"{directory}/slurmd.pid",
        "SlurmctldLogFile": f"{directory}/slurmctld.log",
        "SlurmdLogFile": f"{directory}/slurmd.log",
        "ProctrackType": "proctrack/linuxproc", "TaskPlugin": "task/none",
        "JobAcctGatherType": "jobacct_gather/none",
        "AccountingStorageType": "accounting_storage/none", "SchedulerType": "sched/backfill",
        "SelectType": "select/cons_tres", "SelectTypeParameters": "CR_Core",
        "MpiDefault": "none", "ReturnToService": 2, "SwitchType": "switch/none",
        "MailProg": "/bin/true",
    }
    lines = [f"{k}={v}" for k, v in keys.items()]
    lines.append(f"NodeName={node} CPUs=2 RealMemory=4000 State=UNKNOWN")
    lines.append("PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP")
    return "\n".join(lines) + "\n"


def _start_munge(directory: str) -> tuple[subprocess.Popen, str]:
    munge_dir = os.path.join(directory, "munge")
    os.makedirs(munge_dir)
    key = os.path.join(munge_dir, "munge.key")
    subprocess.run([_exe("mungekey"), "-c", "-k", key], check=True, capture_output=True)
    sock = os.path.join(munge_dir, "munge.socket")
    proc = subprocess.Popen(
        [_exe("munged"), "-F", "--force", f"--socket={sock}", f"--key-file={key}",
         f"--pid-file={munge_dir}/munged.pid", f"--seed-file={munge_dir}/munged.seed",
         f"--log-file={munge_dir}/munged.log"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    end = time.monotonic() + 10
    while not os.path.exists(sock):
        if proc.poll() is not None or time.monotonic() > end:
            pytest.fail("munged did not start: " + _tail(f"{munge_dir}/munged.log"))
        time.sleep(0.05)
    return proc, sock


def _tail(path: str, chars: int = 3000) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()[-chars:]
    except OSError:
        return f"(no {path})"


def _daemon(name: str, cluster: SlurmCluster) -> subprocess.Popen:
    log = open(os.path.join(cluster.directory, name + ".out"), "wb")
    try:
        return subprocess.Popen([_exe(name), "-D"], env=cluster.env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def _wait_idle(cluster: SlurmCluster, procs: list[subprocess.Popen]) -> None:
    end = time.monotonic() + READY_SECONDS
    while time.monotonic() < end:
        if any(p.poll() is not None for p in procs):
            break
        out = cluster.run("sinfo", "--noheader", "--format=%T", check=False)
        if out.stdout.strip() in ("idle", "mixed"):
            return
        time.sleep(0.2)
    logs = "\n".join(f"--- {n}\n" + _tail(os.path.join(cluster.directory, n))
                     for n in ("slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out"))
    pytest.fail("the test SLURM did not get an idle node:\n" + logs)


@pytest.fixture(scope="session")
def slurm_cluster():
    """munged + slurmctld + slurmd for this host, private to the session."""
    missing = _missing()
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: install slurm-wlm munge (.ci/run does)")
    become_subreaper()
    directory = tempfile.mkdtemp(prefix="seamless-slurm-")
    os.chmod(directory, 0o755)  # munge checks every directory above its socket
    for sub in ("state", "spool"):
        os.makedirs(os.path.join(directory, sub))
    node = socket.gethostname().split(".")[0]
    procs: list[subprocess.Popen] = []
    try:
        munge, sock = _start_munge(directory)
        procs.append(munge)
        conf = os.path.join(directory, "slurm.conf")
        with open(conf, "w") as f:
            f.write(_conf_text(directory, node, sock, _free_ports(2)))
        cluster = SlurmCluster(conf=conf, directory=directory, node=node)
        procs += [_daemon("slurmctld", cluster), _daemon("slurmd", cluster)]
        _wait_idle(cluster, procs[1:])
        yield cluster
        cluster.cancel_all()
    finally:
        for proc in reversed(procs):  # slurmd, slurmctld, then munged
            kill_pid(proc.pid, grace=5.0)
            proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def slurm(slurm_cluster, monkeypatch):
    """The session SLURM, with SLURM_CONF set for this test (so a wrapper
    launched by the executor submits there); its jobs are cancelled after."""
    monkeypatch.setenv("SLURM_CONF", slurm_cluster.conf)
    try:
        yield slurm_cluster
    finally:
        slurm_cluster.cancel_all()

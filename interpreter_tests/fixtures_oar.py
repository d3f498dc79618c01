"""A private single-node OAR 2.5.9 for the dask-jobqueue tests.

``oar_cluster`` (session) starts a private PostgreSQL, the node's sshd and
Almighty as children, each in a fresh temporary directory, and stops them
by pid. ``oar`` (per test) checks the configuration again and deletes the
test's jobs afterwards. Nothing is installed here; SCHEDULERS.md lists the
facts this relies on.

OAR's tools read only /etc/oar/oar.conf, so the session owns that file (and
~oar/.batch_job_bashrc) while it runs: both are saved next to the original
in /etc/oar (root-only) and put back at teardown; a flock on /etc/oar keeps
two test sessions apart.

DANGER: the packaged JOB_RESOURCE_MANAGER_PROPERTY_DB_FIELD turns on a job
resource manager that ends every job with ``find /tmp/. /dev/shm/. /var/tmp/.
-user <job user> -delete``. Jobs run as root here, so that would wipe every
root-owned file in /tmp. The written oar.conf comments the key out, and
``check_oar_conf`` refuses to start Almighty (or to let a test submit)
unless the file on disk says so.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from interpreter_tests.fixtures_sshd import become_subreaper, kill_pid, reap_zombie_children

__all__ = ["oar_cluster", "oar", "OarCluster", "check_oar_conf"]

ETC = "/etc/oar"
OAR_CONF = ETC + "/oar.conf"
BATCH_BASHRC = "/var/lib/oar/.batch_job_bashrc"
SAVED = {OAR_CONF: ETC + "/oar.conf.seamless-test-orig",
         BATCH_BASHRC: ETC + "/batch_job_bashrc.seamless-test-orig"}
PGBIN = "/usr/lib/postgresql/15/bin"
NEEDED = ("/usr/sbin/Almighty", "/usr/sbin/oar-database", "/usr/bin/oarsub", "/usr/bin/oarstat",
          "/usr/bin/oardel", "/usr/sbin/oarnodesetting", "/usr/sbin/oarproperty",
          "/usr/bin/psql", PGBIN + "/postgres", PGBIN + "/initdb", PGBIN + "/pg_isready",
          "/usr/sbin/sshd")
PORTS = (47900, 47949)  # postgres, Almighty, the node's sshd; the OAR tests use 47000-47199
READY_SECONDS = 30
LOCK_SECONDS = 900  # another session's OAR tests take a few minutes at most
# OAR's own reader (OAR/Conf.pm): KEY = VALUE, '#' starts a comment, quotes stripped.
CONF_LINE = re.compile(r"^\s*([^#=\s]+)\s*=\s*([^#]*)")
DANGEROUS = "JOB_RESOURCE_MANAGER_PROPERTY_DB_FIELD"
# Almighty re-runs the scheduler on a submission only this long after its last
# pass; otherwise the job waits for a 10 s timeout.
FAST_SCHEDULER = ("SCHEDULER_MIN_TIME_BETWEEN_2_CALLS", "0")
# BASH_ENV of every job; the original sources root's ~/.bashrc, whose
# `pyenv init -` re-reads BASH_ENV: a guard stops the recursion.
GUARDED_BASHRC = """\
# written by the seamless-config test fixture (interpreter_tests/fixtures_oar.py)
if [ -z "${OAR_BATCH_BASHRC_SOURCED:-}" ]; then
  export OAR_BATCH_BASHRC_SOURCED=1
  [ -f ~/.bashrc ] && source ~/.bashrc
fi
"""


def scheduler_packages_missing(paths, packages: str) -> None:
    """Fail (CI, or anything installed but broken) or skip (a developer
    machine without the packages) when a scheduler cannot run."""
    missing = [p for p in paths if not os.path.exists(p)]
    if not missing:
        return
    message = f"{', '.join(missing)} not found: install {packages} (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def read_oar_conf(path: str = OAR_CONF) -> dict[str, str]:
    """The settings as OAR's Conf.pm reads them (a later line wins)."""
    settings = {}
    with open(path) as f:
        for line in f:
            match = CONF_LINE.match(line)
            if match:
                value = match.group(2)
                quoted = re.match(r"^([\"']?)(.+)\1\s*$", value)
                settings[match.group(1)] = quoted.group(2) if quoted else value
    return settings


def check_oar_conf(path: str = OAR_CONF) -> dict[str, str]:
    """Refuse (fail the test) unless the file on disk keeps OAR's job
    resource manager off and the scheduler fast."""
    settings = read_oar_conf(path)
    if DANGEROUS in settings:
        pytest.fail(f"{path} sets {DANGEROUS}={settings[DANGEROUS]!r}: its job resource manager "
                    "deletes every file of the job's user (root) in /tmp at the end of each "
                    "job; refusing to run OAR")
    key, value = FAST_SCHEDULER
    if settings.get(key) != value:
        pytest.fail(f"{path}: {key} is {settings.get(key)!r}, not {value!r}")
    return settings


@dataclass(frozen=True)
class OarCluster:
    directory: str
    host: str  # the node's name (its 'host' property)
    memcore: int  # MiB per core, the 'memcore' property of every core
    cores: int
    db_port: int
    server_port: int
    ssh_port: int

    def run(self, *argv: str, check: bool = True, cwd: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        # oarsub takes the job's directory from $PWD, not from its real cwd
        env = {**os.environ, "PWD": cwd or os.getcwd()}
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              check=check, cwd=cwd, env=env, stdin=subprocess.DEVNULL)

    def jobs(self) -> list[str]:
        """Ids of the jobs not finished yet."""
        out = self.run("oarstat", "-J", check=False)
        try:
            return list(json.loads(out.stdout or "{}"))
        except ValueError:
            return []

    def state(self, job: str) -> str:
        out = self.run("oarstat", "-s", "-j", job, check=False).stdout
        return out.rsplit(":", 1)[-1].strip()

    def wait_finished(self, job: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.state(job)
            if state in ("Terminated", "Error"):
                return state
            time.sleep(0.2)
        raise AssertionError(f"OAR job {job} still {self.state(job)} after {timeout:g} s:\n"
                             + self.log_tail())

    def delete_all(self, wait: float = 20.0) -> None:
        """Only this fixture's Almighty sees these jobs: deleting all of
        them is safe here and nowhere else."""
        jobs = self.jobs()
        if jobs:
            self.run("oardel", *jobs, check=False)
        end = time.monotonic() + wait
        while self.jobs() and time.monotonic() < end:
            time.sleep(0.2)
        _kill_job_processes()

    def log_tail(self) -> str:
        return "\n".join(f"--- {name}\n" + tail(os.path.join(self.directory, name))
                         for name in ("oar.log", "almighty.out", "sshd.log", "postgres.log"))


def tail(path: str, chars: int = 3000) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()[-chars:]
    except OSError:
        return f"(no {path})"


# -- processes ------------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (orphans of our daemons come back to
    us as subreaper, so this is what the session started)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[-1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def _environ_has(pid: int, prefix: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return any(v.startswith(prefix) for v in f.read().split(b"\0"))
    except OSError:
        return False


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _kill_job_processes() -> None:
    """Jobs are detached from Almighty: oarexec ('perl - ID OAREXEC') and the
    job's processes (OAR_JOB_ID in their environment) that are still ours."""
    for pid in descendants(os.getpid()):
        if b"\0OAREXEC" in _cmdline(pid) or _environ_has(pid, b"OAR_JOB_ID="):
            kill_pid(pid, grace=0.2)
    reap_zombie_children()


def free_ports(count: int, span: tuple[int, int], what: str) -> list[int]:
    """Ports free on every interface (Almighty and the SGE daemons bind
    0.0.0.0; neither has an option for an address)."""
    found = []
    for port in range(span[0], span[1] + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"no {count} free ports in {span[0]}-{span[1]} for {what}")


def _popen(argv, log_path: str, user: str | None = None) -> subprocess.Popen:
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, cwd="/",
                                user=user, group=user, extra_groups=[] if user else None)
    finally:
        log.close()


def _run_logged(argv, log_path: str, what: str, user: str | None = None) -> None:
    with open(log_path, "ab") as log:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, timeout=120, cwd="/", user=user,
                              group=user, extra_groups=[] if user else None)
    if done.returncode:
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{tail(log_path)}")


def _wait(ready, procs, what: str, logs: str) -> None:
    end = time.monotonic() + READY_SECONDS
    while time.monotonic() < end:
        if ready():
            return
        dead = [p.args[0] for p in procs if p.poll() is not None]
        if dead:
            pytest.fail(f"{what}: {', '.join(dead)} exited:\n{logs()}")
        time.sleep(0.1)
    pytest.fail(f"{what} within {READY_SECONDS} s:\n{logs()}")


def _stop(proc: subprocess.Popen, grace: float = 2.0) -> None:
    """SIGTERM the process group we created for it, SIGKILL after grace."""
    kill_pid(proc.pid, grace=grace)
    try:
        os.killpg(proc.pid, 9)  # helpers it forked (Almighty's sarko, bipbip, ...)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


# -- /etc/oar ownership -------------------------------------------------------------------

def _lock_etc():
    """An exclusive flock on /etc/oar for the session (two sessions would
    fight over oar.conf and the ports), waiting for another session."""
    fd = os.open(ETC, os.O_RDONLY | os.O_DIRECTORY)
    end = time.monotonic() + LOCK_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > end:
                os.close(fd)
                pytest.fail(f"another test session holds the OAR lock (flock on {ETC}) "
                            f"for more than {LOCK_SECONDS} s")
            time.sleep(1)


def _save_originals() -> None:
    """Keep the package's files next to them; a copy left by a crashed
    session is the original, so it is kept, not overwritten."""
    for path, saved in SAVED.items():
        if not os.path.exists(saved):
            shutil.copy2(path, saved + ".tmp")
            st = os.stat(path)
            os.chown(saved + ".tmp", st.st_uid, st.st_gid)
            os.replace(saved + ".tmp", saved)


def _restore_originals() -> None:
    for path, saved in SAVED.items():
        if os.path.exists(saved):
            os.replace(saved, path)


def _write_like(path: str, text: str, like: str) -> None:
    """Write atomically with the owner and mode of ``like``."""
    st = os.stat(like)
    tmp = path + ".seamless-test-new"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.replace(tmp, path)


def _conf_text(original: str, directory: str, ports: dict[str, int]) -> str:
    values = {"DB_PORT": ports["db"], "DB_BASE_PASSWD": "oar", "DB_BASE_PASSWD_RO": "oar_ro",
              "SERVER_PORT": ports["server"], "LOG_FILE": f"{directory}/oar.log",
              # known_hosts to /dev/null: ~oar/.ssh stays as the package left it
              "OPENSSH_CMD": f"/usr/bin/ssh -p {ports['ssh']} -e none "
                             "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"}
    lines = []
    for line in original.splitlines():
        match = CONF_LINE.match(line)
        key = match.group(1) if match else None
        if key == DANGEROUS:
            line = "#" + line + "  # off: its cleanup deletes the job user's files in /tmp"
        elif key in values:
            line = f'{key}="{values.pop(key)}"'
        lines.append(line)
    lines.append("# --- seamless-config test fixture ---")
    lines += [f'{k}="{v}"' for k, v in values.items()]
    lines.append('{}="{}"'.format(*FAST_SCHEDULER))
    return "\n".join(lines) + "\n"


def _write_etc(directory: str, ports: dict[str, int]) -> None:
    with open(SAVED[OAR_CONF]) as f:
        original = f.read()
    _write_like(OAR_CONF, _conf_text(original, directory, ports), SAVED[OAR_CONF])
    _write_like(BATCH_BASHRC, GUARDED_BASHRC, SAVED[BATCH_BASHRC])


# -- start ----------------------------------------------------------------------------------

def _start_postgres(directory: str, port: int, procs: list) -> None:
    pg = os.path.join(directory, "pg")
    os.mkdir(pg, 0o700)
    shutil.chown(pg, "postgres", "postgres")
    log = os.path.join(directory, "postgres.log")
    _run_logged([PGBIN + "/initdb", "-D", pg + "/data", "--auth=trust", "-U", "postgres",
                 "-E", "UTF8", "--locale=C.UTF-8"], log, "initdb", user="postgres")
    proc = _popen([PGBIN + "/postgres", "-D", pg + "/data", "-p", str(port), "-k", pg,
                   "-c", "listen_addresses=127.0.0.1"], log, user="postgres")
    procs.append(proc)  # stopped at teardown even if it never gets ready

    def ready() -> bool:
        return subprocess.run([PGBIN + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)],
                              stdin=subprocess.DEVNULL).returncode == 0
    _wait(ready, [proc], "PostgreSQL did not accept connections", lambda: tail(log))


def _create_database(cluster: OarCluster) -> None:
    log = os.path.join(cluster.directory, "setup.log")
    _run_logged(["oar-database", "--create", "--db-admin-user=postgres",
                 "--db-admin-pass=unused", "-y"], log, "oar-database --create")
    # rule 'root and oar users are not allowed to submit jobs': the tests run as root
    _run_logged(["psql", "-q", "-h", "127.0.0.1", "-p", str(cluster.db_port), "-U", "postgres",
                 "-d", "oar", "-c", "DELETE FROM admission_rules WHERE rule LIKE "
                 "'%root and oar users are not allowed to submit jobs%'"], log, "psql")
    # dask-jobqueue asks for /nodes=1/core=N: host, cpu and core must exist
    for prop in (["host", "-c"], ["cpu"], ["core"], ["memcore"]):
        _run_logged(["oarproperty", "-a", *prop], log, "oarproperty")
    for core in range(cluster.cores):
        _run_logged(["oarnodesetting", "-a", "-h", cluster.host, "-p", f"host={cluster.host}",
                     "-p", "cpu=1", "-p", f"core={core + 1}", "-p", f"cpuset={core}",
                     "-p", f"memcore={cluster.memcore}"], log, "oarnodesetting")


def _start_node_sshd(cluster: OarCluster, procs: list) -> None:
    """bipbip reaches the node as user oar over ssh, even on one node."""
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    log = os.path.join(cluster.directory, "sshd.log")
    # -p, not -o Port=: that would add to the config's 'Port 6667' instead of replacing it
    proc = _popen(["/usr/sbin/sshd", "-D", "-e", "-f", ETC + "/sshd_config",
                   "-p", str(cluster.ssh_port), "-o", "ListenAddress=127.0.0.1",
                   "-o", f"PidFile={cluster.directory}/sshd.pid"], log)
    procs.append(proc)
    _wait(lambda: _banner(cluster.ssh_port), [proc], "the OAR node's sshd did not answer",
          lambda: tail(log))


def _banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _start_almighty(cluster: OarCluster, procs: list) -> None:
    check_oar_conf()  # the last word before anything can run a job
    # Almighty (setuid wrapper -> exec perl as oar) in its own session, not
    # via oar-server, so its pid and process group are ours
    proc = _popen(["/usr/sbin/Almighty"], os.path.join(cluster.directory, "almighty.out"))
    procs.append(proc)

    def ready() -> bool:
        out = cluster.run("oarnodes", "-s", check=False).stdout
        return out.count("Alive") == cluster.cores and _connects(cluster.server_port)
    _wait(ready, [proc], "Almighty did not get ready", cluster.log_tail)


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _memcore(cores: int) -> int:
    with open("/proc/meminfo") as f:
        kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return kib // 1024 // cores


@pytest.fixture(scope="session")
def oar_cluster():
    """PostgreSQL + the node's sshd + Almighty for this host, private to the
    session; /etc/oar/oar.conf belongs to it meanwhile."""
    scheduler_packages_missing(NEEDED, "oar-server oar-server-pgsql oar-node oar-user "
                                       "oar-user-pgsql postgresql")
    become_subreaper()
    lock = _lock_etc()
    directory = tempfile.mkdtemp(prefix="seamless-oar-")
    os.chmod(directory, 0o711)  # postgres and oar (Almighty's log) must reach their files
    procs: list[subprocess.Popen] = []
    cluster = None
    try:
        db, server, ssh = free_ports(3, PORTS, "postgres, Almighty and the node's sshd")
        cores = os.cpu_count() or 1
        cluster = OarCluster(directory=directory, host=socket.gethostname(),
                             memcore=_memcore(cores), cores=cores, db_port=db,
                             server_port=server, ssh_port=ssh)
        log = os.path.join(directory, "oar.log")
        open(log, "w").close()
        shutil.chown(log, "oar", "oar")
        _save_originals()
        _write_etc(directory, {"db": db, "server": server, "ssh": ssh})
        check_oar_conf()
        _start_postgres(directory, db, procs)
        _create_database(cluster)
        _start_node_sshd(cluster, procs)
        _start_almighty(cluster, procs)
        yield cluster
    finally:
        if cluster is not None and procs[2:]:
            cluster.delete_all()
        _kill_job_processes()
        for proc in reversed(procs):  # Almighty, sshd, postgres
            _stop(proc)
        reap_zombie_children()
        _restore_originals()
        shutil.rmtree(directory, ignore_errors=True)
        os.close(lock)


@pytest.fixture
def oar(oar_cluster, tmp_path, monkeypatch):
    """The session OAR, the configuration checked again (nothing may have
    turned the job resource manager back on); the test's jobs are deleted
    after. cwd and $PWD are a fresh directory: oarsub runs jobs in $PWD
    (not its real cwd), and OAR writes OAR.<id>.stdout there."""
    check_oar_conf()
    jobs_dir = tmp_path / "oar-jobs"
    jobs_dir.mkdir()
    monkeypatch.chdir(jobs_dir)
    monkeypatch.setenv("PWD", str(jobs_dir))
    try:
        yield oar_cluster
    finally:
        oar_cluster.delete_all()

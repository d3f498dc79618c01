"""Run pytest on foreign test files, one process per job, two at a time.

Every job gets a fresh HOME (the launcher state and ~/.seamless live
there), its own basetemp, an empty pytest.ini (so neither our pyproject's
settings nor our conftest apply) and the chosen environment's bin directory
first on PATH (so a test that calls ``seamless-run`` gets that
environment's).  Afterwards every server recorded in the job's launcher
state is stopped by pid, and processes orphaned onto us during a batch are
stopped once the batch is over.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from interpreter_tests.fixtures_sshd import become_subreaper, kill_pid, kill_started

PARALLEL = 2  # the CI machine has two cores
ITEM_TIMEOUT = 60  # pytest-timeout, per test item (they take seconds)
# After this many jobs of one environment ran out of time, its remaining
# jobs are reported as not run: a package that hangs everything must not
# hold CI for hours.
TIMEOUTS_BEFORE_GIVING_UP = 3
# variables that would make a foreign test see our configuration or caches
SCRUBBED = ("SEAMLESS_CACHE", "SEAMLESS_REMOTE_CLIENTS", "REMOTE_HTTP_LAUNCHER_DIR",
            "PYTHONPATH", "PYTEST_ADDOPTS", "VIRTUAL_ENV", "SLURM_CONF")


@dataclass(frozen=True)
class Env:
    """Where a job runs: 'ours' (the main environment) or '0.3.2'."""
    name: str
    python: Path
    bin: Path  # its console scripts (Debian's python3 keeps them elsewhere)


@dataclass(frozen=True)
class Job:
    env: Env
    rootdir: Path  # the folder holding the test files
    targets: tuple[str, ...]  # node ids or files, relative to rootdir
    timeout: float  # for the whole process


@dataclass(frozen=True)
class Outcome:
    status: str  # passed | failed | error | skipped | timeout
    detail: str = ""  # the failure message, trimmed


@dataclass
class Run:
    job: Job
    returncode: int | None
    items: dict[str, Outcome] = field(default_factory=dict)
    output: str = ""  # stdout+stderr tail, for items junit does not explain


def run_jobs(jobs: list[Job]) -> list[Run]:
    """Run every job, ``PARALLEL`` at a time; results in the order given."""
    become_subreaper()  # so detached grandchildren come back to us
    before = set(_children())
    timeouts: Counter = Counter()

    def guarded(job: Job) -> Run:
        if timeouts[job.env.name] >= TIMEOUTS_BEFORE_GIVING_UP:
            return Run(job, None, output=f"[conformance] not run: {TIMEOUTS_BEFORE_GIVING_UP} "
                       f"jobs on {job.env.name} ran out of time already")
        run = run_job(job)
        if run.returncode is None:
            timeouts[job.env.name] += 1
        return run

    try:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            return list(pool.map(guarded, jobs))
    finally:
        # whatever became our child during the batch was started by a job
        for pid in set(_children()) - before:
            kill_pid(pid)


def run_job(job: Job) -> Run:
    with tempfile.TemporaryDirectory(prefix="conformance-") as scratch:
        scratch = Path(scratch)
        home = scratch / "home"
        home.mkdir()
        (scratch / "pytest.ini").write_text("[pytest]\n")
        junit = scratch / "junit.xml"
        argv = [*pytest_argv(job.env, job.rootdir, scratch / "pytest.ini"),
                "--basetemp", str(scratch / "tmp"), f"--junitxml={junit}",
                "-o", "junit_family=xunit1", f"--timeout={ITEM_TIMEOUT}", *job.targets]
        try:
            out = subprocess.run(argv, cwd=str(job.rootdir), env=job_env(job.env, home),
                                 capture_output=True, text=True, timeout=job.timeout)
            returncode, output = out.returncode, out.stdout + out.stderr
        except subprocess.TimeoutExpired as exc:
            returncode = None
            output = _text(exc.stdout) + _text(exc.stderr) + \
                f"\n[conformance] no result after {job.timeout} s; process killed"
        finally:
            kill_started(str(home / ".remote-http-launcher"))
        items = parse_junit(junit) if junit.exists() else {}
        return Run(job, returncode, items, _tail(output))


def pytest_argv(env: Env, rootdir: Path, ini: Path) -> list[str]:
    """pytest with no plugin but pytest-timeout: the main environment's
    hypothesis, benchmark and trio plugins tripled each item's start-up,
    and no foreign test file uses a plugin."""
    return [str(env.python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-p", "pytest_timeout", "-c", str(ini), "--rootdir", str(rootdir)]


def job_env(env: Env, home: Path) -> dict[str, str]:
    result = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    result.update(HOME=str(home), PATH=f"{env.bin}{os.pathsep}{os.environ.get('PATH', '')}",
                  PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return result


def parse_junit(path: Path) -> dict[str, Outcome]:
    """``{node id: Outcome}`` from a junit file (xunit1 keeps the file name)."""
    items = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        items[_node_id(case)] = _outcome(case)
    return items


def _node_id(case: ET.Element) -> str:
    """pytest's node id: file, then the class when there is one."""
    file, classname = case.get("file") or "", case.get("classname") or ""
    module = file[:-3].replace("/", ".") if file.endswith(".py") else file
    parts = [file]
    if classname.startswith(module + "."):
        parts += classname[len(module) + 1:].split(".")
    return "::".join(parts + [case.get("name") or ""])


def _outcome(case: ET.Element) -> Outcome:
    for tag in ("failure", "error"):
        found = case.find(tag)
        if found is not None:
            return Outcome("failed" if tag == "failure" else "error",
                           _brief(found.get("message") or found.text or ""))
    skipped = case.find("skipped")
    if skipped is not None:
        return Outcome("skipped", _brief(skipped.get("message") or ""))
    return Outcome("passed")


def _brief(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _children() -> list[int]:
    """Our child processes, whichever of our threads started them."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            found.append(int(entry))
    return found


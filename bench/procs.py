"""Child processes for the benchmarks: timed runs with their peak memory,
and the servers those runs leave behind (found and stopped by PID).

Servers outlive the ``seamless-init`` that started them and are re-parented,
so they cannot be waited for; they are found instead by a path in their
argv that is unique to this benchmark run (its temporary directory).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

SERVER_BINARIES = {"hashserver": "hashserver", "seamless-database": "database"}
_LIVE: dict[int, subprocess.Popen] = {}  # children not yet waited for


@dataclass
class Sample:
    wall: float  # seconds, start of the process to its exit
    rss_kb: int  # peak resident set of the child itself
    rc: int
    op_ms: float | None  # what the probe timed inside the child, if any
    stderr: str
    info: dict = field(default_factory=dict)  # the probe's other figures, if any


def run_timed(argv, env, cwd, scratch: str) -> Sample:
    """Run one process to completion; wall time and its own max RSS."""
    return run_together([argv], env, cwd, scratch)[0]


def run_together(argvs, env, cwd, scratch: str) -> list[Sample]:
    """Start every argv at once; each sample's wall time runs from the
    common start to that process's exit (os.wait4 gives its rusage)."""
    os.makedirs(scratch, exist_ok=True)
    procs = []
    t0 = time.perf_counter()
    for i, argv in enumerate(argvs):
        out = open(os.path.join(scratch, f"out{i}"), "wb")
        err = open(os.path.join(scratch, f"err{i}"), "wb")
        # Files, not pipes: a server inheriting a pipe would keep it open.
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        _LIVE[proc.pid] = proc
        procs.append((proc, out, err))
    samples = []
    for i, (proc, out, err) in enumerate(procs):
        _, status, usage = os.wait4(proc.pid, 0)
        del _LIVE[proc.pid]
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.close()
        err.close()
        report = _probe_report(os.path.join(scratch, f"out{i}"))
        op = report.pop("op_ms", None)
        samples.append(Sample(wall, usage.ru_maxrss, proc.returncode,
                              None if op is None else float(op),
                              _tail(os.path.join(scratch, f"err{i}")), report))
    return samples


def _probe_report(path: str) -> dict:
    """The probe's last stdout line is JSON with op_ms (and maybe more);
    CLIs print none."""
    try:
        with open(path) as f:
            lines = f.read().strip().splitlines()
        report = json.loads(lines[-1]) if lines else {}
        return report if isinstance(report, dict) else {}
    except (ValueError, IndexError):
        return {}


def _tail(path: str, lines: int = 3) -> str:
    with open(path, errors="replace") as f:
        return " | ".join(f.read().strip().splitlines()[-lines:])


def end_children() -> None:
    """Interrupted mid-row: end the children still running (by PID), so
    none of them starts a server after the final sweep."""
    for pid, proc in list(_LIVE.items()):
        _signal(pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _signal(pid, signal.SIGKILL)
            proc.wait()
        del _LIVE[pid]


def servers_under(needle: str) -> dict[str, list[int]]:
    """Live hashserver/database processes whose argv mentions ``needle``,
    by service. Zombies do not count: they serve nothing."""
    found: dict[str, list[int]] = {"hashserver": [], "database": []}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = _argv(int(entry))
        if not argv or not any(needle in a for a in argv) or _zombie(int(entry)):
            continue
        for word in argv[:3]:  # interpreter, script, first argument
            service = SERVER_BINARIES.get(os.path.basename(word))
            if service:
                found[service].append(int(entry))
                break
    return found


def _argv(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def stop_servers(needle: str, grace: float = 5.0) -> int:
    """SIGTERM each server found under ``needle``, SIGKILL what is left
    after ``grace`` seconds; returns how many were stopped."""
    pids = [p for pids in servers_under(needle).values() for p in pids]
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if not _zombie(p)]
    for pid in alive:
        _signal(pid, signal.SIGKILL)
    return len(pids)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def running_servers(launcher_dir: str) -> dict[str, tuple[str, str]]:
    """The servers a side's seamless-init left running, from its launcher
    state files: service -> (loopback URL, work directory). Both packages
    write ``server/<service>-<cluster>-<mode>-<path>.json`` with ``status``
    ``running`` and the ``port`` the server bound."""
    found: dict[str, tuple[str, str]] = {}
    folder = os.path.join(launcher_dir, "server")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        service = name.split("-", 1)[0]
        if not name.endswith(".json") or service not in SERVER_BINARIES.values():
            continue
        with open(os.path.join(folder, name)) as f:
            state = json.load(f)
        if state.get("status") == "running" and state.get("port"):
            found[service] = (f"http://127.0.0.1:{int(state['port'])}", state.get("workdir", ""))
    return found

"""seamless-config-dask-wrapper and the status-file protocol (COMPAT.md
sections 3-4), driven directly as the launcher drives it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from seamless_config.launch import health
from seamless_config.launch.local import pid_alive

from .fixtures_sshd import kill_pid

WRAPPER = [sys.executable, "-m", "seamless_config.dask.wrapper"]
PORTS = ("45200", "45299")
LOCAL = "distributed::LocalCluster"


def start(tmp_path, cluster: str, record: dict | None, *extra: str) -> tuple:
    status = tmp_path / "state.json"
    log = open(tmp_path / "wrapper.log", "wb")
    proc = subprocess.Popen([*WRAPPER, cluster, "--port-range", *PORTS, "--status-file",
                             str(status), "--host", "127.0.0.1", *extra],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    if record is not None:  # the launcher writes its record after starting the server
        status.write_text(json.dumps({"workdir": "/w", "pid": proc.pid, "status": "starting",
                                      "meta": {"service": "pure_daskserver"}, **record}))
    return proc, status


def finished(proc, timeout: float = 60) -> int:
    try:
        return proc.wait(timeout=timeout)
    finally:
        kill_pid(proc.pid)


def wait_running(proc, status, timeout: float = 60) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        record = json.loads(status.read_text())
        if record["status"] != "starting":
            return record
        time.sleep(0.05)
    raise AssertionError(f"wrapper exited with {proc.poll()} or never ran")


@pytest.mark.parametrize("cluster,record,message", [
    ("dask_jobqueue::SLURMCluster", {"parameters": {"cores": 2, "walltime": "01:00:00"}},
     "ValueError: parameter 'memory' is required by a slurm queue"),
    ("os::system", {"parameters": {"cores": 1}}, "ValueError: unknown cluster class "
                                                 "'os::system'"),
    (LOCAL, {}, "ValueError: 'parameters' must be a JSON object"),
])
def test_bad_launch_reports_failed_and_exits_1(tmp_path, cluster, record, message):
    proc, status = start(tmp_path, cluster, record)
    assert finished(proc) == 1
    state = json.loads(status.read_text())
    assert (state["status"], state["workdir"], state["meta"]) == (
        "failed", "/w", {"service": "pure_daskserver"})
    assert message in (tmp_path / "wrapper.log").read_text()


def test_running_keeps_the_record_then_sigterm_leaves_it_stale(tmp_path):
    params = {"cores": 1, "worker_threads": 1, "maximum_jobs": 1, "pure_dask": True}
    proc, status = start(tmp_path, LOCAL, {"parameters": params}, "--timeout", "600")
    try:
        record = wait_running(proc, status)
        assert record["status"] == "running"
        assert {record["port"], record["dashboard_port"]} <= set(range(45200, 45300))
        assert record["port"] != record["dashboard_port"]
        assert (record["parameters"], record["workdir"], record["adaptive"]) == (
            params, "/w", {"minimum": 0, "maximum": 1})
        assert health.healthy("127.0.0.1", record["dashboard_port"], "health")
        proc.send_signal(signal.SIGTERM)
        assert finished(proc, timeout=40) == 0
    finally:
        kill_pid(proc.pid)
    assert json.loads(status.read_text())["status"] == "stale"
    assert not pid_alive(proc.pid)


def test_a_range_without_two_free_ports_fails(tmp_path):
    status = tmp_path / "state.json"
    status.write_text(json.dumps({"status": "starting", "parameters": {"cores": 1}}))
    out = subprocess.run([*WRAPPER, LOCAL, "--port-range", "45300", "45300", "--status-file",
                          str(status)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "no free port available in 45300-45300 (need two" in out.stdout
    assert json.loads(status.read_text())["status"] == "failed"


def test_bad_port_range_is_a_usage_error(tmp_path):
    out = subprocess.run([*WRAPPER, LOCAL, "--port-range", "5", "4", "--status-file",
                          str(tmp_path / "s.json")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--port-range needs 0 < START <= END" in out.stderr

"""Local launches of the real servers: start, reuse, relaunch, clean up, fail
clearly, and never start two servers for one key."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from interpreter_tests.fixtures_sshd import (REPO, database_spec, free_port, hashserver_spec,
                                             jobserver_spec, kill_pid, started)
from seamless_config._record import replace
from seamless_config.launch.verify import BufferClient, DatabaseClient, JobserverClient
from seamless_config.errors import SeamlessConfigWarning, ServiceError
from seamless_config.launch import health, state
from seamless_config.launch.executor import ensure_parallel, ensure_service, read_handle
from seamless_config.launch.local import pid_alive



def assert_failed_and_gone(key: str) -> None:
    record = state.read_server(key)
    assert record is not None and record["status"] == "failed"
    assert not pid_alive(record.get("pid"))


# -- launch, health, round trips -----------------------------------------------

def test_hashserver_launch_roundtrip_and_reuse(fake_home, tmp_path):
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-roundtrip")
    handle = ensure_service(spec)
    assert handle.launched and handle.host == "localhost"
    assert handle.url == f"http://127.0.0.1:{handle.port}"
    assert 40000 <= handle.port <= 49999
    record = state.read_server(spec.key)
    assert record["status"] == "running" and record["pid"] == handle.pid
    assert record["log"] == state.server_log_path(spec.key)
    assert {"workdir", "command", "uid", "network_interface", "meta"} <= set(record)
    assert state.read_client(spec.key) == {"hostname": "127.0.0.1", "port": handle.port,
                                           "meta": {}}
    client = BufferClient(handle.url)
    checksum = client.put(b"hello seamless")
    assert client.get(checksum) == b"hello seamless"
    assert client.has([checksum, "00" * 32]) == [True, False]

    again = ensure_service(spec)
    assert (again.launched, again.url, again.pid) == (False, handle.url, handle.pid)
    seen = read_handle(spec)
    assert seen is not None and seen.url == handle.url and not seen.launched


def test_database_launch_roundtrip(fake_home, tmp_path):
    handle = ensure_service(database_spec(tmp_path, "database-local-rw-roundtrip"))
    assert handle.launched
    client = DatabaseClient(handle.url)
    tf, result = "11" * 32, "22" * 32
    assert client.get_transformation_result(tf) is None
    client.set_transformation_result(tf, result)
    assert client.get_transformation_result(tf) == result
    assert os.path.exists(tmp_path / "database" / "seamless.db")


def test_jobserver_launch(fake_home, tmp_path):
    handle = ensure_service(jobserver_spec(tmp_path, "jobserver-local-rw-launch"))
    assert JobserverClient(handle.url).healthy()


# -- relaunch and cleanup -------------------------------------------------------

def test_sigkilled_server_is_relaunched(fake_home, tmp_path):
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-sigkill")
    first = ensure_service(spec)
    os.kill(first.pid, signal.SIGKILL)
    # Until it is dead (a zombie, or reaped), a dying process has lost its
    # command line and is not yet a zombie: it would pass for another program.
    deadline = time.monotonic() + 10
    while pid_alive(first.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.warns(SeamlessConfigWarning, match=rf"its process \(pid {first.pid}\) is gone"):
        second = ensure_service(spec)
    assert second.launched and second.pid != first.pid
    assert health.healthy(second.url)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("content, message", [
    ({"status": "failed"}, "its last launch left status 'failed'"),
    ({"status": "running", "port": 1, "pid": "DEAD"}, r"its process \(pid \d+\) is gone"),
    ({"status": "starting", "pid": "DEAD"}, r"its process \(pid \d+\) is gone"),
    ("{not json", "ignoring corrupt state file"),
    ([1, 2], "not a JSON object"),
])
def test_unusable_state_is_cleaned_up(fake_home, tmp_path, content, message):
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-unusable")
    path = state.server_state_path(spec.key)
    os.makedirs(os.path.dirname(path))
    if isinstance(content, dict) and content.get("pid") == "DEAD":
        content = {**content, "pid": _dead_pid()}
    with open(path, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    with pytest.warns(SeamlessConfigWarning, match=message):
        handle = ensure_service(spec)
    assert handle.launched and health.healthy(handle.url)


def test_a_stopped_server_is_relaunched_without_warning(fake_home, tmp_path, recwarn):
    """'stale' is what a normal stop leaves (idle timeout, services stop)."""
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-stopped")
    path = state.server_state_path(spec.key)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
        json.dump({"status": "stale", "port": 1}, f)
    handle = ensure_service(spec)
    assert handle.launched and health.healthy(handle.url)
    assert [w for w in recwarn if issubclass(w.category, SeamlessConfigWarning)] == []


def test_running_but_silent_server_is_killed(fake_home, tmp_path):
    """A process that is this key's server (its command line names the
    program and the key's status file) but does not answer is killed."""
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-silent")
    silent = started([sys.executable, "-c", "import time; time.sleep(600)",
                      "hashserver", "--status-file", state.server_state_path(spec.key)])
    try:
        port = free_port()
        state.write_server(spec.key, {"status": "running", "pid": silent.pid, "port": port,
                                      "network_interface": "127.0.0.1"})
        with pytest.warns(SeamlessConfigWarning, match=rf"pid {silent.pid} is running but does "
                          rf"not answer as a hashserver on port {port}; killed it"):
            handle = ensure_service(spec)
        assert silent.wait(timeout=10) is not None
        assert handle.launched and health.healthy(handle.url)
    finally:
        kill_pid(silent.pid)


def test_a_recorded_pid_that_is_another_program_is_never_signalled(fake_home, tmp_path):
    """A recycled pid (here: any process that is not this key's server) is
    treated as gone: relaunched, and the process is left alone."""
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-recycled")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)",
                              "hashserver"], start_new_session=True)
    try:
        state.write_server(spec.key, {"status": "running", "pid": other.pid,
                                      "port": free_port(), "network_interface": "127.0.0.1",
                                      "command": "hashserver /data"})
        with pytest.warns(SeamlessConfigWarning,
                          match=rf"its pid {other.pid} now runs another program, which was "
                                rf"left alone; relaunching"):
            handle = ensure_service(spec)
        assert handle.launched and health.healthy(handle.url)
        assert other.poll() is None  # never signalled
    finally:
        kill_pid(other.pid)
        other.wait(timeout=10)


# -- one server per key, across processes ---------------------------------------

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from interpreter_tests.fixtures_sshd import database_spec, hashserver_spec
from seamless_config.launch.executor import ensure_parallel
root = sys.argv[2]
handles = ensure_parallel([hashserver_spec(root, "hashserver-local-rw-concurrent"),
                           database_spec(root, "database-local-rw-concurrent")], deadline=60)
print(json.dumps([h.url for h in handles]))
"""


def _processes_with(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and "--status-file" in cmdline and pid_alive(int(entry)):
            found.append(int(entry))
    return found


def test_concurrent_processes_start_one_server_per_key(fake_home, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]))
    children = [subprocess.Popen([sys.executable, "-c", CHILD, REPO, str(tmp_path)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(8)]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err
    urls = {out.strip() for out, _ in outputs}
    assert len(urls) == 1, urls
    hs_url, db_url = json.loads(urls.pop())
    assert health.healthy(hs_url) and health.healthy(db_url)
    assert len(_processes_with(str(tmp_path / "buffers"))) == 1
    assert len(_processes_with(str(tmp_path / "database"))) == 1


def test_ensure_parallel_reports_every_failure(fake_home, tmp_path):
    good = hashserver_spec(tmp_path, "hashserver-local-rw-parallel")
    bad1 = replace(good, key="hashserver-local-rw-bad1", argv=("no-such-server-a",))
    bad2 = replace(bad1, key="hashserver-local-rw-bad2")
    with pytest.raises(ServiceError) as info:
        ensure_parallel([good, bad1, bad2])
    text = str(info.value)
    assert text.startswith("2 of 3 services failed to start:")
    assert "'hashserver-local-rw-bad1'" in text and "'hashserver-local-rw-bad2'" in text
    assert read_handle(good) is not None


# -- failures with clear messages ------------------------------------------------

@pytest.mark.parametrize("make_spec", [hashserver_spec, database_spec], ids=["hashserver", "database"])
def test_port_range_exhausted(fake_home, tmp_path, make_spec):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = make_spec(tmp_path, "svc-local-rw-noport", ports=(port, port))
        with pytest.raises(ServiceError) as info:
            ensure_service(spec, deadline=30)
    text = str(info.value)
    assert f"on localhost: exited with code 1 before answering its health check; the port " \
           f"range {port}-{port} is exhausted (every port in it is taken); free a port or " \
           f"widen port_start/port_end" in text
    assert f"No free port available in range {port}-{port}" in text  # the log tail
    assert_failed_and_gone(spec.key)


def test_missing_executable(fake_home, tmp_path):
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-noexe")
    spec = replace(spec, argv=("no-such-server-xyz", *spec.argv[1:]))
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    assert str(info.value).splitlines()[0] == (
        "hashserver 'hashserver-local-rw-noexe' on localhost: executable 'no-such-server-xyz' "
        "not found on PATH; install the server (pip install seamless-config[servers]) or "
        "select the environment that has it (conda)")
    assert state.read_server(spec.key) is None


def test_unwritable_data_directory(fake_home, tmp_path):
    regular_file = tmp_path / "a-file"
    regular_file.write_text("")
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-nodir", workdir=str(regular_file / "x"))
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    assert str(info.value).splitlines()[0] == (
        f"hashserver 'hashserver-local-rw-nodir' on localhost: cannot create its data "
        f"directory {regular_file}/x: Not a directory; choose a writable location "
        "(bufferdir / database_dir)")


def test_unopenable_database_file(fake_home, tmp_path):
    regular_file = tmp_path / "a-file"
    regular_file.write_text("")
    spec = database_spec(tmp_path, "database-local-rw-nofile",
                         dbfile=str(regular_file / "x" / "seamless.db"))
    with pytest.raises(ServiceError) as info:
        ensure_service(spec, deadline=30)
    text = str(info.value)
    assert text.splitlines()[0] == (
        "database 'database-local-rw-nofile' on localhost: exited with code 1 before "
        "answering its health check; the data directory cannot be created or opened; "
        "check its path")
    assert "unable to open database file" in text
    assert_failed_and_gone(spec.key)


def test_deadline_kills_a_server_that_never_answers(fake_home, tmp_path):
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-mute")
    spec = replace(spec, argv=(sys.executable, "-c", "import time; time.sleep(600)"))
    start = time.monotonic()
    with pytest.raises(ServiceError, match=r"on localhost: not healthy after \d+ s "
                                           r"\(status: starting, port: None\)"):
        ensure_service(spec, deadline=1.5)
    assert time.monotonic() - start < 30
    assert_failed_and_gone(spec.key)


@pytest.mark.skipif(shutil.which("conda") is not None, reason="conda is installed here")
def test_conda_requested_but_absent_runs_from_this_environment(fake_home, tmp_path, caplog):
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-conda", conda="some-env")
    with caplog.at_level(logging.WARNING, logger="seamless_config"):
        handle = ensure_service(spec)
    assert handle.launched and health.healthy(handle.url)
    assert ("hashserver-local-rw-conda: conda environment 'some-env' requested but no 'conda' "
            "on PATH; running from the current environment") in caplog.text


def _environ_of(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


def test_a_launched_server_sees_its_own_directory_as_pwd(fake_home, tmp_path, monkeypatch):
    """Programs that take their directory from $PWD (oarsub writes a job's
    OAR.*.stdout there) must see the server's work directory, not the
    directory of whoever ran init."""
    elsewhere = tmp_path / "user-cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("PWD", str(elsewhere))
    spec = hashserver_spec(tmp_path, "hashserver-local-rw-pwd")
    handle = ensure_service(spec)
    cwd = os.readlink(f"/proc/{handle.pid}/cwd")
    assert cwd == os.path.expanduser(spec.workdir) != str(elsewhere)
    assert _environ_of(handle.pid)["PWD"] == cwd

"""State files, the per-key lock, the remote launch line and import weight."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from interpreter_tests.fixtures_sshd import REPO
from seamless_config.errors import SeamlessConfigWarning, ServiceError
from seamless_config.launch import state
from seamless_config.launch.lock import key_lock
from seamless_config.launch.remote import launch_line


def test_state_paths_and_atomic_writes(fake_home):
    base = str(fake_home / ".remote-http-launcher")
    assert state.server_state_path("k") == f"{base}/server/k.json"
    assert state.server_log_path("k") == f"{base}/server/k.log"
    assert state.client_path("k") == f"{base}/client/k.json"
    state.write_server("k", {"status": "starting", "pid": 12})
    state.write_client("k", {"hostname": "localhost", "port": 1})
    assert state.read_server("k") == {"status": "starting", "pid": 12}
    assert os.listdir(f"{base}/server") == ["k.json"]  # no temporary file left
    assert os.stat(f"{base}/client/k.json").st_mode & 0o777 == 0o600
    state.mark_failed("k", state.read_server("k"))
    assert state.read_server("k") == {"status": "failed", "pid": 12}
    state.remove_server("k")
    state.remove_server("k")  # absent is fine
    assert state.read_server("k") is None


def test_corrupt_state_reads_as_absent_with_a_warning(fake_home):
    path = state.server_state_path("k")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
        f.write('{"status": "runn')
    with pytest.warns(SeamlessConfigWarning, match=f"ignoring corrupt state file {path}: "):
        assert state.read_server("k") is None


def test_lock_excludes_and_times_out(fake_home):
    errors = []

    def contender():
        try:
            with key_lock("k", timeout=0.3):
                pass
        except ServiceError as exc:
            errors.append(str(exc))

    with key_lock("k"):
        thread = threading.Thread(target=contender)
        thread.start()
        thread.join()
    lock_file = fake_home / ".remote-http-launcher" / "locks" / "k.lock"
    assert errors == [f"timed out after 0 s waiting for another launcher of 'k' (lock "
                      f"{lock_file}); if no other launch is running, a hung process holds "
                      "the lock"]
    with key_lock("k", timeout=0.3):  # released
        pass


def test_remote_launch_line_quotes_every_word(tmp_path):
    """The one shell line built from spec values, run by a real sh."""
    out = tmp_path / "argv.json"
    script = "import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))"
    words = ["a b", "$HOME", "it's", "{status_file}", "`id`", "~/rel", ";rm -rf /"]
    line = launch_line([sys.executable, "-c", script, str(out), *words],
                       server_dir=str(tmp_path / "server"), workdir=str(tmp_path / "w"),
                       create_workdir=True, pid_file=str(tmp_path / "server" / "k.pid"),
                       log_file=str(tmp_path / "server" / "k.log"))
    home = str(tmp_path / "home")
    result = subprocess.run(["sh", "-c", line], env=dict(os.environ, HOME=home),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(os.getuid())
    end = time.monotonic() + 10
    while not out.exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert json.loads(out.read_text()) == [*words[:5], home + "/rel", words[6]]
    assert (tmp_path / "w").is_dir()
    assert (tmp_path / "server" / "k.pid").read_text().strip().isdigit()


def test_missing_executable_exit_code_of_the_launch_line(tmp_path):
    line = launch_line(["no-such-server-xyz"], server_dir=str(tmp_path), workdir=str(tmp_path),
                       create_workdir=False, pid_file=str(tmp_path / "p"),
                       log_file=str(tmp_path / "l"))
    assert subprocess.run(["sh", "-c", line]).returncode == 127


def test_importing_the_executor_stays_light():
    code = ("import sys, seamless_config.launch.executor; "
            "print([m for m in ('requests', 'fabric', 'paramiko') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=REPO), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# A server whose log another program appends to meanwhile, as seamless-dask's
# wrapper appends the job script it submits: every line must survive.
SHARED_LOG = ("import sys\n"
              "print('server first', flush=True)\n"
              "open(sys.argv[1], 'a').write('wrapper line\\n')\n"
              "print('server last', flush=True)\n")
SHARED_LINES = ["server first", "wrapper line", "server last"]


def _log_lines(path, count):
    end = time.monotonic() + 10
    while time.monotonic() < end:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    return path.read_text().splitlines()


def test_a_local_servers_log_keeps_what_others_append_and_starts_empty(tmp_path):
    from seamless_config.launch.local import _spawn

    log = tmp_path / "server" / "k.log"
    for _ in range(2):  # the second launch starts a fresh log
        proc = _spawn(None, [sys.executable, "-c", SHARED_LOG, str(log)], str(tmp_path),
                      str(log))
        proc.wait(timeout=30)
        assert _log_lines(log, 3) == SHARED_LINES
    assert log.stat().st_mode & 0o777 == 0o600


def test_a_remote_servers_log_keeps_what_others_append_and_starts_empty(tmp_path):
    log = tmp_path / "server" / "k.log"
    for _ in range(2):
        line = launch_line([sys.executable, "-c", SHARED_LOG, str(log)],
                           server_dir=str(tmp_path / "server"), workdir=str(tmp_path),
                           create_workdir=False, pid_file=str(tmp_path / "server" / "k.pid"),
                           log_file=str(log))
        subprocess.run(["sh", "-c", line], check=True, capture_output=True, timeout=30)
        assert _log_lines(log, 3) == SHARED_LINES
    assert log.stat().st_mode & 0o777 == 0o600

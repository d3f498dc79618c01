"""Hostile or corrupt launcher state, recycled pids and servers that took
each other's ports (issue 13, items 2, 5 and 8), against real servers.

A state file is data: truncated by a crash, hand-edited, or naming a pid
that now belongs to another program. Nothing here may be signalled or
reused unless it is the expected server, no run may end with exit 70, and
a server that a broken record lost track of is named, never twinned."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seamless_config.cli.main import cli
from seamless_config.errors import SeamlessConfigWarning, ServiceError
from seamless_config.launch import health, proc, state
from seamless_config.launch.executor import ensure_service, read_handle
from seamless_config.plan.spec import LaunchSpec
from seamless_config.launch.tunnel import ssh_argv

from .conftest import local_project
from .fixtures_sshd import database_spec, hashserver_spec, jobserver_spec, kill_pid, started

HASH_KEY = "hashserver-here-rw-demo"
BAD_PIDS = [99999999999999999999, -5, 0, "1234", True, 1.5, None, [1], 2**22 + 1]


def sleeper(*args: str) -> subprocess.Popen:
    """A live process that is not a server (or pretends to be one through
    ``args``)."""
    return started([sys.executable, "-c", "import time; time.sleep(600)", *args])


def stop(process: subprocess.Popen) -> None:
    kill_pid(process.pid)
    process.wait(timeout=10)


def services(root, *args):
    return CliRunner().invoke(cli, ["services", *args, "--workdir", str(root)])


# -- bad pids count as dead, never exit 70 ---------------------------------------------

@pytest.mark.parametrize("pid", BAD_PIDS, ids=repr)
def test_a_bad_pid_counts_as_dead(pid):
    assert not proc.valid_pid(pid) and not proc.pid_alive(pid)
    proc.signal_group(pid, 0)  # nothing to signal, nothing raised


def test_bad_pids_in_state_files_are_listed_stale_and_relaunched(fake_home, tmp_path):
    root = local_project(tmp_path / "p", hash_ports=(44300, 44349), db_ports=(44350, 44399))
    server = os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server")
    os.makedirs(server)
    for n, pid in enumerate(BAD_PIDS):
        with open(os.path.join(server, f"hashserver-here-rw-bad{n}.json"), "w") as f:
            json.dump({"status": "running", "pid": pid, "port": 44300, "command": "hashserver"}, f)
    result = services(root, "ps", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["servers"]
    assert [(r["state"], r["pid"]) for r in rows] == [("stale", None)] * len(BAD_PIDS)
    spec = hashserver_spec(tmp_path, f"hashserver-here-rw-bad0", ports=(44300, 44349))
    with pytest.warns(SeamlessConfigWarning, match=r"its process \(pid 99999999999999999999\) "
                      "is gone; relaunching"):
        handle = ensure_service(spec)
    assert handle.launched and health.answers_as("hashserver", handle.url)


# -- only the expected server is ever signalled -----------------------------------------

def test_stop_never_signals_a_process_that_is_not_the_server(fake_home, tmp_path):
    """A record without a command naming a live unrelated process: 'services
    stop' used to kill it."""
    root = local_project(tmp_path / "p", hash_ports=(44300, 44349), db_ports=(44350, 44399))
    victim = sleeper()
    try:
        state.write_server(HASH_KEY, {"status": "running", "pid": victim.pid, "port": 44300})
        result = services(root, "stop", "--service", "hashserver")
        assert result.exit_code == 0, result.output
        time.sleep(0.5)
        assert victim.poll() is None
        assert state.read_server(HASH_KEY)["status"] == "stale"
    finally:
        stop(victim)


def test_a_live_foreign_pid_on_the_database_port_is_not_reused_as_the_hashserver(
        fake_home, tmp_path):
    """The record names a live process that is not a hashserver, and the
    port of a running database: both the pid check and the health check
    tell, and a real hashserver is launched."""
    database = ensure_service(database_spec(tmp_path, "database-here-rw-demo"))
    foreign = sleeper("hashserver")
    try:
        for pid in (foreign.pid, database.pid):
            state.write_server(HASH_KEY, {"status": "running", "pid": pid, "port": database.port,
                                          "network_interface": "127.0.0.1",
                                          "command": "hashserver /x"})
            with pytest.warns(SeamlessConfigWarning, match="relaunching"):
                handle = ensure_service(hashserver_spec(tmp_path, HASH_KEY))
            assert handle.launched and handle.port != database.port
            assert health.answers_as("hashserver", handle.url)
            kill_pid(handle.pid)
            state.remove_server(HASH_KEY)
        assert foreign.poll() is None and proc.pid_alive(database.pid)
    finally:
        stop(foreign)


def test_each_health_probe_is_answered_by_its_own_server_only(fake_home, tmp_path):
    servers = {"hashserver": ensure_service(hashserver_spec(tmp_path, "hashserver-probe-rw-x")),
               "database": ensure_service(database_spec(tmp_path, "database-probe-rw-x")),
               "jobserver": ensure_service(jobserver_spec(tmp_path, "jobserver-probe-rw-x"))}
    answered = {(asked, server): health.answers_as(asked, handle.url)
                for asked in (*servers, "daskserver") for server, handle in servers.items()}
    assert [pair for pair, yes in answered.items() if yes] == [
        ("hashserver", "hashserver"), ("database", "database"), ("jobserver", "jobserver")]
    assert all(health.healthy(h.url) for h in servers.values())  # what could not tell them apart


# -- servers a corrupt record lost track of ---------------------------------------------

@pytest.mark.parametrize("damage", ["truncated", "garbage", "emptied", "removed",
                                    "another pid"])
def test_a_server_whose_record_is_damaged_is_named_not_twinned(fake_home, tmp_path, damage):
    spec = hashserver_spec(tmp_path, HASH_KEY)
    first = ensure_service(spec)
    try:
        _named_not_twinned(spec, first, tmp_path, damage)
    finally:  # no record names it any more, so fake_home would leave it running
        kill_pid(first.pid)


def _named_not_twinned(spec, first, tmp_path, damage) -> None:
    path = state.server_state_path(spec.key)
    with open(path) as f:
        text = f.read()
    if damage == "removed":
        os.unlink(path)
    else:
        other = {"truncated": text[: len(text) // 2], "garbage": "\x00\xff{{{",
                 "emptied": "", "another pid": json.dumps({**json.loads(text),
                                                           "pid": os.getpid()})}[damage]
        with open(path, "w") as f:
            f.write(other)
    if damage == "another pid":  # names this test's own process: alive, and left alone
        with pytest.warns(SeamlessConfigWarning, match=f"its pid {os.getpid()} now runs another "
                          "program, which was left alone; relaunching"):
            with pytest.raises(ServiceError) as info:
                ensure_service(spec)
    else:
        with pytest.raises(ServiceError) as info:
            ensure_service(spec)
    message = info.value.message
    assert f"a server for this key is running but its state file does not record it (pid " \
           f"{first.pid}: " in message and f"kill {first.pid}" in message
    assert proc.pid_alive(first.pid)
    # and 'services ps' shows it, orphaned, so that it can be found and stopped
    root = local_project(tmp_path / "p")
    rows = json.loads(services(root, "ps", "--json").stdout)["servers"]
    orphans = [r for r in rows if r["state"] == "orphaned"]
    assert [(r["key"], r["pid"]) for r in orphans] == [(HASH_KEY, first.pid)]
    found = [p for p, args in proc.find_servers(proc.Identity("hashserver", path))]
    assert found == [first.pid]


# -- never reuse a server started differently -----------------------------------------

def test_a_server_with_another_work_directory_is_restarted(fake_home, tmp_path):
    first = ensure_service(hashserver_spec(tmp_path, HASH_KEY))
    moved = hashserver_spec(tmp_path, HASH_KEY, workdir=str(tmp_path / "elsewhere"))
    with pytest.warns(SeamlessConfigWarning) as warned:
        second = ensure_service(moved)
    text = str(warned[0].message)
    assert f"it works in {tmp_path}/buffers, but this launch needs {tmp_path}/elsewhere" in text
    assert second.launched and not proc.pid_alive(first.pid)
    assert state.read_server(HASH_KEY)["workdir"] == str(tmp_path / "elsewhere")


def test_a_server_started_with_another_command_is_restarted(fake_home, tmp_path):
    first = ensure_service(hashserver_spec(tmp_path, HASH_KEY))
    other_ports = hashserver_spec(tmp_path, HASH_KEY, ports=(41000, 41999))
    with pytest.warns(SeamlessConfigWarning, match=r"it was started as .*--port-range 40000 "
                      r"49999.*, but this launch runs .*--port-range 41000 41999"):
        second = ensure_service(other_ports)
    assert second.launched and 41000 <= second.port <= 41999
    assert not proc.pid_alive(first.pid)


def test_the_same_command_written_by_remote_http_launcher_is_the_same():
    argv = ["hashserver", "~/b/p", "--status-file", "{status_file}", "--port-range", "1", "2"]
    assert proc.same_command("hashserver /home/u/b/p --status-file /home/u/.rhl/server/k.json "
                             "--port-range 1 2", argv, "/home/u")
    assert proc.same_command("/opt/conda/bin/conda run --no-capture-output -n env hashserver "
                             "~/b/p --status-file x --port-range 1 2", argv, "/home/u")
    assert not proc.same_command("hashserver ~/b/q --status-file x --port-range 1 2", argv, "/h")
    assert not proc.same_command(None, argv) and not proc.same_command("'unclosed", argv)


# -- private state -----------------------------------------------------------------------

def test_state_logs_and_locks_are_private(fake_home, tmp_path):
    base = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    os.makedirs(os.path.join(base, "server"), mode=0o755)  # as earlier versions left it
    os.chmod(os.path.join(base, "server"), 0o755)
    handle = ensure_service(hashserver_spec(tmp_path, HASH_KEY))
    assert handle.launched
    modes = {}
    for directory, _, names in os.walk(base):
        modes[os.path.relpath(directory, base)] = stat.S_IMODE(os.stat(directory).st_mode)
        for name in names:
            path = os.path.join(directory, name)
            modes[os.path.relpath(path, base)] = stat.S_IMODE(os.stat(path).st_mode)
    assert modes == {
        ".": 0o755 if modes["."] == 0o755 else 0o700,  # ours only when we made it
        "server": 0o700, "client": 0o700, "locks": 0o700,
        f"server/{HASH_KEY}.json": 0o600,
        f"server/{HASH_KEY}.log": 0o600, f"client/{HASH_KEY}.json": 0o600,
        f"locks/{HASH_KEY}.lock": 0o600}


def test_the_launcher_directory_is_made_private_when_we_create_it(fake_home, tmp_path):
    state.write_client("k", {"hostname": "localhost", "port": 1})
    base = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    assert stat.S_IMODE(os.stat(base).st_mode) == 0o700
    state.write_server("k", {"status": "stale"})
    assert stat.S_IMODE(os.stat(state.server_state_path("k")).st_mode) == 0o600


def test_the_ssh_host_comes_after_double_dash():
    argv = ssh_argv("-oProxyCommand=x", [(1, "127.0.0.1", 2)], 5)
    assert argv[argv.index("--") + 1] == "-oProxyCommand=x"


# -- any state file: never exit 70, never a hang ------------------------------------------

values = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                   st.floats(allow_nan=True), st.text(max_size=20),
                   st.sampled_from(["running", "starting", "stale", "failed", "hashserver",
                                    "127.0.0.1", "0.0.0.0", "::", "localhost"]))
json_values = st.recursive(values, lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
FIELDS = ["status", "pid", "port", "dashboard_port", "command", "workdir", "meta",
          "network_interface", "parameters", "log", "uid", "tunneled-port", "tunnel_pid",
          "hostname", "server_pid"]
records = st.one_of(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8),
                    json_values)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(record=records, client=records, raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_any_state_file_gives_no_internal_error(tmp_path_factory, record, client, raw):
    home = tmp_path_factory.mktemp("home")
    base = home / ".rhl"
    root = local_project(tmp_path_factory.mktemp("p"))
    old = {k: os.environ.get(k) for k in ("HOME", "REMOTE_HTTP_LAUNCHER_DIR")}
    os.environ.update(HOME=str(home), REMOTE_HTTP_LAUNCHER_DIR=str(base))
    try:
        for kind, data in (("server", record), ("client", client)):
            os.makedirs(base / kind)
            text = json.dumps(data).encode() if raw is None or kind == "client" else raw
            for key in (HASH_KEY, "database-here-rw-demo", "jobserver-x-rw-y"):
                (base / kind / f"{key}.json").write_bytes(text)
        for argv in (["services", "ps", "--json"], ["plan", "--json"],
                     ["services", "inspect", "--service", "hashserver"]):
            result = CliRunner().invoke(cli, [*argv, "--workdir", str(root)])
            assert result.exit_code in (0, 3, 4), (argv, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit), argv
        spec = LaunchSpec("hashserver", HASH_KEY, (), "", "")
        assert read_handle(spec) is None or isinstance(record, dict)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.parametrize("make", ["fifo", "dev-zero", "directory"])
def test_a_special_file_as_state_file_blocks_nothing(fake_home, tmp_path, make):
    path = state.server_state_path(HASH_KEY)
    os.makedirs(os.path.dirname(path))
    if make == "fifo":
        os.mkfifo(path)
    elif make == "dev-zero":
        os.symlink("/dev/zero", path)
    else:
        os.mkdir(path)
    try:
        with pytest.warns(SeamlessConfigWarning, match=f"cannot read state file {path}: it is "):
            assert state.read_server(HASH_KEY) is None
    finally:  # fake_home's cleanup reads every state file, without such care
        os.rmdir(path) if make == "directory" else os.unlink(path)

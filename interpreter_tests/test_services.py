"""``seamless-config services`` as users run it: whole processes against
real servers on loopback (ports 44100-44299), state files shared with
remote-http-launcher, and every user mistake as an exit code."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from seamless_config.launch.verify import BufferClient

from .conftest import local_project
from .fixtures_sshd import kill_pid

CLI = [sys.executable, "-m", "seamless_config.cli.main", "services"]
INIT = [sys.executable, "-m", "seamless_config.cli.init"]


def project(root):
    return local_project(root, hash_ports=(44100, 44149), db_ports=(44150, 44199))


def run(argv, workdir, *args, stdin=None):
    return subprocess.run([*argv, *args, "--workdir", str(workdir)], capture_output=True,
                          text=True, timeout=60, input=stdin, env=dict(os.environ))


def services(workdir, *args, stdin=None):
    return run(CLI + [args[0]], workdir, *args[1:], stdin=stdin)


def init(workdir, *args):
    out = run(INIT, workdir, "--json", *args)
    assert out.returncode == 0, out.stderr
    return {s["service"]: s for s in json.loads(out.stdout)["services"]}


def server_file(key) -> dict:
    with open(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server", key + ".json")) as f:
        return json.load(f)


def ps_rows(workdir, *args):
    out = services(workdir, "ps", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["servers"]


def summary(rows):
    return [(r["service"], r["cluster"], r["project"], r["stage"], r["host"], r["state"],
             r["reason"]) for r in rows]


def tree_of(path) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), path) for d, _, names in os.walk(path)
            for f in names}


def put(url, data: bytes) -> str:
    return BufferClient(url).put(data)


@pytest.fixture
def demo(fake_home, tmp_path):
    """The demo project with servers for the root scope and stage dev."""
    root = project(tmp_path / "p")
    urls = {"root": init(root)["hashserver"]["url"],
            "dev": init(root, "--stage", "dev")["hashserver"]["url"]}
    return root, urls


def test_ps_shows_every_server_with_its_scope(demo):
    root, _ = demo
    rows = ps_rows(root)
    assert summary(rows) == [
        ("hashserver", "here", "demo", None, "localhost", "running", None),
        ("database", "here", "demo", None, "localhost", "running", None),
        ("hashserver", "here", "demo", "dev", "localhost", "running", None),
        ("database", "here", "demo", "dev", "localhost", "running", None)]
    for row in rows:
        record = server_file(row["key"])
        assert (row["pid"], row["port"], row["described_by"]) == (
            record["pid"], record["port"], "meta")
        assert isinstance(row["uptime"], int) and row["tunnel"] is None
    text = services(root, "ps").stdout.splitlines()
    assert text[0].split() == ["SERVICE", "CLUSTER", "PROJECT", "STAGE", "HOST", "PORT", "PID",
                               "STATE", "UPTIME", "TUNNEL", "KEY"]
    for line, row in zip(text[1:], rows):
        cells = line.split()
        assert cells[:8] == [row["service"], "here", "demo", row["stage"] or "-", "localhost",
                             str(row["port"]), str(row["pid"]), "running"]
        assert re.fullmatch(r"\d+s", cells[8]) and cells[9:] == ["-", row["key"]]
    assert summary(ps_rows(root, "--stage", "dev", "--service", "database")) == [
        ("database", "here", "demo", "dev", "localhost", "running", None)]


def test_stop_then_ps_shows_stale_and_data_stays(demo):
    root, urls = demo
    checksum = put(urls["dev"], b"kept after stop")
    keys = ["hashserver-here-rw-demo--STAGE-dev", "database-here-rw-demo--STAGE-dev"]
    pids = [server_file(k)["pid"] for k in keys]
    out = services(root, "stop", "--stage", "dev")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"stopped hashserver '{keys[0]}' on localhost (pid {pids[0]}, SIGINT)",
        f"stopped database '{keys[1]}' on localhost (pid {pids[1]}, SIGINT)"]
    assert [server_file(k)["status"] for k in keys] == ["stale", "stale"]
    assert summary(ps_rows(root))[2:] == [
        ("hashserver", "here", "demo", "dev", "localhost", "stale", "stopped"),
        ("database", "here", "demo", "dev", "localhost", "stale", "stopped")]
    buffers = root / "data" / "buffers" / "demo" / "STAGE-dev"
    assert (buffers / checksum[:2] / checksum).is_file()
    assert (root / "data" / "db" / "demo" / "STAGE-dev" / "seamless.db").is_file()
    again = services(root, "stop", "--stage", "dev", "--service", "hashserver")
    assert again.stdout == f"hashserver '{keys[0]}' on localhost was not running (pid {pids[0]})\n"


def test_sigkilled_server_shows_stale(demo):
    root, _ = demo
    pid = server_file("database-here-rw-demo")["pid"]
    os.kill(pid, signal.SIGKILL)
    rows = ps_rows(root, "--service", "database")
    assert summary(rows) == [
        ("database", "here", "demo", None, "localhost", "stale", f"pid {pid} is gone"),
        ("database", "here", "demo", "dev", "localhost", "running", None)]
    assert rows[0]["uptime"] is None


def test_clear_removes_exactly_one_stage(demo):
    root, urls = demo
    ours = put(urls["dev"], b"dev buffer")
    sibling = put(urls["root"], b"root buffer")
    shared = put(urls["dev"], b"in both") and put(urls["root"], b"in both")
    assert services(root, "stop", "--stage", "dev").returncode == 0
    data = root / "data" / "buffers" / "demo"
    files = [os.path.join(d, f) for d, _, names in os.walk(data / "STAGE-dev") for f in names]
    before = tree_of(data)
    assert f"{sibling[:2]}/{sibling}" in before and f"{shared[:2]}/{shared}" in before
    assert {os.path.basename(f) for f in files} >= {ours, shared, ".HASHSERVER_PREFIX"}
    size = sum(os.path.getsize(f) for f in files)
    out = services(root, "clear", "--service", "hashserver", "--stage", "dev", "--yes")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"will delete {len(files)} files ({size} B) of hashserver 'hashserver-here-rw-demo--STAGE-dev' "
        "on localhost:", f"  in {data}/STAGE-dev", f"deleted {size} B from {data}/STAGE-dev"]
    assert os.listdir(data / "STAGE-dev") == []
    assert tree_of(data) == before - {os.path.relpath(f, data) for f in files}
    assert BufferClient(urls["root"]).get(sibling) == b"root buffer"
    assert BufferClient(urls["root"]).get(shared) == b"in both"


def test_clear_database_lists_files_and_asks(demo):
    root, _ = demo
    services(root, "stop", "--stage", "dev", "--service", "database")
    db = root / "data" / "db" / "demo" / "STAGE-dev" / "seamless.db"
    size = os.path.getsize(db)
    args = ("clear", "--service", "database", "--stage", "dev")
    declined = services(root, *args, stdin="n\n")
    assert declined.returncode == 1 and db.is_file()
    assert declined.stdout == (
        f"will delete 1 file ({size / 1024:.1f} KiB) of database "
        f"'database-here-rw-demo--STAGE-dev' on localhost:\n  {db}  {size / 1024:.1f} KiB\n"
        "delete? [y/N]: ")
    assert declined.stderr == "Aborted!\n"
    assert services(root, *args, stdin="y\n").returncode == 0
    assert not db.exists() and (root / "data" / "db" / "demo" / "seamless.db").is_file()


def test_clear_refuses_a_running_service_unless_stop(demo):
    root, urls = demo
    checksum = put(urls["root"], b"root buffer")
    pid = server_file("hashserver-here-rw-demo")["pid"]
    out = services(root, "clear", "--service", "hashserver", "--yes")
    assert out.returncode == 2 and out.stdout == ""  # a refusal: wrong usage
    assert out.stderr == (
        f"error: hashserver 'hashserver-here-rw-demo' (pid {pid}) is running on localhost "
        f"and uses {root}/data/buffers/demo; stop it first, or pass --stop\n")
    assert (root / "data" / "buffers" / "demo" / checksum[:2] / checksum).is_file()
    out = services(root, "clear", "--service", "hashserver", "--yes", "--stop")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-2:] == [
        "keeping: STAGE-dev/", f"deleted {out.stdout.split('(')[1].split(')')[0]} from "
                               f"{root}/data/buffers/demo"]
    assert server_file("hashserver-here-rw-demo")["status"] == "stale"
    assert sorted(os.listdir(root / "data" / "buffers" / "demo")) == ["STAGE-dev"]


def test_clear_refuses_a_symlink_leading_outside(fake_home, tmp_path):
    root = project(tmp_path / "p")
    outside = tmp_path / "elsewhere"
    (outside / "ab").mkdir(parents=True)
    (outside / "ab" / ("ab" + "0" * 62)).write_bytes(b"not yours")
    (root / "data" / "buffers" / "demo").mkdir(parents=True)
    os.symlink(outside, root / "data" / "buffers" / "demo" / "STAGE-x")
    out = services(root, "clear", "--service", "hashserver", "--stage", "x", "--yes")
    target = f"{root}/data/buffers/demo/STAGE-x"
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        f"error: refusing to clear {target}: it resolves to {outside} (outside it; symbolic "
        "links below the configured directory are not followed); clear only deletes below "
        f"the configured bufferdir {root}/data/buffers\n")
    assert (outside / "ab" / ("ab" + "0" * 62)).read_bytes() == b"not yours"


def test_user_mistakes_exit_with_codes_and_no_traceback(fake_home, tmp_path):
    root = project(tmp_path / "p")
    cases = {
        ("clear", "--service", "hashserver", "--project", ".."): 2,
        ("clear", "--service", "jobserver"): 2,
        ("clear",): 2,
        ("ps", "--cluster", "nope"): 2,  # no file is wrong: exit 3 is for files
        ("resolve", "--stage", "a--b"): 2,
        ("logs",): 2,
        ("stop",): 2,
        ("resolve", "--service", "jobserver"): 3,  # names the cluster's definition
    }
    for args, code in cases.items():
        out = services(root, *args)
        assert out.returncode == code, (args, out.stderr)
        assert "Traceback" not in out.stderr and out.stderr.strip(), args
    assert services(root, "ps", "--cluster", "nope").stderr == (
        "error: unknown cluster 'nope' (from --cluster nope); known clusters: here\n")
    assert services(root, "logs").stderr.endswith(
        "Error: this configuration uses hashserver, database; name one with --service\n")
    assert services(root, "stop").stdout.splitlines() == [
        "nothing known about hashserver 'hashserver-here-rw-demo' on localhost",
        "nothing known about database 'database-here-rw-demo' on localhost"]


def test_resolve_is_pure_and_whole(fake_home, tmp_path):
    root = project(tmp_path / "p")
    out = services(root, "resolve", "--stage", "dev:gpu", "--service", "hashserver")
    assert out.returncode == 0, out.stderr
    launcher = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    key = "hashserver-here-rw-demo--STAGE-dev"
    assert json.loads(out.stdout) == {"hashserver": {
        "key": key, "service": "hashserver", "cluster": "here", "project": "demo",
        "subproject": None, "stage": "dev", "substage": None, "host": "localhost",
        "ssh_host": None, "tunnel": False, "workdir": f"{root}/data/buffers/demo/STAGE-dev",
        "log": f"{launcher}/server/{key}.log", "client_file": f"{launcher}/client/{key}.json",
        "data": f"{root}/data/buffers/demo/STAGE-dev", "bufferdir": f"{root}/data/buffers"}}
    assert not os.path.exists(launcher)


def test_logs_inspect_and_rm(demo):
    root, _ = demo
    key = "hashserver-here-rw-demo--STAGE-dev"
    record = server_file(key)
    with open(record["log"]) as f:
        lines = f.read().splitlines(keepends=True)
    out = services(root, "logs", "--service", "hashserver", "--stage", "dev", "--tail", "2")
    assert (out.returncode, out.stdout) == (0, "".join(lines[-2:]))
    inspected = json.loads(services(root, "inspect", "--stage", "dev", "--service",
                                    "hashserver").stdout)
    launcher = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    with open(f"{launcher}/client/{key}.json") as f:
        client = json.load(f)
    assert inspected == {"hashserver": {
        "key": key, "service": "hashserver", "host": "localhost",
        "server_file": f"{launcher}/server/{key}.json", "server": record,
        "client_file": f"{launcher}/client/{key}.json", "client": client}}
    refused = services(root, "rm", "--stage", "dev", "--service", "hashserver")
    assert refused.returncode == 2
    assert refused.stderr == (f"error: hashserver '{key}' is running on localhost (pid "
                              f"{record['pid']}); stop it first: seamless-config services stop "
                              f"--workdir {root} --stage dev --service hashserver\n")
    assert services(root, "rm", "--stage", "dev", "--client").stdout.splitlines() == [
        f"hashserver '{key}': removed client file on this machine",
        "database 'database-here-rw-demo--STAGE-dev': removed client file on this machine"]
    services(root, "stop", "--stage", "dev")
    assert services(root, "rm", "--stage", "dev").stdout.splitlines() == [
        f"hashserver '{key}': removed server state on localhost",
        "database 'database-here-rw-demo--STAGE-dev': removed server state on localhost"]
    assert os.path.isfile(record["log"])
    assert [r["stage"] for r in ps_rows(root)] == [None, None]


RHL_FILE = {"workdir": "/nonexistent/buffers", "log": "/nonexistent/x.log",
            "command": "hashserver /nonexistent/buffers --status-file x", "uid": 0,
            "pid": 999999999, "status": "running", "port": 44298}


def test_remote_http_launcher_state_appears_in_ps(fake_home, tmp_path, monkeypatch):
    rhl = pytest.importorskip("remote_http_launcher")
    from interpreter_tests.fixtures_sshd import hashserver_spec

    # remote-http-launcher 0.4.5 only works with its default directory
    monkeypatch.delenv("REMOTE_HTTP_LAUNCHER_DIR")
    spec = hashserver_spec(tmp_path, "hashserver-lab-rw-proj--sub--STAGE-devSUBSTAGE-gpu",
                           ports=(44200, 44249))
    conf = spec.to_dict()
    del conf["meta"]  # as the previous packages launch it
    payload = rhl.run(conf)
    server_dir = fake_home / ".remote-http-launcher" / "server"
    (server_dir / "database-old-ro-legacy.json").write_text(json.dumps(RHL_FILE))
    # a server on a host nobody asked: only this machine's client file knows it
    (server_dir.parent / "client" / "hashserver-gone-rw-p--STAGE-x.json").write_text(
        json.dumps({"hostname": "127.0.0.1", "port": 44297}))
    rows = ps_rows(tmp_path)
    assert [(r["service"], r["cluster"], r["project"], r["subproject"], r["stage"],
             r["substage"], r["host"], r["state"], r["reason"], r["described_by"],
             r["seen_in"]) for r in rows] == [
        ("hashserver", "lab", "proj", "sub", "dev", "gpu", "localhost", "running", None, "key",
         "server"),
        ("database", "old", "legacy", None, None, None, "localhost", "stale",
         "pid 999999999 is gone", "key", "server"),
        ("hashserver", "gone", "p", None, "x", None, "127.0.0.1", "stale",
         "no answer at 127.0.0.1:44297", "key", "client")]
    assert rows[0]["port"] == payload["port"]


def follow_until_interrupted(workdir, *args, marker: str, append_to: str) -> str:
    """Start ``logs --follow``, append ``marker`` to the log (whether tail
    starts before or after, it prints it), and stop it with SIGINT (as
    Ctrl-C would) once the marker arrives."""
    proc = subprocess.Popen([*CLI, "logs", "--follow", "--workdir", str(workdir), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ))
    try:
        with open(append_to, "a") as f:
            f.write(marker + "\n")
        seen = read_until(proc, marker.encode(), deadline=time.monotonic() + 15)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            kill_pid(proc.pid)
    with proc.stdout, proc.stderr:
        assert proc.returncode == 0, proc.stderr.read()
        return (seen + proc.stdout.read()).decode()


def read_until(proc, wanted: bytes, deadline: float) -> bytes:
    data = b""
    while wanted not in data:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {wanted!r} in time; got {data!r}")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            raise AssertionError(f"output ended before {wanted!r}: {data!r}")
        data += chunk
    return data


def test_logs_follow_ends_on_ctrl_c(demo):
    root, _ = demo
    log = server_file("database-here-rw-demo")["log"]
    seen = follow_until_interrupted(root, "--service", "database", "--tail", "1",
                                    marker="appended while following", append_to=log)
    assert seen.endswith("appended while following\n")


def test_console_scripts_are_the_same_commands(fake_home, tmp_path):
    from importlib.metadata import entry_points

    from seamless_config.cli import services as cli_services

    scripts = {ep.name: ep for ep in entry_points(group="console_scripts")
               if ep.name.startswith("seamless-service-")}
    names = ("ps", "logs", "inspect", "stop", "rm", "clear", "resolve")
    assert sorted(scripts) == sorted(f"seamless-service-{n}" for n in names)
    for name in names:
        assert scripts[f"seamless-service-{name}"].load() is cli_services.services.commands[name]
    root = project(tmp_path / "p")
    script = ("import sys; from importlib.metadata import entry_points; "
              "sys.argv[0] = 'seamless-service-resolve'; "
              "entry_points(group='console_scripts')['seamless-service-resolve'].load()()")
    old = run([sys.executable, "-c", script], root, "--stage", "dev")
    new = services(root, "resolve", "--stage", "dev")
    assert (old.returncode, old.stdout) == (0, new.stdout)

"""``services`` by key, ``stop --all``, ``prune`` and suggestions that
repeat the user's selectors: whole processes against real servers on
loopback (ports 48600-48699 and 48599, silent; SEAMLESS_CACHE's own 55100-55299)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from seamless_config.launch.proc import pid_alive

from .conftest import local_project
from .test_services import server_file
from .test_services_ssh import far, remote_record  # noqa: F401  (far: the sshd fixture)

CLI = [sys.executable, "-m", "seamless_config.cli.main", "services"]
INIT = [sys.executable, "-m", "seamless_config.cli.init"]


def run(argv, cwd, *args, env=None, stdin=None):
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=90,
                          cwd=str(cwd), input=stdin, env=env or dict(os.environ))


def init(workdir, *args, env=None):
    out = run(INIT, workdir, "--json", "--workdir", str(workdir), *args, env=env)
    assert out.returncode == 0, out.stderr
    return {s["service"]: s for s in json.loads(out.stdout)["services"]}


def ps_rows(cwd, *args):
    out = run(CLI + ["ps"], cwd, "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["servers"]


def project(root, name="demo"):
    return local_project(root, hash_ports=(48600, 48649), db_ports=(48650, 48699), name=name)


def test_cache_and_inline_servers_stop_by_the_key_ps_shows(fake_home, tmp_path):
    """A SEAMLESS_CACHE server after the variable is gone, and a server of an
    inline cluster from another directory: ps shows their keys, --key
    stops exactly that one."""
    root = project(tmp_path / "p")
    init(root)
    cache_env = {**os.environ, "SEAMLESS_CACHE": str(tmp_path / "cache")}
    init(tmp_path, env=cache_env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rows = ps_rows(elsewhere)
    keys = sorted(r["key"] for r in rows)
    assert keys == ["database-__SEAMLESS_CACHE__-rw-__TOPLEVEL__", "database-here-rw-demo",
                    "hashserver-__SEAMLESS_CACHE__-rw-__TOPLEVEL__", "hashserver-here-rw-demo"]
    table = run(CLI + ["ps"], elsewhere).stdout.splitlines()
    assert table[0].split()[-1] == "KEY"
    assert sorted(line.split()[-1] for line in table[1:]) == keys
    for key in ("hashserver-__SEAMLESS_CACHE__-rw-__TOPLEVEL__", "database-here-rw-demo"):
        pid = server_file(key)["pid"]
        out = run(CLI + ["stop"], elsewhere, "--key", key)
        assert out.returncode == 0, out.stderr
        service = key.split("-")[0]
        assert out.stdout == f"stopped {service} '{key}' on localhost (pid {pid}, SIGINT)\n"
        assert not pid_alive(pid) and server_file(key)["status"] == "stale"
    states = {r["key"]: r["state"] for r in ps_rows(elsewhere)}
    assert states == {"database-__SEAMLESS_CACHE__-rw-__TOPLEVEL__": "running",
                      "database-here-rw-demo": "stale",
                      "hashserver-__SEAMLESS_CACHE__-rw-__TOPLEVEL__": "stale",
                      "hashserver-here-rw-demo": "running"}
    key = "hashserver-here-rw-demo"
    resolved = json.loads(run(CLI + ["resolve"], elsewhere, "--key", key).stdout)
    assert resolved["hashserver"]["key"] == key and resolved["hashserver"]["host"] == "localhost"
    assert (resolved["hashserver"]["project"], resolved["hashserver"]["cluster"]) == ("demo",
                                                                                      "here")
    assert json.loads(run(CLI + ["inspect"], elsewhere, "--key", key).stdout)[
        "hashserver"]["server"]["pid"] == server_file(key)["pid"]
    unknown = run(CLI + ["stop"], elsewhere, "--key", "hashserver-nope-rw-x")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == ("error: no server with key 'hashserver-nope-rw-x' is known on this "
                              "machine; 'seamless-config services ps' shows the keys\n")
    mixed = run(CLI + ["stop"], elsewhere, "--key", key, "--stage", "dev")
    assert mixed.returncode == 2 and "--key names one server" in mixed.stderr


def test_stop_all_lists_asks_and_stops_everything_here(fake_home, tmp_path):
    root = project(tmp_path / "p")
    init(root)
    init(root, "--stage", "dev")
    keys = sorted(r["key"] for r in ps_rows(root))
    pids = {k: server_file(k)["pid"] for k in keys}
    declined = run(CLI + ["stop", "--all"], tmp_path, stdin="n\n")
    assert declined.returncode == 1 and declined.stderr == "Aborted!\n"
    listed = declined.stdout.splitlines()
    assert listed[0].split()[0] == "SERVICE" and sorted(l.split()[-1] for l in listed[1:-1]) \
        == keys
    assert listed[-1] == "stop these 4 servers? [y/N]: "
    assert all(pid_alive(p) for p in pids.values())
    narrowed = run(CLI + ["stop", "--all", "--stage", "dev", "--yes"], tmp_path)
    assert narrowed.returncode == 0, narrowed.stderr
    dev = [k for k in keys if k.endswith("STAGE-dev")]
    assert sorted(narrowed.stdout.splitlines()[-2:]) == sorted(
        f"stopped {k.split('-')[0]} '{k}' (pid {pids[k]}, SIGINT)" for k in dev)
    assert [pid_alive(pids[k]) for k in keys] == [k not in dev for k in keys]
    done = run(CLI + ["stop", "--all"], tmp_path, stdin="y\n")
    assert done.returncode == 0, done.stderr
    assert not any(pid_alive(p) for p in pids.values())
    assert {r["state"] for r in ps_rows(root)} == {"stale"}
    assert run(CLI + ["stop", "--all"], tmp_path).stdout == "no server is running on this machine\n"


def test_stop_all_never_signals_a_recycled_pid(fake_home, tmp_path):
    """A running record whose pid is now another program of this user: ps
    calls it stale, stop --all leaves that program alone."""
    root = project(tmp_path / "p")
    init(root)
    key = "hashserver-here-rw-demo"
    record = server_file(key)
    run(CLI + ["stop"], root, "--key", key)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server", key + ".json")
        with open(path, "w") as f:
            json.dump({**record, "status": "running", "pid": other.pid}, f)
        out = run(CLI + ["stop", "--all", "--yes", "--service", "hashserver"], tmp_path)
        assert out.stdout == "no server is running on this machine\n"
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_prune_forgets_only_what_no_longer_runs(fake_home, tmp_path):
    root = project(tmp_path / "p")
    init(root)
    init(root, "--stage", "dev")
    run(CLI + ["stop"], root, "--stage", "dev")
    launcher = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    gone = os.path.join(launcher, "client", "hashserver-gone-rw-p--STAGE-x.json")
    with open(gone, "w") as f:
        json.dump({"hostname": "127.0.0.1", "port": 48599}, f)
    declined = run(CLI + ["prune"], tmp_path, stdin="n\n")
    assert declined.returncode == 1
    assert sorted(l.split()[-1] for l in declined.stdout.splitlines()[1:-1]) == [
        "database-here-rw-demo--STAGE-dev", "hashserver-gone-rw-p--STAGE-x",
        "hashserver-here-rw-demo--STAGE-dev"]
    assert declined.stdout.splitlines()[-1] == "forget these 3 records? [y/N]: "
    out = run(CLI + ["prune", "--yes"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.splitlines()[4:]) == sorted([
        "removed server state of 'hashserver-here-rw-demo--STAGE-dev'",
        "removed client file of 'hashserver-here-rw-demo--STAGE-dev'",
        "removed server state of 'database-here-rw-demo--STAGE-dev'",
        "removed client file of 'database-here-rw-demo--STAGE-dev'",
        "removed client file of 'hashserver-gone-rw-p--STAGE-x'"])
    assert sorted((r["key"], r["state"]) for r in ps_rows(root)) == [
        ("database-here-rw-demo", "running"), ("hashserver-here-rw-demo", "running")]
    assert run(CLI + ["prune"], tmp_path).stdout == "no stale records\n"


def test_rm_of_a_running_server_suggests_the_users_own_selectors(fake_home, tmp_path):
    root = project(tmp_path / "p")
    init(root, "--stage", "prod")
    key = "hashserver-here-rw-demo--STAGE-prod"
    pid = server_file(key)["pid"]
    out = run(CLI + ["rm"], tmp_path, "--workdir", str(root), "--stage", "prod")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (f"error: hashserver '{key}' is running on localhost (pid {pid}); stop "
                          f"it first: seamless-config services stop --workdir {root} "
                          "--stage prod\n")
    by_key = run(CLI + ["rm"], tmp_path, "--key", key)
    assert by_key.stderr.endswith(f"stop it first: seamless-config services stop --key {key}\n")
    suggested = out.stderr.split("stop it first: ")[1].split()
    stopped = run(CLI + suggested[2:3], tmp_path, *suggested[3:])
    assert stopped.returncode == 0 and not pid_alive(pid)
    assert run(CLI + ["rm"], tmp_path, "--key", key).stdout == (
        f"hashserver '{key}': removed server state on localhost and client file on this "
        "machine\n")


def test_a_frontends_server_stops_by_key_from_anywhere(far, tmp_path):
    """The client file on this machine says which frontend runs the key:
    no configuration needed, and the stop goes over SSH."""
    root, _, sshd, _ = far
    key = "hashserver-farm-rw-far--STAGE-ssh"
    pid = remote_record(sshd, key)["pid"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resolved = json.loads(run(CLI + ["resolve"], elsewhere, "--key", key).stdout)["hashserver"]
    assert (resolved["host"], resolved["ssh_host"]) == (sshd.alias, sshd.alias)
    out = run(CLI + ["stop"], elsewhere, "--key", key)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (f"stopped hashserver '{key}' on {sshd.alias} (pid {pid}, SIGINT); "
                          "closed its tunnel\n")
    assert remote_record(sshd, key)["status"] == "stale"
    assert remote_record(sshd, "database-farm-rw-far--STAGE-ssh")["status"] == "running"


def test_logs_and_clear_by_key(fake_home, tmp_path):
    """logs needs nothing but the key; clear also needs the configuration
    whose directory bounds what it deletes (--workdir), and refuses a key
    that configuration does not produce."""
    root = project(tmp_path / "p")
    init(root, "--stage", "dev")
    key = "hashserver-here-rw-demo--STAGE-dev"
    with open(server_file(key)["log"]) as f:
        last = f.read().splitlines(keepends=True)[-1]
    logs = run(CLI + ["logs"], tmp_path, "--key", key, "--tail", "1")
    assert (logs.returncode, logs.stdout) == (0, last)
    assert run(CLI + ["stop"], tmp_path, "--key", key).returncode == 0
    data = root / "data" / "buffers" / "demo" / "STAGE-dev"
    assert os.listdir(data)
    wrong = run(CLI + ["clear"], tmp_path, "--service", "hashserver", "--key",
                "hashserver-there-rw-demo--STAGE-dev", "--workdir", str(root), "--yes")
    assert (wrong.returncode, wrong.stdout) == (2, "")
    assert wrong.stderr.startswith("error: key 'hashserver-there-rw-demo--STAGE-dev': unknown "
                                   "cluster 'there' (from --cluster there)")
    out = run(CLI + ["clear"], tmp_path, "--service", "hashserver", "--key", key,
              "--workdir", str(root), "--yes")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].endswith(f"from {data}")
    assert os.listdir(data) == []

"""seamless-init as users run it: whole processes, real servers on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import local_project as project, write_tree
from .fixtures_sshd import free_port

INIT = [sys.executable, "-m", "seamless_config.cli.init"]


def run_init(workdir, *args, timeout=90):
    return subprocess.run([*INIT, "--workdir", str(workdir), *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def services(out) -> dict:
    assert out.returncode == 0, out.stderr
    return {s["service"]: s for s in json.loads(out.stdout)["services"]}


def server_pids(launcher_dir) -> dict[str, int]:
    found = {}
    folder = os.path.join(launcher_dir, "server")
    for name in os.listdir(folder):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                found[name[:-5]] = json.load(f)["pid"]
    return found


def test_cold_then_warm(fake_home, tmp_path):
    root = project(tmp_path / "p")
    first = services(run_init(root, "--json"))
    assert [first[s]["launched"] for s in ("hashserver", "database")] == [True, True]
    assert first["hashserver"]["key"] == "hashserver-here-rw-demo"
    second = services(run_init(root, "--json"))
    assert {s: (v["url"], v["launched"]) for s, v in second.items()} == {
        s: (v["url"], False) for s, v in first.items()}
    assert os.path.isdir(root / "data" / "buffers" / "demo")
    assert os.path.isfile(root / "data" / "db" / "demo" / "seamless.db")


def test_progress_and_table_when_piped(fake_home, tmp_path):
    out = run_init(project(tmp_path / "p"))
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert lines[0] == "starting: hashserver, database"
    assert sorted(ln.split()[0] for ln in lines[1:]) == ["database", "hashserver"]
    assert all(" ready at http://127.0.0.1:" in ln and "(launched, " in ln for ln in lines[1:])
    table = out.stdout.splitlines()
    assert table[-3].split() == ["service", "host", "url", "status", "seconds"]
    assert [row.split()[3] for row in table[-2:]] == ["launched", "launched"]
    assert "\x1b[" not in out.stdout + out.stderr  # no colour codes when piped


def test_sigkilled_server_is_relaunched(fake_home, tmp_path):
    root = project(tmp_path / "p")
    services(run_init(root, "--json"))
    launcher = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    os.kill(server_pids(launcher)["hashserver-here-rw-demo"], signal.SIGKILL)
    out = run_init(root, "--json")
    again = services(out)
    assert (again["hashserver"]["launched"], again["database"]["launched"]) == (True, False)
    assert "is gone" in out.stderr


def test_eight_concurrent_inits_start_one_server_each(fake_home, tmp_path):
    root = project(tmp_path / "p")
    procs = [subprocess.Popen([*INIT, "--workdir", str(root), "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [r[1] for r in results]
    urls = {tuple(sorted((s["service"], s["url"]) for s in json.loads(r[0])["services"]))
            for r in results}
    assert len(urls) == 1
    launched = sum(s["launched"] for r in results for s in json.loads(r[0])["services"])
    assert launched == 2  # one hashserver and one database, by exactly one process each
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert sum(str(root / "data" / "buffers" / "demo") in ln for ln in running.splitlines()
               if ln.startswith(("hashserver", sys.executable))) <= 1


def test_configuration_error_exits_3_and_starts_nothing(fake_home, tmp_path):
    root = project(tmp_path / "p")
    with open(root / "seamless.profile.yaml", "w") as f:
        f.write("- queue: gpu\n")
    out = run_init(root)
    assert out.returncode == 3
    assert out.stderr.splitlines() == [
        f"error: {root}/seamless.profile.yaml:1:10: queue 'gpu' is not defined by cluster "
        f"'here' (defined in {root}/seamless.yaml:3:5); it defines no queues",
        "    1 | - queue: gpu", "      |          ^~~"]
    assert not os.path.exists(os.environ["REMOTE_HTTP_LAUNCHER_DIR"] + "/server")


def test_unreachable_service_exits_4_and_leaves_no_running_state(fake_home, tmp_path):
    port = free_port()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", port))
    blocker.listen()
    try:
        root = project(tmp_path / "p", hash_ports=(port, port))
        out = run_init(root, "--deadline", "20")
    finally:
        blocker.close()
    assert out.returncode == 4, out.stderr
    error = out.stderr[out.stderr.index("error: "):]
    # our message, then the server's own log tail (its traceback included)
    assert error.startswith("error: hashserver 'hashserver-here-rw-demo' on localhost: ")
    assert f"No free port available in range {port}-{port}" in error
    state_dir = os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server")
    for name in os.listdir(state_dir):
        if name.startswith("hashserver") and name.endswith(".json"):
            with open(os.path.join(state_dir, name)) as f:
                assert json.load(f)["status"] != "running"


HOSTILE = ["$(touch {marker})", "`touch {marker}`", "x; touch {marker}", "{{x}}", "a b",
           "'q'", "..", "a/../b"]


@pytest.mark.parametrize("field", ["project", "subproject", "cluster", "stage", "bufferdir"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_run_nothing(fake_home, tmp_path, field, value):
    marker = tmp_path / "pwned"
    value = value.format(marker=marker)
    root = project(tmp_path / "p")
    text = (root / "seamless.yaml").read_text()
    quoted = json.dumps(value)  # a YAML double-quoted scalar
    if field == "bufferdir":
        text = text.replace("bufferdir: data/buffers", f"bufferdir: {quoted}")
    elif field == "cluster":
        text = text.replace("            here:", f"            {quoted}:").replace(
            "- cluster: here", f"- cluster: {quoted}")
    elif field == "stage":
        text += f"- stage {value}:\n    - project: other\n"
    else:
        text += f"- {field}: {quoted}\n"
    (root / "seamless.yaml").write_text(text)
    out = run_init(root)
    assert out.returncode in (0, 3), out.stderr
    assert "Traceback" not in out.stderr
    assert not marker.exists()
    if out.returncode == 3:
        assert not os.path.exists(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server"))


def test_dry_run_starts_nothing(fake_home, tmp_path):
    out = run_init(project(tmp_path / "p"), "--dry-run")
    assert out.returncode == 0, out.stderr
    assert [ln.split(" on ")[0] for ln in out.stdout.splitlines() if ln.startswith("would")] == [
        "would start hashserver", "would start database"]
    assert not os.path.exists(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server"))


def test_jobserver_starts_after_storage_and_gets_its_clients(fake_home, tmp_path):
    root = project(tmp_path / "p", jobserver=True)
    found = services(run_init(root, "--json"))
    assert sorted(found) == ["database", "hashserver", "jobserver"]
    state = os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server",
                         "jobserver-here-rw-demo.json")
    with open(state) as f:
        parameters = json.load(f)["parameters"]
    assert parameters == {
        "buffer": [{"readonly": False, "url": found["hashserver"]["url"],
                    "directory": str(root / "data" / "buffers" / "demo")}],
        "database": [{"readonly": False, "url": found["database"]["url"]}],
        "record": False}


def occupy(port: int, within: float = 10.0) -> socket.socket:
    """Bind ``port`` as soon as the killed server has let go of it."""
    limit = time.monotonic() + within
    while True:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > limit:
                raise
            time.sleep(0.1)


def test_jobserver_with_stale_clients_is_restarted(fake_home, tmp_path):
    root = project(tmp_path / "p", jobserver=True)
    first = services(run_init(root, "--json"))
    launcher = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    os.kill(server_pids(launcher)["hashserver-here-rw-demo"], signal.SIGKILL)
    old_port = int(first["hashserver"]["url"].rsplit(":", 1)[1])
    blocker = occupy(old_port)  # so the new hashserver surely gets another port
    try:
        out = run_init(root, "--json")
    finally:
        blocker.close()
    again = services(out)
    assert again["jobserver"]["launched"] is True
    assert "started with other parameters" in out.stderr
    with open(os.path.join(launcher, "server", "jobserver-here-rw-demo.json")) as f:
        assert json.load(f)["parameters"]["buffer"][0]["url"] == again["hashserver"]["url"]
    assert again["hashserver"]["url"] != first["hashserver"]["url"]


def test_a_refused_dask_queue_starts_no_storage_first(fake_home, tmp_path):
    """The daskserver's launch spec is checked before hashserver and database
    start: a configuration error leaves nothing half-started."""
    root = tmp_path / "p"
    write_tree(root, {"seamless.yaml": """
        - project: demo
        - clusters:
            batch:
              type: slurm
              frontends:
                - hashserver: {bufferdir: data/buffers, network_interface: 127.0.0.1}
                  database: {database_dir: data/db, network_interface: 127.0.0.1}
                  daskserver: {network_interface: 127.0.0.1}
              default_queue: q
              queues:
                q: {cores: 1, memory: 1GB}
        - cluster: batch
        - execution: remote
        """})
    out = run_init(root)
    assert out.returncode == 3, out.stderr
    assert "does not set walltime, which a daskserver on a slurm cluster needs" in out.stderr
    assert not os.path.exists(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server"))


BROKEN_INIT = """
import sys
from seamless_config import api
from seamless_config.cli.init import main

def broken(*args, **kwargs):
    raise KeyError("__start_star_0")

api.set_stage = broken
main(sys.argv[1:])
"""


def test_a_defect_is_one_line_and_exit_70_with_the_traceback_under_vv(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-c", BROKEN_INIT, "--workdir", str(tmp_path),
                               *args], capture_output=True, text=True, timeout=60)

    quiet = run()
    assert quiet.returncode == 70
    assert "Traceback" not in quiet.stderr
    assert quiet.stderr.splitlines()[0] == "internal error: KeyError: '__start_star_0'"
    assert "defect in seamless-config" in quiet.stderr
    loud = run("-vv")
    assert loud.returncode == 70
    assert "Traceback" in loud.stderr and "in broken" in loud.stderr


def test_an_unusable_launcher_directory_is_a_service_error_naming_it(fake_home, tmp_path):
    """Not a defect of ours: exit 4, the path, and the variable to change."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**os.environ, "REMOTE_HTTP_LAUNCHER_DIR": str(blocker / "launcher")}
    out = subprocess.run([*INIT, "--workdir", str(project(tmp_path / "p"))], capture_output=True,
                         text=True, timeout=90, env=env)
    assert out.returncode == 4, out.stderr
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    assert f"hashserver 'hashserver-here-rw-demo': cannot use {blocker}/launcher: " \
        "Not a directory" in out.stderr
    # the state file it could not read is a warning in the CLI's own words
    assert f"warning: cannot read state file {blocker}/launcher/server/" in out.stderr
    assert "SeamlessConfigWarning" not in out.stderr
    assert "set REMOTE_HTTP_LAUNCHER_DIR to use another directory" in out.stderr
    assert not (tmp_path / "p" / "data").exists()  # nothing was started


def test_configuration_warnings_are_one_line_with_their_file_position(fake_home, tmp_path):
    root = project(tmp_path / "p", jobserver=True)
    text = (root / "seamless.yaml").read_text()
    (root / "seamless.yaml").write_text(text.replace("- execution: remote\n", ""))
    out = run_init(root, "--dry-run")
    assert out.returncode == 0, out.stderr
    warning, = [ln for ln in out.stderr.splitlines() if "execution" in ln]
    assert warning.startswith("warning: ") and ":" in warning.split()[1]
    assert "No 'execution' command found; Seamless defaults to 'remote'" in warning
    assert "SeamlessConfigWarning" not in out.stderr and "api.set_stage" not in out.stderr

"""seamless-config plan: what init would start, and what already runs."""

import json
import os
import sys
import textwrap

import pytest
from click.testing import CliRunner

from seamless_config.cli.main import cli

LAB = """\
lab:
  type: local
  frontends:
    - hashserver:
        bufferdir: data/buffers
        network_interface: 127.0.0.1
        port_start: 55100
        port_end: 55199
      database:
        database_dir: data/db
        port_start: 55200
        port_end: 55299
"""


@pytest.fixture
def lab(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".seamless").mkdir(parents=True)
    (home / ".seamless" / "clusters.yaml").write_text(LAB)
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "seamless.yaml").write_text(
        "- project: demo\n- cluster: lab\n- execution: process\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(home / ".remote-http-launcher"))
    monkeypatch.delenv("SEAMLESS_CACHE", raising=False)
    monkeypatch.chdir(tmp_path / "proj")
    return home


def plan(*args):
    result = CliRunner().invoke(cli, ["plan", *args])
    assert "Traceback" not in result.output
    return result


BIN = os.path.dirname(sys.executable)  # where this venv's servers are installed


def test_plan_text(lab):
    result = plan()
    assert result.exit_code == 0
    assert result.output == textwrap.dedent(f"""\
        hashserver on this machine: not running
            key             hashserver-lab-rw-demo
            argv            hashserver --writable --port-range 55100 55199 --status-file {{status_file}} --host 127.0.0.1 --timeout 600 -- ~/.seamless/data/buffers/demo
            workdir         ~/.seamless/data/buffers/demo
            log file        ~/.remote-http-launcher/server/hashserver-lab-rw-demo.log
            handshake       GET /healthcheck on its port
            program         {BIN}/hashserver

        database on this machine: not running
            key             database-lab-rw-demo
            argv            seamless-database --writable --port-range 55200 55299 --status-file {{status_file}} --host 127.0.0.1 --timeout 600 -- ~/.seamless/data/db/demo/seamless.db
            workdir         ~/.seamless/data/db/demo
            log file        ~/.remote-http-launcher/server/database-lab-rw-demo.log
            handshake       GET /healthcheck on its port
            program         {BIN}/seamless-database
        """)  # noqa: E501


def test_plan_names_the_program_beside_this_python_before_path(lab, tmp_path, monkeypatch):
    """A decoy earlier on PATH is not what runs: the launch takes the
    server installed beside the interpreter, and plan says so."""
    decoys = tmp_path / "decoys"
    decoys.mkdir()
    for name in ("hashserver", "seamless-database"):
        (decoys / name).write_text("#!/bin/sh\nexit 1\n")
        (decoys / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{decoys}:{os.environ['PATH']}")
    programs = [line.split()[-1] for line in plan().output.splitlines()
                if line.strip().startswith("program")]
    assert programs == [f"{BIN}/hashserver", f"{BIN}/seamless-database"]
    assert "program" not in json.dumps(json.loads(plan("--json").output))


def test_plan_with_nothing_to_start(lab, tmp_path):
    (tmp_path / "proj" / "seamless.yaml").write_text("- project: demo\n- execution: process\n")
    assert plan().output == "init would start no servers (no storage and no remote execution).\n"
    assert json.loads(plan("--json").output)["services"] == []


def test_plan_reports_a_running_server(lab, tmp_path):
    """A real hashserver of this configuration is running: plan names its
    url and pid (a state file saying 'running' alone would not do: the
    process must be that server, and the port must answer as a hashserver)."""
    from interpreter_tests.fixtures_sshd import kill_started
    from seamless_config.launch.activation import activate
    from seamless_config.evaluation.pipeline import evaluate_workdir

    ctx = evaluate_workdir(str(tmp_path / "proj"))
    try:
        handle = activate(ctx, disabled=frozenset({"database"})).handles[0]
        doc = json.loads(plan("--json").output)
        running = {e["service"]: e["running"] for e in doc["services"]}
        assert running == {"hashserver": {"url": handle.url, "pid": handle.pid},
                           "database": None}
        assert f"hashserver on this machine: running at {handle.url}" in plan().output
    finally:
        kill_started(str(lab / ".remote-http-launcher"))


def test_plan_error_is_rendered(lab, tmp_path):
    (tmp_path / "proj" / "seamless.yaml").write_text("- project: demo\n- execution: remote\n")
    result = plan()
    assert result.exit_code == 3
    assert result.output.startswith("error: seamless.yaml:2:3: execution 'remote' needs a cluster")

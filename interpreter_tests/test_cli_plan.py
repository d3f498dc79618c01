"""seamless-config plan: what init would start, and what already runs."""

import http.server
import json
import os
import textwrap
import threading

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


def test_plan_text(lab):
    result = plan()
    assert result.exit_code == 0
    assert result.output == textwrap.dedent("""\
        hashserver on this machine: not running
            key             hashserver-lab-rw-demo
            argv            hashserver ~/.seamless/data/buffers/demo --writable --port-range 55100 55199 --status-file {status_file} --host 127.0.0.1 --timeout 600
            workdir         ~/.seamless/data/buffers/demo
            log file        ~/.remote-http-launcher/logs/lab/demo/hashserver.log
            handshake       GET /healthcheck on its port

        database on this machine: not running
            key             database-lab-rw-demo
            argv            seamless-database ~/.seamless/data/db/demo/seamless.db --writable --port-range 55200 55299 --status-file {status_file} --host 127.0.0.1 --timeout 600
            workdir         ~/.seamless/data/db/demo
            log file        ~/.remote-http-launcher/logs/lab/demo/database.log
            handshake       GET /healthcheck on its port
        """)  # noqa: E501


def test_plan_with_nothing_to_start(lab, tmp_path):
    (tmp_path / "proj" / "seamless.yaml").write_text("- project: demo\n- execution: process\n")
    assert plan().output == "init would start no servers (no storage and no remote execution).\n"
    assert json.loads(plan("--json").output)["services"] == []


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server hook name
        self.send_response(200 if self.path == "/healthcheck" else 404)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_plan_reports_a_running_server(lab, health_server):
    """A state file saying 'running', a live pid and a port that answers."""
    state = lab / ".remote-http-launcher" / "server"
    state.mkdir(parents=True)
    record = {"status": "running", "pid": os.getpid(), "port": health_server,
              "network_interface": "127.0.0.1", "workdir": "x", "log": "x", "command": "x"}
    (state / "hashserver-lab-rw-demo.json").write_text(json.dumps(record))
    doc = json.loads(plan("--json").output)
    running = {e["service"]: e["running"] for e in doc["services"]}
    assert running == {"hashserver": {"url": f"http://127.0.0.1:{health_server}",
                                      "pid": os.getpid()},
                       "database": None}
    assert f"hashserver on this machine: running at http://127.0.0.1:{health_server}" in \
        plan().output


def test_plan_error_is_rendered(lab, tmp_path):
    (tmp_path / "proj" / "seamless.yaml").write_text("- project: demo\n- execution: remote\n")
    result = plan()
    assert result.exit_code == 3
    assert result.output.startswith("error: seamless.yaml:2:3: execution 'remote' needs a cluster")

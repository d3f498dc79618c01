"""seamless-init's own checks of the servers (issue 14), --with-clients,
--version and --json types (issue 16): whole processes, real servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from seamless_config.errors import ServiceError
from seamless_config.launch.executor import ServiceHandle
from seamless_config.launch.verify import CHECKS, verify_handle

from .conftest import local_project

# Runs seamless-init in this process, then says which runtime modules it loaded.
IN_PROCESS = """
import json, sys
from seamless_config.cli.init import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    loaded = [m for m in ("seamless", "seamless_remote", "aiohttp") if m in sys.modules]
    print("LOADED " + json.dumps(loaded), file=sys.stderr)
"""
RUNTIME = ("seamless", "seamless_remote", "aiohttp")


def project(root, jobserver=False):
    return local_project(root, hash_ports=(48100, 48149), db_ports=(48150, 48199),
                         jobserver=jobserver)


def init_in_process(workdir, *args):
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, "--workdir", str(workdir), "--json",
                          *args], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stderr.rsplit("LOADED ", 1)[1])
    return {s["service"]: s for s in json.loads(out.stdout)["services"]}, loaded


def test_plain_init_checks_every_server_without_the_runtime(fake_home, tmp_path):
    root = project(tmp_path / "p", jobserver=True)
    for round_ in ("cold", "warm"):
        found, loaded = init_in_process(root)
        assert loaded == [], round_  # no seamless, seamless_remote or aiohttp
        assert {s: v["checked"] for s, v in found.items()} == {
            "hashserver": "buffer written and read back",
            "database": "transformation query answered",
            "jobserver": "answers as a jobserver"}
    stored = root / "data" / "buffers" / "demo"
    assert len(os.listdir(stored)) >= 1  # the probe buffer really reached the disk


def test_with_clients_initialises_seamless_remote_clients(fake_home, tmp_path):
    pytest.importorskip("seamless_remote")
    root = project(tmp_path / "p")
    found, loaded = init_in_process(root, "--with-clients")
    assert "seamless_remote" in loaded and "aiohttp" in loaded
    assert found["hashserver"]["checked"] == (
        "buffer written and read back; seamless-remote client initialised")
    assert found["database"]["checked"] == (
        "transformation query answered; seamless-remote client initialised")


def handle(service, url, dashboard_port=None):
    return ServiceHandle(service, "k", "localhost", url, 1, None, False, 0.0, dashboard_port)


def test_a_probe_that_fails_is_a_service_error(fake_home, tmp_path):
    root = project(tmp_path / "p")
    found, _ = init_in_process(root)
    hs, db = found["hashserver"]["url"], found["database"]["url"]
    # each server asked as the other: both must fail, not pass a plain health check
    with pytest.raises(ServiceError):
        verify_handle(handle("database", hs))
    with pytest.raises(ServiceError):
        verify_handle(handle("hashserver", db))
    with pytest.raises(ServiceError, match="does not answer as a jobserver"):
        verify_handle(handle("jobserver", hs))
    with pytest.raises(ServiceError, match="has no dashboard port"):
        verify_handle(handle("daskserver", "tcp://127.0.0.1:1"))
    port = int(db.rsplit(":", 1)[1])
    with pytest.raises(ServiceError, match="does not answer healthy"):
        verify_handle(handle("daskserver", "tcp://127.0.0.1:1", dashboard_port=port))
    assert verify_handle(handle("database", db)) == CHECKS["database"]


def test_version():
    out = subprocess.run([sys.executable, "-m", "seamless_config.cli.init", "--version"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    from importlib.metadata import version

    assert out.stdout.split()[-1] == version("seamless-config")


def test_json_keeps_types(tmp_path):
    """null, true and numbers as JSON has them (a dry run: nothing starts)."""
    root = project(tmp_path / "p")
    with open(root / "seamless.yaml", "a") as f:
        f.write("- nparallel: 3\n")
    out = subprocess.run([sys.executable, "-m", "seamless_config.cli.init", "--workdir",
                          str(root), "--dry-run", "--json"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    settings = json.loads(out.stdout)["settings"]
    assert settings["stage"] is None
    assert settings["persistent"] is True
    assert settings["nparallel"] == 3
    assert "(none)" not in out.stdout and '"true"' not in out.stdout


def test_the_probes_checksums_are_their_sha256():
    import hashlib

    from seamless_config.launch.verify import DATABASE_PROBE, HASHSERVER_PROBE

    for buffer, checksum in (HASHSERVER_PROBE, DATABASE_PROBE):
        assert hashlib.sha256(buffer).hexdigest() == checksum


def test_with_clients_without_seamless_remote_exits_5_before_starting(fake_home, tmp_path):
    """An interpreter without site-packages (-S) that sees only what
    seamless-init itself needs: seamless-remote is really not there."""
    import click
    import lark
    import yaml

    import seamless_config

    site = tmp_path / "site"
    site.mkdir()
    for module in (click, lark, yaml, seamless_config):
        folder = os.path.dirname(module.__file__)
        (site / os.path.basename(folder)).symlink_to(folder)
    env = {**os.environ, "PYTHONPATH": str(site), "SEAMLESS_CACHE": str(tmp_path / "cache")}
    check = subprocess.run([sys.executable, "-S", "-c", "import seamless_remote"],
                           capture_output=True, env=env)
    assert check.returncode != 0  # the premise
    out = subprocess.run([sys.executable, "-S", "-m", "seamless_config.cli.init", "--workdir",
                          str(tmp_path), "--with-clients"], capture_output=True, text=True,
                         timeout=60, env=env)
    assert out.returncode == 5, out.stderr
    assert out.stderr.strip() == (
        "error: seamless-init --with-clients needs the module 'seamless_remote', which is not "
        "installed; install the extra that provides it: pip install "
        '"seamless-config[integration]"')
    assert not os.path.exists(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server"))
    plain = subprocess.run([sys.executable, "-S", "-m", "seamless_config.cli.init", "--workdir",
                            str(tmp_path), "--json"], capture_output=True, text=True,
                           timeout=90, env=env)
    assert plain.returncode == 0, plain.stderr  # the plain init needs no runtime


def test_a_hung_server_fails_its_check_and_is_replaced(fake_home, tmp_path):
    """SIGSTOP: the process lives and its port accepts, but nothing answers.
    The warm path's check gives up (CHECK_TIMEOUT) and the launch path
    starts a new hashserver; the database is reused."""
    import signal

    root = project(tmp_path / "p")
    first, _ = init_in_process(root)
    folder = os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server")
    with open(os.path.join(folder, first["hashserver"]["key"] + ".json")) as f:
        pid = json.load(f)["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        again, _ = init_in_process(root)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert (again["hashserver"]["launched"], again["database"]["launched"]) == (True, False)
    assert again["hashserver"]["checked"] == "buffer written and read back"

"""Support for the test_integration_* modules (no tests here): a
local-cluster project on loopback ports, whole scripts run as
subprocesses, and looks into what the real servers stored."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

from .conftest import write_tree
from .fixtures_sshd import REPO

EXAMPLE = os.path.join(REPO, "examples", "seamless_script.py")
DATA_DIRS = {"hashserver": "bufferdir: {root}/data/buffers",
             "database": "database_dir: {root}/data/db"}


def project(root, port_base: int, services=("hashserver", "database"), tail: str = "") -> str:
    """A project 'demo' on a local cluster 'here'; each service gets 50
    ports from ``port_base`` on (all within 46000-46999)."""
    lines = ["- project: demo", "- clusters:", "    here:", "      type: local",
             "      workers: 1", "      default_queue: q",
             "      queues: {q: {walltime: '00:10:00', memory: 1GB, cores: 1}}",
             "      frontends:"]
    for i, service in enumerate(services):
        start = port_base + 50 * i
        lead = "        - " if i == 0 else "          "
        lines.append(f"{lead}{service}:")
        fields = [DATA_DIRS[service].replace("{root}", str(root))] if service in DATA_DIRS else []
        fields += ["network_interface: 127.0.0.1", f"port_start: {start}",
                   f"port_end: {start + 49}"]
        lines += [f"            {field}" for field in fields]
    lines += ["- cluster: here", tail or "- execution: process"]
    write_tree(root, {"seamless.yaml": "\n".join(lines) + "\n"})
    shutil.copy(EXAMPLE, os.path.join(str(root), "seamless_script.py"))
    return str(root)


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SEAMLESS_CACHE", "SEAMLESS_REMOTE_CLIENTS")}
    env.update(extra)
    return env


def run(argv, cwd, env=None, timeout=120) -> subprocess.CompletedProcess:
    out = subprocess.run(argv, cwd=str(cwd), env=env or clean_env(), capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def run_script(root, *args, env=None) -> subprocess.CompletedProcess:
    return run([sys.executable, os.path.join(str(root), "seamless_script.py"), *args],
               root, env)


def run_code(code: str, cwd, env=None) -> subprocess.CompletedProcess:
    return run([sys.executable, "-c", code], cwd, env)


def executions(root) -> list[str]:
    path = os.path.join(str(root), "executions.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def server_record(home, key: str) -> dict:
    with open(os.path.join(str(home), ".remote-http-launcher", "server", key + ".json")) as f:
        return json.load(f)


def server_url(home, key: str) -> str:
    return f"http://127.0.0.1:{server_record(home, key)['port']}"


def stored_results(db_file: str) -> list[tuple[str, str]]:
    """(transformation, result) rows of a seamless-database file."""
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return list(conn.execute("SELECT checksum, result FROM transformation"))


def buffer_file(bufferdir: str, checksum: str) -> str:
    """The hashserver's file for ``checksum``, after checking its content."""
    path = os.path.join(bufferdir, checksum[:2], checksum)
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == checksum
    return path

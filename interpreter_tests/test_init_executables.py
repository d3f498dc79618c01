"""Servers are found beside the running Python first, then on PATH (issue
16): a venv that is not activated still runs its own servers, and a
server earlier on PATH (another Python's) is not taken instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import local_project

SCRIPTS = ("hashserver", "seamless-database", "seamless-init")
ENTRY = """#!{python}
import sys
from {module} import {function}
sys.exit({function}())
"""


def console_entry(name: str) -> tuple[str, str]:
    from importlib.metadata import entry_points

    found, = [e for e in entry_points(group="console_scripts") if e.name == name]
    return found.module, found.attr


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A real venv (on this interpreter's packages) whose bin holds the
    servers' and seamless-init's console scripts, as pip writes them."""
    path = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(path)], check=True, timeout=120)
    python = path / "bin" / "python"
    for name in SCRIPTS:
        module, function = console_entry(name)
        script = path / "bin" / name
        script.write_text(ENTRY.format(python=python, module=module, function=function))
        script.chmod(0o755)
    return path


def plain_path(*first) -> str:
    """A PATH without the venv's bin nor this interpreter's (where the
    servers are installed too)."""
    return os.pathsep.join([*map(str, first), "/usr/bin", "/bin"])


def init(venv, root, path, *args):
    env = {**os.environ, "PATH": path}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([str(venv / "bin" / "seamless-init"), "--workdir", str(root),
                           *args], capture_output=True, text=True, timeout=120, env=env)


def project(root):
    return local_project(root, hash_ports=(48300, 48349), db_ports=(48350, 48399))


def test_the_venvs_own_servers_run_without_it_on_path(fake_home, tmp_path, venv):
    assert subprocess.run(["sh", "-c", "command -v hashserver"], capture_output=True,
                          env={"PATH": plain_path()}).returncode != 0  # not on that PATH
    root = project(tmp_path / "p")
    out = init(venv, root, plain_path(), "--json")
    assert out.returncode == 0, out.stderr
    assert [s["launched"] for s in json.loads(out.stdout)["services"]] == [True, True]
    folder = os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server")
    commands = {}
    for name in os.listdir(folder):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                record = json.load(f)
            commands[record["meta"]["service"]] = record["command"].split()[0]
    assert commands == {"hashserver": str(venv / "bin" / "hashserver"),
                        "database": str(venv / "bin" / "seamless-database")}


def test_a_server_earlier_on_path_is_not_taken(fake_home, tmp_path, venv):
    decoys = tmp_path / "other-python-bin"
    decoys.mkdir()
    marker = tmp_path / "decoy-ran"
    for name in ("hashserver", "seamless-database"):
        (decoys / name).write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
        (decoys / name).chmod(0o755)
    root = project(tmp_path / "p")
    dry = init(venv, root, plain_path(decoys), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would start hashserver on this machine: {venv}/bin/hashserver " in dry.stdout
    out = init(venv, root, plain_path(decoys))
    assert out.returncode == 0, out.stderr
    assert not marker.exists()

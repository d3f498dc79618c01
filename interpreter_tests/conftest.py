"""Shared fixtures: a fake home, file trees, and a fresh default session."""

from __future__ import annotations

import os
import textwrap

import pytest

from seamless_config.session import default_session

# The sshd and SLURM fixtures live in their own modules.
from interpreter_tests.fixtures_oar import *  # noqa: F401,F403
from interpreter_tests.fixtures_sge import *  # noqa: F401,F403
from interpreter_tests.fixtures_slurm import *  # noqa: F401,F403
from interpreter_tests.fixtures_sshd import *  # noqa: F401,F403


@pytest.fixture(autouse=True)
def fresh_session():
    """The default session is the package's only state: reset it around
    every test so selections never leak between tests."""
    default_session().reset()
    yield
    default_session().reset()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty HOME (no catalogue) with launcher state kept inside it."""
    h = tmp_path / "home"
    (h / ".seamless").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(h / ".remote-http-launcher"))
    monkeypatch.delenv("SEAMLESS_CACHE", raising=False)
    monkeypatch.delenv("SEAMLESS_REMOTE_CLIENTS", raising=False)
    return h


def write_tree(root, files: dict) -> None:
    """Write ``{relative path: text}`` (text dedented) under ``root``."""
    for rel, text in files.items():
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture
def tree(tmp_path, home, monkeypatch):
    """Write files relative to a work root; cwd is that root, so messages
    show short relative paths."""
    root = tmp_path / "w"
    root.mkdir()
    monkeypatch.chdir(root)

    def make(files: dict):
        write_tree(root, files)
        return root
    return make


JOBSERVER = """
                  jobserver:
                    network_interface: 127.0.0.1
                    port_start: 43300
                    port_end: 43399"""


def local_project(root, hash_ports=(43100, 43199), db_ports=(43200, 43299), name="demo",
                  jobserver=False):
    """A project with an inline local cluster whose hashserver and database
    (and optionally jobserver) listen on loopback in the given port ranges
    and keep their data under ``root/data``."""
    write_tree(root, {"seamless.yaml": f"""
        - project: {name}
        - clusters:
            here:
              type: local
              frontends:
                - hashserver:
                    bufferdir: data/buffers
                    network_interface: 127.0.0.1
                    port_start: {hash_ports[0]}
                    port_end: {hash_ports[1]}
                  database:
                    database_dir: data/db
                    network_interface: 127.0.0.1
                    port_start: {db_ports[0]}
                    port_end: {db_ports[1]}{JOBSERVER if jobserver else ""}
        - cluster: here
        - execution: {"remote" if jobserver else "process"}
        """})
    return root


def seamless_frontend(data, hashserver: tuple[int, int], database: tuple[int, int],
                      daskserver: tuple[int, int]) -> str:
    """A frontend's three Seamless servers on loopback, with the storage
    under ``data``, as the batch-system tests write it into a catalogue."""
    return (f"hashserver: {{bufferdir: {data / 'buffers'}, network_interface: 127.0.0.1, "
            f"port_start: {hashserver[0]}, port_end: {hashserver[1]}}}\n"
            f"                  database: {{database_dir: {data / 'db'}, "
            f"network_interface: 127.0.0.1, port_start: {database[0]}, "
            f"port_end: {database[1]}}}\n"
            f"                  daskserver: {{network_interface: 127.0.0.1, "
            f"port_start: {daskserver[0]}, port_end: {daskserver[1]}}}")


def job_script(batch: str, job_variable: str) -> str:
    """A Seamless script whose one transformation says which batch job ran it."""
    return f"""\
import seamless.config
from seamless.transformer import direct

seamless.config.init()


@direct
def add_where(a, b):
    import os  # the code runs wherever the transformation runs
    return f"{{a + b}} in {batch} job {{os.environ.get('{job_variable}')}}"


print(add_where(2, 3))
seamless.close()
"""

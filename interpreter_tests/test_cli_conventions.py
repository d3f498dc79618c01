"""``seamless-config``'s command-line conventions, as users meet them:
--version, -v before the subcommand, NO_COLOR / FORCE_COLOR, shell
completion, exit codes that keep one meaning, and a missing optional extra
named (exit 5), checked in a virtual environment that really lacks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
from importlib.metadata import version

import pytest

from seamless_config.cli.common import color_choice

from .conftest import write_tree

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = [sys.executable, "-m", "seamless_config.cli.main"]
CATALOGUE = """
    big:
      type: slurm
      frontends:
        - daskserver: {}
      default_queue: q
      queues:
        q: {cores: 2, memory: 4GB, walltime: "01:00:00"}
    """
DASK_MISSING = ("needs the module '{}', which is not installed; install the extra that "
                'provides it: pip install "seamless-config[dask]"')


def run(argv, *args, env=None, cwd=None):
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**os.environ, **(env or {})})


@pytest.fixture
def slurm_project(tmp_path, home):
    """A project whose daskserver runs on a slurm cluster (nothing starts)."""
    write_tree(home / ".seamless", {"clusters.yaml": CATALOGUE})
    write_tree(tmp_path / "p", {"seamless.yaml": """
        - project: proj
        - cluster: big
        - persistent: false
        - execution: remote
        """})
    return tmp_path / "p"


def test_version_before_anything_else():
    out = run(CLI, "--version")
    assert (out.returncode, out.stdout) == (0, f"seamless-config {version('seamless-config')}\n")


def test_verbose_before_and_after_the_subcommand_add_up(home, tmp_path):
    """-v shows INFO (here: a stop that finds nothing running), -vv DEBUG,
    counted wherever they stand."""
    key = "hashserver-x-rw-p"
    write_tree(home / ".remote-http-launcher" / "server", {
        f"{key}.json": '{"status": "running", "pid": 999999999, "port": 1}'})
    stop = ["services", "stop", "--key", key]
    quiet = run(CLI, *stop)
    before, after = run(CLI, "-v", *stop), run(CLI, *stop, "-v")
    debug = run(CLI, "-v", *stop[:1], "-v", *stop[1:])
    assert {quiet.returncode, before.returncode, after.returncode, debug.returncode} == {0}
    said = f"INFO seamless_config: {key} on localhost: pid 999999999 was not running\n"
    assert quiet.stderr == "" and before.stderr == after.stderr == said
    assert debug.stderr == (f"DEBUG seamless_config: seamless-config with Python "
                            f"{sys.version.split()[0]} ({sys.executable})\n" + said)
    assert quiet.stdout == before.stdout == f"hashserver '{key}' on localhost was not running " \
                                            "(pid 999999999)\n"


def test_colour_follows_no_color_and_force_color(tree):
    tree({"seamless.yaml": "- projet: x\n"})
    plain = {"NO_COLOR": "", "FORCE_COLOR": ""}
    piped = run(CLI, "check", env=plain)
    forced = run(CLI, "check", env={**plain, "FORCE_COLOR": "1"})
    both = run(CLI, "check", env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert "\x1b[" not in piped.stdout + piped.stderr
    assert "\x1b[" in forced.stdout + forced.stderr
    assert "\x1b[" not in both.stdout + both.stderr
    strip = [line.replace("\x1b[0m", "") for line in forced.stdout.splitlines()]
    assert len(strip) == len(piped.stdout.splitlines())
    assert [color_choice(e) for e in ({}, {"NO_COLOR": ""}, {"FORCE_COLOR": "0"},
                                      {"NO_COLOR": "x", "FORCE_COLOR": "1"})] == [
        None, None, True, False]


def test_shell_completion_is_the_documented_line():
    script = run(["seamless-config"], env={"_SEAMLESS_CONFIG_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "_SEAMLESS_CONFIG_COMPLETE=bash_complete" in script.stdout
    words = run(["seamless-config"], env={"_SEAMLESS_CONFIG_COMPLETE": "bash_complete",
                                          "COMP_WORDS": "seamless-config services s",
                                          "COMP_CWORD": "2"})
    assert words.stdout.split() == ["plain,stop"]
    with open(os.path.join(REPO, "README.md")) as f:
        assert 'eval "$(_SEAMLESS_CONFIG_COMPLETE=bash_source seamless-config)"' in f.read()


def test_exit_codes_keep_their_meaning(tree):
    root = tree({"seamless.yaml": "- project: p\n", "bad/seamless.yaml": "- projet: p\n"})
    assert run(CLI, "explain", "--cluster").returncode == 2  # click's usage error
    assert run(CLI, "services", "ps", "--cluster", "nope", cwd=root).returncode == 2
    assert run(CLI, "services", "stop", cwd=root).returncode == 2  # refused: no cluster
    assert run(CLI, "explain", "--workdir", str(root / "bad")).returncode == 3
    assert run(CLI, "check", "--workdir", str(root / "bad")).returncode == 1


def test_a_queue_named_only_on_the_command_line_is_a_usage_error(slurm_project):
    """--queue names no place in a file: wrong usage (2); the same unknown
    queue written in a file is a mistake in that file (3), at its line."""
    given = run(CLI, "jobscript", "--queue", "nope", cwd=slurm_project)
    assert given.returncode == 2, given.stderr
    assert "queue 'nope' is not defined by cluster 'big'" in given.stderr
    assert "known queues: q" in given.stderr
    with open(slurm_project / "seamless.yaml", "a") as f:
        f.write("- queue: nope\n")
    written = run(CLI, "jobscript", cwd=slurm_project)
    assert written.returncode == 3, written.stderr
    assert "seamless.yaml:5:10: queue 'nope'" in written.stderr


# -- a missing optional extra, for real ----------------------------------------------------

def _copy_source(dest) -> str:
    """The package as this checkout holds it, without tests or state."""
    skip = {".git", "interpreter_tests", "golden", "bench", "build"}

    def keep(info):
        parts = info.name.split("/")
        return None if (set(parts) & skip or parts[-1].endswith(".egg-info")
                        or parts[-1] == "__pycache__") else info
    archive = os.path.join(dest, "src.tar")
    with tarfile.open(archive, "w") as tar:
        tar.add(REPO, arcname="src", filter=keep)
    with tarfile.open(archive) as tar:
        tar.extractall(dest)
    return os.path.join(dest, "src")


@pytest.fixture(scope="session")
def servers_venv(tmp_path_factory):
    """A plain venv with ``pip install ".[servers]"`` as the README's set-up
    does: no dask, distributed or dask-jobqueue (a --system-site-packages
    venv would see the system's). About 35 s with pip's cache warm; once
    per test session."""
    where = tmp_path_factory.mktemp("servers-venv")
    started = time.monotonic()
    venv = os.path.join(where, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    pip = subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q",
                          _copy_source(where) + "[servers]"],
                         capture_output=True, text=True, timeout=900)
    if pip.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"pip install .[servers] failed:\n{pip.stderr[-2000:]}")
        pytest.skip(f"pip install .[servers] failed (registry unreachable?): "
                    f"{pip.stderr.strip().splitlines()[-1:]}")
    print(f"servers venv built in {time.monotonic() - started:.1f} s")
    return os.path.join(venv, "bin")


def test_missing_dask_is_named_with_its_extra_never_70(servers_venv, slurm_project, tmp_path):
    python = os.path.join(servers_venv, "python")
    assert run([python, "-c", "import dask"]).returncode == 1  # really absent
    env = {"PATH": servers_venv + os.pathsep + os.environ["PATH"]}
    tool = os.path.join(servers_venv, "seamless-config")
    out = run([tool, "jobscript", "--workdir", str(slurm_project)], env=env)
    assert (out.returncode, out.stdout) == (5, "")
    assert out.stderr == "error: seamless-config jobscript " + DASK_MISSING.format("dask") + "\n"
    case = tmp_path / "golden"
    shutil.copytree(os.path.join(REPO, "golden", "slurm-default-queue"), case / "slurm")
    shutil.copytree(os.path.join(REPO, "golden", "project-only"), case / "plain")
    plain = run([tool, "golden", "check", str(case / "plain")], env=env)
    assert plain.returncode == 0, plain.stderr  # a case without a job script needs no dask
    golden = run([tool, "golden", "check", str(case)], env=env)
    assert golden.returncode == 5
    assert golden.stderr == (
        "error: golden case 'slurm' (its jobscript.txt) " + DASK_MISSING.format("dask_jobqueue")
        + "\n")
    for args in (["jobscript"], ["golden", "check"]):
        assert "internal error" not in run([tool, *args, "-vv"], env=env).stderr


def test_a_dask_scheduler_without_dask_names_the_extra(servers_venv, home, tmp_path):
    """Pure Dask on this machine from a venv without [dask]: the scheduler
    cannot start (exit 4, a server's failure), and the message is the
    scheduler's one line naming the extra, not its traceback."""
    write_tree(home / ".seamless", {"clusters.yaml": """
        lab:
          type: local
          frontends:
            - daskserver: {port_start: 57100, port_end: 57199}
          default_queue: q
          queues:
            q: {cores: 1, memory: 1GB, walltime: "00:10:00"}
        """})
    write_tree(tmp_path / "p", {"seamless.yaml": """
        - project: pd
        - cluster: lab
        - persistent: false
        - execution: remote
        """})
    env = {"PATH": servers_venv + os.pathsep + os.environ["PATH"]}
    out = run([os.path.join(servers_venv, "seamless-init")], env=env, cwd=tmp_path / "p")
    assert out.returncode == 4, out.stderr
    assert ('install the missing extra where the server runs: pip install '
            '"seamless-config[dask]"') in out.stderr
    assert "needs the module 'dask', which is not installed" in out.stderr
    assert "Traceback" not in out.stderr

"""A mistyped stage (issue 16): seamless-init refuses a stage no file names
and no storage has while others are known, suggests the near one, and
starts it only with --new-stage; the Python API warns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

from seamless_config import api
from seamless_config.errors import SeamlessConfigWarning
from seamless_config.session import default_session

from .conftest import local_project

INIT = [sys.executable, "-m", "seamless_config.cli.init"]


def project(root, extra=""):
    root = local_project(root, hash_ports=(48200, 48249), db_ports=(48250, 48299))
    with open(root / "seamless.yaml", "a") as f:
        f.write("- stage prod:\n    - execution: process\n" + extra)
    return root


def run_init(root, *args):
    return subprocess.run([*INIT, "--workdir", str(root), *args], capture_output=True,
                          text=True, timeout=90, env=dict(os.environ))


def test_a_mistyped_stage_is_refused_with_a_suggestion(fake_home, tmp_path):
    root = project(tmp_path / "p")
    out = run_init(root, "--stage", "prdo")
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (
        "error: stage 'prdo' is new: no file has a 'stage prdo' block and it has no storage "
        "yet (known: prod); did you mean 'prod'?; to start it with new, empty storage, "
        "add --new-stage")
    assert not (root / "data").exists()  # nothing started
    assert not os.path.exists(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server"))


def test_new_stage_starts_it_and_then_it_is_known(fake_home, tmp_path):
    root = project(tmp_path / "p")
    first = run_init(root, "--stage", "prdo", "--new-stage", "--json")
    assert first.returncode == 0, first.stderr
    assert (root / "data" / "buffers" / "demo" / "STAGE-prdo").is_dir()
    again = run_init(root, "--stage", "prdo", "--json")  # it has storage now
    assert again.returncode == 0, again.stderr
    assert [s["launched"] for s in json.loads(again.stdout)["services"]] == [False, False]
    # a stage with storage is known: the next typo is compared with it too
    out = run_init(root, "--stage", "prdoo", "--dry-run")
    assert out.returncode == 2
    assert "(known: prdo, prod); did you mean 'prdo'?" in out.stderr


def test_stages_known_only_from_storage_count(fake_home, tmp_path):
    """No stage blocks at all: the first stage is taken as asked; later,
    a near name is refused against the stage that has storage."""
    root = local_project(tmp_path / "p", hash_ports=(48200, 48249), db_ports=(48250, 48299))
    assert run_init(root, "--stage", "dev", "--dry-run").returncode == 0
    assert run_init(root, "--stage", "dev").returncode == 0
    out = run_init(root, "--stage", "dve", "--dry-run")
    assert out.returncode == 2
    assert "did you mean 'dev'?" in out.stderr


def test_a_mistyped_substage_is_refused(fake_home, tmp_path):
    root = project(tmp_path / "p", "- stage prod:gpu:\n    - execution: process\n")
    out = run_init(root, "--stage", "prod:gup", "--dry-run")
    assert out.returncode == 2, out.stderr
    assert ("substage of stage 'prod' 'gup' is new: no file has a 'stage prod:gup' block"
            in out.stderr)
    assert "did you mean 'gpu'?" in out.stderr
    assert run_init(root, "--stage", "prod:gpu", "--dry-run").returncode == 0
    assert run_init(root, "--stage", "prod:gup", "--dry-run", "--new-stage").returncode == 0


@pytest.fixture
def clean_session():
    default_session().reset()
    yield
    default_session().reset()


def test_the_api_warns_with_the_same_suggestion(fake_home, tmp_path, clean_session):
    root = project(tmp_path / "p")
    api.set_workdir(root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api.set_stage("prdo", launch=False)  # evaluating only: nothing to warn about
        assert not [w for w in caught if "prdo" in str(w.message)]
        try:
            api.set_stage("prdo")
        finally:
            api._deactivate(default_session())
    found = [w for w in caught if issubclass(w.category, SeamlessConfigWarning)
             and "'prdo' is new" in str(w.message)]
    assert len(found) == 1
    assert "did you mean 'prod'?; starting it with new, empty storage" in str(found[0].message)
    assert found[0].filename == __file__  # points at the caller

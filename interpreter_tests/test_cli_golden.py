"""seamless-config golden check / update, and the case runner itself."""

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from seamless_config.cli.main import cli
from seamless_config.inspect.golden import find_cases, load_case, run_case

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
MINE = ("readme-quickstart", "stage-override", "error-unknown-queue")


@pytest.fixture
def corpus(tmp_path):
    """A copy of three cases, so that they can be broken and repaired."""
    for name in MINE:
        shutil.copytree(GOLDEN / name, tmp_path / name)
    return tmp_path


def golden(*args):
    result = CliRunner().invoke(cli, ["golden", *args])
    assert "Traceback" not in result.output
    return result


def test_check_a_directory_of_cases(corpus):
    result = golden("check", str(corpus))
    assert result.exit_code == 0
    assert result.output == ("ok   error-unknown-queue\nok   readme-quickstart\n"
                             "ok   stage-override\n3 of 3 cases match their expected outputs\n")


def test_check_prints_a_unified_diff(corpus):
    expected = corpus / "readme-quickstart" / "expected" / "explain.txt"
    expected.write_text(expected.read_text().replace("project = my-project", "project = other"))
    result = golden("check", str(corpus / "readme-quickstart"))
    assert result.exit_code == 1
    assert result.output.splitlines()[:3] == [
        "FAIL readme-quickstart",
        "--- readme-quickstart/expected/explain.txt",
        "+++ readme-quickstart/actual/explain.txt"]
    assert "-    project = other\n+    project = my-project\n" in result.output
    assert result.output.endswith("0 of 1 cases match their expected outputs\n")


def test_update_rewrites_and_deletes_stale_outputs(corpus):
    case = corpus / "error-unknown-queue"
    (case / "work" / "seamless.profile.yaml").write_text("- cluster: hpc\n- queue: gpu\n"
                                                         "- execution: process\n")
    result = golden("update", str(case))
    assert result.exit_code == 0
    assert result.output == ("error-unknown-queue: written context.json, written explain.txt, "
                             "written plan.json, deleted error.txt\n")
    assert sorted(os.listdir(case / "expected")) == ["context.json", "explain.txt", "plan.json"]
    assert golden("update", str(case)).output == "error-unknown-queue: unchanged\n"
    assert golden("check", str(case)).exit_code == 0


def test_missing_expected_file_is_a_difference(corpus):
    os.remove(corpus / "stage-override" / "expected" / "plan.json")
    result = golden("check", str(corpus / "stage-override"))
    assert result.exit_code == 1
    assert "--- stage-override/expected/plan.json (missing)\n" in result.output


def test_not_a_case_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    result = golden("check", str(tmp_path / "empty"))
    assert result.exit_code == 3
    assert "is not a golden case directory and holds none" in result.output


def test_case_file_with_an_unknown_key(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "case.yaml").write_text("description: x\nstages: prod\n")
    result = golden("check", str(tmp_path / "c"))
    assert result.exit_code == 3
    assert "unknown key(s) stages; expected: description, workdir, stage, substage, env" \
        in result.output


def test_run_case_patches_and_restores_the_environment(tmp_path, monkeypatch):
    case = tmp_path / "cache"
    (case / "work").mkdir(parents=True)
    (case / "case.yaml").write_text("description: cache\nenv:\n  SEAMLESS_CACHE: store\n")
    monkeypatch.setenv("SEAMLESS_REMOTE_CLIENTS", "{}")  # must not leak into the case
    before, cwd = dict(os.environ), os.getcwd()
    outputs = run_case(load_case(str(case)))
    assert dict(os.environ) == before and os.getcwd() == cwd
    assert sorted(outputs) == ["context.json", "explain.txt", "plan.json"]
    assert '"data_path": "store/__TOPLEVEL__/seamless.db"' in outputs["context.json"]
    assert str(tmp_path) not in "".join(outputs.values())


def test_find_cases_reads_case_files(corpus):
    cases = find_cases([str(corpus)])
    assert [c.name for c in cases] == sorted(MINE)
    override = next(c for c in cases if c.name == "stage-override")
    assert (override.workdir, override.stage, override.substage) == ("work/analysis", "prod", "gpu")

"""seamless-config check: every problem of a configuration in one run."""

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from seamless_config.inspect.checks import run_checks
from seamless_config.cli.main import cli

HPC = """\
hpc:
  type: slurm
  workers: 2
  frontends:
    - hostname: login.hpc.example
      hashserver: {bufferdir: /scratch/buffers}
      database: {database_dir: /scratch/db}
      daskserver:
  queues:
    cpu: {walltime: "01:00:00", cores: 8, memory: 16GB}
  tunnel: true
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Write files relative to tmp_path; proj/ is the current directory."""
    home = tmp_path / "home"
    (home / ".seamless").mkdir(parents=True)
    (tmp_path / "proj").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SEAMLESS_CACHE", raising=False)
    monkeypatch.chdir(tmp_path / "proj")

    def write(files: dict):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return write


def check(*args):
    result = CliRunner().invoke(cli, ["check", *args])
    assert "Traceback" not in result.output
    return result


def test_all_problems_of_all_files_in_one_run(env):
    env({"home/.seamless/clusters.yaml": "hpc:\n  type: slurm\n  frontend:\n    - hostname: x\n",
         "home/.seamless/clusters/local.yaml":
             "local:\n  type: local\n  frontends:\n    - hashserver: {bufferdir: /b, port_start: 9}\n",
         "proj/seamless.yaml": "- project: demo\n- projcet: x\n",
         "proj/sub/seamless.yaml": "- inherit_from_parent\n- execution: bogus\n"})
    result = check("--workdir", "sub")
    assert result.exit_code == 1
    assert result.output == """\
error: seamless.yaml:2:3: unknown command 'projcet'; did you mean 'project'? expected one of: \
cluster, clusters, execution, inherit_from_parent, node, nparallel, persistent, project, queue, \
record, remote, stage NAME, subproject
    2 | - projcet: x
      |   ^~~~~~~
error: sub/seamless.yaml:2:14: invalid execution 'bogus'; expected one of: process, remote, spawn
    2 | - execution: bogus
      |              ^~~~~
error: ~/.seamless/clusters.yaml:1:1: cluster 'hpc' needs frontends; add 'frontends: \
[{hostname: login.example.org}]'; a local cluster can use 'frontends: [{}]'
    1 | hpc:
      | ^~~
error: ~/.seamless/clusters.yaml:3:3: unknown key 'frontend' in cluster 'hpc'; did you mean \
'frontends'? (expected one of: default_queue, frontends, memory_per_core_property_name, queues, \
tunnel, type, workers)
    3 |   frontend:
      |   ^~~~~~~~
error: ~/.seamless/clusters/local.yaml:4:47: hashserver of cluster 'local' sets port_start but \
not port_end; give both ends of the port range, or neither
    4 |     - hashserver: {bufferdir: /b, port_start: 9}
      |                                               ^
checked 2 files of the chain and 2 catalogue files: 5 errors, 0 warnings; not evaluated: fix \
the errors in the chain's files first
"""


def test_a_clean_configuration(env):
    env({"home/.seamless/clusters.yaml": HPC,
         "proj/seamless.yaml": "- project: demo\n- cluster: hpc\n- execution: remote\n"
                               "- queue: cpu\n"})
    result = check()
    assert result.exit_code == 0
    assert result.output == ("checked 1 file of the chain and 1 catalogue file: 0 errors, "
                             "0 warnings; evaluated with: no stage\n")


def test_all_stages_and_stage_selector_warnings(env):
    env({"home/.seamless/clusters.yaml": HPC,
         "proj/seamless.yaml": "- project: demo\n- cluster: hpc\n- execution: process\n"
                               "- stage prod:\n    - execution: remote\n    - queue: gpu\n"
                               "- stage prdo:gpu:\n    - queue: cpu\n"})
    result = check("--all-stages")
    assert result.exit_code == 1
    assert result.output == """\
error: seamless.yaml:6:14: queue 'gpu' is not defined by cluster 'hpc' (defined in \
~/.seamless/clusters.yaml:1:1); did you mean 'cpu'? known queues: cpu
    6 |     - queue: gpu
      |              ^~~
      (found with: stage prod)
warning: seamless.yaml:7:3: stage 'prdo' appears only in this 'stage prdo:gpu' block; did you \
mean 'prod'?
    7 | - stage prdo:gpu:
      |   ^~~~~~~~~~~~~~
checked 1 file of the chain and 1 catalogue file: 1 error, 1 warning; evaluated with: no stage, \
stage prod, stage prdo:gpu
"""


def test_unknown_stage_and_evaluation_warnings_exit_zero(env):
    env({"proj/seamless.yaml": "- project: demo\n- stage prod:\n    - record: true\n"})
    result = check("--stage", "prdo")
    assert result.exit_code == 0
    assert result.output == """\
warning: --stage prdo: no file has a 'stage prdo' block; did you mean 'prod'? stages named in \
the files: prod
warning: No 'execution' command found; Seamless falls back to 'process' because no cluster is selected
warning: No cluster defined; running without persistence (results are not cached between runs)
checked 1 file of the chain and 0 catalogue files: 0 errors, 3 warnings; evaluated with: \
stage prdo
"""


def test_services_missing_for_the_execution_mode(env):
    local = ("lab:\n  type: local\n  frontends:\n"
             "    - hashserver: {bufferdir: /b}\n      database: {database_dir: /d}\n")
    env({"home/.seamless/clusters.yaml": local,
         "proj/seamless.yaml": "- project: demo\n- cluster: lab\n- execution: spawn\n"
                               "- stage prod:\n    - execution: remote\n"})
    doc = json.loads(check("--all-stages", "--json").output)
    assert [(e["location"], e["message"], e["stages"]) for e in doc["errors"]] == [
        ("seamless.yaml:3:3", "execution 'spawn' needs a number of workers", ["no stage"]),
        ("seamless.yaml:5:7", "execution 'remote' needs a jobserver or a daskserver, but cluster "
         "'lab' (defined in ~/.seamless/clusters.yaml:1:1) has neither", ["stage prod"]),
    ]


def test_a_broken_cluster_in_use_is_named_as_such(env):
    env({"home/.seamless/clusters.yaml": HPC + "bad:\n  type: slurm\n  frontends: []\n",
         "proj/seamless.yaml": "- project: demo\n- cluster: bad\n"})
    doc = json.loads(check("--json").output)
    assert [e["message"] for e in doc["errors"]] == [
        "frontends of cluster 'bad' must list at least one frontend",
        "cluster 'bad' cannot be used: its definition has errors (reported above)"]


def test_json_report(env):
    env({"proj/seamless.yaml": "- project: demo\n- stage prod:gpu:\n    - record: true\n"})
    doc = json.loads(check("--json").output)
    assert doc == {
        "version": 1,
        "files": [{"path": "seamless.yaml", "role": "chain", "found": True},
                  {"path": "seamless.profile.yaml", "role": "chain", "found": False},
                  {"path": "~/.seamless/clusters.yaml", "role": "catalogue", "found": False}],
        "evaluated": ["no stage"],
        "errors": [],
        "warnings": [
            {"message": "stage 'prod' appears only in this 'stage prod:gpu' block",
             "location": "seamless.yaml:2:3", "source": "- stage prod:gpu:",
             "hint": "its commands run only with --stage prod:gpu", "stages": []},
            {"message": "No 'execution' command found; Seamless falls back to 'process' "
                        "because no cluster is selected", "stages": ["no stage"]},
            {"message": "No cluster defined; running without persistence (results are not "
                        "cached between runs)", "stages": ["no stage"]},
        ],
    }


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_profile_tracked_by_git(env, tmp_path):
    env({"proj/seamless.yaml": "- project: demo\n- execution: process\n- persistent: false\n",
         "proj/seamless.profile.yaml": "- record: true\n"})
    proj = tmp_path / "proj"
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    assert "tracked by git" not in check().output
    subprocess.run(["git", "add", "seamless.profile.yaml"], cwd=proj, check=True)
    result = check()
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "warning: seamless.profile.yaml is tracked by git; it holds settings for this machine "
        "and this developer; add it to .gitignore and run 'git rm --cached "
        "seamless.profile.yaml'")


def test_git_is_asked_with_an_argument_list(tmp_path):
    (tmp_path / "seamless.profile.yaml").write_text("- record: true\n")
    asked = []
    report = run_checks(str(tmp_path), home=str(tmp_path / "home"),
                        tracked=lambda path: asked.append(path) or True)
    assert asked == [str(tmp_path / "seamless.profile.yaml")]
    assert any("tracked by git" in w.message for w in report.warnings)


def test_a_broken_file_does_not_stop_the_climb(env):
    env({"proj/seamless.yaml": "- project: [x]\n",
         "proj/sub/seamless.yaml": "- inherit_from_parent\n- execution: [\n"})
    result = check("--workdir", "sub")
    assert result.exit_code == 1
    assert [ln.split(": ")[1] for ln in result.output.splitlines() if ln.startswith("error")] == [
        "seamless.yaml:1:12", "sub/seamless.yaml:3:1"]

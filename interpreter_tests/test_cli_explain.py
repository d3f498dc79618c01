"""seamless-config explain, show and diff on a small tree, outputs in full."""

import json
import subprocess
import sys
import textwrap

import click
import pytest
import yaml
from click.testing import CliRunner

from seamless_config.cli.main import cli

CATALOGUE = """\
hpc:
  type: slurm
  frontends:
    - hostname: login.hpc.example
      hashserver:
        bufferdir: /scratch/buffers
      database:
        database_dir: /scratch/db
      daskserver:
  default_queue: cpu
  queues:
    cpu:
      walltime: "01:00:00"
      cores: 8
      memory: 16GB
    gpu:
      TEMPLATE: cpu
      memory: 32GB
  tunnel: true
"""
PROJECT = """\
- project: demo
- execution: process
- stage prod:
    - execution: remote
"""
PROFILE = """\
- cluster: hpc
- stage prod:gpu:
    - queue: gpu
"""


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A project directory (the current one) and a home outside it."""
    home, proj = tmp_path / "home", tmp_path / "proj"
    (home / ".seamless").mkdir(parents=True)
    proj.mkdir()
    (home / ".seamless" / "clusters.yaml").write_text(CATALOGUE)
    (proj / "seamless.yaml").write_text(PROJECT)
    (proj / "seamless.profile.yaml").write_text(PROFILE)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(home / ".remote-http-launcher"))
    monkeypatch.delenv("SEAMLESS_CACHE", raising=False)
    monkeypatch.chdir(proj)
    return proj


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


EXPLAIN_GPU = """\
Files searched, in the order they ran
    found   seamless.yaml
    found   seamless.profile.yaml
    found   ~/.seamless/clusters.yaml  (cluster catalogue)
Stage prod:gpu  (stage blocks in the chain: prod, prod:gpu)

Settings
    project = demo
        set by          seamless.yaml:1:3  "- project: demo"
        stages          root
    cluster = hpc
        set by          seamless.profile.yaml:1:3  "- cluster: hpc"
        stages          root
    execution = remote
        set by          seamless.yaml:4:7  "- execution: remote"
        stages          root \u2192 stage prod
        overridden      process  seamless.yaml:2:3  "- execution: process"
    queue = gpu
        set by          seamless.profile.yaml:3:7  "- queue: gpu"
        stages          root \u2192 stage prod:gpu
    remote = daskserver
        default         cluster 'hpc' offers only a daskserver
        trigger         seamless.profile.yaml:1:3  "- cluster: hpc"
    persistent = true
        default         a cluster is selected ('hpc' at seamless.profile.yaml:1:3)
        trigger         seamless.profile.yaml:1:3  "- cluster: hpc"

Cluster hpc
    defined at      ~/.seamless/clusters.yaml:1:1  (catalogue)
    type            slurm
    tunnel          true
    default_queue   cpu
    frontend 1      login.hpc.example (hashserver, database, daskserver)  ~/.seamless/clusters.yaml:4:7

Queue gpu of cluster hpc
    defined at      ~/.seamless/clusters.yaml:16:5
    TEMPLATE        cpu
    walltime        01:00:00  ~/.seamless/clusters.yaml:13:17  (from TEMPLATE cpu)
    cores           8         ~/.seamless/clusters.yaml:14:14  (from TEMPLATE cpu)
    memory          32GB      ~/.seamless/clusters.yaml:18:15

Storage
    storage path    /demo/STAGE-prod
    scope path      /demo/STAGE-prodSUBSTAGE-gpu

Services
    hashserver on login.hpc.example  (frontend 1 at ~/.seamless/clusters.yaml:4:7)
        key             hashserver-hpc-rw-demo--STAGE-prod
        data            /scratch/buffers/demo/STAGE-prod
    database on login.hpc.example  (frontend 1 at ~/.seamless/clusters.yaml:4:7)
        key             database-hpc-rw-demo--STAGE-prod
        data            /scratch/db/demo/STAGE-prod/seamless.db
    daskserver on login.hpc.example  (frontend 1 at ~/.seamless/clusters.yaml:4:7)
        key             daskserver-hpc-rw-demo--STAGE-prodSUBSTAGE-gpu
"""


def test_explain_text_in_full(tree):
    result = run("explain", "--stage", "prod:gpu")
    assert result.exit_code == 0
    assert result.output == EXPLAIN_GPU


def test_explain_named_keys(tree):
    result = run("explain", "queue", "nparallel", "-v")
    assert result.exit_code == 0
    assert result.output == textwrap.dedent("""\
        Files searched, in the order they ran
            found   seamless.yaml
            found   seamless.profile.yaml
            found   ~/.seamless/clusters.yaml  (cluster catalogue)
        Stage (none)  (stage blocks in the chain: prod, prod:gpu)

        Settings
            queue = cpu
                default         the default_queue of cluster 'hpc' (defined in ~/.seamless/clusters.yaml:1:1)
                trigger         seamless.profile.yaml:1:3  "- cluster: hpc"
            nparallel is not set

        Queue cpu of cluster hpc
            defined at      ~/.seamless/clusters.yaml:12:5
            walltime        01:00:00  ~/.seamless/clusters.yaml:13:17
            cores           8         ~/.seamless/clusters.yaml:14:14
            memory          16GB      ~/.seamless/clusters.yaml:15:15
        """)


def _command(text, location, source, stages=("root",)):
    return {"kind": "command", "text": text, "location": location, "source": source,
            "stages": list(stages)}


def _default(rule):
    return {"kind": "default", "rule": rule, "trigger": "seamless.profile.yaml:1:3",
            "trigger_source": "- cluster: hpc", "stages": ["root"]}


FRONTEND = {"index": 1, "hostname": "login.hpc.example", "location": "~/.seamless/clusters.yaml:4:7"}


def _service(name, key, data=None):
    use = {"service": name, "key": key, "mode": "rw", "host": "login.hpc.example",
           "frontend": FRONTEND}
    return use | ({"data_path": data} if data else {})


DOCUMENT_GPU = {
    "version": 1, "workdir": ".", "stage": "prod", "substage": "gpu",
    "searched": [{"path": "seamless.yaml", "role": "chain", "found": True},
                 {"path": "seamless.profile.yaml", "role": "chain", "found": True},
                 {"path": "~/.seamless/clusters.yaml", "role": "catalogue", "found": True}],
    "settings": {
        "project": {"value": "demo", "overridden": [], "origin": _command(
            "project: demo", "seamless.yaml:1:3", "- project: demo")},
        "cluster": {"value": "hpc", "overridden": [], "origin": _command(
            "cluster: hpc", "seamless.profile.yaml:1:3", "- cluster: hpc")},
        "execution": {"value": "remote", "origin": _command(
            "execution: remote", "seamless.yaml:4:7", "- execution: remote", ("root", "stage prod")),
            "overridden": [{"value": "process", "origin": _command(
                "execution: process", "seamless.yaml:2:3", "- execution: process")}]},
        "queue": {"value": "gpu", "overridden": [], "origin": _command(
            "queue: gpu", "seamless.profile.yaml:3:7", "- queue: gpu", ("root", "stage prod:gpu"))},
        "remote": {"value": "daskserver", "overridden": [],
                   "origin": _default("cluster 'hpc' offers only a daskserver")},
        "persistent": {"value": True, "overridden": [], "origin": _default(
            "a cluster is selected ('hpc' at seamless.profile.yaml:1:3)")},
    },
    "cluster": {"name": "hpc", "source": "catalogue", "location": "~/.seamless/clusters.yaml:1:1",
                "type": "slurm", "tunnel": True, "default_queue": "cpu",
                "frontends": [FRONTEND | {"services": ["hashserver", "database", "daskserver"]}]},
    "queue": {"name": "gpu", "cluster": "hpc", "location": "~/.seamless/clusters.yaml:16:5",
              "template": "cpu", "fields": {
                  "walltime": {"value": "01:00:00", "location": "~/.seamless/clusters.yaml:13:17",
                               "from_template": "cpu"},
                  "cores": {"value": 8, "location": "~/.seamless/clusters.yaml:14:14",
                            "from_template": "cpu"},
                  "memory": {"value": "32GB", "location": "~/.seamless/clusters.yaml:18:15"}}},
    "storage": {"storage_subpath": "/demo/STAGE-prod",
                "scope_subpath": "/demo/STAGE-prodSUBSTAGE-gpu"},
    "services": [
        _service("hashserver", "hashserver-hpc-rw-demo--STAGE-prod",
                 "/scratch/buffers/demo/STAGE-prod"),
        _service("database", "database-hpc-rw-demo--STAGE-prod",
                 "/scratch/db/demo/STAGE-prod/seamless.db"),
        _service("daskserver", "daskserver-hpc-rw-demo--STAGE-prodSUBSTAGE-gpu"),
    ],
    "stage_blocks": ["prod", "prod:gpu"],
    "warnings": [],
}


def test_explain_json_document(tree):
    result = run("explain", "--stage", "prod:gpu", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc == DOCUMENT_GPU
    assert list(doc) == list(DOCUMENT_GPU)  # key order is part of the stable format


def test_explain_json_with_keys_keeps_only_those(tree):
    doc = json.loads(run("explain", "execution", "storage", "--json", "--stage", "prod").output)
    assert list(doc["settings"]) == ["execution"]
    assert doc["storage"] == {"storage_subpath": "/demo/STAGE-prod",
                              "scope_subpath": "/demo/STAGE-prod"}
    assert "cluster" not in doc and "services" not in doc


def test_show_json_is_the_explain_document(tree):
    assert json.loads(run("show", "--stage", "prod:gpu", "--json").output) == DOCUMENT_GPU
    assert yaml.safe_load(run("show", "--stage", "prod:gpu", "--yaml").output) == DOCUMENT_GPU


def test_show_text(tree):
    result = run("show", "--stage", "prod:gpu", "--workdir", str(tree))
    assert result.exit_code == 0
    assert result.output == textwrap.dedent("""\
        stage         prod:gpu
        project       demo
        cluster       hpc
        execution     remote
        queue         gpu
        remote        daskserver
        persistent    true
        storage path  /demo/STAGE-prod
        scope path    /demo/STAGE-prodSUBSTAGE-gpu

        service     host               key                                             data
        hashserver  login.hpc.example  hashserver-hpc-rw-demo--STAGE-prod              /scratch/buffers/demo/STAGE-prod
        database    login.hpc.example  database-hpc-rw-demo--STAGE-prod                /scratch/db/demo/STAGE-prod/seamless.db
        daskserver  login.hpc.example  daskserver-hpc-rw-demo--STAGE-prodSUBSTAGE-gpu
        """)


def test_diff_text(tree):
    result = run("diff", "prod", "prod:gpu")
    assert result.exit_code == 0
    assert result.output == textwrap.dedent("""\
        Differences between prod and prod:gpu

            queue
                prod      cpu  default: the default_queue of cluster 'hpc' (defined in ~/.seamless/clusters.yaml:1:1)
                prod:gpu  gpu  seamless.profile.yaml:3:7  "- queue: gpu"

            scope_subpath
                prod      /demo/STAGE-prod              derived: from project, subproject, stage and substage
                prod:gpu  /demo/STAGE-prodSUBSTAGE-gpu  derived: from project, subproject, stage and substage

            daskserver.key
                prod      daskserver-hpc-rw-demo--STAGE-prod              derived: frontend 1 at ~/.seamless/clusters.yaml:4:7
                prod:gpu  daskserver-hpc-rw-demo--STAGE-prodSUBSTAGE-gpu  derived: frontend 1 at ~/.seamless/clusters.yaml:4:7
        """)


def test_diff_json_against_no_stage(tree):
    result = run("diff", "-", "prod", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["a"] == {"stage": None, "substage": None}
    assert doc["b"] == {"stage": "prod", "substage": None}
    names = [d["name"] for d in doc["differences"]]
    assert names == ["execution", "remote", "storage_subpath", "scope_subpath", "hashserver.key",
                     "hashserver.data_path", "database.key", "database.data_path",
                     "daskserver.host", "daskserver.key"]
    remote = doc["differences"][1]
    assert remote["a"] is None and remote["b"]["value"] == "daskserver"


def test_diff_of_a_stage_with_itself(tree):
    assert run("diff", "prod", "prod").output == "No differences between prod and prod.\n"


def test_colour_on_a_terminal_only(tree):
    plain = CliRunner().invoke(cli, ["explain"]).output
    coloured = CliRunner().invoke(cli, ["explain"], color=True).output
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert click.unstyle(coloured) == plain


# -- user mistakes: a message and an exit code, never a traceback ----------------------

def test_configuration_error_is_rendered(tree):
    (tree / "seamless.profile.yaml").write_text("- cluster: hcp\n")
    result = run("explain")
    assert result.exit_code == 3
    assert result.output == (
        "error: seamless.profile.yaml:1:12: unknown cluster 'hcp'; did you mean 'hpc'? "
        "known clusters: hpc\n"
        "    1 | - cluster: hcp\n"
        "      |            ^~~\n")


def test_unknown_key(tree):
    result = run("explain", "exection")
    assert result.exit_code == 2
    assert "Invalid value for KEY: unknown key 'exection'; did you mean 'execution'?" in result.output


@pytest.mark.parametrize("args", [["explain", "--stage", "a b"], ["diff", "prod", "x--y"],
                                  ["show", "--stage", ":gpu"]])
def test_bad_stage_argument(tree, args):
    result = run(*args)
    assert result.exit_code == 2
    assert "Error: Invalid value for" in result.output


def test_a_directory_without_files(tree):
    (tree / "empty").mkdir()
    result = run("show", "--workdir", str(tree / "empty"))
    assert result.exit_code == 0
    assert result.output == textwrap.dedent("""\
        stage       (none)
        execution   process
        persistent  false

        Warnings
            No 'execution' command found; Seamless falls back to 'process' because no cluster is selected
            No cluster defined; running without persistence (results are not cached between runs)
        """)


def test_a_missing_workdir_is_a_usage_error(tree):
    result = run("show", "--workdir", str(tree / "typo"))
    assert result.exit_code == 2
    assert "Directory" in result.output and "does not exist" in result.output


def test_importing_the_cli_stays_light():
    code = ("import sys, seamless_config.cli.main; "
            "print([m for m in ('requests', 'fabric', 'distributed', 'paramiko') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_command_takes_verbose():
    for name, command in cli.commands.items():
        if name == "golden":
            command = command.commands["check"]
        assert any("-v" in p.opts for p in command.params), name

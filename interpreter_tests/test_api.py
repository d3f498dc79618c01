"""The Python API and the compatibility modules other Seamless packages use."""

from __future__ import annotations

import json
import subprocess
import sys
import pytest

import seamless_config
from seamless_config import config_files, select
from seamless_config.errors import ConfigurationError, SeamlessConfigWarning

from .conftest import local_project, write_tree

PROFILE = """
- project: p
- clusters:
    mine:
      type: local
      frontends:
        - hashserver: {bufferdir: /b}
          database: {database_dir: /d}
- cluster: mine
- execution: process
- stage prod:
    - subproject: prodsub
"""


def run_python(code: str, cwd, env_home) -> subprocess.CompletedProcess:
    env = {"HOME": str(env_home), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_import_is_light(home, tmp_path):
    heavy = ["yaml", "lark", "requests", "fabric", "paramiko", "distributed",
             "dask_jobqueue", "seamless", "seamless_remote", "seamless_transformer"]
    code = ("import sys, seamless_config; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = run_python(code, tmp_path, home)
    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr


def test_evaluating_and_configuring_do_not_import_dataclasses(home, tmp_path):
    """dataclasses (through inspect) was a quarter of init()'s time: the
    evaluation and configure_* path uses _record instead. The first run
    fills the user's cache (parsing templates needs lark, which imports
    dataclasses); the second is what every later process does. (json is
    imported: the cache is JSON, a format that cannot carry code.)"""
    local_project(tmp_path / "p")
    code = ("import sys, seamless_config; seamless_config.init(launch=False); "
            "from seamless_config.tools import configure_hashserver; "
            "configure_hashserver('rw', cluster='here', project='demo', subproject=None, "
            "stage=None); "
            "print([m for m in ('dataclasses', 'inspect') if m in sys.modules])")
    run_python(code, tmp_path / "p", home)
    out = run_python(code, tmp_path / "p", home)
    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr


def test_init_reads_the_scripts_directory(home, tmp_path):
    write_tree(tmp_path / "proj", {"seamless.yaml": "- project: from-script-dir\n",
                                   "run.py": "import seamless_config\n"
                                             "ctx = seamless_config.init()\n"
                                             "print(ctx.value('project'))\n"})
    (tmp_path / "elsewhere").mkdir()
    write_tree(tmp_path / "elsewhere", {"seamless.yaml": "- project: from-cwd\n"})
    out = subprocess.run([sys.executable, str(tmp_path / "proj" / "run.py")],
                         cwd=tmp_path / "elsewhere", capture_output=True, text=True,
                         env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert out.stdout.strip() == "from-script-dir", out.stderr


def test_set_workdir_and_init_noop(tree, home):
    root = tree({"seamless.yaml": "- project: a\n- execution: process\n- persistent: false\n"})
    seamless_config.set_workdir(str(root))
    ctx = seamless_config.init()
    assert ctx.value("project") == "a"
    write_tree(root, {"seamless.yaml": "- project: b\n"})
    assert seamless_config.init() is ctx  # already initialised: no re-read


def test_set_stage_rereads_and_manual_selections_survive(tree, home):
    root = tree({"seamless.profile.yaml": PROFILE})
    seamless_config.set_workdir(str(root))
    select.select_record(True)
    ctx = seamless_config.set_stage("prod", launch=False)
    assert (ctx.value("subproject"), ctx.value("record"), ctx.stage) == ("prodsub", True, "prod")
    ctx = seamless_config.set_stage(None, launch=False)
    assert (ctx.value("subproject"), ctx.value("record")) == (None, True)


def test_select_stage_then_load_config_files(tree, home):
    root = tree({"seamless.profile.yaml": PROFILE})
    select.select_stage("prod")
    ctx = config_files.load_config_files(str(root))
    assert ctx.value("subproject") == "prodsub"
    assert seamless_config.get_context() is ctx
    assert select.get_current() == ("mine", "p", "prodsub", "prod", None)
    assert select.get_current(stage="x") == ("mine", "p", "prodsub", "x", None)


def test_get_current_needs_cluster_and_project(tree, home):
    with pytest.raises(ConfigurationError, match="no cluster is selected"):
        select.get_current()
    select.select_cluster("c")
    with pytest.raises(ConfigurationError, match="no project is selected"):
        select.get_current()


def test_select_functions_validate(home):
    with pytest.raises(ConfigurationError, match="must not contain '--'"):
        select.select_project("a--b")
    with pytest.raises(ConfigurationError, match="execution must be one of: process, spawn, remote"):
        select.select_execution("cloud")
    with pytest.raises(ConfigurationError, match="remote must be one of"):
        select.select_remote("both")


def test_execution_explicit_flags(tree, home):
    root = tree({"seamless.yaml": "- project: p\n"})
    config_files.load_config_files(str(root))
    assert (select.get_execution(), select.execution_was_set_explicitly(),
            select.execution_command_seen()) == ("process", False, False)
    select.select_execution("process")
    config_files.load_config_files(str(root))
    assert (select.execution_was_set_explicitly(), select.execution_command_seen()) == (True, False)


def test_nparallel(tree, home):
    with pytest.raises(ConfigurationError, match="nparallel is not set"):
        seamless_config.get_nparallel()
    seamless_config.set_nparallel(3)
    assert seamless_config.get_nparallel() == 3
    with pytest.raises(ConfigurationError, match="positive integer"):
        seamless_config.set_nparallel(0)
    root = tree({"seamless.yaml": "- nparallel: 5\n"})
    select.select_nparallel(7)
    ctx = config_files.load_config_files(str(root))
    assert ctx.value("nparallel") == 7  # a manual selection wins over the file


def test_warnings_use_the_category(tree, home):
    root = tree({"seamless.yaml": "- project: p\n"})
    with pytest.warns(SeamlessConfigWarning) as record:
        seamless_config.init(str(root))
    assert [str(w.message) for w in record] == [
        "No 'execution' command found; Seamless falls back to 'process' because no cluster is selected",
        "No cluster defined; running without persistence (results are not cached between runs)",
    ]


def test_remote_clients_roundtrip_and_order(home, monkeypatch):
    clients = {"buffer": [{"readonly": True, "url": "http://a:1", "remote_url": "http://b:2"}],
               "database": [{"readonly": True, "url": "http://a:3"}]}
    monkeypatch.setenv("SEAMLESS_REMOTE_CLIENTS", json.dumps(clients))
    assert seamless_config.set_remote_clients_from_env() is True
    seamless_config.init()
    with pytest.raises(ConfigurationError, match="before init"):
        seamless_config.set_remote_clients(clients)
    runtime = seamless_config.session.default_session().activation
    assert [b["url"] for b in runtime.buffers] == ["http://b:2"]  # in_remote picks remote_url


def test_set_remote_clients_rejects_garbage(home):
    with pytest.raises(ConfigurationError, match="unexpected field"):
        seamless_config.set_remote_clients({"buffer": [{"adress": "x"}]})


def test_cli_init_exits_at_once_for_workers(home, tmp_path):
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SEAMLESS_REMOTE_CLIENTS": "{}"}
    out = subprocess.run([sys.executable, "-m", "seamless_config.cli.init"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_init_is_a_noop_inside_a_seamless_worker(tree, home, tmp_path):
    root = tree({"seamless.yaml": "- project: p\n"})
    code = ("import seamless, seamless_config\n"
            "seamless.set_is_worker(True)\n"
            f"print(seamless_config.init({str(root)!r}))\n")
    out = run_python(code, tmp_path, home)
    assert (out.returncode, out.stdout.strip()) == (0, "None"), out.stderr


def test_check_remote_redundancy_names_the_backend(tree, home):
    root = tree({"seamless.profile.yaml": PROFILE.replace(
        "      frontends:\n", "      frontends:\n        - jobserver: {}\n")})
    config_files.load_config_files(str(root))
    assert select.check_remote_redundancy("mine") == "jobserver"
    assert select.check_remote_redundancy() == "jobserver"


def test_change_stage_without_arguments_keeps_the_selected_stage(tree, home):
    # persistent: false, so that making it effective starts no server
    root = tree({"seamless.profile.yaml": PROFILE + "- persistent: false\n"})
    seamless_config.set_workdir(str(root))
    select.select_stage("prod")
    config_files.load_config_files()
    seamless_config.change_stage()
    ctx = seamless_config.get_context()
    assert (ctx.stage, ctx.value("subproject")) == ("prod", "prodsub")


def test_get_seamless_cache(monkeypatch, home):
    assert seamless_config.get_seamless_cache() is None
    monkeypatch.setenv("SEAMLESS_CACHE", "/data/cache")
    assert seamless_config.get_seamless_cache() == "/data/cache"

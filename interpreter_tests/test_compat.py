"""The previous package's API meanings (issue 12, 'Values and semantics'),
each as 0.3.2 had them; the conformance suite runs 0.3.2's own tests too."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import warnings

import pytest

import seamless_config
from seamless_config import cluster, config_files, select, tools
from seamless_config.errors import ConfigError, ConfigurationError, UnknownClusterError
from seamless_config.session import default_session

from interpreter_tests.conftest import write_tree

CATALOGUE = """
hpc:
  type: slurm
  frontends:
    - hostname: login.hpc
      hashserver: {bufferdir: /b}
      database: {database_dir: /d}
      daskserver: {}
  default_queue: cpu
  queues:
    cpu: {cores: 4, walltime: "01:00:00", memory: 8GB, tmpdir: /scratch}
    gpu: {TEMPLATE: cpu, job_cores: 2, job_extra_directives: ["--gres=gpu:1"],
          extra_dask_config: {distributed.comm.timeouts.connect: 30s}}
laptop:
  type: local
  frontends:
    - hashserver: {bufferdir: /b}
      database: {database_dir: /d}
      jobserver: {}
"""


@pytest.fixture
def catalogue(home):
    write_tree(home, {".seamless/clusters.yaml": CATALOGUE})
    return home


def load(root, files: dict):
    write_tree(root, files)
    seamless_config.set_workdir(str(root))
    return config_files.load_config_files()


# -- getters and selections --------------------------------------------------------

def test_getters_before_any_load_use_the_selections(home):
    select.select_cluster("nowhere")
    assert select.get_execution() == "remote"  # a cluster is selected
    assert select.get_persistent() is True
    assert select.get_selected_cluster() == "nowhere"


def test_select_after_a_load_keeps_what_the_files_said(catalogue, tmp_path):
    load(tmp_path, {"seamless.yaml": "- project: p\n- cluster: hpc\n"})
    select.select_execution("process")
    assert select.get_selected_cluster() == "hpc"  # not lost by the selection
    assert select.get_selected_project() == "p"
    assert select.get_execution() == "process"


def test_get_queue_only_an_explicit_queue_and_of_its_cluster(catalogue, tmp_path):
    load(tmp_path, {"seamless.yaml": "- project: p\n- cluster: hpc\n"})
    assert select.get_queue() is None and select.get_queue("hpc") is None  # default_queue only
    assert default_session().context().queue.name == "cpu"  # what explain shows
    select.select_queue("gpu")
    assert (select.get_queue(), select.get_queue("hpc"), select.get_queue("laptop")) == (
        "gpu", "gpu", None)


def test_select_queue_refuses_at_once(catalogue, tmp_path):
    with pytest.raises(ValueError):
        select.select_queue("cpu")  # no cluster yet
    load(tmp_path, {"seamless.yaml": "- cluster: hpc\n"})
    with pytest.raises(ValueError) as info:
        select.select_queue("gpus")
    assert "queue 'gpus' is not defined by cluster 'hpc'" in str(info.value)


def test_command_sourced_selections_give_way_to_the_next_load(catalogue, tmp_path):
    load(tmp_path, {"seamless.yaml": "- project: p\n"})
    select.select_execution("spawn", source="command")
    assert select.execution_command_seen() and select.get_execution() == "spawn"
    config_files.load_config_files()
    assert select.get_execution() == "process" and not select.execution_command_seen()
    select.select_execution("spawn")  # manual: survives
    config_files.load_config_files()
    assert select.get_execution() == "spawn" and select.execution_was_set_explicitly()


def test_get_remote_is_the_pinned_backend(catalogue, tmp_path):
    load(tmp_path, {"seamless.yaml": "- project: p\n- cluster: laptop\n"})
    assert select.get_remote() is None  # the cluster's only backend, not pinned
    assert select.check_remote_redundancy("laptop") == "jobserver"
    select.select_remote("jobserver")
    assert select.get_remote() == "jobserver"


def test_get_persistent_of_a_named_cluster(home):
    assert select.get_persistent() is False
    assert select.get_persistent("hpc") is True
    select.select_persistent(False)
    assert select.get_persistent("hpc") is False


def test_get_current_empty_strings_stay(home):
    select.select_cluster("c")
    select.select_project("p")
    assert select.get_current("") == ("", "p", None, None, None)


def test_record_changes_reach_seamless_transformers_cache(catalogue, tmp_path, monkeypatch):
    calls = []
    module = types.ModuleType("seamless_transformer.record_runtime")
    module.invalidate_record_mode_cache = lambda: calls.append(select.get_record())
    monkeypatch.setitem(sys.modules, "seamless_transformer.record_runtime", module)
    load(tmp_path, {"seamless.yaml": "- record: true\n"})
    select.select_record(False)
    select.reset_record_before_load()  # a manual one stays
    assert calls and select.get_record() is False


# -- clusters --------------------------------------------------------------------

def test_get_cluster_gives_0_3_2_dataclasses_that_asdict_and_json_accept(catalogue, tmp_path):
    load(tmp_path, {"seamless.yaml": "- cluster: hpc\n"})
    clus = cluster.get_cluster("hpc")
    assert (clus.name, clus.type, clus.default_queue) == ("hpc", "slurm", "cpu")
    assert clus.frontends[0].hashserver.bufferdir == "/b"
    gpu = dataclasses.asdict(clus.queues["gpu"])
    json.dumps(gpu, sort_keys=True)  # as seamless-transformer's probe index hashes it
    assert (gpu["cores"], gpu["job_cores"], gpu["tmpdir"], gpu["exclusive"]) == (
        4, 2, "/scratch", False)
    assert gpu["extra_dask_config"] == {"distributed.comm.timeouts.connect": "30s"}
    assert gpu["job_extra_directives"] == ["--gres=gpu:1"]


def test_unknown_cluster_is_a_key_error_and_a_value_error(catalogue, tmp_path):
    load(tmp_path, {"seamless.yaml": "- cluster: hpc\n"})
    with pytest.raises(KeyError):
        cluster.get_cluster("hcp")
    with pytest.raises(UnknownClusterError) as info:
        cluster.get_cluster("hcp")
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    assert str(info.value) == "unknown cluster 'hcp'; did you mean 'hpc'? known clusters: hpc, laptop"


def test_define_clusters_from_python_data(home):
    cluster.define_clusters({"local_cluster": "mine", "mine": {
        "type": "local", "frontends": [{"hostname": "box", "hashserver": {"bufferdir": "/b"}}]}})
    select.select_cluster("mine")
    select.select_project("p")
    assert cluster.get_local_cluster() == "mine"
    assert "hostname" not in tools.configure_hashserver("rw")  # the local cluster: launched here
    with pytest.raises(ConfigError):
        cluster.define_clusters({"bad": {"type": "cloud", "frontends": [{}]}})


def test_inline_local_cluster_launches_here(home, tmp_path):
    load(tmp_path, {"seamless.yaml": """
        - project: p
        - clusters:
            local_cluster: loc
            loc:
              type: local
              frontends:
                - hostname: login.example
                  hashserver: {bufferdir: /b}
        - cluster: loc
        - persistent: true
        - execution: process
        """})
    assert cluster.get_local_cluster() == "loc"
    assert "hostname" not in tools.configure_hashserver("rw")


def test_inline_local_cluster_must_be_defined(home, tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, {"seamless.yaml": "- clusters:\n    local_cluster: nope\n"})
    assert "local_cluster 'nope' is not a defined cluster" in str(info.value)


# -- errors where they matter ---------------------------------------------------------

def test_loading_is_quiet_about_what_nothing_uses(home, tmp_path):
    """0.3.2 looked an undefined cluster up only when launching."""
    load(tmp_path, {"seamless.yaml": "- cluster: undefined\n- execution: process\n"
                                     "- persistent: false\n"})
    assert select.get_selected_cluster() == "undefined"
    seamless_config.init(str(tmp_path))  # nothing to launch: fine
    with pytest.raises(KeyError):
        cluster.get_cluster("undefined")


def test_init_raises_what_it_would_launch_with_file_and_line(home, tmp_path):
    load(tmp_path, {"seamless.yaml": "- project: p\n- cluster: undefined\n"})
    with pytest.raises(ConfigError) as info:
        seamless_config.init(str(tmp_path))
    assert "seamless.yaml:2:12: unknown cluster 'undefined'" in str(info.value)


def test_disabled_services_are_neither_launched_nor_raised(catalogue, tmp_path, monkeypatch):
    """seamless-run --dry sets seamless_remote.database_remote.DISABLED; a
    cluster without the disabled service then still initialises."""
    from seamless_config.launch import activation as effects

    for name in effects.DISABLED_FLAGS.values():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(DISABLED=True))
    load(tmp_path, {"seamless.yaml": "- project: p\n- cluster: laptop\n- remote: daskserver\n"})
    seamless_config.init(str(tmp_path))
    assert default_session().activation.handles == []


def test_check_and_explain_still_report_it(home, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from seamless_config.cli.main import cli

    write_tree(tmp_path, {"seamless.yaml": "- cluster: undefined\n- execution: process\n"
                                           "- persistent: false\n"})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["explain"])
    assert result.exit_code == 3 and "unknown cluster 'undefined'" in result.output


# -- the API around the old module globals --------------------------------------------

def test_set_stage_and_set_workdir_after_set_remote_clients(home):
    seamless_config.set_remote_clients({"buffer": [{"readonly": True, "directory": "/b"}]})
    for call in (seamless_config.set_stage, lambda: seamless_config.set_workdir("/tmp")):
        with pytest.raises(RuntimeError):
            call()


def test_set_workdir_without_argument_is_the_callers_directory(home):
    seamless_config.set_workdir()
    assert seamless_config.api.get_workdir() == str(
        __import__("pathlib").Path(__file__).resolve().parent)


def test_collect_includes_clients_defined_in_seamless_remote(home, monkeypatch):
    fake = types.SimpleNamespace(
        inspect_extern_clients=lambda: [{"name": "theirs", "readonly": True, "url": "http://db",
                                         "directory": None}],
        inspect_launched_clients=lambda: [{"cluster": "c1", "readonly": False, "url": "http://x"},
                                          {"cluster": "c2", "readonly": False, "url": "http://y"}])
    monkeypatch.setitem(sys.modules, "seamless_remote.database_remote", fake)
    assert seamless_config.collect_remote_clients("c1")["database"] == [
        {"readonly": True, "url": "http://db"}, {"readonly": False, "url": "http://x"}]


def test_warnings_keep_0_3_2_words(home, tmp_path):
    write_tree(tmp_path, {"seamless.yaml": "- project: p\n"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seamless_config.init(str(tmp_path))
    messages = [str(w.message) for w in caught]
    assert any("falls back to 'process'" in m for m in messages)
    assert any("No cluster defined; running without persistence" in m for m in messages)


def test_configuration_error_is_a_runtime_error():
    assert issubclass(ConfigurationError, RuntimeError)
    assert issubclass(ConfigError, ValueError)

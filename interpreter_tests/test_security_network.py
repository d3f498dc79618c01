"""Servers reachable from the network only when the user wrote so (issue 13,
item 4): these servers have no authentication, so binding beyond loopback
must be an explicit ``network_interface``; a frontend reached without an
SSH tunnel and without one is a ConfigError at the service, naming both
fixes; ``check`` and ``explain`` name every server that will listen beyond
loopback; a ``type: local`` frontend named after this machine is this
machine (loopback, no SSH to itself); Dask workers of a scheduler on
loopback stay on loopback."""

from __future__ import annotations

import json
import os
import socket
import textwrap
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

import seamless_config
from seamless_config import config_files, tools
from seamless_config.model import types as model
from seamless_config.cli.main import cli
from seamless_config.errors import ConfigError
from seamless_config.launch import state

from .conftest import write_tree

FIXES = ("write 'tunnel: true' in cluster 'hpc'", "'network_interface: ADDRESS' under this "
         "hashserver (0.0.0.0: every interface; it has no authentication")


def catalogue(home, text: str) -> None:
    (home / ".seamless" / "clusters.yaml").write_text(textwrap.dedent(text).lstrip("\n"))


def hpc(tunnel: bool = False, hash_if: str | None = None, db_if: str | None = None) -> str:
    """A SLURM cluster on a remote frontend; its hashserver at 5:7."""
    lines = ["hpc:", "  type: slurm", "  frontends:", "    - hostname: login.hpc.example",
             "      hashserver:", "        bufferdir: /scratch/buffers"]
    lines += [f"        network_interface: {hash_if}"] if hash_if else []
    lines += ["      database:", "        database_dir: /scratch/db"]
    lines += [f"        network_interface: {db_if}"] if db_if else []
    lines += ["  tunnel: true"] if tunnel else []
    return "\n".join(lines) + "\n"


PROJECT = {"seamless.yaml": "- project: demo\n- cluster: hpc\n- execution: process\n"}


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


# -- the rule: beyond loopback only when written ----------------------------------------

def test_check_refuses_an_untunnelled_frontend_without_network_interface(tree, home):
    catalogue(home, hpc())
    tree(PROJECT)
    result = run("check")
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith("error: ~/.seamless/clusters.yaml:5:7: frontend 'login.hpc.example' "
                            "of cluster 'hpc' is reached without an SSH tunnel, so its "
                            "hashserver would have to listen beyond loopback, but it names no "
                            "network_interface; ")
    assert all(fix in first for fix in FIXES)


@pytest.mark.parametrize("command", ["explain", "plan"])
def test_explain_and_plan_refuse_it_too(tree, home, command):
    catalogue(home, hpc())
    tree(PROJECT)
    result = run(command)
    assert result.exit_code != 0
    assert "clusters.yaml:5:7: frontend 'login.hpc.example'" in result.output
    assert "0.0.0.0" not in result.output.split("(0.0.0.0: every interface")[0]


def test_the_tolerant_api_raises_it_only_for_the_server_it_concerns(tree, home):
    """0.3.2's API loads quietly; the database (which names an interface)
    can be configured; the hashserver and any init are refused, before
    anything is started."""
    catalogue(home, hpc(db_if="10.0.0.7"))
    root = tree(PROJECT)
    config_files.load_config_files(str(root))
    assert tools.configure_database("rw")["network_interface"] == "10.0.0.7"
    with pytest.raises(ConfigError) as caught:
        tools.configure_hashserver("rw")
    assert str(caught.value).startswith("~/.seamless/clusters.yaml:5:7: frontend "
                                        "'login.hpc.example' of cluster 'hpc' is reached")
    with pytest.raises(ConfigError, match="its hashserver would have to listen beyond loopback"):
        seamless_config.init(str(root))
    assert not (home / ".remote-http-launcher").exists()  # nothing was launched


def test_tools_guards_a_frontend_chosen_by_name(tree, home):
    """configure_*(frontend_name=...) builds a spec for a frontend the
    evaluation did not derive: tools.py applies the same rule."""
    catalogue(home, """
        hpc:
          type: slurm
          frontends:
            - hostname: one.hpc.example
              hashserver: {bufferdir: /a, network_interface: 10.0.0.1}
            - hostname: two.hpc.example
              hashserver: {bufferdir: /b}
        """)
    root = tree(PROJECT)
    config_files.load_config_files(str(root))
    assert tools.configure_hashserver("rw")["hostname"] == "one.hpc.example"
    with pytest.raises(ConfigError, match="clusters.yaml:7:7: frontend 'two.hpc.example'"):
        tools.configure_hashserver("rw", frontend_name="two.hpc.example")


def test_a_tunnel_keeps_every_server_on_loopback_without_a_warning(tree, home):
    catalogue(home, hpc(tunnel=True))
    tree(PROJECT)
    result = run("plan", "--json")
    assert result.exit_code == 0, result.output
    services = json.loads(result.output)["services"]
    assert [(s["service"], s["network_interface"], s["tunnel"]) for s in services] == [
        ("hashserver", "127.0.0.1", True), ("database", "127.0.0.1", True)]
    assert run("check").output.endswith(": 0 errors, 0 warnings; evaluated with: no stage\n")


# -- the warning: every server told to listen beyond loopback -----------------------------

@pytest.mark.parametrize("interface,beyond", [
    ("0.0.0.0", True), ("::", True), ("10.0.0.5", True), ("login1-ib", True),
    ("fe80::1", True), ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False),
    ("[::1]", False), ("localhost", False), ("LOCALHOST", False), (None, False)])
def test_what_counts_as_beyond_loopback(interface, beyond):
    assert model.binds_beyond_loopback(interface) is beyond


def test_check_and_explain_name_each_exposed_server(tree, home):
    catalogue(home, hpc(hash_if="0.0.0.0", db_if="127.0.0.1"))
    tree(PROJECT)
    warning = ("~/.seamless/clusters.yaml:7:28: the hashserver on frontend 'login.hpc.example' "
               "of cluster 'hpc' will listen on 0.0.0.0, beyond loopback, without "
               "authentication: anyone who reaches that address can read and write its buffers")
    checked = run("check")
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("warning: " + warning + "\n")
    assert "database" not in checked.output  # explicit loopback: nothing to say
    assert ": 0 errors, 1 warning;" in checked.output
    explained = run("explain")
    assert explained.output.endswith("Warnings\n    " + warning + "\n")
    document = json.loads(run("explain", "--json").output)
    assert document["warnings"][-1] == {"message": warning.split(": ", 1)[1],
                                        "location": "~/.seamless/clusters.yaml:7:28"}


def test_loading_through_the_api_stays_quiet_about_it(tree, home, recwarn):
    """The user wrote it: the warning is for check and explain, not for
    every load of 0.3.2's API."""
    catalogue(home, hpc(hash_if="0.0.0.0", db_if="0.0.0.0"))
    root = tree(PROJECT)
    ctx = config_files.load_config_files(str(root))
    assert not [w for w in recwarn if "beyond loopback" in str(w.message)]
    assert not [w for w in ctx.warnings if "beyond loopback" in w.message]


def test_a_pure_dask_scheduler_and_a_local_machine_are_named_as_such(tree, home):
    tree({"seamless.yaml": """\
        - project: demo
        - clusters:
            here:
              type: local
              frontends:
                - daskserver: {network_interface: 0.0.0.0}
              default_queue: q
              queues:
                q: {}
        - cluster: here
        - execution: remote
        - persistent: false
        """})
    checked = run("check")
    assert ("seamless.yaml:6:43: the pure_daskserver on this machine of cluster 'here' will "
            "listen on 0.0.0.0, beyond loopback, without authentication: anyone who reaches "
            "that address can submit tasks to its Dask scheduler, which run code as you"
            ) in checked.output


# -- a type: local frontend named after this machine ---------------------------------------

def own_cluster(name: str, ctype: str = "local", more: str = "") -> str:
    return f"""
        mine:
          type: {ctype}
          workers: 1
          frontends:
            - hostname: {name}
              hashserver: {{bufferdir: /data/buffers}}
              database: {{database_dir: /data/db}}{more}
        """


def test_a_local_frontend_named_after_this_machine_is_this_machine(tree, home):
    catalogue(home, own_cluster(socket.gethostname()))
    tree({"seamless.yaml": "- project: demo\n- cluster: mine\n- execution: process\n"})
    result = run("plan", "--json")
    assert result.exit_code == 0, result.output
    services = json.loads(result.output)["services"]
    assert [(s["host"], s["network_interface"], s.get("ssh_hostname")) for s in services] == [
        ("this machine", "127.0.0.1", None)] * 2
    assert "hashserver on this machine" in run("explain").output


@pytest.mark.parametrize("ctype,more", [
    ("slurm", ""),  # batch workers reach it by that name: still remote
    ("local", "\n            - hostname: elsewhere.example\n              jobserver: {}"),
])
def test_other_clusters_named_after_this_machine_need_the_users_word(tree, home, ctype, more):
    catalogue(home, own_cluster(socket.gethostname(), ctype, more))
    tree({"seamless.yaml": "- project: demo\n- cluster: mine\n- execution: process\n"})
    result = run("plan", "--json")
    assert result.exit_code != 0
    assert "would have to listen beyond loopback" in result.output
    assert "0.0.0.0\"" not in result.output


@pytest.mark.parametrize("own,name,expected", [
    ("node7", "node7", True),
    ("node7", "NODE7.", True),
    ("node7", "node7.lab.example", False),  # no resolver is asked: a domain it lacks stays remote
    ("node7", "node7.other.example", False),
    ("node7.lab.example", "node7", True),
    ("node7.lab.example", "node7.lab.example", True),
    ("node7.lab.example", "node7.other.example", False),
    ("node7", "node70", False),
    ("node7", "login.lab.example", False),
])
def test_this_machines_names(monkeypatch, own, name, expected):
    real = os.uname()
    fake = type(real)((real.sysname, own, *real[2:]))
    monkeypatch.setattr(os, "uname", lambda: fake)
    assert model._names_this_machine(name) is expected


def test_init_launches_it_here_on_loopback_without_ssh(fake_home, tmp_path):
    """On today's code this SSHed to this machine and bound 0.0.0.0."""
    write_tree(fake_home, {".seamless/clusters.yaml": f"""
        mine:
          type: local
          frontends:
            - hostname: {socket.gethostname()}
              hashserver: {{bufferdir: {tmp_path}/buffers, port_start: 43500, port_end: 43599}}
              database: {{database_dir: {tmp_path}/db, port_start: 43600, port_end: 43699}}
        """})
    write_tree(tmp_path / "w", {"seamless.yaml": "- project: demo\n- cluster: mine\n"
                                                 "- execution: process\n"})
    ctx = seamless_config.init(str(tmp_path / "w"))
    for use in ctx.services:
        record = state.read_server(use.key)
        assert record["status"] == "running" and record["network_interface"] == "127.0.0.1"
        assert listening(record["pid"]) and all(
            ip == "127.0.0.1" for ip in listening(record["pid"]))


def listening(pid: int) -> set[str]:
    """The addresses that ``pid`` and its descendants listen on."""
    root = psutil.Process(pid)
    found = set()
    for proc in [root, *root.children(recursive=True)]:
        try:
            found |= {c.laddr.ip for c in proc.net_connections(kind="inet")
                      if c.status == psutil.CONN_LISTEN}
        except psutil.NoSuchProcess:
            pass
    return found


# -- Dask workers ---------------------------------------------------------------------------

def test_a_local_clusters_workers_listen_where_its_scheduler_does(fake_home, tmp_path):
    """Our pure-Dask LocalCluster on 127.0.0.1: scheduler, dashboard,
    nannies and workers all on loopback (LocalCluster hands its workers
    the scheduler's host)."""
    from seamless_config.dask.client import get_dask_client

    write_tree(tmp_path / "w", {"seamless.yaml": """
        - project: demo
        - clusters:
            here:
              type: local
              frontends:
                - daskserver: {network_interface: 127.0.0.1, port_start: 45400, port_end: 45499}
              default_queue: q
              queues:
                q: {interactive: 1, maximum_jobs: 1}
        - cluster: here
        - execution: remote
        - persistent: false
        """})
    seamless_config.init(str(tmp_path / "w"))
    record = state.read_server("pure-daskserver-here--q")
    with get_dask_client() as client:
        assert client.submit(lambda x: x + 1, 1).result(timeout=60) == 2
        addresses = listening(record["pid"])
    assert len(psutil.Process(record["pid"]).children(recursive=True)) >= 1
    assert addresses == {"127.0.0.1"}


@pytest.mark.parametrize("host,args", [
    ("127.0.0.1", ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]),
    ("localhost", ["--host", "localhost", "--dashboard-address", "localhost:0"]),
    ("::1", ["--host", "::1", "--dashboard-address", "[::1]:0"]),
    ("0.0.0.0", []), ("10.0.0.5", [])])
def test_batch_workers_of_a_loopback_scheduler_are_told_to_stay_there(host, args):
    from seamless_config.plan.dask import bind_workers, plan_for

    params = {"walltime": "01:00:00", "cores": 2, "memory": "2GB"}
    plan = plan_for("dask_jobqueue::SLURMCluster", params)
    bound = bind_workers(plan, host)
    assert list(bound.job["worker_extra_args"]) == list(plan.job["worker_extra_args"]) + args
    local = plan_for("distributed::LocalCluster", {})
    assert bind_workers(local, host) is local  # LocalCluster does it itself


def test_oar_workers_of_a_loopback_scheduler_listen_on_loopback(oar, fake_home, tmp_path):
    """Real OAR jobs (dask-worker started by OAR, not by us): on today's
    code their worker and HTTP server listened on 0.0.0.0 and [::]. And
    OAR's OAR.*.stdout/.stderr land in the scheduler's work directory
    (oarsub reads $PWD), not in the directory init ran in."""
    from seamless_config.dask.client import get_dask_client

    write_tree(tmp_path / "w", {"seamless.yaml": f"""
        - project: demo
        - clusters:
            batch:
              type: oar
              frontends:
                - daskserver: {{network_interface: 127.0.0.1, port_start: 47400, port_end: 47449}}
              memory_per_core_property_name: memcore
              default_queue: q
              queues:
                q:
                  cores: 1
                  memory: 1GB
                  walltime: "00:10:00"
                  tmpdir: {tmp_path}/scratch
                  interactive: 1
                  maximum_jobs: 1
        - cluster: batch
        - execution: remote
        - persistent: false
        """})
    seamless_config.init(str(tmp_path / "w"))
    record = state.read_server("pure-daskserver-batch--q")
    scheduler_port = record["port"]
    with get_dask_client(timeout=60) as client:
        client.wait_for_workers(1, timeout=120)
        assert client.submit(lambda x: x * 2, 21).result(timeout=60) == 42
        workers = [p for p in psutil.process_iter(["cmdline"])
                   if "distributed.cli.dask_worker" in " ".join(p.info["cmdline"] or ())
                   and f":{scheduler_port}" in " ".join(p.info["cmdline"] or ())]
        assert len(workers) == 1
        addresses = listening(workers[0].pid)
    assert addresses == {"127.0.0.1"}
    workdir = Path(os.path.expanduser(record["workdir"]))
    assert list(workdir.glob("OAR.*.stdout")) and not list(Path.cwd().glob("OAR.*"))

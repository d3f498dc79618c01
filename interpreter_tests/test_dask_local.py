"""Pure Dask mode end to end on this machine: the executor launches our
wrapper around a real LocalCluster; get_dask_client() computes with it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

import pytest

import seamless_config
from seamless_config import _record
from seamless_config.dask.client import dashboard_url, get_dask_client
from seamless_config.launch.activation import activate
from seamless_config.plan.services import spec_for
from seamless_config.launch import state
from seamless_config.launch.executor import ensure_service
from seamless_config.launch.local import pid_alive
from seamless_config.evaluation.pipeline import evaluate_workdir

from .conftest import write_tree

PORTS = (45100, 45199)


def pure_dask_tree(root, ports=PORTS):
    write_tree(root, {"seamless.yaml": f"""
        - project: demo
        - clusters:
            here:
              type: local
              workers: 2
              frontends:
                - daskserver:
                    network_interface: 127.0.0.1
                    port_start: {ports[0]}
                    port_end: {ports[1]}
              default_queue: q
              queues:
                q:
                  interactive: 1
                  maximum_jobs: 2
                  target_duration: 1s
        - cluster: here
        - execution: remote
        - persistent: false
        """})
    return str(root)


def test_init_then_client_computes_within_adaptive_bounds(fake_home, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="seamless_config")

    def slow_square(x):  # nested: pickled by value, workers cannot import this module
        import time as t

        t.sleep(0.5)
        return x * x
    ctx = seamless_config.init(pure_dask_tree(tmp_path / "w"))
    assert [u.service for u in ctx.services] == ["pure_daskserver"]
    record = state.read_server("pure-daskserver-here--q")
    assert record["status"] == "running" and PORTS[0] <= record["port"] <= PORTS[1]
    assert record["adaptive"] == {"minimum": 1, "maximum": 2}
    assert any("Dask dashboard of pure_daskserver" in r.getMessage() for r in caplog.records)
    with get_dask_client() as client:
        assert client.submit(lambda x: x + 1, 41).result(timeout=60) == 42
        assert len(client.scheduler_info()["workers"]) == 1  # interactive: one kept ready
        futures = client.map(slow_square, range(16))
        client.wait_for_workers(2, timeout=30)  # adaptive scale-up under load
        seen = set()
        while not all(f.done() for f in futures):
            seen.add(len(client.scheduler_info()["workers"]))
            time.sleep(0.2)
        assert client.gather(futures) == [x * x for x in range(16)]
        assert max(seen) == 2  # maximum_jobs caps it


def test_second_activation_reuses_the_scheduler(fake_home, tmp_path):
    ctx = evaluate_workdir(pure_dask_tree(tmp_path / "w"))
    first = activate(ctx)
    second = activate(ctx)
    assert [h.launched for h in first.handles + second.handles] == [True, False]
    handle = second.handles[0]
    assert handle.pid == first.handles[0].pid
    assert dashboard_url(handle) == f"http://127.0.0.1:{handle.dashboard_port}/status"
    with get_dask_client(second) as client:
        assert client.submit(sum, [1, 2, 3]).result(timeout=60) == 6


def _services(workdir, *args):
    out = subprocess.run([sys.executable, "-m", "seamless_config.cli.main", "services", *args,
                          "--workdir", workdir], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_services_name_the_pure_dask_scheduler_daskserver(fake_home, tmp_path):
    """--service daskserver is the Dask scheduler the configuration uses,
    here pure Dask's; ps lists it and stop stops it."""
    workdir = pure_dask_tree(tmp_path / "w")
    handle = activate(evaluate_workdir(workdir)).handles[0]
    rows = json.loads(_services(workdir, "ps", "--json", "--service", "daskserver"))["servers"]
    assert [(r["service"], r["key"], r["pid"], r["port"], r["state"]) for r in rows] == [
        ("pure_daskserver", "pure-daskserver-here--q", handle.pid, handle.port, "running")]
    assert json.loads(_services(workdir, "ps", "--json", "--service", "jobserver"))[
        "servers"] == []
    assert _services(workdir, "stop", "--service", "daskserver") == (
        f"stopped pure_daskserver 'pure-daskserver-here--q' on localhost (pid {handle.pid}, "
        "SIGINT)\n")
    assert not pid_alive(handle.pid)
    rows = json.loads(_services(workdir, "ps", "--json", "--service", "pure_daskserver"))[
        "servers"]
    assert [(r["state"], r["reason"]) for r in rows] == [("stale", "stopped")]


def test_idle_timeout_shuts_the_wrapper_down(fake_home, tmp_path):
    ctx = evaluate_workdir(pure_dask_tree(tmp_path / "w"))
    spec = spec_for(ctx, ctx.services[0])
    argv = list(spec.argv)
    argv[argv.index("--timeout") + 1] = "3"
    handle = ensure_service(_record.replace(spec, argv=tuple(argv)))
    from distributed import Client

    with Client(handle.url.replace("http://", "tcp://"), timeout=30) as client:
        assert client.submit(abs, -5).result(timeout=60) == 5
        time.sleep(4)  # a connected client keeps it alive past the timeout
        assert pid_alive(handle.pid)
    end = time.monotonic() + 30
    while pid_alive(handle.pid) and time.monotonic() < end:
        time.sleep(0.2)
    assert not pid_alive(handle.pid)
    assert state.read_server(spec.key)["status"] == "stale"
    with open(state.server_log_path(spec.key)) as f:
        assert "shutting down: idle for 3 s (no client and no task)" in f.read()


@pytest.mark.filterwarnings("ignore::seamless_config.SeamlessConfigWarning")
def test_no_scheduler_is_a_clear_error(fake_home, tmp_path):
    with pytest.raises(seamless_config.ConfigurationError, match=r"call seamless_config.init"):
        get_dask_client()
    write_tree(tmp_path / "p", {"seamless.yaml": "- execution: process\n"})
    seamless_config.init(str(tmp_path / "p"))
    with pytest.raises(seamless_config.ConfigurationError,
                       match="this configuration starts no Dask scheduler "
                             r"\(execution 'process', remote 'None'\)"):
        get_dask_client()


def test_pure_daskserver_module_as_0_3_2_callers_use_it(fake_home, tmp_path):
    """0.3.2's pure_daskserver.activate()/get_client()/deactivate() and its
    launched handle, through our launcher."""
    from seamless_config import config_files, pure_daskserver

    seamless_config.set_workdir(pure_dask_tree(tmp_path / "w"))
    config_files.load_config_files()
    pure_daskserver.activate()
    client = pure_daskserver.get_client()
    assert client.submit(lambda x: x + 1, 41).result(timeout=60) == 42
    handle = pure_daskserver.PureDaskserverLaunchedHandle("here", "q", None)
    assert handle.launch_config["key"] == "pure-daskserver-here--q"
    assert handle.launch_payload["status"] == "running"  # the same scheduler, reused
    assert handle.dashboard_url.endswith("/status")
    assert handle.client.submit(sum, [1, 2]).result(timeout=60) == 3
    handle.client.close()
    pure_daskserver.deactivate()
    assert client.status == "closed"

"""This package's ``sge`` clusters on a real single-node Grid Engine
(``fixtures_sge``), through ``seamless_config.init()``: pure Dask, and
Seamless's daskserver running a transformation, each getting its result
from a worker that Grid Engine started. The frontend is this machine;
everything talks over loopback; the package's servers use ports
47200-47399 (fixtures_sge.PORTS keeps the daemons elsewhere).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

import seamless_config
from seamless_config.dask.client import get_dask_client
from seamless_config.launch import state

from .conftest import job_script, seamless_frontend, write_tree
from .test_integration_support import clean_env, run, stored_results

QUEUE = """\
              default_queue: q
              queues:
                q:
                  cores: 1
                  memory: 2GB
                  walltime: "00:30:00"
                  partition: {queue}
                  tmpdir: {scratch}
                  interactive: true
                  maximum_jobs: 1{extra}
"""


def _where():
    def where() -> tuple[int, str]:  # nested: pickled by value, workers cannot import tests
        import os

        return 41 + 1, os.environ.get("JOB_ID", "")
    return where


def sge_tree(root: Path, frontend: str, tail: str, queue: str, extra: str = "") -> Path:
    write_tree(root, {"seamless.yaml": f"""
        - project: demo
        - clusters:
            batch:
              type: sge
              frontends:
                - {frontend}
{QUEUE.format(queue=queue, scratch=root / "scratch", extra=extra)}
        - cluster: batch
        {tail}
        """})
    return root


def launched(prefix: str, suffix: str) -> Path:
    [path] = Path(state.server_dir()).glob(prefix + "*" + suffix)
    return path


def test_pure_dask_worker_runs_as_a_pinned_sge_job(sge, fake_home, tmp_path):  # noqa: F811
    frontend = "daskserver: {network_interface: 127.0.0.1, port_start: 47200, port_end: 47249}"
    root = sge_tree(tmp_path / "w", frontend, "- execution: remote\n        - persistent: false"
                    f"\n        - node: {sge.host}", sge.queue)
    seamless_config.init(str(root))
    with get_dask_client(timeout=60) as client:
        client.wait_for_workers(1, timeout=120)
        answer, job = client.submit(_where(), pure=False).result(timeout=60)
    assert answer == 42
    assert job.isdigit() and job in sge.jobs()
    log = launched("pure-daskserver-batch", ".log").read_text()  # it logs what it submits
    for line in (f"#$ -q {sge.queue}", "#$ -l h_vmem=1908M", "#$ -l h_rt=00:30:00",
                 f"#$ -l hostname={sge.host}"):
        assert line + "\n" in log
    # what Grid Engine granted the running job, as qstat reports it
    granted = sge.run("qstat", "-j", job).stdout
    assert "h_vmem=1908M" in granted and f"hostname={sge.host}" in granted


SCRIPT = job_script("SGE", "JOB_ID")


@pytest.mark.skipif(importlib.util.find_spec("seamless_dask") is None,
                    reason="the Seamless daskserver needs seamless-dask")
def test_seamless_daskserver_runs_a_transformation_in_an_sge_job(sge, fake_home,  # noqa: F811
                                                                   tmp_path):
    data = tmp_path / "data"
    frontend = seamless_frontend(data, (47250, 47299), (47300, 47349), (47350, 47399))
    # seamless-dask's jobs run 'python' from PATH, and a Grid Engine job inherits no
    # environment unless asked (-V): as on a site, where a prologue loads the module
    tail = "- execution: remote\n        - remote: daskserver\n        - persistent: true"
    export_all = '\n                  job_extra_directives: ["-V"]'
    root = sge_tree(tmp_path / "w", frontend, tail, sge.queue, extra=export_all)
    (root / "script.py").write_text(SCRIPT)
    out = run([sys.executable, str(root / "script.py")], root, clean_env(), timeout=150)
    printed = out.stdout.splitlines()[-1]  # after the runtime's progress lines
    result, job = printed.rsplit(" in SGE job ", 1)
    assert result == "5"
    assert job.isdigit() and job in sge.jobs()
    record = json.loads(launched("daskserver-batch", ".json").read_text())
    program, cluster_class = record["command"].split()[:2]
    assert (program.rsplit("/", 1)[-1], cluster_class) == (
        "seamless-dask-wrapper", "seamless_config.dask.jobqueue::SGECluster")
    # seamless-dask's job, built by our job class: Grid Engine's memory, one --nthreads
    script = sge.run("qstat", "-j", job).stdout
    assert "h_vmem=1908M" in script
    [(_, checksum)] = stored_results(str(data / "db" / "demo" / "seamless.db"))
    assert json.loads((data / "buffers" / "demo" / checksum[:2] / checksum).read_text()) \
        == printed

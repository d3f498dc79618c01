"""Dask on a real single-node SLURM: a worker started by sbatch computes.

The frontend is this machine (no SSH), so the executor launches the
wrapper locally with SLURM_CONF pointing at the private SLURM of
``fixtures_slurm``; the scheduler and the workers talk over loopback.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess

import pytest

import seamless_config
from seamless_config.dask.client import get_dask_client
from seamless_config.launch import state

from .conftest import seamless_frontend, write_tree

QUEUE = """\
              default_queue: q
              queues:
                q:
                  cores: 1
                  memory: 1GB
                  walltime: "00:30:00"
                  partition: debug
                  interactive: true
                  maximum_jobs: 1
"""


def slurm_tree(root, frontend: str, persistent: bool) -> str:
    write_tree(root, {"seamless.yaml": f"""
        - project: demo
        - clusters:
            batch:
              type: slurm
              frontends:
                - {frontend}
{QUEUE}
        - cluster: batch
        - execution: remote
        - persistent: {str(persistent).lower()}
        """})
    return str(root)


def computed_by_a_slurm_job(workdir: str) -> str:
    def job_id() -> str:  # nested: pickled by value, since workers cannot import tests
        import os

        return os.environ.get("SLURM_JOB_ID", "")

    seamless_config.init(workdir)
    with get_dask_client(timeout=60) as client:
        client.wait_for_workers(1, timeout=90)
        return client.submit(job_id, pure=False).result(timeout=90)


def test_pure_dask_worker_runs_as_a_slurm_job(slurm, fake_home, tmp_path):  # noqa: F811
    frontend = "daskserver: {network_interface: 127.0.0.1, port_start: 45400, port_end: 45449}"
    workdir = slurm_tree(tmp_path / "w", frontend, persistent=False)
    job = computed_by_a_slurm_job(workdir)
    assert job.isdigit()
    assert job in slurm.jobs()
    log = state.server_log_path("pure-daskserver-batch--q")
    with open(log) as f:
        assert "#SBATCH -p debug" in f.read()  # the wrapper logs the script it submits


@pytest.mark.skipif(importlib.util.find_spec("seamless_dask") is None,
                    reason="the Seamless daskserver needs seamless-dask")
def test_seamless_daskserver_worker_runs_as_a_slurm_job(slurm, fake_home,  # noqa: F811
                                                         tmp_path):
    data = tmp_path / "data"
    frontend = seamless_frontend(data, (45450, 45469), (45470, 45479), (45480, 45499))
    workdir = slurm_tree(tmp_path / "w", frontend, persistent=True)
    job = computed_by_a_slurm_job(workdir)
    assert job.isdigit() and job in slurm.jobs()
    record = state.read_server("daskserver-batch-rw-demo")
    assert_preview_is_what_ran(workdir, job)
    program, cluster_class = record["command"].split()[:2]
    assert (program.rsplit("/", 1)[-1], cluster_class) == (
        "seamless-dask-wrapper", "seamless_config.dask.jobqueue::SLURMCluster")


def assert_preview_is_what_ran(workdir: str, job: str) -> None:
    """``seamless-config jobscript`` against the script the running daskserver
    really submitted (as SLURM stored it for job ``job``): equal, once the
    preview's placeholders take the two values only the running wrapper
    knows (its scheduler's address and the worker's name)."""
    from click.testing import CliRunner

    from seamless_config.cli.main import cli
    from seamless_config.plan.seamless_dask_script import SCHEDULER, WORKER_NAME

    submitted = subprocess.run(["scontrol", "write", "batch_script", job, "-"],
                               capture_output=True, text=True, check=True).stdout
    preview = CliRunner().invoke(cli, ["jobscript", "--workdir", workdir])
    assert preview.exit_code == 0, preview.output
    worker = re.search(r"-m distributed.cli.dask_worker (\S+) --name (\S+) ", submitted)
    assert worker is not None, submitted
    filled = preview.stdout.replace(SCHEDULER, worker.group(1)).replace(WORKER_NAME,
                                                                         worker.group(2))
    assert filled == submitted
    assert submitted.count("--nthreads") == 1

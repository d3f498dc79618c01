"""Dask on a real single-node Grid Engine (``fixtures_sge``): a plain qsub
job, then dask-jobqueue's SGECluster getting a result from a worker that
Grid Engine started. Everything talks over loopback."""

from __future__ import annotations

from pathlib import Path

LOOPBACK = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}


def test_qsub_job_runs_as_root_with_its_tmp_in_the_cell(sge):
    Path("hello.sh").write_text("#!/bin/bash\n#$ -cwd\n#$ -j y\n#$ -N hello\n"
                                'echo "$(id -un) $JOB_ID $TMP"\n')
    out = sge.run("qsub", "-sync", "y", "hello.sh")
    assert out.returncode == 0, out.stdout + out.stderr
    [log] = Path().glob("hello.o*")
    user, job, tmp = log.read_text().split()
    assert (user, log.name) == ("root", f"hello.o{job}")
    # the job's TMP (TMPDIR does not reach the job here; Python's tempfile and so dask's
    # scratch fall back to TMP) is in the cell, not in /tmp, where a killed job leaves it
    assert tmp.startswith(sge.root + "/tmp/")


def test_sge_cluster_worker_computes(sge, tmp_path):
    import dask
    from dask_jobqueue import SGECluster
    from distributed import Client

    def where() -> tuple[int, str]:  # nested: pickled by value, workers cannot import tests
        import os

        return 41 + 1, os.environ.get("JOB_ID", "")

    # the scheduler's scratch (dask's temporary-directory) and the worker's: not in /tmp
    with dask.config.set({"temporary-directory": str(tmp_path)}), \
            SGECluster(cores=1, memory="1GB", processes=1, queue=sge.queue, walltime="00:10:00",
                       interface="lo", local_directory=str(tmp_path / "scratch"),
                       log_directory=str(tmp_path / "logs"),
                       scheduler_options=LOOPBACK) as cluster:
        assert f"#$ -q {sge.queue}" in cluster.job_script()
        cluster.scale(jobs=1)
        with Client(cluster) as client:
            client.wait_for_workers(1, timeout=120)
            answer, job = client.submit(where, pure=False).result(timeout=60)
            assert job in sge.jobs()  # still running: the worker's job
    assert answer == 42

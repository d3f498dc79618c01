"""``seamless-config jobscript``: the batch script of one Dask worker job,
built by dask-jobqueue's own job class, without submitting anything."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from seamless_config.cli.main import cli
from seamless_config.errors import RefusedError
from seamless_config.plan.jobscript import for_context
from seamless_config.evaluation.pipeline import evaluate_workdir

CLUSTERS = """
hpc:
  type: slurm
  frontends:
    - hostname: login.hpc.example
      hashserver: {bufferdir: /hpc/buffers, network_interface: 0.0.0.0}
      database: {database_dir: /hpc/db, network_interface: 0.0.0.0}
      daskserver: {port_start: 60300, port_end: 60399, network_interface: 0.0.0.0}
  default_queue: cpu
  queues:
    cpu:
      walltime: "04:00:00"
      cores: 8
      memory: 16GB
      partition: batch
      project: acct42
      tmpdir: /scratch/dask
      job_script_prologue: ["module load python/3.11"]
    gpu:
      TEMPLATE: cpu
      worker_threads: 4
      partition: gpu
      job_extra_directives: ["--gres=gpu:1"]
      dask_resources: {GPU: 1}
      extra_dask_config: {distributed.worker.memory.target: 0.8}
    tiny:
      walltime: "00:04:00"
      cores: 1
      memory: 1GB
      lifetime_stagger: 4m
grid:
  type: oar
  frontends:
    - hostname: front.grid.example
      daskserver: {network_interface: 0.0.0.0}
  memory_per_core_property_name: memcore
  default_queue: whole
  queues:
    whole: {exclusive: true, walltime: "1-00:00:00", memory: 64GB, project: lab}
workstation:
  type: local
  workers: 2
  frontends:
    - daskserver: {}
  default_queue: q
  queues:
    q: {cores: 2}
"""

GPU_SCRIPT = """\
#!/usr/bin/env bash

#SBATCH -J dask-worker
#SBATCH -p gpu
#SBATCH -A acct42
#SBATCH -n 1
#SBATCH --cpus-per-task=8
#SBATCH --mem=15G
#SBATCH -t 04:00:00
#SBATCH --gres=gpu:1
#SBATCH --nodelist=n007
module load python/3.11
export DASK_DISTRIBUTED__WORKER__MEMORY__TARGET=0.8
<python> -m distributed.cli.dask_worker tcp://<scheduler-address>:<scheduler-port> \
--name <worker-name> --nthreads 4 --memory-limit 7.45GiB --nworkers 2 --nanny \
--death-timeout 60 --local-directory /scratch/dask --lifetime 14100s \
--lifetime-stagger 240s --resources GPU=1
"""

OAR_SCRIPT = """\
#!/usr/bin/env bash

#OAR -n dask-worker
#OAR --project lab
#OAR -l /nodes=1,walltime=24:00:00
#OAR -p "host='n3'"

<python> -m distributed.cli.dask_worker tcp://<scheduler-address>:<scheduler-port> \
--name <worker-name> --nthreads 2 --memory-limit 59.60GiB --nanny --death-timeout 60 \
--lifetime 86100s --lifetime-stagger 240s
"""


@pytest.fixture
def config(tree, home):
    (home / ".seamless" / "clusters.yaml").write_text(CLUSTERS)

    def make(*commands: str):
        return tree({"seamless.yaml": "".join(f"- {c}\n" for c in commands)})
    return make


def script_of(root, **kw) -> str:
    ctx = evaluate_workdir(str(root), **kw)
    return for_context(ctx, python="<python>", packaged_defaults=True).text


def test_slurm_template_gpu_node_pure_dask(config):
    root = config("cluster: hpc", "queue: gpu", "node: n007", "persistent: false",
                  "execution: remote")
    assert script_of(root) == GPU_SCRIPT.replace("\\\n", "")


def test_oar_exclusive_node_with_memory_property(config):
    root = config("cluster: grid", "node: n3", "persistent: false", "execution: remote")
    assert script_of(root) == OAR_SCRIPT.replace("\\\n", "")


def run(*args):
    result = CliRunner().invoke(cli, ["jobscript", *args])
    assert "Traceback" not in result.output
    return result


def test_cli_prints_the_selected_or_named_queue_and_submits_nothing(config, tmp_path,
                                                                    monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("sbatch", "oarsub"):
        (bin_dir / name).write_text(f"#!/bin/sh\ntouch {tmp_path}/submitted\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    root = config("project: p", "cluster: hpc")
    selected = run("--workdir", str(root))
    assert selected.exit_code == 0
    assert "#SBATCH -p batch\n" in selected.stdout and "--cpus-per-task=8" in selected.stdout
    # the persistent daskserver is seamless-dask's: its script, as its wrapper builds it
    assert "built by the installed seamless-dask as its wrapper on 'login.hpc.example'" \
        in selected.stderr
    assert selected.stdout.count("--nthreads") == 1
    named = run("--workdir", str(root), "--queue", "gpu")
    # seamless-dask's wrapper refuses a number in extra_dask_config: so would the daskserver
    assert named.exit_code == 3 and "Values of 'extra_dask_config' must be strings" in \
        named.stderr
    pure = config("project: p", "cluster: hpc", "persistent: false")
    named = run("--workdir", str(pure), "--queue", "gpu")
    assert "#SBATCH --gres=gpu:1\n" in named.stdout
    assert not (tmp_path / "submitted").exists()


def test_cli_errors_are_rendered_with_their_location(config):
    short = run("--workdir", str(config("project: p", "cluster: hpc", "queue: tiny",
                                        "persistent: false")))
    assert short.exit_code == 3
    assert short.stderr.startswith(
        "error: ~/.seamless/clusters.yaml:26:5: queue 'tiny' of cluster 'hpc' does not make a "
        "valid job: walltime 00:04:00 leaves no worker lifetime after a stagger of 240s and "
        "60s of grace; set lifetime (or a longer walltime)\n")
    local = run("--workdir", str(config("cluster: workstation", "persistent: false")))
    assert (local.exit_code, local.stdout) == (0, "")  # nothing to submit is no mistake
    assert local.stderr == (
        "note: cluster 'workstation' is of type local: its Dask workers are processes the "
        "daskserver starts beside itself (distributed's LocalCluster); nothing is submitted, "
        "so there is no job script\n")
    none = run("--workdir", str(config("project: p", "persistent: false")))
    assert none.exit_code == 2 and "no cluster is selected" in none.stderr
    unknown = run("--workdir", str(config("project: p", "cluster: hpc")), "--queue", "nope")
    # named only on the command line: wrong usage, not a mistake in a file
    assert unknown.exit_code == 2 and "queue 'nope' is not defined by cluster 'hpc'" in \
        unknown.stderr


def test_no_cluster_means_no_batch_queue(config):
    ctx = evaluate_workdir(str(config("project: p")))
    with pytest.raises(RefusedError, match="no cluster is selected, so there is no batch queue"):
        for_context(ctx)

"""A queue -> the parameters the Dask wrappers read (COMPAT.md section 5):
ours for pure Dask, and seamless-dask's for the Seamless daskserver."""

from __future__ import annotations

import math
from typing import Any

from ..core.names import node_problem
from ..errors import ConfigError
from ..model.types import Cluster, Queue, plain

# Queue fields passed to the dask wrapper, in the order it documents them;
# the ones it reads as dask config keys are spelled with '-' there.
QUEUE_PARAMETERS = ("walltime", "exclusive", "cores", "job_cores", "memory", "tmpdir", "partition",
                    "project",
                    "job_script_prologue", "worker_threads", "processes", "unknown_task_duration",
                    "target_duration", "lifetime_stagger", "lifetime", "dask_resources",
                    "interactive", "maximum_jobs", "extra_dask_config", "disk")
DASK_CONFIG_NAMES = ("unknown_task_duration", "target_duration", "lifetime_stagger", "lifetime",
                     "dask_resources")


def dask_parameters(cluster: Cluster, queue: Queue, node: str | None, record: bool,
                    pure: bool) -> dict[str, Any]:
    """COMPAT.md section 5: the queue's fields as the dask wrapper reads them."""
    params = {f.replace("_", "-") if f in DASK_CONFIG_NAMES else f: plain(queue.get(f))
              for f in QUEUE_PARAMETERS}
    params["memory_per_core_property_name"] = (queue.get("memory_per_core_property_name")
                                               or cluster.memory_per_core_property_name)
    if params["cores"] is None and cluster.type == "local":
        params["cores"] = cluster.workers
    params["job_extra_directives"] = _directives(cluster, queue, node)
    if cluster.type == "oar" and queue.get("exclusive"):
        params["resource_spec"] = "/nodes=1"
    if cluster.type == "oar":
        _join_oar_properties(params)
    params["record"] = bool(record)
    if cluster.type == "htcondor" and not pure and params.get("disk"):
        # seamless-dask's wrapper knows no disk: it reads dask config written as text
        params["extra_dask_config"] = {**(params["extra_dask_config"] or {}),
                                       "jobqueue.htcondor.disk": params["disk"]}
    if pure:
        params["pure_dask"] = True
        params["worker_threads"] = params["worker_threads"] or 2
        if params["maximum_jobs"] is None and cluster.type == "local":
            params["maximum_jobs"] = cluster.workers
    return {k: v for k, v in params.items() if v is not None}


def _join_oar_properties(params: dict[str, Any]) -> None:
    """OAR reads a single ``-p`` property condition (SQL). dask-jobqueue 0.9
    submits the ``#OAR`` lines through ``shlex.split`` and joins a ``-p``
    directive with its memory condition inside single quotes, which breaks
    the quotes around a node name: real oarsub then refuses the job. So
    the node pin is written double-quoted, when both apply the joined
    condition is written here, and the memory property is marked not
    applicable, for every consumer of these parameters (our wrapper and
    seamless-dask). An exclusive job gets whole nodes: a memory condition
    per core (dask-jobqueue divides by one core there) asks for far more
    than any core has, so it is dropped too (checked on real OAR)."""
    from ..model.fields import memory_bytes

    prop = params.get("memory_per_core_property_name")
    directives = params.get("job_extra_directives") or []
    pins = [d for d in directives if d.startswith(_OAR_PIN)]
    applies = prop not in (None, "not_applicable")
    if applies and params.get("exclusive"):
        params["memory_per_core_property_name"] = "not_applicable"
        applies = False
    if not pins:
        return
    condition = pins[-1][len("-p "):]
    if applies and params.get("cores") and params.get("memory"):
        per_core = math.ceil(memory_bytes(params["memory"]) / (params["cores"] * 2**20))  # MiB
        condition += f" AND {prop}>={per_core}"
        params["memory_per_core_property_name"] = "not_applicable"
    params["job_extra_directives"] = [d for d in directives if not d.startswith(_OAR_PIN)] + [
        f'-p "{condition}"']


_OAR_PIN = "-p host="  # how _directives pins an OAR job to a node, until joined


# How a job is pinned to one node (``- node:``), per batch system. PBS has
# none that both PBS Pro (-l select=...:host=) and Torque (-l nodes=) read.
NODE_PINS = {"slurm": "--nodelist={node}", "oar": "-p host='{node}'",
             "sge": "-l hostname={node}", "lsf": "-m {node}",
             "htcondor": 'requirements = (Machine == "{node}")'}
# The directive that makes a job exclusive (oar: resource_spec; others: none)
EXCLUSIVE = {"slurm": "--exclusive", "lsf": "-x"}


def _directives(cluster: Cluster, queue: Queue, node: str | None) -> list[str] | None:
    """The queue's job_extra_directives plus node pinning and exclusivity."""
    directives = list(queue.get("job_extra_directives") or ())
    if node is not None:
        problem = node_problem(node)
        if problem:
            raise ConfigError(problem)
    if node is not None and cluster.type not in ("local", None):
        if cluster.type not in NODE_PINS:
            raise ConfigError(f"'node' does not apply to cluster '{cluster.name}' of type "
                              f"{cluster.type}: PBS Pro and Torque pin a job to a node "
                              "differently", cluster.span,
                              "write the node request of your PBS in job_extra_directives "
                              "instead (e.g. '-l select=1:host=NODE')")
        directives.append(NODE_PINS[cluster.type].format(node=node))
    flag = EXCLUSIVE.get(cluster.type or "")
    if flag and queue.get("exclusive") and flag not in directives:
        directives.append(flag)
    return directives or None

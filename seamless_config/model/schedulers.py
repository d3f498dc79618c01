"""Which queue field applies to which cluster type, and as what.

One table, read three ways: ``queues.py`` refuses a field that does not
apply to its cluster's type (at the field's line), ``plan/dask.py`` passes
the fields to dask-jobqueue under the names given here, and
COMMAND_LANGUAGE.md prints it (a test checks that the printed table is
``markdown_table()``).

A cell is the dask-jobqueue parameter (for ``local``: the argument of
distributed's ``LocalCluster`` or the wrapper setting) that a field
becomes; ``None`` means the field does not apply and is an error;
``IGNORED`` marks a field the first three types have always accepted
without using it (kept for configurations written for seamless-config
0.3), which the newer types refuse.
"""

from __future__ import annotations

CLUSTER_TYPES = ("local", "slurm", "oar", "sge", "pbs", "lsf", "htcondor")
BATCH_TYPES = CLUSTER_TYPES[1:]  # their Dask workers are batch jobs
IGNORED = "ignored (accepted as in 0.3)"
NA = None

# dask-jobqueue's cluster class of each batch type, and its job class
CLASSES = {"slurm": "SLURM", "oar": "OAR", "sge": "SGE", "pbs": "PBS", "lsf": "LSF",
           "htcondor": "HTCondor"}


def _batch(cell: str | None, **per_type: str | None) -> dict[str, str | None]:
    return {t: per_type.get(t, cell) for t in BATCH_TYPES}


def _all(cell: str) -> dict[str, str | None]:
    return {t: cell for t in CLUSTER_TYPES}


# field -> cluster type -> what it becomes. Every type is in every row.
PARAMETERS: dict[str, dict[str, str | None]] = {
    "cores": {"local": "the number of Seamless workers (default: `workers`)",
              **_batch("`cores`", lsf="`cores`, `ncpus`")},
    "job_cores": {"local": IGNORED, **_batch("`cores` (instead of cores)",
                                             lsf="`cores`, `ncpus` (instead of cores)")},
    "memory": {"local": "`memory_limit`",
               **_batch("`memory`", sge="`memory`, `resource_spec` (`h_vmem=`)",
                        lsf="`memory`, `mem`")},
    "walltime": {"local": "worker lifetime only",
                 **_batch("`walltime`", htcondor=NA)},
    "tmpdir": {"local": "`local_directory`", **_batch("`local_directory`")},
    "partition": {"local": IGNORED, **_batch("`queue`", htcondor=NA)},
    "project": {"local": IGNORED,
                **_batch("`project`", slurm="`account`", pbs="`account`", htcondor=NA)},
    "exclusive": {"local": "one worker (needs cores)",
                  **_batch(NA, slurm="`job_extra_directives` (`--exclusive`)",
                           oar="`resource_spec` (`/nodes=1`)",
                           lsf="`job_extra_directives` (`-x`)")},
    "job_extra_directives": {"local": IGNORED,
                             **_batch("`job_extra_directives`",
                                      htcondor="`job_extra_directives` (`key = value` lines)")},
    "job_script_prologue": {"local": IGNORED, **_batch("`job_script_prologue`")},
    "memory_per_core_property_name": {"local": IGNORED,
                                      **_batch(NA, slurm=IGNORED,
                                               oar="`memory_per_core_property_name`")},
    "disk": {t: NA for t in CLUSTER_TYPES} | {"htcondor": "`disk`"},
    "processes": {"local": IGNORED, **_batch("`processes`")},
    "worker_threads": {"local": "`threads_per_worker`",
                       **_batch("worker `--nthreads`")},
    "conda": _all("the conda environment of the daskserver"),
    "interactive": _all("`adapt(minimum_jobs=)`"),
    "maximum_jobs": _all("`adapt(maximum_jobs=)`"),
    "target_duration": _all("`adapt(target_duration=)`"),
    "unknown_task_duration": _all("scheduler config"),
    "lifetime": {"local": "worker config", **_batch("`worker_extra_args` (`--lifetime`)")},
    "lifetime_stagger": {"local": "worker config",
                         **_batch("`worker_extra_args` (`--lifetime-stagger`)")},
    "dask_resources": {"local": "`resources`",
                       **_batch("`worker_extra_args` (`--resources`)")},
    "extra_dask_config": {"local": "scheduler and worker config",
                          **_batch("`job_script_prologue` (`DASK_*` variables)")},
}


def applies(field: str, cluster_type: str | None) -> bool:
    """Whether a queue may set ``field`` on a cluster of this type (an
    unknown or unwritten type: every field, its own error is elsewhere)."""
    row = PARAMETERS.get(field)
    if row is None or cluster_type not in CLUSTER_TYPES:
        return True
    return row[cluster_type] is not None


def applicable_fields(cluster_type: str) -> list[str]:
    return [f for f, row in PARAMETERS.items() if row[cluster_type] is not None]


def markdown_table() -> str:
    """The table COMMAND_LANGUAGE.md prints, one row per field."""
    lines = ["| queue field | " + " | ".join(CLUSTER_TYPES) + " |",
             "|---" * (len(CLUSTER_TYPES) + 1) + "|"]
    for field, row in PARAMETERS.items():
        cells = ["not applicable" if row[t] is None else row[t] for t in CLUSTER_TYPES]
        lines.append(f"| `{field}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

"""A queue's wrapper parameters (COMPAT.md section 5) as dask cluster arguments.

Pure: nothing here imports distributed or dask_jobqueue. ``dask_wrapper``
builds the cluster from a ``DaskPlan`` and ``jobscript`` renders the batch
script of one job from the same plan, so what users inspect is what the
wrapper submits. Problems are ``ValueError``s naming the parameter: the
wrapper writes them to its log and reports ``failed``.

Per job of ``cores`` cores the plan runs ``processes`` dask worker processes
of ``worker_threads`` threads each (processes default: cores divided by the
threads, at least 1). Workers retire after ``lifetime`` (default: walltime
minus the stagger minus one minute) so that the adaptive scaler replaces
them before the batch system kills them at the walltime.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ..model.schedulers import BATCH_TYPES, CLASSES
from ..model.types import binds_beyond_loopback, frozen_map

KINDS = {"distributed::LocalCluster": "local",
         **{f"dask_jobqueue::{CLASSES[k]}Cluster": k for k in BATCH_TYPES}}
JOBQUEUE_KINDS = BATCH_TYPES
LIFETIME_GRACE = 60  # seconds between a worker's retirement and the walltime
MAX_STAGGER = 240  # default stagger: 4 min, or a tenth of a short walltime
# What the wrapper reads; anything else is reported, not silently dropped.
KNOWN = frozenset({
    "walltime", "exclusive", "cores", "job_cores", "memory", "tmpdir", "partition", "project",
    "job_extra_directives", "job_script_prologue", "worker_threads", "processes",
    "unknown-task-duration", "target-duration", "lifetime-stagger", "lifetime",
    "dask-resources", "interactive", "maximum_jobs", "extra_dask_config", "record",
    "memory_per_core_property_name", "resource_spec", "pure_dask", "disk"})


@dataclass(frozen=True)
class DaskPlan:
    """How to build one dask cluster. ``job``: keyword arguments of the
    dask-jobqueue job (slurm, oar) or of ``LocalCluster`` (local), without
    the scheduler's placement. ``threads``: threads per worker process when
    it must override dask-jobqueue's cores/processes rule. ``config``: dask
    configuration for the wrapper process (scheduler and local workers)."""

    kind: str
    job: Mapping[str, Any]
    threads: int | None
    minimum: int
    maximum: int
    adapt: Mapping[str, Any] = field(default_factory=frozen_map)
    config: Mapping[str, Any] = field(default_factory=frozen_map)
    notes: tuple[str, ...] = ()


def kind_of(cluster_string: str) -> str:
    """local / slurm / oar for a ``MODULE::CLASS`` string; no other class
    is ever imported, so a state file cannot make the wrapper load code."""
    if cluster_string in KINDS.values():
        return cluster_string
    if cluster_string not in KINDS:
        raise ValueError(f"unknown cluster class '{cluster_string}'; expected one of: "
                         + ", ".join(KINDS))
    return KINDS[cluster_string]


def plan_for(cluster_string: str, params: Mapping[str, Any]) -> DaskPlan:
    """The cluster that ``params`` (a state file's ``parameters``) describe."""
    if not isinstance(params, Mapping):
        raise ValueError("'parameters' must be a JSON object")
    kind = kind_of(cluster_string)
    cores, processes, threads = _shape(kind, params)
    minimum, maximum = _bounds(params)
    notes = tuple(f"ignoring unknown parameter '{k}'" for k in sorted(set(params) - KNOWN))
    adapt = {"target_duration": _duration_text(params, "target-duration")}
    config = _scheduler_config(kind, params)
    if kind == "local":
        job = _local_kwargs(params, threads)
    else:
        job = _job_kwargs(kind, params, cores, processes)
    return DaskPlan(kind, frozen_map(_compact(job)), None if kind == "local" else threads,
                    minimum, maximum, frozen_map(_compact(adapt)), frozen_map(config), notes)


def bind_workers(plan: DaskPlan, host: str | None) -> DaskPlan:
    """Batch workers whose scheduler listens on loopback, told to listen
    there too. dask-worker binds every interface by default (its comm and
    its HTTP server; seen on real OAR jobs), since a scheduler elsewhere
    must reach it; but a scheduler on loopback can only ever have workers
    on its own machine, so nothing is lost. Workers of a scheduler that
    listens beyond loopback keep dask's default: the nodes they land on
    are not known in advance. (A LocalCluster already hands its workers
    the scheduler's host.)"""
    if plan.kind not in JOBQUEUE_KINDS or not host or binds_beyond_loopback(host):
        return plan
    where = f"[{host}]" if ":" in host else host
    args = [*plan.job.get("worker_extra_args", ()), "--host", host,
            "--dashboard-address", f"{where}:0"]
    return replace(plan, job=frozen_map({**plan.job, "worker_extra_args": args}))


def _compact(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# -- worker shape and scaling -------------------------------------------------------------

def _positive(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"parameter '{name}' must be a positive integer, not {value!r}")
    return value


def _shape(kind: str, params: Mapping[str, Any]) -> tuple[int, int, int | None]:
    """(cores per job, worker processes per job, threads per process)."""
    threads = _positive(params, "worker_threads")
    # job_cores: the cores a job asks the batch system for, where a Seamless
    # queue runs fewer Seamless workers (cores) than it reserves.
    cores = _positive(params, "job_cores") or _positive(params, "cores")
    if _flag(params, "exclusive"):
        # The node comes whole (--exclusive, /nodes=1); dask needs a number.
        return cores or 1, 1, threads
    if cores is None:
        if kind != "local":
            raise ValueError("parameter 'cores' is required by a non-exclusive queue")
        cores = 1
    processes = _positive(params, "processes") or (max(1, cores // threads) if threads else 1)
    if threads is None and processes > cores:
        raise ValueError(f"{processes} processes cannot share {cores} cores; "
                         "set worker_threads or fewer processes")
    return cores, processes, threads


def _flag(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if not isinstance(value, bool):
        raise ValueError(f"parameter '{name}' must be true or false, not {value!r}")
    return value


def _bounds(params: Mapping[str, Any]) -> tuple[int, int]:
    """Adaptive scaling between ``interactive`` jobs kept ready (true: 1)
    and ``maximum_jobs`` (default 1)."""
    interactive = params.get("interactive", 0)
    if isinstance(interactive, bool):
        minimum = int(interactive)
    elif isinstance(interactive, int) and interactive >= 0:
        minimum = interactive
    else:
        raise ValueError(f"parameter 'interactive' must be true, false or a number of jobs, "
                         f"not {interactive!r}")
    maximum = _positive(params, "maximum_jobs") or 1
    if minimum > maximum:
        raise ValueError(f"interactive ({minimum} jobs) exceeds maximum_jobs ({maximum})")
    return minimum, maximum


# -- durations ----------------------------------------------------------------------------

_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600,
          "d": 86400}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?) ?([a-z]+)?\Z")
_CLOCK = re.compile(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)\Z")


def seconds(value: Any, what: str) -> float:
    """A dask duration ("30s", "10m", "2h", 90) or a batch clock time
    ("HH:MM:SS", "MM:SS", "D-HH:MM:SS") in seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower()
    clock = _CLOCK.match(text)
    if clock:
        days, hours, minutes, secs = (int(g or 0) for g in clock.groups())
        return float(((days * 24 + hours) * 60 + minutes) * 60 + secs)
    amount = _AMOUNT.match(text)
    if amount and (amount.group(2) or "s") in _UNITS:
        return float(amount.group(1)) * _UNITS[amount.group(2) or "s"]
    raise ValueError(f"{what} {value!r} is not a duration such as \"30s\", \"10m\" or "
                     "\"01:00:00\"")


def _duration_text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return None if value is None else f"{seconds(value, name):g}s"


def _lifetime(params: Mapping[str, Any]) -> tuple[str, str]:
    """(lifetime, stagger) of a batch worker, in seconds."""
    walltime = seconds(params["walltime"], "walltime")
    given = params.get("lifetime-stagger")
    stagger = (seconds(given, "lifetime-stagger") if given is not None
               else min(MAX_STAGGER, walltime // 10))
    if params.get("lifetime") is not None:
        lifetime = seconds(params["lifetime"], "lifetime")
    else:
        lifetime = walltime - stagger - LIFETIME_GRACE
        if lifetime <= 0:
            raise ValueError(f"walltime {params['walltime']} leaves no worker lifetime after "
                             f"a stagger of {stagger:g}s and {LIFETIME_GRACE}s of grace; set "
                             "lifetime (or a longer walltime)")
    return f"{lifetime:g}s", f"{stagger:g}s"


# -- cluster arguments --------------------------------------------------------------------

def _local_kwargs(params: Mapping[str, Any], threads: int | None) -> dict[str, Any]:
    """LocalCluster: each 'job' is one worker process on this machine."""
    return {"n_workers": 0, "processes": True, "threads_per_worker": threads or 1,
            "memory_limit": params.get("memory") or "auto",
            "local_directory": params.get("tmpdir"),
            "resources": _resources(params)}


def _job_kwargs(kind: str, params: Mapping[str, Any], cores: int,
                processes: int) -> dict[str, Any]:
    required = ("memory",) + (("disk",) if kind == "htcondor" else ("walltime",))
    for name in required:
        if params.get(name) is None:
            raise ValueError(f"parameter '{name}' is required by a {kind} queue")
    extra_args = _lifetime_args(kind, params)
    resources = _resources(params)
    if resources:
        extra_args += ["--resources", ",".join(f"{k}={v}" for k, v in resources.items())]
    job = {"cores": cores, "memory": params["memory"], "processes": processes,
           "local_directory": params.get("tmpdir"),
           "job_extra_directives": list(params.get("job_extra_directives") or ()),
           "job_script_prologue": _prologue(params), "worker_extra_args": extra_args}
    if kind != "htcondor":  # HTCondor has neither queues, accounts nor a standard run limit
        job.update(walltime=_walltime(kind, params["walltime"]), queue=params.get("partition"))
        job["account" if kind in ("slurm", "pbs") else "project"] = params.get("project")
    job.update(_scheduler_kwargs(kind, params, cores))
    return job


def _scheduler_kwargs(kind: str, params: Mapping[str, Any], cores: int) -> dict[str, Any]:
    """What only one batch system's job takes (model/schedulers.py; Grid
    Engine's memory and HTCondor's directives: plan/jobclasses.py)."""
    if kind == "oar":
        return {"resource_spec": params.get("resource_spec"),
                "memory_per_core_property_name": params.get("memory_per_core_property_name")}
    if kind == "lsf":  # said, so that dask-jobqueue need not warn that it derived them
        return {"ncpus": cores, "mem": memory_bytes(params["memory"])}
    if kind == "htcondor":
        return {"disk": params["disk"]}
    return {}


def memory_bytes(memory: Any) -> int:
    from ..model.fields import memory_bytes as parse  # yaml: not for every wrapper import

    return parse(str(memory))


def _lifetime_args(kind: str, params: Mapping[str, Any]) -> list[str]:
    """Workers retire before the walltime; HTCondor has none, so there
    only an explicit lifetime applies."""
    if kind == "htcondor" and params.get("walltime") is None:
        if params.get("lifetime") is None:
            return []
        params = {**params, "walltime": params["lifetime"]}
    lifetime, stagger = _lifetime(params)
    return ["--lifetime", lifetime, "--lifetime-stagger", stagger]


def _walltime(kind: str, value: Any) -> str:
    return walltime_for(kind, value)


def walltime_for(kind: str, value: Any) -> Any:
    """OAR, Grid Engine and PBS have no ``D-`` days nor ``MM:SS``: those
    are written as hours; LSF's -W takes hours and minutes (rounded up)."""
    text = str(value)
    if value is None or kind in ("slurm", "htcondor"):
        return value
    total = int(seconds(text, "walltime"))
    if kind == "lsf":
        minutes = -(-total // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    if text.count(":") == 2 and "-" not in text:
        return text
    return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"


def _resources(params: Mapping[str, Any]) -> dict[str, Any] | None:
    value = params.get("dask-resources")
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()):
        raise ValueError("parameter 'dask-resources' must map resource names to numbers")
    return dict(value)


def _extra_config(params: Mapping[str, Any]) -> dict[str, Any]:
    value = params.get("extra_dask_config") or {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValueError("parameter 'extra_dask_config' must map dask config keys to values")
    return dict(value)


def _scheduler_config(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Dask config set in the wrapper itself: the scheduler runs there, and
    so do the workers of a local cluster (their nannies pass it on)."""
    config: dict[str, Any] = {}
    unknown = _duration_text(params, "unknown-task-duration")
    if unknown is not None:
        config["distributed.scheduler.unknown-task-duration"] = unknown
    if kind == "local":
        for name, key in (("lifetime", "duration"), ("lifetime-stagger", "stagger")):
            if params.get(name) is not None:
                config["distributed.worker.lifetime." + key] = _duration_text(params, name)
    config.update(_extra_config(params))
    return config


def _prologue(params: Mapping[str, Any]) -> list[str]:
    """The queue's prologue, then extra_dask_config as DASK_* variables
    (dask reads them in the worker; values are literals or plain text)."""
    lines = list(params.get("job_script_prologue") or ())
    for key, value in _extra_config(params).items():
        lines.append(f"export {env_name(key)}={shlex.quote(_env_value(value))}")
    return lines


def env_name(key: str) -> str:
    """``distributed.worker.daemon`` -> ``DASK_DISTRIBUTED__WORKER__DAEMON``."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
        raise ValueError(f"extra_dask_config key {key!r} is not a dask config key")
    return "DASK_" + "__".join(part.upper().replace("-", "_") for part in key.split("."))


def _env_value(value: Any) -> str:
    # dask parses each variable with ast.literal_eval and keeps text that
    # does not parse; repr() gives numbers, booleans and mappings that do.
    return value if isinstance(value, str) else repr(value)

"""The batch script of one Dask worker job, as dask-jobqueue would submit it.

The script comes from dask-jobqueue's own job class, built from the same
``DaskPlan`` the wrapper uses, with a fixed placeholder for the scheduler
address (not known before the wrapper runs): no scheduler is started and
nothing is submitted. Only the header and the worker command matter to a
user checking an allocation; the placeholders mark what the wrapper fills in.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from ..core.vocabulary import DASK_SERVICES
from ..errors import ConfigError
from .dask import JOBQUEUE_KINDS, DaskPlan, bind_workers, plan_for
from .dask_params import dask_parameters
from .services import spec_for
from .specs import check_dask_queue, pick_queue

SCHEDULER = "tcp://<scheduler-address>:<scheduler-port>"
WORKER_NAME = "<worker-name>"
PYTHON = "<python>"  # the wrapper's interpreter on the frontend


@dataclass(frozen=True)
class JobScript:
    text: str
    notes: tuple[str, ...] = ()  # dask-jobqueue's warnings and the plan's notes


def job_class(kind: str, threads: int | None):
    """dask-jobqueue's job class for ``kind``; with ``threads``, a subclass
    whose workers run that many threads (dask-jobqueue derives it from
    cores / processes, which cannot express e.g. 2 threads on 16 cores)."""
    import dask_jobqueue

    base = {"slurm": dask_jobqueue.slurm.SLURMJob, "oar": dask_jobqueue.oar.OARJob}[kind]
    return base if threads is None else _threaded(base, threads)


@functools.cache
def _threaded(base: type, threads: int) -> type:
    return type(f"{base.__name__}{threads}Threads", (base,),
                {"worker_process_threads": property(lambda self: threads),
                 "__module__": __name__})


def render(plan: DaskPlan, *, python: str | None = None,
           packaged_defaults: bool = False) -> JobScript:
    """The script of one job of ``plan``. ``python``: the interpreter to show
    (default: dask-jobqueue's, this one). ``packaged_defaults``: ignore the
    user's dask configuration (golden files must not depend on it)."""
    if plan.kind not in JOBQUEUE_KINDS:
        raise ValueError(f"a {plan.kind} cluster submits no batch jobs")
    import dask

    kwargs: dict[str, Any] = dict(plan.job)
    if python is not None:
        kwargs["python"] = python
    overrides = _packaged(plan.kind) if packaged_defaults else {}
    with dask.config.set(overrides), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        job = job_class(plan.kind, plan.threads)(SCHEDULER, name=WORKER_NAME, **kwargs)
        text = job.job_script()
    notes = plan.notes + tuple(str(w.message) for w in caught)
    return JobScript(text if text.endswith("\n") else text + "\n", notes)


def _packaged(kind: str) -> dict[str, Any]:
    """dask-jobqueue's shipped defaults for ``kind``, as a dask.config.set
    argument that replaces whatever the user configured."""
    import dask_jobqueue
    import yaml

    path = os.path.join(os.path.dirname(dask_jobqueue.__file__), "jobqueue.yaml")
    with open(path, encoding="utf-8") as f:
        return {f"jobqueue.{kind}": yaml.safe_load(f)["jobqueue"][kind]}


# -- from a configuration ------------------------------------------------------------------

def wants_jobscript(ctx) -> bool:
    """A selected slurm/oar cluster and a daskserver to start on it."""
    return (ctx.cluster is not None and ctx.cluster.type in JOBQUEUE_KINDS
            and any(u.service in DASK_SERVICES for u in ctx.services))


def parameters_for(ctx) -> Mapping[str, Any]:
    """The wrapper parameters init would hand the daskserver; without one
    in the plan (another execution mode), those of the selected queue."""
    cluster = _batch_cluster(ctx)
    for use in ctx.services:
        if use.service in DASK_SERVICES:
            return spec_for(ctx, use).file_parameters
    queue = pick_queue(cluster, ctx.queue)
    check_dask_queue(cluster, queue)
    return dask_parameters(cluster, queue, ctx.value("node"), bool(ctx.value("record")),
                           pure=not ctx.persistent)


def _batch_cluster(ctx):
    cluster = ctx.cluster
    if cluster is None:
        raise ConfigError("no cluster is selected, so there is no batch queue", None,
                          "add '- cluster: NAME' (a slurm or oar cluster)")
    if cluster.type not in JOBQUEUE_KINDS:
        kind = f"of type {cluster.type}" if cluster.type else "without a type"
        raise ConfigError(f"cluster '{cluster.name}' is {kind}: its Dask workers are not "
                          "batch jobs, so there is no job script", cluster.span,
                          "job scripts exist for type: slurm and type: oar")
    return cluster


def for_context(ctx, *, python: str | None = None,
                packaged_defaults: bool = False) -> JobScript:
    """The job script of the context's selected queue; ConfigError (at the
    queue's definition) when its fields do not make a valid job."""
    params = parameters_for(ctx)
    try:
        plan = plan_for(ctx.cluster.type, params)
    except ConfigError:  # also a ValueError, but already at its place
        raise
    except ValueError as exc:
        queue = ctx.queue or ctx.cluster.queues.get(ctx.cluster.default_queue or "")
        raise ConfigError(f"queue '{queue.name if queue else '?'}' of cluster "
                          f"'{ctx.cluster.name}' does not make a valid job: {exc}",
                          queue.span if queue else ctx.cluster.span) from None
    return render(bind_workers(plan, _pure_dask_interface(ctx)), python=python,
                  packaged_defaults=packaged_defaults)


def _pure_dask_interface(ctx) -> str | None:
    """Where our pure-Dask scheduler listens (its workers follow it onto
    loopback); None for seamless-dask's daskserver, whose wrapper is not ours."""
    use = ctx.service("pure_daskserver")
    return None if use is None else spec_for(ctx, use).network_interface

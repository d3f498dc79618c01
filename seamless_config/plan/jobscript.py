"""The batch script of one Dask worker job, as dask-jobqueue would submit it.

For pure Dask, the script comes from our job class (``jobclasses``), built
from the same ``DaskPlan`` the wrapper uses; for the Seamless daskserver,
from seamless-dask's own configuration (``seamless_dask_script``). Both use
a fixed placeholder for the scheduler address (not known before the wrapper
runs): no scheduler is started and nothing is submitted. The placeholders
in ``<...>`` mark what only the running wrapper or the frontend knows.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from ..core.vocabulary import DASK_SERVICES
from ..errors import ConfigError, RefusedError
from .dask import JOBQUEUE_KINDS, DaskPlan, bind_workers, plan_for
from .dask_params import dask_parameters
from .jobclasses import job_class
from .services import spec_for
from .specs import check_dask_queue, pick_queue

SCHEDULER = "tcp://<scheduler-address>:<scheduler-port>"
WORKER_NAME = "<worker-name>"
PYTHON = "<python>"  # the wrapper's interpreter on the frontend (golden files)


@dataclass(frozen=True)
class JobScript:
    text: str
    notes: tuple[str, ...] = ()  # dask-jobqueue's warnings and the plan's notes


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
    return {f"jobqueue.{kind}": _packaged_section(kind)}


def _packaged_section(kind: str) -> dict[str, Any]:
    import dask_jobqueue
    import yaml

    path = os.path.join(os.path.dirname(dask_jobqueue.__file__), "jobqueue.yaml")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)["jobqueue"][kind]


# -- from a configuration ------------------------------------------------------------------

def wants_jobscript(ctx) -> bool:
    """A selected batch cluster and a daskserver to start on it."""
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
        raise RefusedError("no cluster is selected, so there is no batch queue", None,
                           "add '- cluster: NAME' (a cluster of a batch system)")
    if cluster.type == "local":
        raise NoJobScript(f"cluster '{cluster.name}' is of type local: its Dask workers are "
                          "processes the daskserver starts beside itself (distributed's "
                          "LocalCluster); nothing is submitted, so there is no job script")
    if cluster.type not in JOBQUEUE_KINDS:
        raise ConfigError(f"cluster '{cluster.name}' has no type, so its Dask workers have no "
                          "batch system and no job script", cluster.span,
                          "job scripts exist for type: " + ", ".join(JOBQUEUE_KINDS))
    return cluster


class NoJobScript(Exception):
    """The selected cluster submits nothing (type local): not a mistake."""


def for_context(ctx, *, python: str | None = None,
                packaged_defaults: bool = False) -> JobScript:
    """The job script of the context's selected queue; ConfigError (at the
    queue's definition) when its fields do not make a valid job. The
    Seamless daskserver's is built by seamless-dask, as it will be built
    (``seamless_dask_script``); pure Dask's by our plan. ``python``: the
    interpreter to show for pure Dask (default: ``python_shown``)."""
    params = parameters_for(ctx)
    daskserver = ctx.service("daskserver")
    try:
        if daskserver is not None:
            return _seamless_dask(ctx, spec_for(ctx, daskserver))
        plan = plan_for(ctx.cluster.type, params)
    except ConfigError:  # also a ValueError, but already at its place
        raise
    except (ValueError, RuntimeError) as exc:  # RuntimeError: seamless-dask's refusals
        queue = ctx.queue or ctx.cluster.queues.get(ctx.cluster.default_queue or "")
        raise ConfigError(f"queue '{queue.name if queue else '?'}' of cluster "
                          f"'{ctx.cluster.name}' does not make a valid job: {exc}",
                          queue.span if queue else ctx.cluster.span) from None
    return render(bind_workers(plan, _pure_dask_interface(ctx)),
                  python=python or python_shown(ctx), packaged_defaults=packaged_defaults)


def _seamless_dask(ctx, spec) -> JobScript:
    from .seamless_dask_script import render_seamless_dask

    text, notes = render_seamless_dask(ctx.cluster.type, spec, _packaged_section(ctx.cluster.type))
    where = "this machine" if spec.is_local else f"'{spec.hostname}'"
    return JobScript(text, notes + (
        f"built by the installed seamless-dask as its wrapper on {where} will build it "
        "(that wrapper's own dask configuration, if any, is not known here)",))


def python_shown(ctx) -> str | None:
    """The interpreter pure Dask's workers will run: the one running our
    wrapper. None (this one) when the wrapper runs here outside conda;
    otherwise a placeholder naming what decides it."""
    use = ctx.service("pure_daskserver")
    if use is None:
        return PYTHON
    spec = spec_for(ctx, use)
    if spec.conda:
        where = "" if spec.is_local else f" on '{spec.hostname}'"
        return f"<python of conda env '{spec.conda}'{where}>"
    if spec.is_local:
        return None
    return f"<python of seamless-config-dask-wrapper on '{spec.hostname}'>"


def _pure_dask_interface(ctx) -> str | None:
    """Where our pure-Dask scheduler listens (its workers follow it onto
    loopback); None for seamless-dask's daskserver, whose wrapper is not ours."""
    use = ctx.service("pure_daskserver")
    return None if use is None else spec_for(ctx, use).network_interface

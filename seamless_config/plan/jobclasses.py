"""dask-jobqueue's job classes as this package submits them.

One subclass per batch system (model/schedulers.py), used by our wrapper,
by the cluster classes the Seamless daskserver is told to load
(``seamless_config.dask.jobqueue``) and by ``jobscript``, so that a
preview is built by the very class that submits. They add to
dask-jobqueue 0.9:

- one ``--nthreads``: a worker's threads may come as ``--nthreads N`` in
  ``worker_extra_args`` (seamless-dask's wrapper puts it there; dask-jobqueue
  derives its own from cores / processes, which cannot say e.g. 2 threads
  on 16 cores); the job then says it once, with that value;
- the walltime in the form each batch system reads (``walltime_for``);
- Grid Engine: the job's memory asked as ``h_vmem`` when no
  ``resource_spec`` is given (SGE passes none otherwise);
- HTCondor: directives written as ``key = value`` lines, the form every
  other scheduler's directives take in a queue, become its submit
  commands; its ``disk`` may come from ``jobqueue.htcondor.disk``.

dask_jobqueue is imported on first use.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from ..model.schedulers import CLASSES
from .dask import walltime_for

SGE_MEMORY = "h_vmem"  # the Grid Engine complex a job's memory is asked as (per slot)


def sge_resource_spec(memory: Any) -> str:
    from ..model.fields import memory_bytes

    return f"{SGE_MEMORY}={math.ceil(memory_bytes(str(memory)) / 2**20)}M"


def condor_directives(lines) -> dict[str, str]:
    """HTCondor's directives are submit-description commands, ``key = value``."""
    if isinstance(lines, dict):
        return dict(lines)
    out = {}
    for line in lines or ():
        key, sep, value = str(line).partition("=")
        if not sep or not key.strip():
            raise ValueError(f"HTCondor directive {line!r} is not 'key = value'")
        out[key.strip()] = value.strip()
    return out


def _threads_in(args: list[str]) -> tuple[list[str], int | None]:
    """``args`` without its ``--nthreads`` (as one word ``--nthreads N``,
    ``--nthreads=N`` or two words), and the last value given."""
    kept, threads, skip = [], None, False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        text = str(arg)
        word, _, rest = text.replace("=", " ", 1).partition(" ")
        if word != "--nthreads":
            kept.append(arg)
        elif rest.strip():
            threads = int(rest.strip())
        elif i + 1 < len(args):
            threads, skip = int(args[i + 1]), True
    return kept, threads


@functools.cache
def job_class(kind: str, threads: int | None = None) -> type:
    """Our job class for ``kind``; with ``threads``, its workers run that
    many threads each."""
    import dask
    import dask_jobqueue

    base = getattr(dask_jobqueue, CLASSES[kind] + "Cluster").job_cls

    def __init__(self, *args, worker_extra_args=None, **kwargs):
        section = "jobqueue.%s." % (kwargs.get("config_name") or base.config_name)
        if worker_extra_args is None:
            worker_extra_args = dask.config.get(section + "worker-extra-args", None)
        args_left, given = _threads_in(list(worker_extra_args or ()))
        self._threads = threads if given is None else given
        if kind not in ("slurm", "htcondor"):  # also seamless-dask's walltime, passed as written
            wall = kwargs.get("walltime") or dask.config.get(section + "walltime", None)
            kwargs["walltime"] = walltime_for(kind, wall)
        if kind == "sge" and kwargs.get("resource_spec") is None \
                and dask.config.get(section + "resource-spec", None) is None:
            memory = kwargs.get("memory") or dask.config.get(section + "memory", None)
            if memory is not None:
                kwargs["resource_spec"] = sge_resource_spec(memory)
        if kind == "htcondor":
            directives = kwargs.get("job_extra_directives")
            if directives is None:
                directives = dask.config.get(section + "job-extra-directives", None)
            kwargs["job_extra_directives"] = condor_directives(directives)
        base.__init__(self, *args, worker_extra_args=args_left, **kwargs)

    def worker_process_threads(self):
        if self._threads is not None:
            return self._threads
        return base.worker_process_threads.fget(self)

    name = base.__name__ + (f"{threads}Threads" if threads else "")
    return type(name, (base,), {"__init__": __init__, "__module__": __name__,
                                "worker_process_threads": property(worker_process_threads)})

"""The job script the Seamless daskserver will submit, built as it builds it.

The persistent daskserver is seamless-dask's wrapper, not ours: it turns
the status file's parameters into dask-jobqueue configuration (its own
prologue, thread count, ports, log lines), then builds the cluster class it
is named (``seamless_config.dask.jobqueue``, our job classes). The preview
calls the same function of the installed seamless-dask
(``build_wrapper_configuration``) with the parameters init would write,
and renders one job with that configuration over dask-jobqueue's packaged
defaults. What only the frontend knows is marked in ``<...>``: the
scheduler's address and the worker's name (chosen when it runs), the home
directory of a remote frontend (seamless-dask names its log file in SLURM
and OAR jobs) and, under a conda environment, that environment's prefix.
"""

from __future__ import annotations

import contextlib
import os
import types
import warnings
from typing import Any, Iterator, Mapping

from .jobclasses import job_class

SCHEDULER = "tcp://<scheduler-address>:<scheduler-port>"
WORKER_NAME = "<worker-name>"
STAND_IN_PORTS = (61001, 61999)  # where the daskserver names no port range


def render_seamless_dask(kind: str, spec, packaged: Mapping[str, Any]):
    """(script text, notes) of one job of the Seamless daskserver ``spec``
    on a ``kind`` cluster. ``packaged``: dask-jobqueue's shipped defaults
    of ``kind`` (the frontend's own dask configuration is not known here)."""
    import dask
    from seamless_dask import wrapper as seamless_dask

    notes = []
    ports = (spec.port_start, spec.port_end)
    if None in ports:  # rendered with a stand-in range, then marked
        ports = STAND_IN_PORTS
        notes.append("this daskserver sets no port_start and port_end, but seamless-dask's "
                     "wrapper requires its --port-range: init could not start it; add both "
                     "under the daskserver")
    with _as_on_the_frontend(seamless_dask, kind, spec, notes):
        config = seamless_dask.build_wrapper_configuration(
            host="127.0.0.1", port_range=ports, parameters=dict(spec.file_parameters or {}))
    # its extra dask configuration is applied after its jobqueue sections
    later = (config.dask_config.get("jobqueue") or {}).get(kind) or {}
    section = {**packaged, **config.jobqueue_config[kind], **later}
    with dask.config.set({f"jobqueue.{kind}": section}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = job_class(kind)(SCHEDULER, name=WORKER_NAME).job_script()
    notes += [str(w.message) for w in caught]
    if ports is STAND_IN_PORTS:
        text = text.replace("%d:%d" % STAND_IN_PORTS, "<port_start>:<port_end>")
    return (text if text.endswith("\n") else text + "\n"), tuple(notes)


@contextlib.contextmanager
def _as_on_the_frontend(module: types.ModuleType, kind: str, spec, notes: list) -> Iterator[None]:
    """seamless-dask reads two things besides the parameters: its log file
    (opened from the status file; here only its name is needed, and the
    file is not created) and CONDA_PREFIX (OAR jobs get it exported). Both
    are set as the frontend will have them while the configuration is built."""
    saved_log, saved_prefix = module.log_handle, os.environ.get("CONDA_PREFIX")
    log = spec.log_file
    if not spec.is_local and log.startswith("~/"):  # the frontend's launcher writes it there
        log = f"<home on '{spec.hostname}'>" + log[1:]
    module.log_handle = types.SimpleNamespace(name=log)
    if spec.conda:
        os.environ["CONDA_PREFIX"] = f"<prefix of conda env '{spec.conda}'>"
    elif not spec.is_local:
        os.environ.pop("CONDA_PREFIX", None)
    if not spec.conda and not spec.is_local and kind == "oar":
        notes.append("when the daskserver runs inside a conda environment on the frontend, "
                     "its OAR jobs also export that environment's CONDA_PREFIX")
    try:
        yield
    finally:
        module.log_handle = saved_log
        if saved_prefix is None:
            os.environ.pop("CONDA_PREFIX", None)
        else:
            os.environ["CONDA_PREFIX"] = saved_prefix

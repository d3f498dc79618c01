"""``seamless-config-dask-wrapper``: the Dask scheduler of pure Dask mode.

Speaks the launcher's status-file protocol (COMPAT.md sections 3 and 4):
``CLUSTER --port-range A B --status-file F --host H --timeout S``. It waits
for F, reads its ``parameters`` (a queue, as ``tools.dask_parameters``
writes it), starts a ``LocalCluster`` or the dask-jobqueue cluster of its
batch system (``SLURMCluster``, ``OARCluster``, ``SGECluster``...) with the scheduler in this process, scales it adaptively between
``interactive`` and ``maximum_jobs`` jobs, and writes ``status: running``
with ``port`` (scheduler) and ``dashboard_port``, or ``status: failed``.
The dashboard answers ``GET /health``. After S seconds without a client or
a task, or on SIGTERM, it writes ``status: stale`` and shuts down.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from typing import Any, Sequence

from ..errors import missing_extra
from ..launch.state import read_json, write_json
from ..plan.dask import DaskPlan, bind_workers, plan_for

logger = logging.getLogger("seamless_config")

STATUS_WAIT = 20.0  # how long the launcher may take to write the status file
POLL = 1.0  # seconds between idle checks
PORT_TRIES = 5  # another process may take a chosen port before we bind it
CLOSE_SECONDS = 30.0  # jobqueue clusters cancel their jobs while closing


# -- the status file ---------------------------------------------------------------------

class StatusFile:
    """The launcher's record, kept field for field; every write atomic."""

    def __init__(self, path: str, record: dict[str, Any]):
        self.path = os.path.abspath(path)
        self.record = dict(record)

    def write(self, **fields: Any) -> None:
        self.record.update(fields)
        write_json(self.path, self.record, mode=0o644)

    def still_ours(self) -> bool:
        """A later launch may have replaced the file: leave that one alone."""
        current = read_json(self.path) or {}
        return current.get("port") == self.record.get("port")


def wait_for_status(path: str, seconds: float = STATUS_WAIT) -> dict[str, Any]:
    end = time.monotonic() + seconds
    while True:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            if isinstance(data, dict):
                return data
            raise SystemExit(f"status file {path} does not hold a JSON object")
        except (FileNotFoundError, ValueError):  # absent, or caught mid-write
            if time.monotonic() >= end:
                raise SystemExit(f"status file {path} did not appear within {seconds:g} s")
            time.sleep(0.05)


# -- starting the cluster ------------------------------------------------------------------

def pick_ports(host: str, port_range: Sequence[int] | None) -> tuple[int, int]:
    """Two distinct free ports from the range at random (0, 0: any)."""
    if not port_range:
        return 0, 0
    start, end = port_range
    candidates = list(range(start, end + 1))
    random.shuffle(candidates)
    found = [p for p in candidates[:200] if _free(host, p)][:2]
    if len(found) < 2:
        raise RuntimeError(f"no free port available in {start}-{end} (need two: scheduler "
                           "and dashboard)")
    return found[0], found[1]


def _free(host: str, port: int) -> bool:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.bind((host, port))
        return True
    except OSError:
        return False


def start_cluster(plan: DaskPlan, host: str, port_range: Sequence[int] | None):
    """The running cluster; retried on other ports when one was taken."""
    for attempt in range(PORT_TRIES):
        port, dashboard = pick_ports(host, port_range)
        try:
            return build_cluster(plan, host, port, dashboard)
        except Exception as exc:  # distributed wraps the bind error in its own types
            if not port_range or "in use" not in str(exc) or attempt + 1 == PORT_TRIES:
                raise
            logger.warning("port %d or %d was taken meanwhile; trying others", port, dashboard)
    raise AssertionError("unreachable")


def build_cluster(plan: DaskPlan, host: str, port: int, dashboard: int):
    import dask

    dask.config.set(dict(plan.config))
    address = f"{host}:{dashboard}"
    if plan.kind == "local":
        return _local_cluster(plan, host, port, address)
    return _batch_cluster(bind_workers(plan, host), host, port, address)


def _local_cluster(plan: DaskPlan, host: str, port: int, dashboard_address: str):
    from distributed import LocalCluster

    cluster = LocalCluster(host=host, scheduler_port=port, dashboard_address=dashboard_address,
                           **plan.job)
    cluster.adapt(minimum=plan.minimum, maximum=plan.maximum, **plan.adapt)
    return cluster


def _batch_cluster(plan: DaskPlan, host: str, port: int, dashboard_address: str):
    import dask_jobqueue

    from ..model.schedulers import CLASSES
    from ..plan.jobclasses import job_class

    cls = getattr(dask_jobqueue, CLASSES[plan.kind] + "Cluster")
    options = {"host": host, "port": port, "dashboard_address": dashboard_address}
    cluster = cls(job_cls=job_class(plan.kind, plan.threads), scheduler_options=options,
                  **plan.job)
    logger.info("job script of each worker job:\n%s", cluster.job_script())
    cluster.adapt(minimum_jobs=plan.minimum, maximum_jobs=plan.maximum, **plan.adapt)
    return cluster


def ports_of(cluster) -> tuple[int, int]:
    scheduler = cluster.scheduler
    return int(scheduler.port), int(scheduler.http_server.port)


# -- running until idle ------------------------------------------------------------------

async def _activity(scheduler) -> tuple[int, int]:
    """(clients, tasks) on the scheduler's own event loop, where they change.
    'fire-and-forget' is the scheduler's internal client, always present."""
    clients = sum(1 for c in scheduler.clients if c != "fire-and-forget")
    return clients, len(scheduler.tasks)


def serve(cluster, timeout: float | None, stop: threading.Event) -> str:
    """Block until ``stop`` is set or nothing used the scheduler for
    ``timeout`` seconds; return why."""
    idle_since = time.monotonic()
    while not stop.wait(POLL):
        if cluster.scheduler.status.name in ("closing", "closed", "failed"):
            return "the scheduler stopped"
        try:
            clients, tasks = cluster.sync(_activity, cluster.scheduler)
        except Exception as exc:  # a closing loop: stop rather than spin
            return f"the scheduler cannot be queried ({type(exc).__name__}: {exc})"
        if clients or tasks:
            idle_since = time.monotonic()
        elif timeout and time.monotonic() - idle_since >= timeout:
            return f"idle for {timeout:g} s (no client and no task)"
    return "asked to stop"


def _on_signals(stop: threading.Event) -> None:
    def handler(signum, frame):
        stop.set()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)


def shut_down(cluster, status: StatusFile) -> None:
    """Mark the record stopped first (nothing may reuse a closing scheduler),
    then close; a close that hangs must not keep the process alive."""
    if status.still_ours():
        status.write(status="stale")
    closer = threading.Thread(target=_close, args=(cluster,), daemon=True)
    closer.start()
    closer.join(CLOSE_SECONDS)
    if closer.is_alive():
        logger.warning("the cluster did not close within %g s; exiting anyway", CLOSE_SECONDS)


def _close(cluster) -> None:
    try:
        cluster.close(timeout=CLOSE_SECONDS)
    except Exception as exc:  # already half-closed: the process ends anyway
        logger.warning("closing the cluster: %s: %s", type(exc).__name__, exc)


# -- command line ------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="seamless-config-dask-wrapper",
        description="Run a Dask scheduler and an adaptive cluster for pure Dask mode.")
    parser.add_argument("cluster", help="distributed::LocalCluster or "
                        "dask_jobqueue::<X>Cluster, X one of SLURM, OAR, SGE, PBS, LSF, HTCondor")
    parser.add_argument("--port-range", type=int, nargs=2, metavar=("START", "END"),
                        help="pick the scheduler and dashboard ports from this range")
    parser.add_argument("--status-file", required=True,
                        help="the launcher's state file: read parameters, write status")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--timeout", type=float, default=None,
                        help="shut down after this many idle seconds (default: never)")
    args = parser.parse_args(argv)
    if args.port_range and not 0 < args.port_range[0] <= args.port_range[1] <= 65535:
        parser.error("--port-range needs 0 < START <= END <= 65535")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    status = StatusFile(args.status_file, wait_for_status(args.status_file))
    cluster = startup(args, status)
    if cluster is None:
        return 1
    stop = threading.Event()
    _on_signals(stop)
    reason = serve(cluster, args.timeout, stop)
    logger.info("shutting down: %s", reason)
    shut_down(cluster, status)
    return 0


def startup(args: argparse.Namespace, status: StatusFile):
    """The running, announced cluster; None after reporting ``failed``."""
    cluster = None
    try:
        plan = plan_for(args.cluster, status.record.get("parameters"))
        for note in plan.notes:
            logger.warning("%s", note)
        cluster = start_cluster(plan, args.host, args.port_range)
        announce(cluster, plan, status)
        return cluster
    except Exception as exc:
        missing = missing_extra(exc, "the Dask scheduler (seamless-config-dask-wrapper)")
        if missing is not None:  # not a defect: one line naming the extra, no traceback
            logger.error("the Dask cluster did not start: %s", missing.render())
        else:
            logger.exception("the Dask cluster did not start")
        status.write(status="failed")
        if cluster is not None:
            _close(cluster)
        return None


def announce(cluster, plan: DaskPlan, status: StatusFile) -> None:
    port, dashboard = ports_of(cluster)
    status.write(status="running", port=port, dashboard_port=dashboard,
                 adaptive={"minimum": plan.minimum, "maximum": plan.maximum})
    logger.info("scheduler %s; dashboard %s; adaptive between %d and %d %s",
                cluster.scheduler_address, cluster.dashboard_link, plan.minimum, plan.maximum,
                "workers" if plan.kind == "local" else "jobs")


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())

"""The effect executor: turn a Context into running servers and clients.

The only phase that opens sockets or starts processes. Storage servers
(hashserver, database) start together; a jobserver starts after them,
because it is handed their addresses as its ``parameters``.
"""

from __future__ import annotations

import logging
import os

from ..core.vocabulary import DASK_SERVICES, STORAGE_SERVICES as STORAGE
from ..errors import ServiceError
from ..evaluation.context import Context, ServiceUse
from ..plan.services import enabled_uses, plan, spec_for
from .health import base_url

logger = logging.getLogger("seamless_config")
STORAGE_HANDSHAKE = "healthcheck"  # as tools.yaml says; test_tools checks they agree


# The Seamless runtime's switches that keep a server from being launched
# (seamless-run --dry sets the database's), per service.
DISABLED_FLAGS = {"hashserver": "seamless_remote.buffer_remote",
                  "database": "seamless_remote.database_remote",
                  "jobserver": "seamless_remote.jobserver_remote",
                  "daskserver": "seamless_remote.daskserver_remote",
                  "pure_daskserver": "seamless_config.pure_daskserver"}


def disabled_services() -> frozenset:
    """Services whose module says ``DISABLED = True``. A module that was
    never imported was never switched off."""
    import sys

    return frozenset(service for service, name in DISABLED_FLAGS.items()
                     if getattr(sys.modules.get(name), "DISABLED", False) is True)


class Activation:
    """What ``activate`` started or reused, for collect/deactivate/report
    (a plain class: dataclasses costs the warm seamless-init ~7 ms)."""

    def __init__(self, context: Context, handles: list | None = None, runtime: object = None,
                 checked: dict | None = None):
        self.context = context
        self.handles = [] if handles is None else handles
        self.runtime = runtime
        self.checked = {} if checked is None else checked  # service -> what verify_handle checked

    def client_entries(self):
        for h in self.handles:
            if h.service in STORAGE:
                yield _client_entry(self.context, h)

    def deactivate(self) -> None:
        if self.runtime is not None:
            self.runtime.deactivate()
            self.runtime = None


def _client_entry(ctx: Context, handle) -> dict:
    kind = "buffer" if handle.service == "hashserver" else "database"
    entry = {"kind": kind, "cluster": ctx.cluster.name, "readonly": False, "url": handle.url}
    use = ctx.service(handle.service)
    remote_url = _remote_url(use, handle)
    if remote_url:
        entry["remote_url"] = remote_url
    if kind == "buffer" and use.data_path:
        entry["remote_directory" if remote_url else "directory"] = use.data_path
    return entry


def _remote_url(use: ServiceUse, handle) -> str | None:
    """How processes on the cluster reach the service (None when local)."""
    if use.frontend.hostname is None or handle.host == "localhost":
        return None
    port = handle.state.get("port", handle.port) if handle.state else handle.port
    return f"http://{use.frontend.hostname}:{port}"


def _jobserver_parameters(ctx: Context, handles) -> dict:
    """What the jobserver hands its workers: the storage clients, and
    whether to record execution records (as the previous package did)."""
    clients: dict = {"buffer": [], "database": []}
    for h in handles:
        entry = _client_entry(ctx, h)
        clients[entry.pop("kind")].append({k: v for k, v in entry.items() if k != "cluster"})
    return {**clients, "record": bool(ctx.value("record"))}


def activate(ctx: Context, session=None, *, deadline: float = 60.0,
             on_ready=None, disabled: frozenset | None = None,
             runtime: bool = True, verify: bool = True) -> Activation:
    """Start or reuse every service the context needs and hand the storage
    clients to the Seamless runtime. Every server answers as the service it
    should be (the launch's or the reuse's probe, ``health``). ``verify``:
    each is also checked with ``verify.verify_handle`` (the hashserver's
    write round trip, the database's query...), as soon as it is up, in its
    launching thread; ``init()`` leaves that to the first use, where the
    runtime's own requests show it. ``on_ready(handle)`` reports each
    service once up (for progress displays). ``disabled``: services not to
    start (default: those the Seamless runtime switched off with
    ``DISABLED = True``). ``runtime`` False (seamless-init without
    --with-clients): the Seamless runtime is not touched (not even
    imported, no spawn pool)."""
    disabled = disabled_services() if disabled is None else disabled
    uses = enabled_uses(ctx, disabled)
    if ctx.execution == "spawn" and runtime:
        _spawn(ctx)
    if not uses:  # in-process, no storage, or all switched off: nothing to start
        return Activation(ctx)
    from .executor import ensure_parallel
    from .verify import verify_handle

    if any(use.service not in STORAGE for use in uses):
        plan(ctx, disabled)  # a job server's spec can still be refused: before anything starts
    checked: dict = {}

    def verified(handle) -> None:
        if verify:
            checked[handle.service] = verify_handle(handle)
        if on_ready is not None:
            on_ready(handle)
    handles = _reuse_running(ctx, uses, on_ready, checked if verify else None)
    if handles is None:  # storage is verified before a jobserver is handed it
        storage = [spec_for(ctx, u) for u in uses if u.service in STORAGE]
        handles = list(ensure_parallel(storage, deadline=deadline, on_ready=verified))
    for use in uses:
        if use.service in STORAGE:
            continue
        params = _jobserver_parameters(ctx, handles) if use.service == "jobserver" else None
        handles += ensure_parallel([spec_for(ctx, use, params)], deadline=deadline,
                                   on_ready=verified)
    _log_dashboards(handles)
    activation = Activation(ctx, handles, checked=checked)
    if runtime:
        activation.runtime = _activate_runtime(ctx, handles)
    return activation


def _reuse_running(ctx: Context, uses, on_ready, checked: dict | None) -> list | None:
    """The warm path: when every storage service runs on this machine and
    passes its verification (into ``checked``: ``verify.verify_handle``, a
    request only that service answers correctly, so no separate identity
    probe first; ``checked`` None: the identity probe alone), take them as
    they are, without building launch specs (which parses templates).
    Anything else goes through the locked launch path, which probes,
    cleans up and relaunches."""
    from ..model.types import is_local_frontend
    from .executor import reuse_local
    from .verify import verify_handle

    handles = []
    for use in uses:
        if use.service not in STORAGE:
            continue
        if not is_local_frontend(ctx.cluster, use.frontend, ctx.local_cluster):
            return None
        handle = reuse_local(use.service, use.key, STORAGE_HANDSHAKE, probe=checked is None)
        if handle is None or not _on_this_storage(use, handle):
            return None
        handles.append(handle)
    try:
        found = {h.service: verify_handle(h) for h in handles} if checked is not None else {}
    except ServiceError as exc:
        logger.info("a running server failed its check (%s): through the launch path", exc)
        return None
    if checked is not None:
        checked.update(found)
    for handle in handles:
        if on_ready is not None:
            on_ready(handle)
    return handles


def _on_this_storage(use: ServiceUse, handle) -> bool:
    """Whether the running server works on the storage ``use`` names (its
    key does not say: two SEAMLESS_CACHE directories share the keys). Else
    the launch path decides, whose reuse check compares the whole start."""
    expected = use.data_path
    if expected and use.service == "database":
        expected = expected[:-len("/seamless.db")] if expected.endswith("/seamless.db") else None
    if not expected or handle.state.get("workdir") == expected:
        return True
    logger.info("%s '%s' works in %s, not in %s: through the launch path", use.service,
                use.key, handle.state.get("workdir"), expected)
    return False


def _activate_runtime(ctx: Context, handles):
    """Point the Seamless runtime at the servers in ``handles``: storage
    always, the job server only for ``execution: remote``."""
    from .runtime import activate_clients, job_backend

    entries = [_client_entry(ctx, h) for h in handles if h.service in STORAGE]
    job = None
    for h in handles:
        if h.service not in STORAGE and ctx.execution == "remote":
            spec = spec_for(ctx, ctx.service(h.service))
            job = job_backend(h.service, h.url, spec.file_parameters,
                              spec.extra.get("cluster_string"))
    return activate_clients(entries, job=job)


def _spawn(ctx: Context) -> None:
    """execution 'spawn': seamless-transformer's pool of local workers, once
    per process (a later set_stage keeps the pool it started)."""
    try:
        # seamless-core's seamless.transformer imports, but stays empty,
        # without seamless-transformer: ask for the names themselves.
        from seamless.transformer import has_spawned, spawn
    except ImportError:
        raise ServiceError("execution 'spawn' needs seamless-transformer, which is not "
                           "installed: pip install seamless-transformer") from None
    if has_spawned():
        logger.info("spawn: the local worker pool of this process is already running")
        return
    workers, why = _spawn_workers(ctx)
    logger.info("spawn: starting %d local workers (%s)", workers, why)
    spawn(workers)


def _spawn_workers(ctx: Context) -> tuple[int, str]:
    if ctx.cluster is not None and ctx.cluster.workers:
        return ctx.cluster.workers, f"workers of cluster '{ctx.cluster.name}'"
    if ctx.value("nparallel"):
        return ctx.value("nparallel"), "nparallel"
    # Without either, one worker per core is what a local pool can use.
    return os.cpu_count() or 1, "one per core; set 'workers' in the cluster to choose"


def dashboard_url(handle) -> str | None:
    """The dashboard of a Dask service handle (None for other services)."""
    if handle.service not in DASK_SERVICES or not isinstance(handle.dashboard_port, int):
        return None
    from urllib.parse import urlsplit  # only for a Dask handle

    host = urlsplit(handle.url).hostname or "127.0.0.1"
    return base_url(host, handle.dashboard_port) + "/status"


def _log_dashboards(handles) -> None:
    for handle in handles:
        url = dashboard_url(handle)
        if url:
            logger.info("Dask dashboard of %s '%s': %s", handle.service, handle.key, url)


def deactivate(activation: Activation) -> None:
    """Undo the runtime activation; servers keep running for reuse."""
    activation.deactivate()

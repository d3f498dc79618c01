"""The bridge to the Seamless runtime (seamless-remote), when installed.

Our executor has already started (or reused) and verified every server, so
seamless-remote is handed their addresses as *extern* clients and never
launches anything itself (its launched clients would go through
remote-http-launcher a second time). Deactivation empties its client lists.
seamless-config also works without Seamless: it then says once, at INFO
level, that no client was activated.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from urllib.parse import urlsplit

from .._record import frozen_record

logger = logging.getLogger("seamless_config")
PREFIX = "seamless-config"  # our extern clients' names inside seamless-remote
# The fields of a forwarded client (COMPAT.md section 5), per kind.
FIELDS = {"buffer": ("readonly", "url", "directory", "remote_url", "remote_directory"),
          "database": ("readonly", "url", "remote_url")}
# seamless-remote refuses clients in worker children unless this allows them.
ALLOW_IN_WORKER = "SEAMLESS_ALLOW_REMOTE_CLIENTS_IN_WORKER"


@frozen_record
class JobBackend:
    """Where ``execution: remote`` sends transformations."""

    service: str  # "jobserver" | "daskserver"
    address: str  # jobserver: http://host:port; daskserver: tcp://host:port
    cores: int = 1
    interactive: bool = False
    local_cluster: bool = False


class RuntimeClients:
    """What was handed to the runtime, so ``deactivate`` can undo it.
    ``entries``: the client descriptions as given (COMPAT.md section 5)
    plus their ``kind``; ``buffers``/``databases``: the addresses used.
    (Plain classes here and frozen_record: no dataclass built in init().)"""

    def __init__(self, entries: list | None = None, in_remote: bool = False,
                 job: JobBackend | None = None):
        self.entries = [] if entries is None else entries
        self.in_remote = in_remote
        self.job = job
        self.buffers: list = []
        self.databases: list = []
        self.active = False
        self.dask_client: object = None
        self.names: list = []  # the extern clients we defined in seamless-remote
        self.naming: object = None  # (kind, index, part, both) -> a client's name

    def client_entries(self):
        for entry in self.entries:
            yield {"cluster": None, **entry}

    def deactivate(self) -> None:
        if not self.active:
            return
        self.active = False
        _flush_buffer_writes()
        from seamless_remote import buffer_remote, database_remote

        buffer_remote.activate(no_main=True, extern_clients=[])
        database_remote.activate(no_main=True, extern_clients=[])
        if self.job is not None:
            _deactivate_job(self)


def runtime_available() -> bool:
    return importlib.util.find_spec("seamless_remote") is not None


@functools.cache
def _say_not_installed() -> None:
    logger.info("the Seamless runtime (seamless-remote) is not installed: "
                "servers are running but no client was activated")


def activate_clients(entries: list, *, in_remote: bool = False,
                     job: JobBackend | None = None, handed_down: bool = False) -> RuntimeClients:
    """Hand buffer/database ``entries`` (and the job backend) to seamless-remote.
    ``handed_down``: clients a server gave this process (set_remote_clients),
    defined under the previous package's names for them."""
    record = RuntimeClients([dict(e) for e in entries], in_remote, job)
    record.naming = _handed_down_name if handed_down else _our_name
    record.buffers = [pick_addresses(e, in_remote) for e in entries if e["kind"] == "buffer"]
    record.databases = [pick_addresses(e, in_remote) for e in entries if e["kind"] == "database"]
    if not runtime_available():
        _say_not_installed()
        return record
    if _worker_without_clients():
        logger.debug("inside a Seamless worker process: remote clients stay with the parent")
        return record
    _activate_storage(record)
    record.active = True
    if job is not None:
        _activate_job(record)
    return record


def ensure_clients(record: RuntimeClients) -> list[str]:
    """seamless-remote's own proof (``seamless-init --with-clients``): each
    client we defined initialises and passes its health check, through
    seamless-remote's HTTP stack. The modules' ``ensure_initialized()``
    covers only the clients they launched themselves, not extern ones like
    ours, so each of ours is asked directly. Returns the services reached."""
    if not record.active:
        return []
    from seamless_remote import buffer_remote, database_remote, jobserver_remote

    modules = {"hashserver": buffer_remote, "database": database_remote}
    names = list(record.names)
    if record.job is not None and record.job.service == "jobserver":
        modules["jobserver"] = jobserver_remote
        names.append(f"{PREFIX}-jobserver")
    reached = []
    for service, module in modules.items():
        for name in names:
            client = module._extern_clients.get(name)
            if client is not None:
                client.ensure_initialized_sync()
                reached.append(service)
    return sorted(set(reached), key=reached.index)


def pick_addresses(entry: dict, in_remote: bool) -> dict:
    """The addresses a process should use: inside the cluster (``in_remote``)
    the ``remote_*`` ones where given, since the others are only valid on
    the machine that collected them; ``~`` is expanded on the using side."""
    url, directory = entry.get("url"), entry.get("directory")
    if in_remote and (entry.get("remote_url") or entry.get("remote_directory")):
        url, directory = entry.get("remote_url"), entry.get("remote_directory")
    if directory:
        directory = os.path.abspath(os.path.expanduser(directory))
    return {"readonly": bool(entry.get("readonly", True)), "url": url, "directory": directory}


def _worker_without_clients() -> bool:
    import seamless

    allowed = os.environ.get(ALLOW_IN_WORKER, "").lower() in ("1", "true", "yes")
    return seamless.is_worker() and not allowed


def _our_name(kind: str, i: int, part: str, both: bool) -> str:
    return f"{PREFIX}-{part if kind == 'buffer' else kind}-{i}"


def _handed_down_name(kind: str, i: int, part: str, both: bool) -> str:
    """The previous package's names for handed-down clients."""
    if kind == "database":
        return f"extern-db-{i}"
    return f"extern-buffer-{i}-{'folder' if part == 'folder' else 'server'}" if both \
        else f"extern-buffer-{i}"


def _activate_storage(record: RuntimeClients) -> None:
    from seamless_remote import buffer_remote, database_remote

    names = []
    for i, d in enumerate(record.databases):
        if d["url"]:
            names.append(record.naming("database", i, "server", False))
            database_remote.define_extern_client(names[-1], "database", url=d["url"],
                                                 readonly=d["readonly"])
    database_remote.activate(no_main=True, extern_clients=names)
    buffer_names = _define_buffers(record)
    buffer_remote.activate(no_main=True, extern_clients=buffer_names)
    record.names = names + buffer_names


def _define_buffers(record: RuntimeClients) -> list[str]:
    from seamless_remote import buffer_remote

    names = []
    for i, b in enumerate(record.buffers):
        both = bool(b["directory"] and b["url"])
        if b["directory"]:  # reading the hashserver's files directly is faster
            names.append(record.naming("buffer", i, "folder", both))
            buffer_remote.define_extern_client(names[-1], "bufferfolder",
                                               directory=b["directory"], readonly=True)
        if b["url"]:
            names.append(record.naming("buffer", i, "buffer", both))
            buffer_remote.define_extern_client(names[-1], "hashserver", url=b["url"],
                                               readonly=b["readonly"])
    return names


def _activate_job(record: RuntimeClients) -> None:
    job = record.job
    if job.service == "jobserver":
        from seamless_remote import jobserver_remote

        name = f"{PREFIX}-jobserver"
        jobserver_remote.define_extern_client(name, "jobserver", url=job.address)
        jobserver_remote.activate(no_main=True, extern_clients=[name])
    else:
        record.dask_client = _dask_client(job, forwarded_clients(record.entries))


def attach_job(record: RuntimeClients, job: JobBackend) -> None:
    """Add a job backend to clients activated without one (a process that
    a Dask worker started, reaching back to its scheduler). Worker
    children forward their jobs to their parent instead."""
    import seamless

    if not record.active or record.job is not None or seamless.is_worker():
        return
    from seamless_dask.transformer_client import get_seamless_dask_client

    if job.service == "daskserver" and get_seamless_dask_client() is not None:
        return
    record.job = job
    _activate_job(record)


def _dask_client(job: JobBackend, remote_clients: dict):
    """A SeamlessDaskClient on the scheduler we launched; its workers get
    ``remote_clients`` so they write to the same storage."""
    from distributed import Client
    from seamless_dask.client import SeamlessDaskClient
    from seamless_dask.transformer_client import set_seamless_dask_client

    client = SeamlessDaskClient(
        Client(job.address, timeout="10s", set_as_default=False),
        worker_plugin_workers=job.cores, remote_clients=remote_clients,
        is_local_cluster=job.local_cluster, interactive=job.interactive)
    set_seamless_dask_client(client)
    return client


def _deactivate_job(record: RuntimeClients) -> None:
    if record.job.service == "jobserver":
        from seamless_remote import jobserver_remote

        jobserver_remote.activate(no_main=True, extern_clients=[])
    elif record.dask_client is not None:
        from seamless_dask.transformer_client import set_seamless_dask_client

        set_seamless_dask_client(None)  # also shuts the client down
        record.dask_client = None


def _flush_buffer_writes() -> None:
    """Buffers still queued must reach the servers they were meant for,
    not the next stage's."""
    try:
        from seamless.caching import buffer_writer
    except ImportError:
        return
    buffer_writer.flush()


def forwarded_clients(entries) -> dict:
    """``{"buffer": [...], "database": [...]}`` as workers receive them."""
    result: dict = {kind: [] for kind in FIELDS}
    for entry in entries:
        kind = entry["kind"]
        result[kind].append({k: v for k, v in entry.items() if k in FIELDS[kind]})
    return result


def job_backend(service: str, url: str, file_parameters=None, cluster_string=None):
    """The JobBackend of a running jobserver or daskserver at ``url``."""
    if service == "jobserver":
        return JobBackend("jobserver", url)
    if service != "daskserver":
        return None  # pure Dask: nothing for the Seamless runtime to use
    params = file_parameters or {}
    parts = urlsplit(url)
    return JobBackend("daskserver", f"tcp://{parts.hostname}:{parts.port}",
                      cores=int(params.get("cores") or 1),
                      interactive=params.get("interactive") in (True, "true", "yes", "1"),
                      local_cluster="LocalCluster" in (cluster_string or ""))

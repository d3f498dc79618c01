"""Remote clients handed from a client process to its workers.

``collect_remote_clients`` describes the running hashserver and database
as JSON-able data; a worker restores them with ``set_remote_clients``
(``in_remote=True`` picks the addresses valid inside the cluster) or from
the ``SEAMLESS_REMOTE_CLIENTS`` environment variable. Servers that run
jobs (seamless-jobserver, the Dask worker plugin) call
``set_remote_clients`` and never ``init()``, so the clients are handed to
the Seamless runtime at once.
"""

from __future__ import annotations

import json
import os
import sys

from .core.paths import seamless_cache_dir
from .errors import ConfigurationError
from .launch.runtime import (FIELDS as _FIELDS, JobBackend, activate_clients, attach_job,
                             forwarded_clients)
from .session import default_session

ENV_VAR = "SEAMLESS_REMOTE_CLIENTS"
# Set by seamless-dask in its workers, for the processes they start.
DASK_SCHEDULER_VAR, DASK_WORKERS_VAR = "SEAMLESS_DASK_SCHEDULER", "SEAMLESS_DASK_WORKERS"


def collect_remote_clients(cluster: str | None = None) -> dict:
    """``{"buffer": [...], "database": [...]}``: the services the current
    activation started or reused (of ``cluster``, if given; clients that
    were themselves handed down belong to every cluster), then the clients
    other code defined in seamless-remote directly, as the previous package
    collected them (extern ones always, launched ones of ``cluster``)."""
    activation = default_session().activation
    ours = [] if activation is None else [
        e for e in activation.client_entries() if cluster is None or e["cluster"] in (None, cluster)]
    collected = forwarded_clients(ours)
    for kind, entry in _runtime_clients(cluster, _our_names(activation)):
        collected[kind].append(entry)
    return collected


def _our_names(activation) -> set[str]:
    runtime = getattr(activation, "runtime", activation)
    return set(getattr(runtime, "names", ()) or ())


def _runtime_clients(cluster: str | None, ours: set[str]):
    """(kind, entry) for clients seamless-remote holds that we did not
    define; nothing when seamless-remote was never imported (then nobody
    defined any)."""
    for kind, module_name in (("database", "seamless_remote.database_remote"),
                              ("buffer", "seamless_remote.buffer_remote")):
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for info in module.inspect_extern_clients():
            if info.get("name") not in ours:
                yield kind, _entry(kind, info)
        for info in module.inspect_launched_clients():
            if cluster is None or info.get("cluster") == cluster:
                yield kind, _entry(kind, info)


def _entry(kind: str, info: dict) -> dict:
    return {k: info[k] for k in _FIELDS[kind] if info.get(k) is not None}


def _validate(clients) -> dict:
    if not isinstance(clients, dict):
        raise ConfigurationError(f"remote clients must be a dict, not {type(clients).__name__}")
    out = {}
    for kind in _FIELDS:  # other keys (a jobserver's "record") are not clients
        entries = clients.get(kind, [])
        if not isinstance(entries, list):
            raise ConfigurationError(f"remote clients: '{kind}' must be a list, "
                                     f"not {type(entries).__name__}")
        for entry in entries:
            _check_entry(kind, entry)
        out[kind] = [dict(e) for e in entries]
    return out


def _check_entry(kind: str, entry) -> None:
    unknown = set(entry) - set(_FIELDS[kind]) if isinstance(entry, dict) else {entry}
    if unknown:
        raise ConfigurationError(f"remote clients: unexpected field(s) "
                                 f"{sorted(map(str, unknown))} in a {kind} entry")
    if not (entry.get("url") or entry.get("remote_url") or entry.get("directory")
            or entry.get("remote_directory")):
        raise ConfigurationError(f"remote clients: a {kind} entry needs a url or directory")


def set_remote_clients(clients: dict, in_remote: bool = False) -> None:
    """Use these clients instead of reading the files, and activate them now;
    before ``init()``. Repeating the same call is harmless (worker
    bootstrap code may run more than once)."""
    session = default_session()
    clients = _validate(clients)
    if (clients, in_remote) == (session.remote_clients, session.in_remote) \
            and session.activation is not None:
        return
    if session.initialized:
        raise ConfigurationError("set_remote_clients() must be called before init(): "
                                 "clients handed down by a server replace the files")
    if session.activation is not None:
        session.activation.deactivate()
        session.activation = None
    session.remote_clients, session.in_remote = clients, in_remote
    activate_given_clients(session)


def set_remote_clients_from_env(include_dask: bool = False) -> bool:
    """Apply ``$SEAMLESS_REMOTE_CLIENTS`` if set; True when it was. With
    ``include_dask``, also connect to ``$SEAMLESS_DASK_SCHEDULER``.
    ``SEAMLESS_CACHE`` wins over it, as before: such a process stores in
    the cache directory."""
    text = os.environ.get(ENV_VAR)
    if not text or seamless_cache_dir() is not None:
        return False
    try:
        clients = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{ENV_VAR} is not valid JSON: {exc}") from None
    set_remote_clients(clients, in_remote=True)
    if include_dask and os.environ.get(DASK_SCHEDULER_VAR):
        _attach_dask(default_session().activation)
    return True


def _attach_dask(record) -> None:
    try:
        cores = int(os.environ.get(DASK_WORKERS_VAR) or 1)
    except ValueError:
        raise ConfigurationError(f"{DASK_WORKERS_VAR} must be an integer") from None
    attach_job(record, JobBackend("daskserver", os.environ[DASK_SCHEDULER_VAR], cores=cores))


def activate_given_clients(session) -> None:
    """Activate the handed-down clients in the Seamless runtime, once."""
    if session.activation is not None:
        return
    clients = session.remote_clients or {}
    entries = [{"kind": kind, **e} for kind in _FIELDS for e in clients.get(kind, [])]
    session.activation = activate_clients(entries, in_remote=session.in_remote,
                                          handed_down=True)

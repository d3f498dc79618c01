"""Remote clients handed from a client process to its workers.

``collect_remote_clients`` describes the running hashserver and database
as JSON-able data; a worker restores them with ``set_remote_clients``
(``in_remote=True`` picks the addresses valid inside the cluster) or from
the ``SEAMLESS_REMOTE_CLIENTS`` environment variable.
"""

from __future__ import annotations

import json
import logging
import os

from .errors import ConfigurationError
from .session import default_session

logger = logging.getLogger("seamless_config")
ENV_VAR = "SEAMLESS_REMOTE_CLIENTS"
_FIELDS = {"buffer": ("readonly", "url", "directory", "remote_url", "remote_directory"),
           "database": ("readonly", "url", "remote_url")}


def collect_remote_clients(cluster: str | None = None) -> dict:
    """``{"buffer": [...], "database": [...]}`` for the services the current
    activation started or reused (of ``cluster``, if given)."""
    activation = default_session().activation
    result: dict = {"buffer": [], "database": []}
    if activation is None:
        return result
    for entry in activation.client_entries():
        if cluster is None or entry["cluster"] == cluster:
            result[entry["kind"]].append({k: v for k, v in entry.items()
                                          if k in _FIELDS[entry["kind"]]})
    return result


def _validate(clients) -> dict:
    if not isinstance(clients, dict):
        raise ConfigurationError(f"remote clients must be a dict, not {type(clients).__name__}")
    out = {}
    for kind, entries in clients.items():
        if kind not in _FIELDS or not isinstance(entries, list):
            raise ConfigurationError(f"remote clients: unexpected entry {kind!r}; "
                                     "expected 'buffer' and/or 'database' lists")
        for entry in entries:
            unknown = set(entry) - set(_FIELDS[kind]) if isinstance(entry, dict) else {entry}
            if unknown:
                raise ConfigurationError(f"remote clients: unexpected field(s) "
                                         f"{sorted(map(str, unknown))} in a {kind} entry")
        out[kind] = [dict(e) for e in entries]
    return out


def set_remote_clients(clients: dict, in_remote: bool = False) -> None:
    """Use these clients instead of reading the files; before ``init()``."""
    session = default_session()
    if session.initialized:
        raise ConfigurationError("set_remote_clients() must be called before init()")
    session.remote_clients = _validate(clients)
    session.in_remote = in_remote


def set_remote_clients_from_env(include_dask: bool = False) -> bool:
    """Apply ``$SEAMLESS_REMOTE_CLIENTS`` if set; True when it was."""
    text = os.environ.get(ENV_VAR)
    if not text:
        return False
    try:
        clients = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{ENV_VAR} is not valid JSON: {exc}") from None
    if not include_dask and isinstance(clients, dict):
        clients = {k: v for k, v in clients.items() if k in _FIELDS}
    set_remote_clients(clients, in_remote=True)
    return True


def chosen_urls(entry: dict, in_remote: bool) -> dict:
    """The address fields a process should use: the ``remote_*`` ones inside
    the cluster when present, the local ones otherwise."""
    pick = {}
    for field in ("url", "directory"):
        remote = entry.get("remote_" + field)
        pick[field] = remote if in_remote and remote else entry.get(field)
    pick["readonly"] = bool(entry.get("readonly", True))
    return pick


def activate_given_clients(session) -> None:
    """Activate the handed-down clients in the Seamless runtime, if any."""
    from .runtime import activate_clients

    clients = session.remote_clients or {}
    buffers = [chosen_urls(e, session.in_remote) for e in clients.get("buffer", [])]
    databases = [chosen_urls(e, session.in_remote) for e in clients.get("database", [])]
    session.activation = activate_clients(buffers, databases)

"""Servers named by the launcher key that ``ps`` shows (``--key``), and the
operations on everything this machine knows: stop all, prune stale records.

A key needs no configuration: a SEAMLESS_CACHE server, or one of an inline
cluster defined in another directory, is found through this machine's
state file (or, for a server on a frontend, through the client file that
names its host). Stopping still only ever signals a pid whose command line
names the key's status file (``hosts.stop_pid``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..errors import RefusedError
from ..launch import state
from ..launch.hosts import LocalHost
from ..launch.health import connect_host
from ..launch.proc import valid_pid
from .hosts import identity_of, stop_pid
from .operations import LIVE, ORPHANED, Row, close_tunnel, describe, list_servers, stop_key

PS_HINT = "'seamless-config services ps' shows the keys"


@dataclass(frozen=True)
class KeyTarget:
    """One server named by its key: the fields of ``targets.Target`` that
    the operations use, without a configuration behind them."""

    service: str | None
    key: str
    hostname: str | None = None  # None: this machine
    ssh_hostname: str | None = None
    scope: tuple[tuple[str, Any], ...] = ()

    @property
    def is_local(self) -> bool:
        return self.hostname is None

    @property
    def host(self) -> str:
        return self.hostname or "localhost"


def key_target(key: str) -> KeyTarget:
    """The server of ``key``: on this machine when a state file here names
    it, else on the host this machine's client file names."""
    record = LocalHost().read(key)
    if record is not None:
        scope, _ = describe(key, record)
        return KeyTarget(scope["service"], key, scope=tuple(scope.items()))
    client = state.read_client(key)
    if client is None:
        raise RefusedError(f"no server with key '{key}' is known on this machine",
                           hint=PS_HINT)
    scope, _ = describe(key, client)
    where = client.get("tunneled-host") or client.get("hostname")
    if not isinstance(where, str) or connect_host(where) == "127.0.0.1" or where == "localhost":
        where = None  # a client file of a server here whose state file is gone
    ssh_host = client.get("ssh_hostname") if isinstance(client.get("ssh_hostname"), str) else None
    return KeyTarget(scope["service"], key, where, ssh_host, tuple(scope.items()))


def resolve_key(target: KeyTarget) -> dict[str, Any]:
    """What ``resolve --key`` prints: the scope read back from the key or its
    record, where it runs, its state files and log (no configuration)."""
    scope = dict(target.scope)
    local = target.is_local
    return {"key": target.key, **scope, "host": target.host,
            "ssh_host": None if local else (target.ssh_hostname or target.hostname),
            "log": state.server_log_path(target.key) if local else
            f"~/.remote-http-launcher/server/{target.key}.log",
            "client_file": state.client_path(target.key)}


# -- everything on this machine -------------------------------------------------

def local_rows() -> list[Row]:
    """``ps`` of this machine only: its state files, its server processes,
    and the servers only its client files know."""
    return list(list_servers([]).rows)


def to_stop(rows: Iterable[Row]) -> list[Row]:
    """The rows of servers running here (or orphaned: running without a
    usable state file), which ``stop --all`` stops."""
    return [r for r in rows if r.seen_in == "server" and r.host == "localhost"
            and r.state in (*LIVE, ORPHANED) and valid_pid(r.pid)]


def stop_row(row: Row) -> str | None:
    """Stop the server of one local row; the signal that ended it (None: it
    was no longer running). An orphan's state file is left as it is."""
    host = LocalHost()
    record = host.read(row.key)
    if row.state != ORPHANED and record is not None and record.get("pid") == row.pid:
        close_tunnel(state.read_client(row.key))
        return stop_key(host, row.key, record)
    return stop_pid(host, row.pid, identity_of(host, row.key, None))


def to_prune(rows: Iterable[Row]) -> list[Row]:
    """Records of servers that do not run: stale or failed state files
    here, and client files whose server does not answer."""
    return [r for r in rows if r.state in (state.STALE, state.FAILED)
            and (r.seen_in == "client" or r.host == "localhost")]


def prune(rows: Sequence[Row]) -> list[str]:
    """Delete the state files of ``rows`` (logs and data stay); a record
    that came alive again since it was listed is kept. What was removed."""
    host, removed = LocalHost(), []
    for row in rows:
        if row.seen_in == "server":
            record = host.read(row.key)
            if record is not None and record.get("status") in LIVE and \
                    host.runs(record.get("pid"), identity_of(host, row.key, record)):
                continue
            if host.remove(row.key):
                removed.append(f"server state of '{row.key}'")
        client = state.read_client(row.key)
        if client is not None:
            close_tunnel(client)
            state.remove_client(row.key)
            removed.append(f"client file of '{row.key}'")
    return removed

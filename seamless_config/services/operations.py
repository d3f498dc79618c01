"""Service management: list, check, stop and forget the servers that
seamless-config (or remote-http-launcher) started, here and on frontends.

Rows come from the shared state files (COMPAT.md section 3): the ``meta``
block our launches write names service, cluster, project and stage; for
other files those are read back from the key. Every row is checked live:
a ``running`` record counts only while its pid runs the recorded program
and its port answers. Raises, never prints; ``cli/services.py`` renders.
Targets come from ``targets.py``, hosts from ``launch/hosts.py`` (asked
by key through ``hosts.py``), ``clear`` lives in ``clear.py``.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import IO, Any, Iterable, Sequence

from ..core.names import MODES
from ..core.vocabulary import SERVICES
from ..errors import RefusedError, ServiceError
from ..launch import health, state, tunnel
from ..launch.hosts import LocalHost, is_port, state_keys
from ..launch.proc import valid_pid
from ..launch.ssh import session_errors
from ..launch.tunnel import is_our_tunnel
from ..model.types import is_local_frontend
from .hosts import health_check_of, healthy, identity_of, open_remote_host, stop_pid
from .targets import Target

logger = logging.getLogger("seamless_config")

SCOPE_FIELDS = ("service", "cluster", "project", "subproject", "stage", "substage")
# Key prefixes: a service name with "-" for "_"; pure Dask first, as its key
# also starts with "daskserver" after "pure-".
KEY_SERVICES = tuple(sorted((s.replace("_", "-") for s in SERVICES), key=len, reverse=True))
LIVE = (state.RUNNING, state.STARTING)


def parse_key(key: str) -> dict[str, Any]:
    """Scope fields read back from ``<service>-<cluster>-<mode>-<path>`` or
    ``pure-daskserver-<cluster>--<queue>``. Exact for every key our names
    allow (names.py makes keys injective); other keys give what can be told."""
    found = dict.fromkeys(SCOPE_FIELDS)
    service = next((s for s in KEY_SERVICES if key.startswith(s + "-")), None)
    if service is None:
        return found
    rest = key[len(service) + 1:]
    if service == "pure-daskserver":  # pure-daskserver-<cluster>--<queue>
        cluster, sep, _ = rest.partition("--")
        if not sep:  # 0.3.2's pure-daskserver-<cluster>-<queue>: the split is a guess
            cluster = rest.rpartition("-")[0] or rest
        return {**found, "service": "pure_daskserver", "cluster": cluster}
    words = rest.split("-")
    # The mode is the first 'rw' or 'ro' after the cluster's first word:
    # cluster names hold neither as a later dash-separated word.
    at = next((i for i, w in enumerate(words) if i and w in MODES), None)
    if at is None or at + 1 >= len(words):
        return {**found, "service": service}
    found.update(service=service, cluster="-".join(words[:at]))
    return {**found, **_parse_path("-".join(words[at + 1:]).split("--"))}


def _parse_path(parts: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    last = parts[-1]
    if last.startswith("SUBSTAGE-") and len(parts) > 1:
        found["substage"], parts = last[len("SUBSTAGE-"):], parts[:-1]
    elif last.startswith("STAGE-") and len(parts) > 1:
        stage, _, substage = last[len("STAGE-"):].partition("SUBSTAGE-")
        found.update(stage=stage, substage=substage or None)
        parts = parts[:-1]
    found["project"] = parts[0] or None
    found["subproject"] = "/".join(parts[1:]) or None
    return found


def describe(key: str, record: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """(scope fields, "meta" or "key"): our meta block when there is one
    (and holds names, not whatever else a hand-edited file may hold)."""
    meta = (record or {}).get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("service"), str) and all(
            meta.get(name) is None or isinstance(meta.get(name), str) for name in SCOPE_FIELDS):
        return {name: meta.get(name) for name in SCOPE_FIELDS}, "meta"
    return parse_key(key), "key"


@dataclass(frozen=True)
class Row:
    """One server as ``ps`` shows it. ``state``: running, stale (``reason``
    says why), failed, starting, or orphaned (a server process whose state
    file is corrupt, missing or names another pid); ``uptime`` in seconds
    while it runs."""

    key: str
    service: str | None
    cluster: str | None
    project: str | None
    subproject: str | None
    stage: str | None
    substage: str | None
    host: str
    port: int | None
    pid: int | None
    state: str
    reason: str | None = None
    uptime: int | None = None
    tunnel: dict[str, Any] | None = None
    described_by: str = "meta"
    seen_in: str = "server"  # "server": a state file on host; "client": only ours

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ORPHANED = "orphaned"


def live_state(host, key: str, record: dict[str, Any],
               service: str | None) -> tuple[str, str | None]:
    """(state, reason) of a server record, checked against its host."""
    status, pid = record.get("status"), record.get("pid")
    if status == state.FAILED:
        return state.FAILED, "its launch failed"
    if status == state.STALE:
        return state.STALE, "stopped"
    if status not in LIVE:
        return _shown(status), None
    if not host.runs(pid, identity_of(host, key, record)):
        if host.alive(pid):  # recycled by another program, never to be signalled
            return state.STALE, f"pid {_shown(pid)} is another program now"
        return state.STALE, f"pid {_shown(pid)} is gone"
    if status == state.STARTING:
        return state.STARTING, None
    if healthy(host, record, service):
        return state.RUNNING, None
    _, port_name = health_check_of(service)
    return state.STALE, f"port {_shown(record.get(port_name))} is silent"


def _shown(value: Any) -> str:
    """A state file's value as a table cell or message shows it."""
    text = value if isinstance(value, str) else repr(value)
    text = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 40 else text[:37] + "..."


def host_rows(host, clients: dict[str, dict]) -> list[Row]:
    """Every state file on ``host``, checked live, and every server process
    that no state file accounts for."""
    rows, records = [], {}
    for key in host.keys():
        records[key] = host.read(key)
        if records[key] is not None:
            rows.append(_server_row(host, key, records[key], clients.get(key)))
    rows += orphan_rows(host, records, rows)
    uptimes = host.uptimes([r.pid for r in rows if r.state in (*LIVE, ORPHANED) and r.pid])
    return [_with_uptime(r, uptimes) for r in rows]


def orphan_rows(host, records: dict[str, dict | None], rows: list[Row]) -> list[Row]:
    """A server whose state file is corrupt, missing, or names another pid
    still writes its storage: it gets a row, so that it can be seen and
    stopped, instead of being invisible while a twin starts beside it."""
    known = {(r.key, r.pid) for r in rows if r.state in LIVE}
    out = []
    for key, pids in sorted(host.servers().items()):
        record = records.get(key)
        for pid in pids:
            if (key, pid) in known:
                continue
            why = ("its state file is corrupt" if key in records and record is None
                   else "it has no state file" if key not in records
                   else f"its state file names pid {_shown(record.get('pid'))}")
            scope, how = describe(key, record)
            out.append(Row(key=key, **scope, host=host.name, port=None, pid=pid,
                           state=ORPHANED, reason=why, described_by=how))
    return out


def _with_uptime(row: Row, uptimes: dict[int, int]) -> Row:
    if row.state not in (*LIVE, ORPHANED) or row.pid not in uptimes:
        return row
    return replace(row, uptime=uptimes[row.pid])


def _server_row(host, key: str, record: dict, client: dict | None) -> Row:
    scope, how = describe(key, record)
    live, reason = live_state(host, key, record, scope["service"])
    pid, port = record.get("pid"), record.get("port")
    return Row(key=key, **scope, host=host.name, port=port if is_port(port) else None,
               pid=pid if valid_pid(pid) else None, state=live, reason=reason,
               tunnel=tunnel_of(client), described_by=how)


def tunnel_of(client: dict | None) -> dict[str, Any] | None:
    """The SSH tunnel recorded in a client file, and whether it still runs."""
    if not client or "tunneled-port" not in client:
        return None
    pid, port = client.get("tunnel_pid"), client.get("port")
    return {"local_port": port if is_port(port) else None,
            "via": _shown(client.get("tunneled-host")), "pid": pid if valid_pid(pid) else None,
            "open": is_our_tunnel(pid, port)}


def client_row(key: str, client: dict) -> Row:
    """A server known only from this machine's client file (its host was
    not asked): checked through the address the client file gives."""
    scope, how = describe(key, client)
    path, port_name = health_check_of(scope["service"])
    port, host = client.get(port_name), health.connect_host(client.get("hostname"))
    answers = is_port(port) and health.answers_as(scope["service"], host, port, path)
    where = client.get("tunneled-host") or client.get("ssh_hostname") or client.get("hostname")
    pid, shown_port = client.get("server_pid"), client.get("tunneled-port", client.get("port"))
    return Row(key=key, **scope, host=_shown(where),
               port=shown_port if is_port(shown_port) else None,
               pid=pid if valid_pid(pid) else None,
               state=state.RUNNING if answers else state.STALE,
               reason=None if answers else f"no answer at {host}:{_shown(port)}",
               tunnel=tunnel_of(client), described_by=how, seen_in="client")


def read_clients() -> dict[str, dict]:
    """Every client file of this machine, by key."""
    try:
        keys = state_keys(os.listdir(state.client_dir()))
    except FileNotFoundError:
        return {}
    found = {key: state.read_client(key) for key in keys}
    return {key: record for key, record in found.items() if record is not None}


@dataclass(frozen=True)
class Listing:
    rows: tuple[Row, ...]
    unreachable: tuple[tuple[str, str], ...] = ()  # (frontend, error)


def frontends(ctx, cluster_names: Iterable[str]) -> list[tuple[str | None, str | None]]:
    """(hostname, ssh_hostname) of every remote frontend of these clusters."""
    found = []
    for name in cluster_names:
        cluster = ctx.clusters[name]
        for fe in cluster.frontends:
            if not is_local_frontend(cluster, fe, ctx.local_cluster):
                pair = (fe.hostname, fe.ssh_hostname)
                if pair not in found:
                    found.append(pair)
    return found


def list_servers(remote_frontends: Sequence[tuple[str | None, str | None]]) -> Listing:
    """This machine's servers, then those of each frontend (over SSH), then
    the servers only our client files know."""
    clients = read_clients()
    rows = host_rows(LocalHost(), clients)
    unreachable = []
    for hostname, ssh_hostname in remote_frontends:
        try:
            with _session(open_remote_host(hostname, ssh_hostname, "ps")) as host:
                rows += host_rows(host, clients)
        except ServiceError as exc:
            unreachable.append((hostname or ssh_hostname or "?", exc.message))
    seen = {r.key for r in rows}
    rows += [client_row(k, c) for k, c in sorted(clients.items()) if k not in seen]
    return Listing(tuple(sorted(rows, key=_order)), tuple(unreachable))


def _order(row: Row):
    services = SERVICES
    rank = services.index(row.service) if row.service in services else len(services)
    return (row.host != "localhost", row.host, row.cluster or "", row.project or "",
            row.subproject or "", row.stage or "", row.substage or "", rank, row.key)


def matching(rows: Iterable[Row], **wanted: Any) -> list[Row]:
    """Rows whose fields equal every given (non-None) value."""
    wanted = {k: v for k, v in wanted.items() if v is not None}
    return [r for r in rows if all(getattr(r, k) == v for k, v in wanted.items())]


# -- one named server --------------------------------------------------------

def opened(target: Target):
    """``with opened(target) as host``: LocalHost, or an SSH session to the
    target's frontend, closed afterwards."""
    if target.is_local:
        return _session(LocalHost())
    return _session(open_remote_host(target.hostname, target.ssh_hostname, target.service))


@contextmanager
def _session(host):
    """Close ``host`` afterwards; a broken SSH session becomes a ServiceError."""
    try:
        yield host
    except Exception as exc:
        if host.is_local:
            raise
        if not isinstance(exc, session_errors()):
            raise
        raise ServiceError(f"the SSH session to {host.name} failed: "
                           f"{type(exc).__name__}: {exc}", host=host.name) from None
    finally:
        host.close()


def is_running(host, key: str, record: dict[str, Any] | None) -> bool:
    return bool(record) and record.get("status") in LIVE and \
        host.runs(record.get("pid"), identity_of(host, key, record))


@dataclass(frozen=True)
class Stopped:
    target: Target
    host: str
    pid: int | None
    signal: str | None  # None: it was not running
    tunnel_closed: bool
    known: bool  # a server or client state existed


def stop_key(host, key: str, record: dict[str, Any]) -> str | None:
    """Stop the server of ``record`` and mark its state ``stale``."""
    pid = record.get("pid")
    used = stop_pid(host, pid, identity_of(host, key, record)) if valid_pid(pid) else None
    latest = host.read(key) or record  # a dying server may rewrite its file
    host.write(key, {**latest, "status": state.STALE})
    logger.info("%s on %s: pid %s %s", key, host.name, pid,
                f"stopped by {used}" if used else "was not running")
    return used


def stop(target: Target) -> Stopped:
    """Stop the target's server (data untouched) and close its tunnel."""
    client = state.read_client(target.key)
    # The tunnel first: its remote end watches the server and exits with it,
    # so closing it afterwards would race that exit.
    closed = close_tunnel(client)
    with opened(target) as host:
        record = host.read(target.key)
        used = stop_key(host, target.key, record) if record else None
        name = host.name
    pid = (record or {}).get("pid", (client or {}).get("server_pid"))
    return Stopped(target, name, pid, used, closed, record is not None or client is not None)


def close_tunnel(client: dict | None) -> bool:
    if not client or not is_our_tunnel(client.get("tunnel_pid"), client.get("port")):
        return False
    tunnel.close_tunnel(client)
    return True


def forget(target: Target, *, server: bool = True, client: bool = True,
           stop_command: str = "seamless-config services stop") -> list[str]:
    """Remove state files (logs are kept); what was removed, as phrases.
    A live server is refused: forgetting it would orphan the process.
    ``stop_command`` is the suggestion, with the user's own selectors."""
    removed = []
    if server:
        with opened(target) as host:
            record = host.read(target.key)
            if is_running(host, target.key, record):
                raise RefusedError(f"{target.service} '{target.key}' is running on {host.name} "
                                   f"(pid {record.get('pid')})",
                                   hint=f"stop it first: {stop_command}")
            if host.remove(target.key):
                removed.append(f"server state on {host.name}")
    if client:
        record = state.read_client(target.key)
        if record is not None:
            close_tunnel(record)
            state.remove_client(target.key)
            removed.append("client file on this machine")
    return removed


def inspect(target: Target) -> dict[str, Any]:
    """The whole state document: server record and client record."""
    with opened(target) as host:
        return {"key": target.key, "service": target.service, "host": host.name,
                "server_file": host.state_path(target.key), "server": host.read(target.key),
                "client_file": state.client_path(target.key),
                "client": state.read_client(target.key)}


def write_log(target: Target, out: IO[str], lines: int | None = None,
              follow: bool = False) -> None:
    """Copy the target's log (its last ``lines`` lines) to ``out``."""
    with opened(target) as host:
        path = host.log_path(target.key, host.read(target.key))
        host.write_log(path, lines, follow, out)


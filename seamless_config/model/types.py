"""The cluster model: what ``clusters.yaml`` and inline ``clusters`` define.

Plain frozen data; loading and validation live in ``catalogue.py``. Every
object keeps the span of its key, and every field the span of its value,
so explanations can point at the line that defined it.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any, Mapping

from .._record import Factory, frozen_record
from ..errors import ConfigError, Span
from .schedulers import CLUSTER_TYPES  # noqa: F401 (the model's names, offered here)

LOCAL_HOSTNAMES = ("localhost", "127.0.0.1", "::1")


def frozen_map(d: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(d or {}))


def plain(value: Any) -> Any:
    """Frozen model values as JSON data: mappings (frozen or not) become
    dicts with string keys, tuples and lists become lists."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


@frozen_record
class Service:
    """One service a frontend can host. ``fields`` holds bufferdir /
    database_dir (absolute, ``~`` expanded), conda, network_interface,
    port_start, port_end, and any other validated field."""

    kind: str
    fields: Mapping[str, Any]
    span: Span
    field_spans: Mapping[str, Span] = Factory(frozen_map)

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


@frozen_record
class Frontend:
    hostname: str | None
    ssh_hostname: str | None
    services: Mapping[str, Service]
    span: Span
    index: int = 0  # position in the cluster's frontends list

    @property
    def name(self) -> str:
        return self.hostname or "localhost"


@frozen_record
class Queue:
    """A queue after TEMPLATE expansion. ``fields`` has normalised names
    (``-`` read as ``_``) and no unset (null) fields; ``origins`` gives, per
    field, the span that supplied the value (own line or the template's)."""

    name: str
    fields: Mapping[str, Any]
    origins: Mapping[str, Span]
    span: Span
    template: str | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


@frozen_record
class Cluster:
    name: str
    type: str | None  # one of CLUSTER_TYPES; None when not written (daskserver then refuses)
    tunnel: bool
    frontends: tuple[Frontend, ...]
    queues: Mapping[str, Queue]
    span: Span
    source: str  # "catalogue" or "inline"
    workers: int | None = None
    default_queue: str | None = None
    memory_per_core_property_name: str | None = None
    field_spans: Mapping[str, Span] = Factory(frozen_map)
    overrides: Span | None = None  # the catalogue definition an inline one replaced

    def offered_backends(self) -> tuple[str, ...]:
        """Remote job backends that some frontend hosts, in a fixed order."""
        found = {k for fe in self.frontends for k in fe.services}
        return tuple(s for s in ("jobserver", "daskserver") if s in found)

    def frontend_for(self, service: str) -> Frontend | None:
        for fe in self.frontends:
            if service in fe.services:
                return fe
        return None


@frozen_record
class Catalogue:
    """All clusters known before the program runs (catalogue files only;
    inline definitions are merged by the evaluator)."""

    clusters: Mapping[str, Cluster]
    files: tuple[tuple[str, bool], ...]  # (path, found) in load order
    local_cluster: str | None = None
    local_cluster_span: Span | None = None


def is_local_frontend(cluster: Cluster, frontend: Frontend, local_cluster: str | None) -> bool:
    """Launch on this machine rather than over SSH (COMPAT.md section 5:
    ``hostname: localhost`` must not need an SSH server). A ``type: local``
    cluster whose frontends all name this machine (its host name, short or
    fully qualified) is this machine too: its workers run beside its
    servers, so loopback serves them all, where SSH to itself would need an
    sshd and would not tell the server where to listen. Other clusters keep
    such a frontend remote: their batch workers reach it by that name."""
    if cluster.name == local_cluster or frontend.hostname is None:
        return True
    if frontend.hostname in LOCAL_HOSTNAMES:
        return frontend.ssh_hostname in (None, frontend.hostname, *LOCAL_HOSTNAMES)
    if cluster.type != "local" or not all(_names_this_machine(fe.hostname)
                                          for fe in cluster.frontends):
        return False
    ssh = frontend.ssh_hostname
    return ssh is None or ssh == frontend.hostname or _names_this_machine(ssh)


def _names_this_machine(name: str | None) -> bool:
    """``name`` is this machine by its own account (its node name, or that
    name's first part): no resolver is asked, since evaluating a
    configuration neither waits on the network nor opens sockets. A name
    that only resolves here (an /etc/hosts alias, a domain the node name
    lacks) stays remote, and the exposure rule then asks where to listen."""
    if name is None or name in LOCAL_HOSTNAMES:
        return True
    wanted = name.lower().rstrip(".")
    own = os.uname().nodename.lower().rstrip(".")
    return wanted in (own, own.split(".")[0])


def binds_beyond_loopback(interface: str | None) -> bool:
    """Whether a server told ``--host interface`` is reachable from other
    machines: anything but a loopback address or ``localhost`` (a host
    name resolves to some interface of the machine; 0.0.0.0 and :: are
    all of them)."""
    if interface is None:
        return False
    import ipaddress

    if interface.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(interface.strip("[]")).is_loopback
    except ValueError:
        return True


def exposure_problem(cluster: Cluster, frontend: Frontend, service: Service,
                     local: bool) -> ConfigError | None:
    """A server nobody chose to expose would have to listen beyond loopback:
    on a frontend reached directly (no SSH tunnel) from this machine, when
    the service names no ``network_interface``. The previous package bound
    every interface then; binding beyond loopback must be written."""
    if local or cluster.tunnel or service.get("network_interface"):
        return None
    tunnel = cluster.field_spans.get("tunnel")
    where = f" (at {tunnel})" if tunnel else f" (defined in {cluster.span})"
    return ConfigError(
        f"frontend '{frontend.name}' of cluster '{cluster.name}' is reached without an SSH "
        f"tunnel, so its {service.kind} would have to listen beyond loopback, but it names "
        "no network_interface", service.span,
        f"write 'tunnel: true' in cluster '{cluster.name}'{where} to keep it on loopback "
        f"behind SSH, or 'network_interface: ADDRESS' under this {service.kind} (0.0.0.0: "
        "every interface; it has no authentication, so anyone who reaches it can use it)")


def service_directory(service: Service, name: str, local: bool) -> str | None:
    """A bufferdir/database_dir as the launching host should see it: ``~``
    is expanded here only when the service runs on this machine."""
    value = service.get(name)
    return os.path.expanduser(value) if value and local else value

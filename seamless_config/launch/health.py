"""HTTP health checks: a launched server counts only once its port answers,
and answers as the service it should be.

Every Seamless server answers ``GET /healthcheck`` with ``OK``, so that
check cannot tell a hashserver from the database that took its port (a
state file naming the wrong port was once reused as a hashserver forever,
failing every request). Each service is asked instead for something only
it answers correctly:

- hashserver: ``GET /has`` with the JSON body ``[]`` gives ``[]``;
- database: ``GET /`` with ``{"type": "protocol"}`` gives a JSON list
  starting with ``"seamless", "database"``;
- jobserver: ``GET /`` gives ``Seamless jobserver is running``;
- Dask schedulers: ``GET /health`` on the dashboard port gives ``ok``.

Requests go through ``_http`` (standard library, no proxies).
"""

from __future__ import annotations

import json
from typing import Callable

from .._record import frozen_record
from ..core.vocabulary import DASK_SERVICES
from .http import HTTPFailure, request

CONNECT_TIMEOUT = 0.5
MAX_ANSWER = 64 * 1024  # a probe's answer is a few bytes; anything more is not our server


@frozen_record
class Probe:
    """One request and the test its answer must pass: ``accepts(status, body)``."""

    method: str
    path: str
    body: bytes | None
    accepts: Callable[[int, bytes], bool]


def _json_list(body: bytes):
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


PROBES = {
    "hashserver": Probe("GET", "/has", b"[]",
                        lambda status, body: status == 200 and _json_list(body) == []),
    "database": Probe("GET", "/", b'{"type": "protocol"}',
                      lambda status, body: status == 200 and
                      (_json_list(body) or [])[:2] == ["seamless", "database"]),
    "jobserver": Probe("GET", "/", None, lambda status, body: status == 200 and
                       body.startswith(b"Seamless jobserver")),
}
# Both Dask schedulers answer on their dashboard port.
PROBES.update(dict.fromkeys(DASK_SERVICES, Probe(
    "GET", "/health", None, lambda status, body: status == 200 and body.strip() == b"ok")))


def probe_for(service: str | None, path: str = "healthcheck") -> Probe:
    """The probe that tells ``service`` apart; an unknown service (a key
    of someone else's naming) gets the plain health check at ``path``."""
    found = PROBES.get(service or "")
    if found is not None:
        return found
    return Probe("GET", "/" + path.lstrip("/"), None, lambda status, body: 200 <= status < 300)


def connect_host(host: str | None) -> str:
    """Where to connect for a server bound to ``host``: wildcard and
    ``localhost`` binds are reached on IPv4 loopback (no IPv6 fallback delay)."""
    if host in (None, "", "0.0.0.0", "localhost"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host if isinstance(host, str) else "127.0.0.1"


def base_url(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def health_url(url_or_host: str, port: int | None = None, path: str = "healthcheck") -> str:
    url = url_or_host if port is None else base_url(url_or_host, port)
    return url.rstrip("/") + "/" + path.lstrip("/")


def healthy(url_or_host: str, port: int | None = None, path: str = "healthcheck",
            timeout: float = 2.0) -> bool:
    """True when ``GET <url>/<path>`` answers 2xx. ``url_or_host`` is either
    a base URL (``port`` None) or a host name."""
    return answers(probe_for(None, path), url_or_host, port, timeout)


def answers_as(service: str | None, url_or_host: str, port: int | None = None,
               path: str = "healthcheck", timeout: float = 2.0) -> bool:
    """True when the server at the address answers as ``service`` (see the
    module docstring); ``path`` is the health check of an unknown service."""
    return answers(probe_for(service, path), url_or_host, port, timeout)


def answers(probe: Probe, url_or_host: str, port: int | None = None,
            timeout: float = 2.0) -> bool:
    url = health_url(url_or_host, port, probe.path)
    try:
        response = request(probe.method, url, probe.body, timeout=timeout,
                           connect_timeout=CONNECT_TIMEOUT, max_bytes=MAX_ANSWER,
                           content_type="application/json" if probe.body else None)
    except HTTPFailure:
        return False
    return bool(probe.accepts(response.status, response.content))

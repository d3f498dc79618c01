"""HTTP health checks: a launched server counts only once its port answers.

Requests go through ``_http`` (standard library, no proxies).
"""

from __future__ import annotations

CONNECT_TIMEOUT = 0.5


def connect_host(host: str | None) -> str:
    """Where to connect for a server bound to ``host``: wildcard and
    ``localhost`` binds are reached on IPv4 loopback (no IPv6 fallback delay)."""
    if host in (None, "", "0.0.0.0", "localhost"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


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
    from .._http import HTTPFailure, request

    try:
        response = request("GET", health_url(url_or_host, port, path), timeout=timeout,
                           connect_timeout=CONNECT_TIMEOUT)
    except HTTPFailure:
        return False
    return 200 <= response.status < 300

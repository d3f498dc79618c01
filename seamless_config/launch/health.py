"""HTTP health checks: a launched server counts only once its port answers.

``requests`` is imported inside the functions so that importing the
package stays light. The environment's proxy settings are ignored: a health
check through a proxy would test the proxy, not the server.
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
    import requests

    url = health_url(url_or_host, port, path)
    with requests.Session() as session:
        session.trust_env = False
        try:
            response = session.get(url, timeout=(CONNECT_TIMEOUT, timeout))
        except requests.RequestException:
            return False
    return 200 <= response.status_code < 300

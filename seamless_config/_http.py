"""Plain HTTP/1.1 requests to Seamless servers, on the standard library.

The servers are on loopback, behind an SSH tunnel, or cluster-internal:
no proxies, TLS, redirects or cookies are involved, and importing
``requests`` alone would cost more than a warm ``seamless-init`` may take
(about 40 ms of 150). Environment proxy settings are ignored on purpose: a
check through a proxy would test the proxy, not the server.
"""

from __future__ import annotations

import http.client
import json as _json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

CONNECT_TIMEOUT = 0.5


class HTTPFailure(OSError):
    """The request could not be made or answered (refused, timed out...)."""


@dataclass(frozen=True)
class Response:
    status: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        return _json.loads(self.content)


def request(method: str, url: str, body: bytes | None = None, timeout: float = 30.0,
            connect_timeout: float = CONNECT_TIMEOUT, content_type: str | None = None) -> Response:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=connect_timeout)
    try:
        conn.connect()
        conn.sock.settimeout(timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": content_type} if content_type else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return Response(response.status, response.read())
    except (OSError, http.client.HTTPException, socket.timeout) as exc:
        raise HTTPFailure(f"{method} {url} failed: {exc or type(exc).__name__}") from None
    finally:
        conn.close()

"""Plain HTTP/1.1 requests to Seamless servers, over a socket.

The servers are on loopback, behind an SSH tunnel, or cluster-internal:
no proxies, TLS, redirects or cookies are involved. On the warm path of
``seamless-init`` (budget 150 ms for the whole process) importing
``requests`` would cost ~40 ms and ``http.client`` ~15 ms; one request with
``Connection: close`` needs neither. Environment proxy settings are
ignored on purpose: a check through a proxy would test the proxy.
"""

from __future__ import annotations

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
            connect_timeout: float = CONNECT_TIMEOUT, content_type: str | None = None,
            max_bytes: int | None = None) -> Response:
    """One request. ``max_bytes`` caps the answer (headers included): a
    health probe must not be kept reading by whatever took the port."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        with socket.create_connection((host, port), timeout=connect_timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_head(method, path, host, port, body, content_type) + (body or b""))
            return _parse(_read_all(sock, max_bytes))
    except (OSError, ValueError, IndexError, UnicodeError) as exc:
        raise HTTPFailure(f"{method} {url} failed: {exc or type(exc).__name__}") from None


def _head(method, path, host, port, body, content_type) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             f"Content-Length: {len(body or b'')}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_all(sock, max_bytes: int | None = None) -> bytes:
    chunks, size = [], 0
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
        size += len(data)
        if max_bytes is not None and size > max_bytes:
            raise ValueError(f"the answer is larger than {max_bytes} bytes")


def parse_response(raw: bytes) -> Response:
    """A whole HTTP/1.x answer; ValueError or IndexError when it is none."""
    return _parse(raw)


def _parse(raw: bytes) -> Response:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("incomplete HTTP response")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return Response(status, body)


def _dechunk(body: bytes) -> bytes:
    out, rest = [], body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(rest[:size])
        rest = rest[size + 2:]

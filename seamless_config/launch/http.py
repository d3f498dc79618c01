"""Plain HTTP/1.1 requests to Seamless servers, over a socket.

The servers are on loopback, behind an SSH tunnel, or cluster-internal:
no proxies, TLS, redirects or cookies are involved; one request with
``Connection: close`` and a whole answer read to the end. Environment
proxy settings are ignored on purpose: a check through a proxy would test
the proxy.

Why not ``http.client`` (issue 16, item 9), measured in the full
published stack (bench/.cache/stack-ours), on top of everything the warm
``seamless-init`` imports anyway: ``http.client`` adds ~14 ms (-X
importtime; it brings ``email.parser``, ``email.message``, ``http``'s
status tables and ``urllib.parse``), ``urllib.parse`` alone ~3 ms (with
``ipaddress``), and a ``str`` host ~1 ms (``getaddrinfo`` loads the
``idna`` codec). The whole warm ``seamless-init`` is ~80 ms, its goal 0.1x
of 0.3.2's (~75-110 ms, with the machine's load). This module needs none
of them: an ``http://host:port/path`` URL (what our state files and
clients hold) is split here, and the host goes to the resolver as ASCII
bytes.
"""

from __future__ import annotations

import json as _json
import socket

from .._record import frozen_record

CONNECT_TIMEOUT = 0.5


class HTTPFailure(OSError):
    """The request could not be made or answered (refused, timed out...)."""


@frozen_record
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
        host, port, path = split_url(url)
        with socket.create_connection((host.encode("ascii"), port),
                                      timeout=connect_timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_head(method, path, host, port, body, content_type) + (body or b""))
            return _parse(_read_all(sock, max_bytes))
    except (OSError, ValueError, IndexError, UnicodeError) as exc:
        raise HTTPFailure(f"{method} {url} failed: {exc or type(exc).__name__}") from None


def split_url(url: str) -> tuple[str, int, str]:
    """(host, port, path with query) of ``http://host[:port][/path]``; an
    IPv6 host is written in brackets. ValueError for anything else (another
    scheme, user info, a port out of range, a host that is not ASCII)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "http":
        raise ValueError(f"not an http:// URL: {url!r}")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, path = rest[:cut], rest[cut:].partition("#")[0]
    if path.startswith("?") or not path:
        path = "/" + path
    if netloc.startswith("["):
        host, bracket, port_text = netloc[1:].partition("]")
        if not bracket or (port_text and not port_text.startswith(":")):
            raise ValueError(f"bad IPv6 host in {url!r}")
        port_text = port_text[1:]
    else:
        host, _, port_text = netloc.partition(":")
    if not host or "@" in netloc or not host.isascii() or any(c.isspace() for c in host):
        raise ValueError(f"bad host in {url!r}")
    if port_text and not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"bad port in {url!r}")
    port = int(port_text) if port_text else 80
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in {url!r}")
    return host.lower(), port, path


def _head(method, path, host, port, body, content_type) -> bytes:
    host = f"[{host}]" if ":" in host else host
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

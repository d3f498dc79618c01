"""Small HTTP clients for the Seamless servers, for checks and tests.

Not the clients Seamless computes with (those live in seamless-remote): just
enough to verify that a launched server stores and serves what it should,
without importing the Seamless runtime (``seamless-init``'s own probes,
``verify_handles``). Checksums are SHA-256 hex of the buffer (COMPAT.md
section 4). Requests go through ``http`` (a socket, no proxies).
"""

from __future__ import annotations

import json

from ..errors import ServiceError

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 30.0
# A check's answer: a few bytes from a server that has nothing else to do.
# A server that does not answer within it is taken for hung (the warm path
# then goes through the launch path, which cleans up and relaunches).
CHECK_TIMEOUT = 5.0


# The probes' buffers with their SHA-256 written out: hashing them on every
# seamless-init would load hashlib (OpenSSL, ~3 ms of a ~90 ms process);
# test_init_probes checks each pair.
HASHSERVER_PROBE = (b"seamless-config verify_hashserver probe\n",
                    "cdd49c2c7c41df8b55196700d2d3d6f7c9c236e009d0b9ac1ffc0bfddf4e6824")
DATABASE_PROBE = (b"seamless-config probe\n",
                  "e07d5d829d29b713f79f4c8eb3a7bf31e6624c27c92515a4cea9c759570b1a43")


def checksum_of(buffer: bytes) -> str:
    import hashlib

    return hashlib.sha256(buffer).hexdigest()


class _Client:
    def __init__(self, url: str, timeout: float = READ_TIMEOUT):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _request(self, method: str, path: str, body: bytes | None = None, json_body=None):
        from .http import HTTPFailure, request

        content_type = None
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        try:
            return request(method, f"{self.url}/{path}", body, self.timeout, CONNECT_TIMEOUT,
                           content_type)
        except HTTPFailure as exc:
            raise ServiceError(str(exc)) from None

    def healthy(self) -> bool:
        try:
            response = self._request("GET", "healthcheck")
        except ServiceError:
            return False
        return response.status == 200

    def _fail(self, what: str, response) -> ServiceError:
        return ServiceError(f"{what} at {self.url}: HTTP {response.status} "
                            f"{response.text[:200]!r}")


class BufferClient(_Client):
    """A hashserver: buffers addressed by their checksum."""

    def has(self, checksums: list[str]) -> list[bool]:
        response = self._request("GET", "has", json_body=list(checksums))
        if response.status != 200:
            raise self._fail("'has' query failed", response)
        return [bool(x) for x in response.json()]

    def get(self, checksum: str, expected: bytes | None = None) -> bytes:
        """The buffer, checked against its checksum (against ``expected``
        byte for byte when the caller knows it: no hashing)."""
        response = self._request("GET", checksum)
        if response.status != 200:
            raise self._fail(f"buffer {checksum} could not be read", response)
        buffer = response.content
        if buffer != expected and checksum_of(buffer) != checksum:
            raise ServiceError(f"buffer {checksum} from {self.url} has checksum "
                               f"{checksum_of(buffer)}: the stored file is corrupt")
        return buffer

    def put(self, buffer: bytes, checksum: str | None = None) -> str:
        """Store ``buffer``; ``checksum``: its SHA-256, when already known."""
        checksum = checksum or checksum_of(buffer)
        response = self._request("PUT", checksum, buffer)
        if response.status not in (200, 201, 202):
            raise self._fail(f"buffer {checksum} could not be written", response)
        return checksum


class DatabaseClient(_Client):
    """A seamless-database: JSON requests ``{"type", "checksum", ...}``."""

    def get_transformation_result(self, checksum: str) -> str | None:
        body = {"type": "transformation", "checksum": checksum}
        response = self._request("GET", "", json_body=body)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail(f"transformation {checksum} could not be read", response)
        text = response.text.strip()
        return text or None

    def set_transformation_result(self, checksum: str, result: str) -> None:
        body = {"type": "transformation", "checksum": checksum, "value": result}
        response = self._request("PUT", "", json_body=body)
        if response.status != 200:
            raise self._fail(f"transformation {checksum} could not be written", response)


class JobserverClient(_Client):
    """A seamless-jobserver; only its health is checked here."""


def verify_hashserver(url: str, writable: bool) -> None:
    """Raise ServiceError unless ``url`` answers its health check and, when
    ``writable``, stores a buffer and gives it back intact."""
    client = BufferClient(url, CHECK_TIMEOUT)
    if not writable:
        if not client.healthy():
            raise ServiceError(f"hashserver at {url} does not answer its health check")
        return
    # The round trip alone: a server that stores and serves is healthy.
    probe, checksum = HASHSERVER_PROBE
    client.get(client.put(probe, checksum), expected=probe)  # raises unless intact


def verify_database(url: str) -> None:
    """Raise ServiceError unless the database at ``url`` answers a real
    query: the result of a transformation nobody computed (nothing is
    written). It must answer as seamless-database does, a result or 404
    ``Unknown key``: another server's plain 404 is no answer."""
    client = DatabaseClient(url, CHECK_TIMEOUT)
    body = {"type": "transformation", "checksum": DATABASE_PROBE[1]}
    response = client._request("GET", "", json_body=body)
    if response.status == 200 or (response.status == 404 and
                                   response.content.startswith(b"ERROR: Unknown key")):
        return
    raise client._fail("the database did not answer a transformation query", response)


# What verify_handles checks of each service, as seamless-init reports it.
CHECKS = {"hashserver": "buffer written and read back",
          "database": "transformation query answered",
          "jobserver": "answers as a jobserver",
          "daskserver": "scheduler dashboard healthy",
          "pure_daskserver": "scheduler dashboard healthy"}


def verify_handle(handle) -> str:
    """Check one running server with our own requests; raise ServiceError
    when it fails, else say what was checked (``CHECKS``)."""
    from .health import answers_as

    service = handle.service
    if service == "hashserver":
        verify_hashserver(handle.url, writable=True)
    elif service == "database":
        verify_database(handle.url)
    elif service == "jobserver":
        if not answers_as(service, handle.url):
            raise ServiceError(f"jobserver at {handle.url} does not answer as a jobserver")
    elif service in CHECKS:
        _verify_scheduler(handle)
    return CHECKS.get(service, "running")


def _verify_scheduler(handle) -> None:
    from urllib.parse import urlsplit

    from .health import answers_as, connect_host

    if not isinstance(handle.dashboard_port, int):
        raise ServiceError(f"{handle.service} at {handle.url} has no dashboard port to ask")
    host = connect_host(urlsplit(handle.url).hostname)
    if not answers_as(handle.service, host, handle.dashboard_port):
        raise ServiceError(f"{handle.service} at {handle.url}: its dashboard "
                           f"(port {handle.dashboard_port}) does not answer healthy")

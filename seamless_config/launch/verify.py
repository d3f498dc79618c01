"""Small HTTP clients for the Seamless servers, for checks and tests.

Not the clients Seamless computes with (those live in seamless-remote): just
enough to verify that a launched server stores and serves what it should.
Checksums are SHA-256 hex of the buffer (COMPAT.md section 4).
Requests go through ``_http`` (standard library, no proxies).
"""

from __future__ import annotations

import hashlib
import json

from ..errors import ServiceError

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 30.0


def checksum_of(buffer: bytes) -> str:
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

    def get(self, checksum: str) -> bytes:
        response = self._request("GET", checksum)
        if response.status != 200:
            raise self._fail(f"buffer {checksum} could not be read", response)
        buffer = response.content
        if checksum_of(buffer) != checksum:
            raise ServiceError(f"buffer {checksum} from {self.url} has checksum "
                               f"{checksum_of(buffer)}: the stored file is corrupt")
        return buffer

    def put(self, buffer: bytes) -> str:
        checksum = checksum_of(buffer)
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
    client = BufferClient(url)
    if not client.healthy():
        raise ServiceError(f"hashserver at {url} does not answer its health check")
    if not writable:
        return
    probe = b"seamless-config verify_hashserver probe\n"
    client.get(client.put(probe))  # get() verifies the checksum of what comes back

"""The small HTTP clients against real servers on loopback."""

from __future__ import annotations

import http.server
import os
import threading

import pytest

from interpreter_tests.fixtures_sshd import database_spec, free_port, hashserver_spec
from seamless_config.launch.verify import (BufferClient, DatabaseClient, JobserverClient, checksum_of, verify_hashserver)
from seamless_config.errors import ServiceError
from seamless_config.launch.executor import ensure_service


@pytest.fixture
def hashserver(fake_home, tmp_path):
    return ensure_service(hashserver_spec(tmp_path, "hashserver-clients-rw-x"))


@pytest.fixture
def readonly_hashserver(fake_home, tmp_path):
    return ensure_service(hashserver_spec(tmp_path, "hashserver-clients-ro-x", writable=False))


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_buffer_put_get_has(hashserver):
    client = BufferClient(hashserver.url)
    buffer = b"\x00binary\xffbuffer" * 1000
    checksum = client.put(buffer)
    assert checksum == checksum_of(buffer)
    assert client.get(checksum) == buffer
    assert client.has([checksum, checksum_of(b"absent")]) == [True, False]
    assert client.put(buffer) == checksum  # idempotent


def test_corrupt_store_is_reported(hashserver, tmp_path):
    checksum = checksum_of(b"what was promised")
    # The file named after the checksum holds other bytes; hashserver itself
    # notices and refuses to serve it.
    prefix_dir = tmp_path / "buffers" / checksum[:2]
    prefix_dir.mkdir(exist_ok=True)
    (prefix_dir / checksum).write_bytes(b"something else")
    with pytest.raises(ServiceError, match=rf"buffer {checksum} could not be read at "
                                           rf"{hashserver.url}: HTTP [45]\d\d"):
        BufferClient(hashserver.url).get(checksum)


class _LyingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"something else"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_buffer_get_verifies_the_checksum():
    """A server that answers with the wrong bytes (hashserver cannot be made
    to, so a plain HTTP server plays one)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LyingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        checksum = checksum_of(b"what was promised")
        with pytest.raises(ServiceError) as info:
            BufferClient(url).get(checksum)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert str(info.value) == (f"buffer {checksum} from {url} has checksum "
                               f"{checksum_of(b'something else')}: the stored file is corrupt")


def test_buffer_missing_and_unreachable(hashserver):
    missing = checksum_of(b"never stored")
    with pytest.raises(ServiceError, match=rf"buffer {missing} could not be read at .*HTTP 404"):
        BufferClient(hashserver.url).get(missing)
    url = dead_url()
    with pytest.raises(ServiceError, match=rf"GET {url}/{missing} failed: "):
        BufferClient(url).get(missing)


def test_readonly_hashserver_refuses_writes(readonly_hashserver):
    client = BufferClient(readonly_hashserver.url)
    with pytest.raises(ServiceError, match=r"could not be written at .*: HTTP 405"):
        client.put(b"not allowed")
    verify_hashserver(readonly_hashserver.url, writable=False)
    with pytest.raises(ServiceError, match="could not be written"):
        verify_hashserver(readonly_hashserver.url, writable=True)


def test_verify_hashserver(hashserver):
    verify_hashserver(hashserver.url, writable=True)
    url = dead_url()
    with pytest.raises(ServiceError) as info:
        verify_hashserver(url, writable=False)
    assert str(info.value) == f"hashserver at {url} does not answer its health check"


def test_database_transformation_results(fake_home, tmp_path):
    handle = ensure_service(database_spec(tmp_path, "database-clients-rw-x"))
    client = DatabaseClient(handle.url)
    tf, result = checksum_of(b"transformation"), checksum_of(b"result")
    assert client.healthy()
    assert client.get_transformation_result(tf) is None
    client.set_transformation_result(tf, result)
    assert client.get_transformation_result(tf) == result
    with pytest.raises(ServiceError, match=r"could not be written at .*HTTP 400"):
        client.set_transformation_result(tf, "not-a-checksum")


def test_jobserver_client_health():
    assert JobserverClient(dead_url()).healthy() is False
    assert os.environ.get("HOME")  # the clients need no configuration at all

"""The socket-level HTTP helper against a real server (the standard
library's http.server) and a real hashserver-style check."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from seamless_config.launch.http import HTTPFailure, request

from .fixtures_sshd import free_port


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = f"{self.path} {self.headers.get('Content-Type')}".encode()
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[::-1])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_get_put_status_and_chunked(server):
    r = request("GET", server + "/a?b=1", content_type="application/json")
    assert (r.status, r.text) == (200, "/a?b=1 application/json")
    assert request("GET", server + "/missing").status == 404
    assert (request("PUT", server + "/x", b"abc").status,
            request("PUT", server + "/x", b"abc").content) == (201, b"cba")
    assert request("GET", server + "/chunked").content == b"hello world"


def test_refused_port_is_an_http_failure():
    port = free_port()
    with pytest.raises(HTTPFailure, match=f"GET http://127.0.0.1:{port}/ failed: "):
        request("GET", f"http://127.0.0.1:{port}/")

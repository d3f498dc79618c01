"""What the warm seamless-init leaves unimported (issue 14), checked as
behaviour, not time (timing goals live in bench/): the Seamless runtime,
and the standard modules launch/ defers; and the URL splitting that
replaces urllib.parse in launch/http.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from seamless_config.launch.http import request, split_url

from .conftest import local_project

# Not wanted on the warm path: the runtime, and what launch/ defers.
UNWANTED = ("seamless", "seamless_remote", "aiohttp", "requests", "http.client",
            "urllib.parse", "hashlib", "tempfile", "concurrent.futures", "subprocess",
            "yaml", "lark", "fabric", "distributed")
# Counted from the script's start: the interpreter's site hooks (an
# editable install's finder) may have imported some before.
IN_PROCESS = """
import sys
before = set(sys.modules)
import json
from seamless_config.cli.init import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print("LOADED " + json.dumps([m for m in %r if m in sys.modules and m not in before]),
          file=sys.stderr)
""" % (UNWANTED,)


def test_the_warm_seamless_init_imports_none_of_them(fake_home, tmp_path):
    root = local_project(tmp_path / "p", hash_ports=(48400, 48449), db_ports=(48450, 48499))
    env = {**os.environ, "SEAMLESS_CACHE": str(tmp_path / "cache")}  # no file is read
    loaded = []
    for _ in ("cold", "warm"):
        out = subprocess.run([sys.executable, "-c", IN_PROCESS, "--workdir", str(root),
                              "--json"], capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        loaded.append(json.loads(out.stderr.rsplit("LOADED ", 1)[1]))
        assert [s["launched"] for s in json.loads(out.stdout)["services"]] == (
            [True, True] if len(loaded) == 1 else [False, False])
    assert "subprocess" in loaded[0]  # the cold run launched: the check can see imports
    assert loaded[1] == []


@pytest.mark.parametrize("url, parts", [
    ("http://127.0.0.1:5000", ("127.0.0.1", 5000, "/")),
    ("http://Host.Example:80/a/b?x=1#frag", ("host.example", 80, "/a/b?x=1")),
    ("http://h?q=1", ("h", 80, "/?q=1")),
    ("HTTP://[::1]:8080/healthcheck", ("::1", 8080, "/healthcheck")),
])
def test_split_url(url, parts):
    assert split_url(url) == parts


@pytest.mark.parametrize("url", [
    "https://h:1/", "h:1", "http://:80/", "http://user@h:1/", "http://h:x/", "http://h:0/",
    "http://h:65536/", "http://[::1/", "http://[::1]x/", "http://hé:1/", "http://h h:1/"])
def test_split_url_refuses(url):
    with pytest.raises(ValueError):
        split_url(url)


def test_a_request_over_ipv6_loopback_names_the_host_in_brackets():
    import socket
    import threading

    try:
        server = socket.socket(socket.AF_INET6)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    server.listen()
    seen = []

    def answer():
        conn, _ = server.accept()
        with conn:
            seen.append(conn.recv(65536))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    thread = threading.Thread(target=answer)
    thread.start()
    port = server.getsockname()[1]
    try:
        response = request("GET", f"http://[::1]:{port}/x")
    finally:
        thread.join(10)
        server.close()
    assert (response.status, response.content) == (200, b"ok")
    assert f"Host: [::1]:{port}\r\n".encode() in seen[0]

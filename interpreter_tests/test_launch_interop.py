"""Shared state files with remote-http-launcher 0.4.5, both ways: it reuses
a server we launched, and we reuse one it launched (COMPAT.md section 3)."""

from __future__ import annotations

import pytest

from interpreter_tests.fixtures_sshd import hashserver_spec
from seamless_config.launch import health, state
from seamless_config.launch.executor import ensure_service
from seamless_config.launch.local import pid_alive

remote_http_launcher = pytest.importorskip("remote_http_launcher")


@pytest.fixture
def rhl_home(fake_home, monkeypatch):
    # remote-http-launcher 0.4.5 keeps its client files directly in
    # $REMOTE_HTTP_LAUNCHER_DIR and passes a status file outside the server/
    # directory its own helper accepts; it works only with the default
    # ~/.remote-http-launcher, which is where fake_home's directory is too.
    monkeypatch.delenv("REMOTE_HTTP_LAUNCHER_DIR")
    return fake_home


def test_remote_http_launcher_reuses_our_server(rhl_home, tmp_path):
    spec = hashserver_spec(tmp_path, "hashserver-interop-rw-ours")
    ours = ensure_service(spec)
    state.remove_client(spec.key)  # make it read the server state, not our client file
    payload = remote_http_launcher.run(spec.to_dict())
    assert payload["port"] == ours.port
    assert payload["hostname"] == "127.0.0.1"
    record = state.read_server(spec.key)
    assert record["pid"] == ours.pid and record["status"] == "running"
    assert state.read_client(spec.key)["port"] == ours.port


def test_we_reuse_a_server_remote_http_launcher_started(rhl_home, tmp_path):
    spec = hashserver_spec(tmp_path, "hashserver-interop-rw-theirs")
    payload = remote_http_launcher.run(spec.to_dict())
    record = state.read_server(spec.key)
    assert record["status"] == "running" and pid_alive(record["pid"])
    handle = ensure_service(spec)
    assert not handle.launched
    assert (handle.port, handle.pid) == (payload["port"], record["pid"])
    assert health.healthy(handle.url)

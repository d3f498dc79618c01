"""The warm path of seamless-init and init() (activation._reuse_running)
reuses a running server only when it works on the storage asked for: the
launcher keys of SEAMLESS_CACHE do not name the cache directory, so two
cache directories under one HOME share them. A server of the other
directory goes through the launch path, which restarts it (with its
warning), as it does for any server started differently."""

from __future__ import annotations

import json
import os
import subprocess
import sys

INIT = [sys.executable, "-m", "seamless_config.cli.init", "--json"]


def init(cache, cwd):
    env = {k: v for k, v in os.environ.items() if k != "SEAMLESS_REMOTE_CLIENTS"}
    out = subprocess.run(INIT, capture_output=True, text=True, timeout=120, cwd=cwd,
                         env={**env, "SEAMLESS_CACHE": str(cache)})
    assert out.returncode == 0, out.stderr
    services = {s["service"]: s for s in json.loads(out.stdout)["services"]}
    return services, out.stderr


def test_a_server_of_another_cache_directory_is_not_taken_as_warm(fake_home, tmp_path):
    first, _ = init(tmp_path / "a", tmp_path)
    assert all(s["launched"] for s in first.values())
    second, stderr = init(tmp_path / "b", tmp_path)
    assert all(s["launched"] for s in second.values()), stderr
    assert "restarting it" in stderr and str(tmp_path / "b") in stderr
    for service in ("hashserver", "database"):
        assert second[service]["checked"], second[service]  # verified, as launched
        with open(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "server",
                               second[service]["key"] + ".json")) as f:
            record = json.load(f)
        assert record["workdir"] == str(tmp_path / "b" / "__TOPLEVEL__")
    third, stderr = init(tmp_path / "b", tmp_path)  # the same directory again: warm
    assert not any(s["launched"] for s in third.values()) and "restarting" not in stderr

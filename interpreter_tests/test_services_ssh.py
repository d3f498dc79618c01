"""``seamless-config services`` for servers on a cluster frontend reached
over the loopback sshd fixture (tunnel mode): ps, logs, stop and clear go
over SSH; the tunnel recorded in the client file is shown and closed."""

from __future__ import annotations

import json
import os

import pytest

from seamless_config.launch.verify import BufferClient

from .conftest import write_tree
from .test_services import follow_until_interrupted, init, services


def far_project(root, data, alias):
    write_tree(root, {"seamless.yaml": f"""
        - project: far
        - clusters:
            farm:
              type: slurm
              tunnel: true
              frontends:
                - hostname: {alias}
                  hashserver:
                    bufferdir: {data}/buffers
                    network_interface: 127.0.0.1
                    port_start: 44300
                    port_end: 44349
                  database:
                    database_dir: {data}/db
                    network_interface: 127.0.0.1
                    port_start: 44350
                    port_end: 44399
        - cluster: farm
        - execution: process
        """})
    return root


@pytest.fixture
def far(fake_home, remote_cleanup, tmp_path):
    """(work dir, remote data dir, sshd, seamless-init's services) for stage
    'ssh' of project 'far' on the sshd's frontend."""
    remote_cleanup.write_client_config(fake_home)
    data = tmp_path / "remote-data"
    root = far_project(tmp_path / "p", data, remote_cleanup.alias)
    return root, data, remote_cleanup, init(root, "--stage", "ssh")


def remote_record(sshd, key):
    with open(os.path.join(sshd.remote_launcher_dir, "server", key + ".json")) as f:
        return json.load(f)


def local_client(key):
    with open(os.path.join(os.environ["REMOTE_HTTP_LAUNCHER_DIR"], "client", key + ".json")) as f:
        return json.load(f)


def far_rows(root, *args):
    out = services(root, "ps", "--json", "--cluster", "farm", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["servers"]


def test_ps_stop_and_clear_over_ssh(far):
    root, data, sshd, started = far
    checksum = BufferClient(started["hashserver"]["url"]).put(b"on the frontend")
    rows = far_rows(root)
    keys = ["hashserver-farm-rw-far--STAGE-ssh", "database-farm-rw-far--STAGE-ssh"]
    records = [remote_record(sshd, k) for k in keys]
    clients = [local_client(k) for k in keys]
    assert [(r["key"], r["project"], r["stage"], r["host"], r["state"], r["pid"], r["port"],
             r["seen_in"]) for r in rows] == [
        (k, "far", "ssh", sshd.alias, "running", rec["pid"], rec["port"], "server")
        for k, rec in zip(keys, records)]
    assert all(isinstance(r["uptime"], int) for r in rows)
    assert [r["tunnel"] for r in rows] == [
        {"local_port": c["port"], "via": sshd.alias, "pid": c["tunnel_pid"], "open": True}
        for c in clients]

    out = services(root, "stop", "--stage", "ssh")
    assert out.stdout.splitlines() == [
        f"stopped hashserver '{keys[0]}' on {sshd.alias} (pid {records[0]['pid']}, SIGINT); "
        "closed its tunnel",
        f"stopped database '{keys[1]}' on {sshd.alias} (pid {records[1]['pid']}, SIGINT); "
        "closed its tunnel"]
    rows = far_rows(root)
    assert [(r["state"], r["reason"], r["tunnel"]["open"]) for r in rows] == [
        ("stale", "stopped", False)] * 2

    buffers = data / "buffers" / "far" / "STAGE-ssh"
    assert (buffers / checksum[:2] / checksum).is_file()
    cleared = services(root, "clear", "--service", "hashserver", "--stage", "ssh", "--yes")
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.splitlines()[1:] == [
        f"  in {buffers}", f"deleted {cleared.stdout.split('(')[1].split(')')[0]} "
                           f"from {buffers}"]
    assert os.listdir(buffers) == []


def test_logs_over_ssh_and_a_remote_rhl_file(far):
    root, _, sshd, _ = far
    key = "hashserver-farm-rw-far--STAGE-ssh"
    with open(remote_record(sshd, key)["log"]) as f:
        last = f.read().splitlines(keepends=True)[-3:]
    out = services(root, "logs", "--service", "hashserver", "--stage", "ssh", "--tail", "3")
    assert (out.returncode, out.stdout) == (0, "".join(last))
    # a state file left on the frontend by remote-http-launcher, without meta
    with open(os.path.join(sshd.remote_launcher_dir, "server",
                           "jobserver-farm-rw-far--STAGE-sshSUBSTAGE-gpu.json"), "w") as f:
        json.dump({"workdir": "/x", "log": "/x.log", "command": "seamless-jobserver",
                   "uid": 0, "pid": 999999999, "status": "running", "port": 44398}, f)
    out = services(root, "ps", "--json", "--all-clusters", "--service", "jobserver")
    rows = json.loads(out.stdout)["servers"]
    assert [(r["service"], r["project"], r["stage"], r["substage"], r["host"], r["state"],
             r["reason"], r["described_by"]) for r in rows] == [
        ("jobserver", "far", "ssh", "gpu", sshd.alias, "stale", "pid 999999999 is gone", "key")]


def test_unreachable_frontend_exits_4(fake_home, tmp_path):
    root = far_project(tmp_path / "p", tmp_path / "d", "no-such-host.invalid")
    out = services(root, "ps")
    assert out.returncode == 4 and out.stdout == "no servers known\n"
    assert out.stderr.startswith("warning: cannot list the servers on no-such-host.invalid: "
                                 "cannot open SSH connection to no-such-host.invalid")
    assert "Traceback" not in out.stderr


def test_inspect_follow_and_rm_over_ssh(far):
    root, _, sshd, _ = far
    key = "database-farm-rw-far--STAGE-ssh"
    args = ("--service", "database", "--stage", "ssh")
    record = remote_record(sshd, key)
    launcher = os.environ["REMOTE_HTTP_LAUNCHER_DIR"]
    out = services(root, "inspect", *args)
    assert json.loads(out.stdout) == {"database": {
        "key": key, "service": "database", "host": sshd.alias,
        "server_file": os.path.join(sshd.remote_launcher_dir, "server", key + ".json"),
        "server": record, "client_file": f"{launcher}/client/{key}.json",
        "client": local_client(key)}}
    seen = follow_until_interrupted(root, *args, "--tail", "1", marker="remote marker",
                                    append_to=record["log"])
    assert "remote marker\n" in seen.replace("\r\n", "\n")  # a pty ends lines with CRLF
    services(root, "stop", *args)
    out = services(root, "rm", *args)
    assert out.stdout == (f"database '{key}': removed server state on {sshd.alias} and "
                          "client file on this machine\n")
    assert not os.path.exists(os.path.join(sshd.remote_launcher_dir, "server", key + ".json"))
    assert os.path.exists(record["log"])

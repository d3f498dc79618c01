"""Remote launches over a real sshd on loopback: direct and tunneled access,
reuse with and without SSH, relaunch, and clear messages for SSH failures."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from interpreter_tests.fixtures_sshd import REPO, free_port, hashserver_spec, kill_pid
from seamless_config._record import replace
from seamless_config.launch.verify import BufferClient
from seamless_config.errors import SeamlessConfigWarning, ServiceError
from seamless_config.launch import health, state
from seamless_config.launch.executor import ensure_service, read_handle
from seamless_config.launch.local import pid_alive


def remote_state(sshd, key: str) -> dict:
    with open(os.path.join(sshd.remote_launcher_dir, "server", key + ".json")) as f:
        return json.load(f)


@pytest.fixture
def ssh_home(fake_home, remote_cleanup):
    """(home, sshd) with ~/.ssh/config naming the test sshd."""
    remote_cleanup.write_client_config(fake_home)
    return fake_home, remote_cleanup


def remote_spec(tmp_path, sshd, key: str, **fields):
    return hashserver_spec(tmp_path, key, hostname="127.0.0.1", ssh_hostname=sshd.alias,
                           **fields)


def test_remote_launch_reuse_and_relaunch(ssh_home, tmp_path):
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-direct")
    handle = ensure_service(spec)
    assert handle.launched and handle.host == "127.0.0.1"
    assert handle.url == f"http://127.0.0.1:{handle.port}" and handle.tunnel_port is None
    record = remote_state(sshd, spec.key)
    assert record["status"] == "running" and record["pid"] == handle.pid
    assert record["log"] == os.path.join(sshd.remote_launcher_dir, "server", spec.key + ".log")
    client = state.read_client(spec.key)
    assert client == {"hostname": "127.0.0.1", "port": handle.port, "meta": {},
                      "ssh_hostname": sshd.alias, "server_pid": handle.pid}
    buffers = BufferClient(handle.url)
    assert buffers.get(buffers.put(b"over ssh")) == b"over ssh"

    fast = ensure_service(spec)  # from the client file, no SSH
    assert (fast.launched, fast.url, fast.pid) == (False, handle.url, handle.pid)
    state.remove_client(spec.key)
    checked = ensure_service(spec)  # through SSH and the remote state
    assert (checked.launched, checked.url, checked.pid) == (False, handle.url, handle.pid)

    kill_pid(handle.pid)
    assert read_handle(spec) is None
    with pytest.warns(SeamlessConfigWarning, match=rf"on 127.0.0.1: its process \(pid "
                                                   rf"{handle.pid}\) is gone; relaunching"):
        again = ensure_service(spec)
    assert again.launched and again.pid != handle.pid and health.healthy(again.url)


TUNNEL_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from interpreter_tests.fixtures_sshd import hashserver_spec
from seamless_config.launch.executor import ensure_service
spec = hashserver_spec(sys.argv[2], "hashserver-ssh-rw-tunnel", hostname="127.0.0.1",
                       ssh_hostname=sys.argv[3], tunnel=True)
h = ensure_service(spec)
print(json.dumps({"url": h.url, "pid": h.pid, "port": h.port, "tunnel_port": h.tunnel_port}))
"""


def _wait_until(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_tunnel_outlives_its_launcher_and_dies_with_the_server(ssh_home, tmp_path):
    _, sshd = ssh_home
    out = subprocess.run([sys.executable, "-c", TUNNEL_CHILD, REPO, str(tmp_path), sshd.alias],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    launched = json.loads(out.stdout)
    client = state.read_client("hashserver-ssh-rw-tunnel")
    tunnel_pid = client["tunnel_pid"]
    assert client["hostname"] == "localhost" and client["port"] == launched["tunnel_port"]
    assert client["tunneled-host"] == sshd.alias
    assert client["tunneled-port"] == launched["port"] != launched["tunnel_port"]
    assert launched["url"] == f"http://127.0.0.1:{launched['tunnel_port']}"

    assert pid_alive(tunnel_pid), "the tunnel died with the process that opened it"
    buffers = BufferClient(launched["url"])
    assert buffers.get(buffers.put(b"through the tunnel")) == b"through the tunnel"
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-tunnel", tunnel=True)
    reused = ensure_service(spec)
    assert (reused.launched, reused.url, reused.pid) == (False, launched["url"], launched["pid"])

    kill_pid(launched["pid"])  # the "remote" server runs on this machine
    assert _wait_until(lambda: not pid_alive(tunnel_pid), 20), "tunnel outlived its server"
    assert not health.healthy(launched["url"])

    with pytest.warns(SeamlessConfigWarning, match="is gone; relaunching"):
        again = ensure_service(spec)
    assert again.launched and again.tunnel_port != launched["tunnel_port"]
    assert pid_alive(state.read_client(spec.key)["tunnel_pid"]) and health.healthy(again.url)


def test_server_unreachable_from_here_is_abandoned(ssh_home, tmp_path):
    """It listens on 127.0.0.1 of its host, but this machine is told to use
    127.0.0.2: healthy there, unreachable here, so it is stopped."""
    _, sshd = ssh_home
    spec = replace(remote_spec(tmp_path, sshd, "hashserver-ssh-rw-unreachable"),
                   hostname="127.0.0.2")
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    record = remote_state(sshd, spec.key)
    port = record["port"]
    assert str(info.value).splitlines()[0] == (
        f"hashserver 'hashserver-ssh-rw-unreachable' on 127.0.0.2: answers on its host (port "
        f"{port}) but not from this machine at http://127.0.0.2:{port}; make it listen on an "
        "interface this machine reaches (network_interface), or set tunnel: true")
    assert record["status"] == "failed" and not pid_alive(record["pid"])


def test_remote_missing_executable(ssh_home, tmp_path):
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-noexe")
    spec = replace(spec, argv=("no-such-server-xyz", *spec.argv[1:]))
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    assert str(info.value).splitlines()[0] == (
        "hashserver 'hashserver-ssh-rw-noexe' on 127.0.0.1: executable 'no-such-server-xyz' "
        "not found on the remote PATH (exit 127); install it there, or set conda to the "
        "environment that has it")


def test_remote_unwritable_data_directory(ssh_home, tmp_path):
    _, sshd = ssh_home
    regular_file = tmp_path / "a-file"
    regular_file.write_text("")
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-nodir", workdir=str(regular_file / "x"))
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    first = str(info.value).splitlines()[0]
    assert first.startswith(f"hashserver 'hashserver-ssh-rw-nodir' on 127.0.0.1: cannot create "
                            f"its data directory {regular_file}/x: mkdir: ")
    assert first.endswith("Not a directory; choose a writable location (bufferdir / database_dir)")


def test_unknown_host(fake_home, tmp_path):
    spec = hashserver_spec(tmp_path, "hashserver-ssh-rw-unknown", hostname="no-such-host.invalid")
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    assert str(info.value) == (
        "cannot open SSH connection to no-such-host.invalid: unknown host "
        "'no-such-host.invalid'; check the hostname/ssh_hostname and HostName in ~/.ssh/config")


def test_refused_ssh_port(fake_home, sshd, tmp_path):
    port = free_port()
    sshd.write_client_config(fake_home, {"closed-sshd": port})
    spec = hashserver_spec(tmp_path, "hashserver-ssh-rw-refused", hostname="127.0.0.1",
                           ssh_hostname="closed-sshd")
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    assert str(info.value) == (
        f"cannot open SSH connection to closed-sshd (127.0.0.1 port {port}): connection "
        f"refused at 127.0.0.1 port {port}; check that sshd runs there and the Port in "
        "~/.ssh/config")


def test_port_that_is_not_ssh(fake_home, sshd, tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        sshd.write_client_config(fake_home, {"not-sshd": port})
        spec = hashserver_spec(tmp_path, "hashserver-ssh-rw-banner", hostname="127.0.0.1",
                               ssh_hostname="not-sshd")
        with pytest.raises(ServiceError) as info:
            ensure_service(spec, deadline=2)
    assert str(info.value).endswith(
        f"127.0.0.1 port {port} does not answer as an SSH server (no SSH banner); check the "
        "Port in ~/.ssh/config")


def test_wrong_key(fake_home, sshd, tmp_path):
    other_key = str(tmp_path / "other-key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other_key], check=True)
    sshd.write_client_config(fake_home, key_file=other_key)
    spec = hashserver_spec(tmp_path, "hashserver-ssh-rw-auth", hostname="127.0.0.1",
                           ssh_hostname=sshd.alias)
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    assert str(info.value) == (
        f"cannot open SSH connection to {sshd.alias} (127.0.0.1 port {sshd.port}): "
        f"authentication as 'root' failed at 127.0.0.1 port {sshd.port}; check User and "
        "IdentityFile in ~/.ssh/config, or load the key into ssh-agent")


def test_remote_server_that_dies_reports_its_log(ssh_home, tmp_path):
    """A remote server that dies during start-up: the error carries its log."""
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-dies")
    spec = replace(spec, argv=("sh", "-c", "echo about to fail; exit 3"))
    with pytest.raises(ServiceError) as info:
        ensure_service(spec, deadline=20)
    text = str(info.value)
    assert text.startswith("hashserver 'hashserver-ssh-rw-dies' on 127.0.0.1: exited before "
                           "answering its health check")
    assert "about to fail" in text
    assert remote_state(sshd, spec.key)["status"] == "failed"


MACHINE_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from interpreter_tests.fixtures_sshd import hashserver_spec
from seamless_config.launch.executor import ensure_service
spec = hashserver_spec(sys.argv[2], "hashserver-ssh-rw-machines", hostname="127.0.0.1",
                       ssh_hostname=sys.argv[3])
h = ensure_service(spec)
print(json.dumps({"pid": h.pid, "launched": h.launched}))
"""


def test_clients_on_different_machines_start_one_server(ssh_home, tmp_path):
    """Four client machines (each its own launcher directory, so their local
    locks do not meet) ask for the same remote server at once: the lock on
    the remote host lets one launch it and the others reuse it."""
    home, sshd = ssh_home
    env_of = lambda i: {**os.environ, "REMOTE_HTTP_LAUNCHER_DIR":  # noqa: E731
                        str(tmp_path / f"machine{i}" / ".remote-http-launcher")}
    children = [subprocess.Popen([sys.executable, "-c", MACHINE_CHILD, REPO, str(tmp_path),
                                  sshd.alias], env=env_of(i), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for i in range(4)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    assert sorted(r["launched"] for r in results) == [False, False, False, True]
    assert len({r["pid"] for r in results}) == 1
    assert remote_state(sshd, "hashserver-ssh-rw-machines")["pid"] == results[0]["pid"]
    locks = os.path.join(sshd.remote_launcher_dir, "locks")
    assert not os.path.exists(locks) or os.listdir(locks) == []  # every lock released


def _plant_lock(sshd, key: str, owner: dict, age: float) -> str:
    path = os.path.join(sshd.remote_launcher_dir, "locks", key + ".lockdir")
    os.makedirs(path)
    with open(os.path.join(path, "owner"), "w") as f:
        json.dump(owner, f)
    made = time.time() - age
    os.utime(path, (made, made))
    return path


def test_a_lock_left_on_the_host_by_a_dead_launcher_is_taken_over(ssh_home, tmp_path, caplog):
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-stale-lock")
    path = _plant_lock(sshd, spec.key, {"host": "login2", "pid": 4242, "hold_seconds": 70},
                       age=300)
    handle = ensure_service(spec, deadline=30)
    assert handle.launched and health.healthy(handle.url)
    assert not os.path.exists(path)
    assert os.listdir(os.path.dirname(path)) == []  # the renamed stale lock is gone too
    assert "taking over the launch lock" in caplog.text and "login2, pid 4242" in caplog.text


def test_a_live_lock_on_the_host_is_waited_for_and_named_on_timeout(ssh_home, tmp_path):
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-held-lock")
    path = _plant_lock(sshd, spec.key, {"host": "login2", "pid": 4242, "hold_seconds": 600},
                       age=5)
    start = time.monotonic()
    with pytest.raises(ServiceError) as info:
        ensure_service(spec, deadline=2)
    assert 2 <= time.monotonic() - start < 20
    assert str(info.value) == (
        "hashserver 'hashserver-ssh-rw-held-lock' on 127.0.0.1: timed out waiting for another "
        f"launch of it (held by login2, pid 4242; lock {path} on 127.0.0.1)")
    assert os.path.isdir(path)  # not ours to remove
    assert not os.path.exists(os.path.join(sshd.remote_launcher_dir, "server",
                                           spec.key + ".json"))  # nothing was started
    shutil.rmtree(path)  # the planted lock, for the tests after this one


def test_a_lock_that_cannot_be_made_on_the_host_is_a_service_error(ssh_home, tmp_path):
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-no-lock")
    blocker = os.path.join(sshd.remote_launcher_dir, "locks")
    os.makedirs(sshd.remote_launcher_dir, exist_ok=True)
    if os.path.isdir(blocker):
        os.rmdir(blocker)  # empty: the other tests released their locks
    with open(blocker, "w"):
        pass  # a file where the locks directory belongs
    try:
        with pytest.raises(ServiceError) as info:
            ensure_service(spec, deadline=10)
    finally:
        os.unlink(blocker)
    assert str(info.value).startswith(
        f"cannot create the launch lock 127.0.0.1:{blocker}/{spec.key}.lockdir: ")
    assert not os.path.exists(os.path.join(sshd.remote_launcher_dir, "server",
                                           spec.key + ".json"))


def test_taking_over_gives_back_a_lock_made_after_the_check(ssh_home, tmp_path):
    """Two launchers find the same dead lock; the first takes it over and
    locks. The second's rename then catches the first's new lock: it sees
    that lock's time is not the one it judged dead, and puts it back."""
    from seamless_config.launch import remote as ssh

    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-give-back")
    path = _plant_lock(sshd, spec.key, {"host": "login3", "pid": 7, "hold_seconds": 600},
                       age=1)  # the first launcher's fresh lock
    judged_dead_at = int(time.time()) - 500
    try:
        with ssh.open_remote(spec, time.monotonic() + 30) as remote:
            remote._take_over(path, judged_dead_at)
        with open(os.path.join(path, "owner")) as f:
            assert json.load(f)["host"] == "login3"  # still there, still the first's
        assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_a_remote_server_whose_record_is_corrupt_is_named_not_twinned(ssh_home, tmp_path):
    """Issue 13, item 5, on a frontend: the record of a running remote server
    is truncated; the next launch finds the server through ps on the host
    and names it instead of starting a second one on the same storage."""
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-corrupt")
    first = ensure_service(spec)
    path = os.path.join(sshd.remote_launcher_dir, "server", spec.key + ".json")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text[: len(text) // 2])
    state.remove_client(spec.key)
    with pytest.raises(ServiceError) as info:
        ensure_service(spec)
    assert f"a server for this key is running but its state file does not record it (pid " \
           f"{first.pid}: " in info.value.message
    assert pid_alive(first.pid)


def test_a_remote_record_naming_another_process_is_left_alone(ssh_home, tmp_path):
    _, sshd = ssh_home
    spec = remote_spec(tmp_path, sshd, "hashserver-ssh-rw-foreign")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             start_new_session=True)
    try:
        path = os.path.join(sshd.remote_launcher_dir, "server", spec.key + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump({"status": "running", "pid": other.pid, "port": free_port(),
                       "command": "hashserver /x"}, f)
        with pytest.warns(SeamlessConfigWarning, match=rf"its pid {other.pid} now runs another "
                          "program, which was left alone; relaunching"):
            handle = ensure_service(spec)
        assert handle.launched and other.poll() is None
        mode = os.stat(os.path.join(sshd.remote_launcher_dir, "server")).st_mode & 0o777
        assert mode == 0o700
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert os.stat(path[:-5] + ".log").st_mode & 0o777 == 0o600
    finally:
        kill_pid(other.pid)
        other.wait(timeout=10)

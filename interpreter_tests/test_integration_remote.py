"""``execution: remote`` and remote clients with the real Seamless runtime:
a jobserver or daskserver our executor launched runs the transformation
against our hashserver and database; clients collected in one process are
handed to another through SEAMLESS_REMOTE_CLIENTS. Ports 46200-46599."""

from __future__ import annotations

import json
import os
import re
import sys

from seamless_config.launch.verify import BufferClient, DatabaseClient

from .test_integration_support import (buffer_file, clean_env, executions, project, run,
                                       run_code, run_script, server_record, server_url,
                                       stored_results)

REMOTE = "- execution: remote\n- remote: {}"


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def executed_by(root) -> list[int]:
    return [int(re.search(r"process (\d+)$", ln).group(1)) for ln in executions(root)]


def check_stored(home, root) -> None:
    rows = stored_results(os.path.join(root, "data", "db", "demo", "seamless.db"))
    assert len(rows) == 1
    tf, result = rows[0]
    buffer_file(os.path.join(root, "data", "buffers", "demo"), result)
    assert DatabaseClient(server_url(home, "database-here-rw-demo")) \
        .get_transformation_result(tf) == result


def test_jobserver_runs_the_transformation(fake_home, tmp_path):
    root = project(tmp_path / "p", 46200, ("hashserver", "database", "jobserver"),
                   REMOTE.format("jobserver"))
    assert run_script(root).stdout == "5\n"
    jobserver = server_record(fake_home, "jobserver-here-rw-demo")
    [worker] = executed_by(root)
    assert parent_of(worker) == jobserver["pid"]  # a worker process of our jobserver
    assert jobserver["parameters"] == {  # it was told to store where we do
        "buffer": [{"readonly": False, "url": server_url(fake_home, "hashserver-here-rw-demo"),
                    "directory": os.path.join(root, "data", "buffers", "demo")}],
        "database": [{"readonly": False, "url": server_url(fake_home, "database-here-rw-demo")}],
        "record": False}  # and whether to record execution records, as 0.3.2 told it
    check_stored(fake_home, root)
    run_script(root)
    assert len(executions(root)) == 1


def test_daskserver_runs_the_transformation(fake_home, tmp_path):
    root = project(tmp_path / "p", 46350, ("hashserver", "database", "daskserver"),
                   REMOTE.format("daskserver"))
    assert run_script(root).stdout == "5\n"
    wrapper = server_record(fake_home, "daskserver-here-rw-demo")["pid"]
    [worker] = executed_by(root)
    assert parent_of(parent_of(worker)) == wrapper  # seamless worker < dask worker < wrapper
    check_stored(fake_home, root)
    run_script(root)
    assert len(executions(root)) == 1


COLLECT = """
import json, seamless_config
seamless_config.init()
print(json.dumps(seamless_config.collect_remote_clients("here")))
"""

# A worker: handed clients, it writes through seamless-remote without init().
WORKER = """
import asyncio, json, os, sys
import seamless_config
from seamless import Buffer
from seamless_remote import buffer_remote, database_remote
assert seamless_config.set_remote_clients_from_env()
buf = Buffer(b"written by a worker")
cs = buf.get_checksum()
tf = Buffer(b"a transformation").get_checksum()
async def store():
    assert await buffer_remote.write_buffer(cs, buf)
    await database_remote.set_transformation_result(tf, cs)
    return (await database_remote.get_transformation_result(tf)).hex()
assert asyncio.run(store()) == cs.hex()
seamless_config.init()  # no-op: the handed clients stay, no file is read
try:
    seamless_config.set_remote_clients({"buffer": [], "database": []})
except seamless_config.ConfigurationError as exc:
    print("refused:", exc, file=sys.stderr)
print(json.dumps([cs.hex(), tf.hex(), seamless_config.collect_remote_clients("other")]))
"""


def test_clients_collected_here_work_in_another_process(fake_home, tmp_path):
    root = project(tmp_path / "p", 46450)
    clients = json.loads(run_code(COLLECT, root).stdout)
    hashserver = server_url(fake_home, "hashserver-here-rw-demo")
    database = server_url(fake_home, "database-here-rw-demo")
    assert clients == {
        "buffer": [{"readonly": False, "url": hashserver,
                    "directory": os.path.join(root, "data", "buffers", "demo")}],
        "database": [{"readonly": False, "url": database}]}
    elsewhere = tmp_path / "worker"  # no seamless.yaml: nothing to read
    elsewhere.mkdir()
    out = run_code(WORKER, elsewhere, clean_env(SEAMLESS_REMOTE_CLIENTS=json.dumps(clients)))
    cs, tf, forwarded = json.loads(out.stdout)
    assert "refused: set_remote_clients() must be called before init()" in out.stderr
    assert BufferClient(hashserver).get(cs) == b"written by a worker"
    assert DatabaseClient(database).get_transformation_result(tf) == cs
    assert forwarded == clients  # handed-down clients are forwarded as they came


IN_REMOTE = """
import json, os, sys, seamless_config
from seamless_remote import buffer_remote as b, database_remote as d
clients = json.loads(os.environ["CLIENTS"])
seamless_config.set_remote_clients(clients, in_remote=sys.argv[1] == "in-remote")
print(json.dumps([[c.url for c in b._write_server_clients],
                  [c.directory for c in b._read_folders_clients],
                  [c.url for c in d._read_database_clients],
                  [c.url for c in d._write_database_clients]]))
"""


def test_in_remote_picks_the_addresses_valid_inside_the_cluster(fake_home, tmp_path):
    env = clean_env(CLIENTS=json.dumps({
        "buffer": [{"readonly": False, "url": "http://localhost:1", "remote_url": "http://fe:2",
                    "remote_directory": "~/buffers/demo"}],
        "database": [{"readonly": True, "url": "http://localhost:3",
                      "remote_url": "http://fe:4"}]}))
    shown = {flag: json.loads(run([sys.executable, "-c", IN_REMOTE, flag], tmp_path, env).stdout)
             for flag in ("in-remote", "here")}
    assert shown["in-remote"] == [["http://fe:2"], [os.path.join(fake_home, "buffers", "demo")],
                                  ["http://fe:4"], []]  # read-only: no write client
    assert shown["here"] == [["http://localhost:1"], [], ["http://localhost:3"], []]

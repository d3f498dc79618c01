"""seamless-config inside the real Seamless runtime: examples/seamless_script.py
run as users run it, against a hashserver and database our executor starts
on loopback (ports 46000-46199); every server is killed by pid afterwards."""

from __future__ import annotations

import json
import os
import re

import pytest

from seamless_config.launch.verify import BufferClient, DatabaseClient

from .fixtures_sshd import REPO
from .test_integration_support import (EXAMPLE, buffer_file, clean_env, executions, project,
                                       run_code, run_script, server_record, server_url,
                                       stored_results)

UNSTAGED, PROD = "demo", "demo--STAGE-prod"


def the_result(root, storage: str) -> tuple[str, str]:
    """The one (transformation, result) pair stored for ``storage`` (a
    subpath such as 'demo/STAGE-prod'), checked on disk."""
    rows = stored_results(os.path.join(root, "data", "db", storage, "seamless.db"))
    assert len(rows) == 1, rows
    buffer_file(os.path.join(root, "data", "buffers", storage), rows[0][1])
    return rows[0]


def test_second_run_takes_the_result_from_our_database(fake_home, tmp_path):
    root = project(tmp_path / "p", 46000)
    first = run_script(root)
    assert first.stdout == "5\n"
    assert [re.sub(r"\d+$", "N", ln) for ln in executions(root)] == ["add(2, 3) ran in process N"]
    tf, result = the_result(root, "demo")
    assert DatabaseClient(server_url(fake_home, "database-here-rw-" + UNSTAGED)) \
        .get_transformation_result(tf) == result
    assert BufferClient(server_url(fake_home, "hashserver-here-rw-" + UNSTAGED)) \
        .get(result).strip() == b"5"
    assert run_script(root).stdout == "5\n"
    assert len(executions(root)) == 1  # not executed again


def test_stage_prod_has_storage_of_its_own(fake_home, tmp_path):
    root = project(tmp_path / "p", 46000)
    run_script(root)
    assert run_script(root, "prod").stdout == "5\n"
    assert len(executions(root)) == 2  # the unstaged result is not visible in prod
    tf, _ = the_result(root, "demo/STAGE-prod")
    assert server_record(fake_home, "database-here-rw-" + PROD)["status"] == "running"
    run_script(root, "prod")
    assert len(executions(root)) == 2
    assert the_result(root, "demo")[0] == tf  # same transformation, both stages


ACTIVE_CLIENTS = """
import json, sys
import seamless_config
from seamless_remote import buffer_remote as b, database_remote as d
def active():
    return {"write": sorted(c.url for c in b._write_server_clients),
            "folders": sorted(c.directory for c in b._read_folders_clients),
            "database": sorted(c.url for c in d._write_database_clients)}
seamless_config.init()
shown = [active()]
seamless_config.set_stage("prod")
shown.append(active())
print(json.dumps(shown))
"""


def test_activation_hands_our_servers_to_seamless_remote(fake_home, tmp_path):
    root = project(tmp_path / "p", 46000)
    before, after = json.loads(run_code(ACTIVE_CLIENTS, root).stdout)
    for shown, scope, path in ((before, UNSTAGED, "demo"), (after, PROD, "demo/STAGE-prod")):
        assert shown == {
            "write": [server_url(fake_home, "hashserver-here-rw-" + scope)],
            "folders": [os.path.join(root, "data", "buffers", path)],
            "database": [server_url(fake_home, "database-here-rw-" + scope)]}
    # no second server per key: seamless-remote launched nothing itself
    launched = os.listdir(os.path.join(fake_home, ".remote-http-launcher", "server"))
    assert sorted(n for n in launched if n.endswith(".json")) == sorted(
        f"{s}-here-rw-{scope}.json" for s in ("hashserver", "database")
        for scope in (UNSTAGED, PROD))


WITHOUT_RUNTIME = """
import logging, sys
sys.modules["seamless_remote"] = None  # as if seamless-remote were not installed
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
import seamless_config
seamless_config.init()
seamless_config.set_stage("prod")
print(sorted(m for m in ("seamless", "seamless_remote") if sys.modules.get(m)))
"""


def test_without_seamless_remote_init_launches_and_says_so_once(fake_home, tmp_path):
    root = project(tmp_path / "p", 46000)
    out = run_code(WITHOUT_RUNTIME, root)
    assert out.stdout == "[]\n"
    said = [ln for ln in out.stderr.splitlines() if "not installed" in ln]
    assert said == ["INFO the Seamless runtime (seamless-remote) is not installed: "
                    "servers are running but no client was activated"]
    for key in ("hashserver-here-rw-demo", "database-here-rw-demo--STAGE-prod"):
        assert server_record(fake_home, key)["status"] == "running"


def test_seamless_cache_needs_no_config_files(fake_home, tmp_path):
    root = tmp_path / "bare"
    root.mkdir()
    script = os.path.join(root, "seamless_script.py")
    with open(EXAMPLE) as src, open(script, "w") as dst:
        dst.write(src.read())
    cache = tmp_path / "cache"
    env = clean_env(SEAMLESS_CACHE=str(cache))
    for _ in range(2):
        assert run_script(root, env=env).stdout == "5\n"
    assert len(executions(root)) == 1
    rows = stored_results(os.path.join(cache, "__TOPLEVEL__", "seamless.db"))
    assert len(rows) == 1
    buffer_file(os.path.join(cache, "__TOPLEVEL__"), rows[0][1])
    assert not os.path.exists(root / "seamless.yaml")


def readme_section() -> str | None:
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    found = re.search(r"^## Using it with Seamless\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return found.group(1) if found else None


def test_readme_shows_the_example_script():
    section = readme_section()
    if section is None:
        pytest.skip("README.md has no '## Using it with Seamless' section yet")
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    with open(EXAMPLE) as f:
        assert f.read() in blocks

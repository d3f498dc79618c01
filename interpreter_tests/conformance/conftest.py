"""Session fixtures of the conformance suite: the published packages, the
two environments, and the results of running foreign tests on both (each
computed once per session, shared by the tests that assert on them).

The slow tests carry the ``conformance`` marker (``-m "not conformance"``
leaves them out); they run by default.  A download or build failure fails
them when CI is set (``.ci/run`` exports CI=1) and skips them otherwise, so
a laptop without network still runs the rest of the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

from . import cache, compat_doc, pins, upstream
from .report import RESULTS_ENV
from .runner import Env, job_env

API_DUMP = Path(__file__).with_name("api_dump.py")
# what this session measured, saved for report.py at the end
RECORDED = pytest.StashKey[dict]()


def pytest_configure(config):
    config.stash[RECORDED] = {}
    config.addinivalue_line(
        "markers", "conformance: runs published Seamless code against this package "
        "(downloads and builds a cached side venv on first use)")


def pytest_sessionfinish(session):
    target, recorded = os.environ.get(RESULTS_ENV), session.config.stash.get(RECORDED, None)
    if target and recorded:
        Path(target).write_text(json.dumps(recorded, indent=1, default=_plain))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record the end-to-end outcomes for the results table."""
    outcome = yield
    report = outcome.get_result()
    if item.module.__name__.endswith(".test_cli_e2e") and \
            (report.when == "call" or report.outcome != "passed"):
        scenario, stack = item.originalname, item.callspec.params["project"]
        item.config.stash[RECORDED].setdefault("e2e", {})[f"{scenario}[{stack}]"] = \
            report.outcome


def _plain(value):
    return value.__dict__


def fail_or_skip(message: str):
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def published() -> cache.Published:
    try:
        return cache.ensure_published()
    except cache.BuildError as exc:
        fail_or_skip(f"the published packages could not be fetched or installed:\n{exc}")


@pytest.fixture(scope="session")
def ours() -> Env:
    env = Env("ours", Path(sys.executable), Path(sysconfig.get_path("scripts")))
    wrong = {name: _installed(name) for name in pins.MAIN_ENV
             if _installed(name) != pins.version(name)}
    if wrong:  # the client tests of 0.6.1 mean nothing against another runtime
        # (pip install -e ".[test]" installs the pinned ones)
        pytest.fail(f"the main environment must have the pinned runtime; found {wrong}, "
                    f"pinned {[pins.requirement(n) for n in wrong]}", pytrace=False)
    return env


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@pytest.fixture(scope="session")
def theirs(published, tmp_path_factory) -> Env:
    """The side venv, checked to import 0.3.2 from itself (a stray path
    entry would make the baseline run our code)."""
    env = Env("0.3.2", published.python, published.bin)
    probe = ("import importlib.metadata as m, seamless_config as s; "
             "print(m.version('seamless-config')); print(s.__file__)")
    home = tmp_path_factory.mktemp("probe-home")
    out = subprocess.run([str(env.python), "-c", probe], capture_output=True, text=True,
                         cwd=str(home), env=job_env(env, home), timeout=120)
    lines = out.stdout.split()
    assert out.returncode == 0 and lines[0] == pins.SDISTS["seamless-config"] \
        and lines[1].startswith(str(published.folder)), out.stdout + out.stderr
    return env


@pytest.fixture(scope="session")
def compat() -> compat_doc.CompatDoc:
    try:
        return compat_doc.load()
    except (OSError, compat_doc.CompatDocError) as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def api_dumps(ours, theirs, tmp_path_factory, pytestconfig) -> tuple[dict, dict]:
    """(0.3.2's API, ours), each dumped by its own interpreter."""
    home = tmp_path_factory.mktemp("api-home")
    dumps = []
    for env in (theirs, ours):
        out = subprocess.run([str(env.python), str(API_DUMP)], capture_output=True, text=True,
                             cwd=str(home), env=job_env(env, home), timeout=120)
        assert out.returncode == 0, f"{env.name}: {out.stderr}"
        dumps.append(json.loads(out.stdout))
    pytestconfig.stash[RECORDED]["api"] = {"0.3.2": dumps[0], "ours": dumps[1]}
    return dumps[0], dumps[1]


@pytest.fixture(scope="session")
def own_results(published, ours, theirs, compat, tmp_path_factory, pytestconfig) -> dict:
    """0.3.2's own tests: ``{node id: Item}``."""
    tests = published.tests(upstream.OWN)
    skipped = compat.items(compat_doc.OUT_OF_SCOPE, "0.3.2 test file")
    files = sorted(p.name for p in tests.glob("test_*.py") if f"tests/{p.name}" not in skipped)
    ours_dir, theirs_dir = upstream.prepare(tests, tmp_path_factory.mktemp("own"), files)
    nodes = upstream.collect(theirs, theirs_dir, files, tmp_path_factory.mktemp("collect"))
    results = upstream.run_own_tests(ours, theirs, ours_dir, theirs_dir, nodes)
    pytestconfig.stash[RECORDED]["own"] = {"files": files, "items": results}
    return results


@pytest.fixture(scope="session")
def client_results(published, ours, theirs, api_dumps, tmp_path_factory, pytestconfig) -> list:
    select_names = set(api_dumps[0]["seamless_config.select"])
    suites = []
    for dist in upstream.CLIENTS:
        tests = published.tests(dist)
        files = upstream.client_files(tests, select_names)
        ours_dir, theirs_dir = upstream.prepare(tests, tmp_path_factory.mktemp(dist), files)
        suites.append((dist, ours_dir, theirs_dir, files))
    results = upstream.run_client_tests(ours, theirs, suites)
    pytestconfig.stash[RECORDED]["clients"] = results
    return results

"""seamless-init's argv parser without click (issue 14): for every usual
argv it gives the click command's own parameters; anything else goes to
click, so help, version and bad usage are click's (messages, exit 2); the
errors of a run are rendered as the click path renders them; and a warm
run through it imports no click."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from seamless_config.cli.init_run import OPTIONS, fast_parse
from seamless_config.cli.init_command import main as command

from .conftest import local_project, write_tree

# The same argv through the entry point (fast path when it can) and
# through the click command alone.
ENTRY = "import sys; from seamless_config.cli.init import main; main()"
CLICK = "import sys; from seamless_config.cli.init_command import main; main()"


def click_params(argv):
    ctx = command.make_context("seamless-init", list(argv))
    return ctx.params


def test_the_table_is_the_click_commands_options():
    declared = {p.name: p.opts for p in command.params if p.expose_value}
    assert declared == {o.dest: [o.name] for o in OPTIONS}


def usual(workdir):
    w = str(workdir)
    return [
        [], ["--json"], ["--dry-run"], ["--dry-run", "--json"], ["--new-stage"],
        ["--with-clients"], ["--workdir", w], [f"--workdir={w}"],
        ["--stage", "prod"], ["--stage=prod:a1"], ["--stage", "s.1_x-y", "--new-stage"],
        ["--deadline", "2.5"], ["--deadline=10"], ["--deadline", "1e3"],
        ["--workdir", w, "--stage", "a", "--stage", "b"],  # the last one wins, as in click
        ["--json", "--json", "--dry-run", "--workdir", w, "--deadline", "7", "--with-clients"],
    ]


def unusual(workdir):
    w = str(workdir)
    return [
        ["-h"], ["--help"], ["--version"], ["-v"], ["-vv", "--json"], ["--verbose"],
        ["--bogus"], ["--jso"], ["extra"], ["--json", "extra"], ["--"], ["--workdir"],
        ["--workdir", w + "/missing"], ["--workdir", __file__], ["--workdir="],
        ["--deadline", "soon"], ["--deadline"], ["--deadline", "-1"], ["--json=yes"],
        ["--stage", "a b"], ["--stage", ":sub"], ["--stage", "a:b c"], ["--stage", "-x"],
        ["--stage", ""], ["-j"], ["--dry-run", "-h"],
    ]


def test_usual_argv_parse_as_click_parses_them(tmp_path):
    for argv in usual(tmp_path):
        got = fast_parse(argv, environ={})
        assert got == click_params(argv), argv


def test_anything_else_goes_to_click(tmp_path):
    for argv in unusual(tmp_path):
        assert fast_parse(argv, environ={}) is None, argv
    assert fast_parse(["--json"], environ={"_SEAMLESS_INIT_COMPLETE": "bash_source"}) is None


def run(code, argv, cwd, env):
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


@pytest.fixture
def env(fake_home, tmp_path):
    drop = ("SEAMLESS_REMOTE_CLIENTS", "SEAMLESS_CACHE")  # with it, no file is read
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "NO_COLOR": "1"}


def test_bad_usage_is_clicks_own_through_the_entry_point(tmp_path, env):
    for argv in unusual(tmp_path)[6:]:  # not help, version, -v (a usual run): tested elsewhere
        fast, slow = run(ENTRY, argv, tmp_path, env), run(CLICK, argv, tmp_path, env)
        assert (fast.returncode, fast.stdout, fast.stderr) == (
            slow.returncode, slow.stdout, slow.stderr), argv
    assert run(ENTRY, ["--bogus"], tmp_path, env).returncode == 2


def test_dry_runs_print_the_same_through_both_paths(tmp_path, env):
    root = local_project(tmp_path / "p", hash_ports=(48700, 48749), db_ports=(48750, 48799))
    for argv in (["--dry-run"], ["--dry-run", "--json"], ["--dry-run", "--workdir", str(root)],
                 ["--dry-run", "--stage", "new", "--new-stage", "--workdir", str(root)]):
        fast, slow = run(ENTRY, argv, tmp_path, env), run(CLICK, argv, tmp_path, env)
        assert fast.returncode == 0, fast.stderr
        assert (fast.stdout, fast.stderr) == (slow.stdout, slow.stderr), argv


@pytest.mark.parametrize("files, code", [
    ({"seamless.yaml": "- project: [1, 2]\n"}, 3),  # a mistake in a file
    ({"seamless.yaml": "- project: demo\n- stage: [x]\n"}, None),  # whatever it is, the same
])
def test_errors_of_a_run_are_rendered_as_the_click_path_renders_them(tmp_path, env, files,
                                                                        code):
    write_tree(tmp_path / "w", files)
    argv = ["--workdir", str(tmp_path / "w"), "--dry-run"]
    fast, slow = run(ENTRY, argv, tmp_path, env), run(CLICK, argv, tmp_path, env)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode, slow.stdout, slow.stderr)
    if code is not None:
        assert fast.returncode == code and "error: " in fast.stderr


def test_an_unknown_stage_is_refused_alike(tmp_path, env):
    root = local_project(tmp_path / "p", hash_ports=(48700, 48749), db_ports=(48750, 48799))
    with open(root / "seamless.yaml", "a") as f:
        f.write("- stage prod:\n    - execution: process\n")
    argv = ["--workdir", str(root), "--stage", "prdo"]
    fast, slow = run(ENTRY, argv, tmp_path, env), run(CLICK, argv, tmp_path, env)
    assert fast.returncode == 2 and "--new-stage" in fast.stderr
    assert (fast.returncode, fast.stderr) == (slow.returncode, slow.stderr)


LOADED = """
import json, sys
from seamless_config.cli.init import main
try:
    main()
finally:
    print("LOADED " + json.dumps("click" in sys.modules), file=sys.stderr)
"""


def test_a_usual_seamless_init_imports_no_click_cold_or_warm(fake_home, tmp_path):
    root = local_project(tmp_path / "p", hash_ports=(48700, 48749), db_ports=(48750, 48799))
    env = {k: v for k, v in os.environ.items() if k != "SEAMLESS_CACHE"}
    launched = []
    for argv in (["--json"], ["--json"], ["--json", "-v"]):
        out = run(LOADED, ["--workdir", str(root), *argv], tmp_path, env)
        assert out.returncode == 0, out.stderr
        launched.append([s["launched"] for s in json.loads(out.stdout)["services"]])
        click_loaded = json.loads(out.stderr.rsplit("LOADED ", 1)[1])
        assert click_loaded == ("-v" in argv), argv  # -v: the click path, which can see it
    assert launched == [[True, True], [False, False], [False, False]]

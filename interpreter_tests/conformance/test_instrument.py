"""The measuring instrument itself, on small inputs (no network, fast):
the checked rewrite, the signature rules, COMPAT.md's tables, junit
parsing and the client-file rule."""

import textwrap

import pytest

from . import cache, compat_doc, pins
from .compat_doc import CompatDocError, DIFFERENCES
from .conftest import fail_or_skip
from .rewrite import RESET, RewriteError, check, rewrite, rewrite_checked
from .runner import Env, Job, parse_junit, run_jobs
from .signatures import compare, parameters
from .upstream import touches_config
from .verdicts import judge

TESTS = textwrap.dedent('''\
    import os
    import seamless_config
    import seamless_config.select as select


    def _reset_state(monkeypatch):
        monkeypatch.setattr(seamless_config, "_initialized", False)

        monkeypatch.setattr(select, "_current_cluster", None)


    def test_a(monkeypatch):
        _reset_state(monkeypatch)
        monkeypatch.setattr(os, "_private", None)
        monkeypatch.setattr(select, "_helper", lambda: 3)
        monkeypatch.setattr(seamless_config, "_workdir", None)
        assert select.get_queue() is None
    ''')


def test_rewrite_replaces_only_private_state_resets_of_seamless_config():
    assert rewrite_checked(TESTS) == textwrap.dedent(f'''\
        import os
        import seamless_config
        import seamless_config.select as select


        def _reset_state(monkeypatch):
            {RESET}


        def test_a(monkeypatch):
            _reset_state(monkeypatch)
            monkeypatch.setattr(os, "_private", None)
            monkeypatch.setattr(select, "_helper", lambda: 3)
            {RESET}
            assert select.get_queue() is None
        ''')


@pytest.mark.parametrize("tamper", [
    lambda s: s.replace("is None", "is not None"),  # an assertion changed
    lambda s: s.replace('    monkeypatch.setattr(os, "_private", None)\n', ""),  # not ours
    lambda s: s.replace('    monkeypatch.setattr(select, "_helper", lambda: 3)\n',
                        f"    {RESET}\n"),  # a mock is not a reset
    lambda s: s + f"{RESET}\n",  # an added call
])
def test_check_refuses_any_other_change(tamper):
    with pytest.raises(RewriteError):
        check(TESTS, tamper(rewrite(TESTS)))


def test_a_file_without_private_state_is_unchanged():
    source = "import seamless_config\n\n\ndef test_x():\n    assert seamless_config\n"
    assert rewrite_checked(source) == source


def p(name, kind="POSITIONAL_OR_KEYWORD", default=False):
    return {"name": name, "kind": kind, "default": default}


KW = "KEYWORD_ONLY"


@pytest.mark.parametrize("old,new,found", [
    ([p("cluster", default=True)], [p("cluster", default=True)], []),
    ([p("mode"), p("cluster", KW, True)], [p("mode"), p("cluster", KW, True), p("x", KW, True)],
     []),
    ([p("cluster", default=True)], [], ["parameter 'cluster' missing"]),
    ([p("value"), p("source", KW, True)], [p("value"), p("source", default=True)],
     ["parameter 'source' is positional-or-keyword here, keyword-only in 0.3.2"]),
    ([p("cluster", default=True)], [p("cluster")],
     ["parameter 'cluster' has a default in 0.3.2, none here"]),
    ([p("a")], [p("a"), p("b")], ["extra parameter 'b' without a default"]),
    ([p("a"), p("b")], [p("b"), p("a")],
     ["parameter 'a' is at position 2 here, 1 in 0.3.2",
      "parameter 'b' is at position 1 here, 2 in 0.3.2"]),
    ([p("args", "VAR_POSITIONAL")], [], ["no *args parameter here"]),
    (None, [p("a")], []),
    ([p("a")], None, ["signature not inspectable here"]),
])
def test_parameter_rules(old, new, found):
    assert parameters(old, new) == found


def test_compare_names_classes_and_constants():
    old = {"m": {"f": {"kind": "function", "signature": []},
                 "Q": {"kind": "class", "signature": [p("name")], "members": {},
                       "fields": ["name", "cores"]},
                 "RE": {"kind": "constant", "type": "Pattern"},
                 "gone": {"kind": "function", "signature": []}}}
    new = {"m": {"f": {"kind": "function", "signature": []},
                 "Q": {"kind": "class", "signature": [p("name")], "members": {},
                       "fields": ["name"]},
                 "RE": {"kind": "constant", "type": "str"}}}
    found = {(x.name, x.kind, x.detail) for x in compare(old, new)}
    assert found == {("m.Q", "signature", "dataclass fields missing here: cores"),
                     ("m.RE", "signature", "was a Pattern constant, here a str constant"),
                     ("m.gone", "absent name", "not defined")}


DOC = f"""\
# x

{compat_doc.BEGIN}
old table
{compat_doc.END}

## {compat_doc.OUT_OF_SCOPE}

| Kind | Item | Reason |
|---|---|---|
| 0.3.2 test file | `tests/test_service_ps.py` | private internals |

## {DIFFERENCES}

| Kind | Item | Reason |
|---|---|---|
| 0.3.2 test | `t.py::a` | decided |
| signature | `m.f` | TODO(lead) |
"""


def write_doc(tmp_path, text):
    path = tmp_path / "COMPAT.md"
    path.write_text(text)
    return path


def test_compat_doc_rows_and_results(tmp_path):
    doc = compat_doc.load(write_doc(tmp_path, DOC))
    assert [r.item for r in doc.rows[compat_doc.OUT_OF_SCOPE]] == ["tests/test_service_ps.py"]
    assert doc.lookup(DIFFERENCES, "0.3.2 test", "t.py::a").decided
    assert not doc.lookup(DIFFERENCES, "signature", "m.f").decided
    assert doc.results == "old table"
    assert "new\n" + compat_doc.END in doc.with_results("new")


@pytest.mark.parametrize("row,message", [
    ("| odd | `x` | y |", "COMPAT.md:19: kind 'odd' is not one of"),
    ("| 0.3.2 test | `t.py::a` | again |", "COMPAT.md:19: `t.py::a` is listed twice"),
    ("| 0.3.2 test | t.py::b | no backquotes |", "COMPAT.md:19: not a '| Kind | `item` |"),
])
def test_compat_doc_errors_name_the_line(tmp_path, row, message):
    with pytest.raises(CompatDocError, match=message.replace("|", r"\|")):
        compat_doc.load(write_doc(tmp_path, DOC + row + "\n"))


def test_judge_wants_every_difference_decided_and_no_stale_row(tmp_path):
    doc = compat_doc.load(write_doc(tmp_path, DOC))
    assert judge(doc, "0.3.2 test", {"t.py::a": "failed"}) == []
    [undocumented, stale] = judge(doc, "0.3.2 test", {"t.py::b": "failed"})
    assert undocumented.startswith("not documented: | 0.3.2 test | `t.py::b` |")
    assert "stale row: 0.3.2 test `t.py::a`" in stale
    [todo] = judge(doc, "signature", {"m.f": "parameter 'x' missing"})
    assert "no decided reason yet (TODO(lead))" in todo


def test_the_repository_compat_md_is_well_formed():
    doc = compat_doc.load()
    assert doc.results is not None
    assert "tests/test_service_ps.py" in doc.items(compat_doc.OUT_OF_SCOPE, "0.3.2 test file")


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="test_a" name="test_ok[x-1]" file="test_a.py" line="3" time="0.1"/>
<testcase classname="test_a.TestC" name="test_m" file="test_a.py" line="9" time="0.1">
<failure message="assert 1 == 2">long text</failure></testcase>
<testcase classname="test_a" name="test_s" file="test_a.py" line="12" time="0">
<skipped type="pytest.skip" message="no conda">skip</skipped></testcase>
</testsuite></testsuites>
"""


def test_junit_gives_pytest_node_ids_and_outcomes(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    items = parse_junit(path)
    assert {k: (v.status, v.detail) for k, v in items.items()} == {
        "test_a.py::test_ok[x-1]": ("passed", ""),
        "test_a.py::TestC::test_m": ("failed", "assert 1 == 2"),
        "test_a.py::test_s": ("skipped", "no conda")}


@pytest.mark.parametrize("text,touches", [
    ("import seamless_config.select as select", True),
    ("import seamless.config\nseamless.config.init()", True),
    ('monkeypatch.setattr(transformation_cache, "get_queue", lambda cluster=None: None)', True),
    ('monkeypatch.setattr(transformation_cache, "get_buffer", None)', False),
    ("import seamless", False),
])
def test_client_file_rule(text, touches):
    assert touches_config(text, {"get_queue", "select_cluster"}) is touches


def test_the_test_extra_pins_what_the_suite_compares_against():
    tomllib = pytest.importorskip("tomllib")
    with open(compat_doc.REPO / "pyproject.toml", "rb") as f:
        extra = tomllib.load(f)["project"]["optional-dependencies"]["test"]
    assert {pins.requirement(name) for name in pins.MAIN_ENV} <= set(extra)


@pytest.mark.conformance
def test_a_failed_download_reports_pips_message(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setitem(pins.SDISTS, "seamless-config", "0.0.0.dev0")  # never published
    with pytest.raises(cache.BuildError, match=r"(?s)seamless-config==0\.0\.0\.dev0.*"
                                               r"No matching distribution"):
        cache.ensure_published()
    # nothing half-built is taken for a cache hit later
    assert not list((tmp_path / "cache").glob("published-*/complete"))


@pytest.mark.parametrize("ci,outcome", [("1", pytest.fail.Exception),
                                        (None, pytest.skip.Exception)])
def test_a_missing_side_venv_fails_in_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="pip said no"):
        fail_or_skip("pip said no")


def test_jobs_of_an_environment_that_keeps_hanging_are_given_up(tmp_path):
    hanging = tmp_path / "python"  # stands in for an interpreter that never finishes
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    hanging.chmod(0o755)
    env = Env("hanging", hanging, tmp_path)
    runs = run_jobs([Job(env, tmp_path, ("t.py",), 0.3) for _ in range(6)])
    assert all(r.returncode is None for r in runs)
    timed_out = [r for r in runs if "no result after 0.3 s" in r.output]
    given_up = [r for r in runs if "not run: 3 jobs on hanging ran out of time" in r.output]
    assert len(timed_out) >= 3 and given_up and runs[-1] in given_up

"""COMPAT.md's results table agrees with this run (the deterministic parts:
0.3.2's own tests and the API summary); regenerate it with
``python -m interpreter_tests.conformance.report --write``."""

import pytest

from .report import api_table, own_lines, plain

pytestmark = pytest.mark.conformance
HINT = "COMPAT.md's results are out of date: run python -m interpreter_tests.conformance.report --write"


def _missing(compat, lines):
    table = compat.results or ""
    return [ln for ln in lines if ln not in table.splitlines()]


def _fail_if(missing):
    if missing:
        pytest.fail(HINT + "; these rows differ:\n" + "\n".join(missing), pytrace=False)


def test_own_test_rows_match_this_run(own_results, compat):
    _fail_if(_missing(compat, own_lines({"items": plain(own_results)})))


def test_api_rows_match_this_run(api_dumps, compat):
    table = api_table({"0.3.2": api_dumps[0], "ours": api_dumps[1]})
    _fail_if(_missing(compat, table.splitlines()[2:]))

"""The seamless-transformer and seamless-dask test files that touch
seamless_config, on ours and on 0.3.2: nothing that passes with 0.3.2 may
fail with ours unless COMPAT.md says why."""

import pytest

from .upstream import CLIENTS
from .verdicts import fail_unless_clean, judge

pytestmark = pytest.mark.conformance


def test_each_client_has_test_files_that_ran(client_results):
    ran = {dist: [r.file for r in client_results if r.dist == dist] for dist in CLIENTS}
    assert all(ran.values()), f"no file selected for some client: {ran}"
    broken = [f"{r.dist}: {r.file}: {r.problem}" for r in client_results if not r.items]
    assert not broken, "\n".join(broken)


def test_no_client_test_that_passes_with_0_3_2_fails_with_ours(client_results, compat):
    observed = {f"{r.dist}: {r.file}::{node.split('::', 1)[1]}":
                f"{item.ours.status}: {item.ours.detail}"
                for r in client_results for node, item in r.items.items() if item.regression}
    fail_unless_clean(judge(compat, "client test", observed))

"""0.3.2's own tests, on ours (after the checked private-state rewrite) and
on 0.3.2 itself, each item in its own process."""

import pytest

from .verdicts import fail_unless_clean, judge

pytestmark = pytest.mark.conformance


def test_0_3_2_passes_its_own_tests_in_the_side_venv(own_results):
    # the baseline: if 0.3.2 fails here, the side venv is broken and no
    # comparison below means anything
    failing = [f"{node}: {item.theirs.status}: {item.theirs.detail}"
               for node, item in own_results.items() if item.theirs.status != "passed"]
    assert own_results and not failing, "\n".join(failing)


def test_every_test_ours_fails_is_a_documented_difference(own_results, compat):
    observed = {node: f"{item.ours.status}: {item.ours.detail}"
                for node, item in own_results.items() if item.ours.status != "passed"}
    fail_unless_clean(judge(compat, "0.3.2 test", observed))

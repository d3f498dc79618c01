"""Every public name of the installed 0.3.2, with its signature, against
ours; the list of names comes from 0.3.2 itself (api_dump.py)."""

import pytest

from .signatures import compare
from .verdicts import fail_unless_clean, judge

pytestmark = pytest.mark.conformance


def test_0_3_2_dump_is_complete(api_dumps):
    old, _ = api_dumps
    errors = {m: names["__error__"] for m, names in old.items() if "__error__" in names}
    assert not errors
    assert all(old.values()), "a module of 0.3.2 with no public name: the dump is broken"


@pytest.mark.parametrize("kind", ["absent name", "signature"])
def test_ours_accepts_what_0_3_2_accepts(api_dumps, compat, kind):
    observed = {}
    for problem in compare(*api_dumps):
        if problem.kind == kind:
            seen = observed.get(problem.name)
            observed[problem.name] = f"{seen}; {problem.detail}" if seen else problem.detail
    fail_unless_clean(judge(compat, kind, observed))

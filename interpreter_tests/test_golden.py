"""Every golden case: its outputs must equal its expected files.

GOLDEN_CASE=<name> runs one case. After an intended change of output,
``seamless-config golden update golden/<name>`` rewrites the expected
files; review the diff before committing it.
"""

import os
from pathlib import Path

import pytest

from seamless_config.inspect.golden import expected_outputs, load_case, run_case

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def case_dirs() -> list[Path]:
    dirs = sorted(p for p in GOLDEN.iterdir() if (p / "case.yaml").is_file())
    only = os.environ.get("GOLDEN_CASE")
    if only:
        # An unknown name still yields one (failing) case rather than none.
        dirs = [d for d in dirs if d.name == only] or [GOLDEN / only]
    return dirs


CASES = case_dirs()


@pytest.mark.parametrize("case_dir", CASES, ids=[d.name for d in CASES])
def test_golden_case(case_dir):
    assert (case_dir / "case.yaml").is_file(), f"no golden case named '{case_dir.name}'"
    case = load_case(str(case_dir))
    environ, cwd = dict(os.environ), os.getcwd()
    actual = run_case(case)
    assert dict(os.environ) == environ and os.getcwd() == cwd, "the case leaked its environment"
    expected = expected_outputs(case)
    update = f"seamless-config golden update golden/{case.name}"
    assert expected, f"no expected outputs yet: run '{update}' and review them"
    assert sorted(expected) == sorted(actual), f"outputs produced differ from those expected " \
                                               f"(stale or missing files): run '{update}'"
    for name, text in actual.items():
        assert text == expected[name], f"{name} differs"

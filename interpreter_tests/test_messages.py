"""Messages for the mistakes new users make (issue 16, item 7), through
the API and the command line. The error texts themselves are golden cases
(golden/error-yaml-tab*, error-stage-name-as-value,
error-stage-key-no-colon*); here: where they point, that check shows them
too, and the inherit_from_parent warning, which no golden output holds."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

import seamless_config
from seamless_config.errors import ConfigError, SeamlessConfigWarning
from seamless_config.language.loader import load_file

CLI = [sys.executable, "-m", "seamless_config.cli.main"]


def check(root, *args):
    return subprocess.run([*CLI, "check", "--workdir", str(root), *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ), cwd=str(root))


@pytest.mark.parametrize("text, line, column, start", [
    ("- project: p\n- stage prod:\n\t- queue: q\n", 3, 1, "a tab in the indentation"),
    ("- stage prod:\n    - project: p\n  \t  - queue: q\n", 3, 3, "a tab in the indentation"),
    ("- stage: prod\n", 1, 10, "'stage: prod' gives the stage name as a value"),
    ("- stage: 'prod:gpu'\n", 1, 10, "'stage: prod:gpu' gives the stage name as a value"),
    ("- project: p\n- stage prod  # soon\n    - queue: q\n", 2, 3,
     "'stage prod' has no ':' after it"),
    ("- stage prod\n    - inherit_from_parent\n", 1, 3, "'stage prod' has no ':' after it"),
])
def test_mistake_is_named_where_it_was_made(tree, text, line, column, start):
    root = tree({"seamless.yaml": text})
    with pytest.raises(ConfigError) as caught:
        load_file(str(root / "seamless.yaml"))
    err = caught.value
    assert (err.span.line, err.span.column) == (line, column)
    assert err.message.startswith(start) and "invalid YAML" not in err.render()
    out = check(root)
    assert out.returncode == 1 and start in out.stdout


def test_other_yaml_errors_keep_the_generic_message(tree):
    root = tree({"seamless.yaml": "- project: proj\n   - cluster: local\n"})
    with pytest.raises(ConfigError) as caught:
        load_file(str(root / "seamless.yaml"))
    assert caught.value.message.startswith("invalid YAML: mapping values are not allowed")


def test_inherit_without_parent_configuration_warns(tree):
    root = tree({"a/b/seamless.yaml": "- project: p\n- inherit_from_parent\n",
                 "c/seamless.yaml": "- project: p\n", "c/d/seamless.yaml": "- inherit_from_parent\n"})
    lonely, inherits = root / "a" / "b", root / "c" / "d"
    message = (f"a/b/seamless.yaml:2:3: inherit_from_parent, but a has no seamless.yaml or "
               "seamless.profile.yaml: nothing is inherited")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seamless_config.init(str(lonely), launch=False)
    ours = [str(w.message) for w in caught if issubclass(w.category, SeamlessConfigWarning)]
    assert message in ours
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seamless_config.init(str(inherits), launch=False)
    assert not [w for w in caught if "inherit_from_parent" in str(w.message)]
    out = check(lonely)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:3] == [
        f"warning: {message.replace('a/b/', '').replace(' a has', f' {root}/a has')}",
        "    2 | - inherit_from_parent", "      |   ^~~~~~~~~~~~~~~~~~~"]
    assert "inherit_from_parent" not in out.stderr  # once, as a finding

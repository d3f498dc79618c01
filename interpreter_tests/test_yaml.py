"""YAML reading: positions, duplicate keys, and input that would crash libyaml."""

from __future__ import annotations

import pytest

from seamless_config.core.yaml_nodes import compose_text, mapping_items
from seamless_config.errors import ConfigError


@pytest.mark.parametrize("text", ["[" * 50000 + "]" * 50000, "- " * 50000 + "x",
                                  "{a: " * 3000 + "1" + "}" * 3000])
def test_deep_nesting_is_an_error_not_a_crash(text):
    with pytest.raises(ConfigError) as info:
        compose_text(text, "deep.yaml")
    assert info.value.render(with_source=False) == (
        "deep.yaml:1:1: the YAML is nested more than 200 levels deep; flatten the structure")


def test_moderate_nesting_still_loads():
    assert compose_text("[" * 150 + "]" * 150, "ok.yaml") is not None


def test_duplicate_keys_name_both_lines():
    node = compose_text("a: 1\nb: 2\na: 3\n", "d.yaml")
    with pytest.raises(ConfigError) as info:
        mapping_items(node, "d.yaml")
    assert info.value.render(with_source=False) == (
        "d.yaml:3:1: duplicate key 'a' in one mapping (first at line 1); "
        "YAML would silently keep only the last one; remove one")


def test_malformed_yaml_is_reworded():
    with pytest.raises(ConfigError) as info:
        compose_text("- project: [a\n", "m.yaml")
    assert info.value.render(with_source=False) == (
        "m.yaml:2:1: invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence at line 1, column 12); "
        "check indentation, quoting and the ':' after each key")

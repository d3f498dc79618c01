"""The launch-template language (grammar/template.lark, template.py), as tables."""

from __future__ import annotations

import pathlib
import re

import pytest

from seamless_config.language.template import Fragment, Space, Template, Flag, Text, Var, parse
from seamless_config.language import template
from seamless_config.plan import tooldefs

HOSTILE = ["{x}", "{{x}}", "it's", 'say "hi"', "$(touch /tmp/pwned)", "a; rm -rf ~",
           "`id`", "two words", "tab\there", "}{", "[x]", "{status_file}", ""]

# (id, template, values, expected argv words)
RENDER = [
    ("literal", "hashserver --timeout 600", {}, ("hashserver", "--timeout", "600")),
    ("surrounding space", "  a   b  ", {}, ("a", "b")),
    ("empty template", "", {}, ()),
    ("variable", "run {dir}", {"dir": "/data"}, ("run", "/data")),
    ("adjacent text", "{dir}/seamless.db", {"dir": "/d"}, ("/d/seamless.db",)),
    ("two variables one word", "{a}{b}", {"a": "/x", "b": "/y"}, ("/x/y",)),
    ("integer", "--workers {n}", {"n": 4}, ("--workers", "4")),
    ("spaces stay one word", "run {dir} end", {"dir": "my data dir"},
     ("run", "my data dir", "end")),
    ("empty value kept", "run {dir} end", {"dir": ""}, ("run", "", "end")),
    ("fragment all set", "x [--port-range {a} {b}] y", {"a": 1, "b": 2},
     ("x", "--port-range", "1", "2", "y")),
    ("fragment one unset", "x [--port-range {a} {b}] y", {"a": 1, "b": None}, ("x", "y")),
    ("fragment none set", "x [--port-range {a} {b}] y", {"a": None, "b": None}, ("x", "y")),
    ("fragment empty value is set", "[--host {h}]", {"h": ""}, ("--host", "")),
    ("flag true", "hashserver [--writable{w?}]", {"w": True}, ("hashserver", "--writable")),
    ("flag false", "hashserver [--writable{w?}]", {"w": False}, ("hashserver",)),
    ("flag unset", "hashserver [--writable{w?}]", {"w": None}, ("hashserver",)),
    ("flag as own word", "a [{w?} --writable] b", {"w": True}, ("a", "--writable", "b")),
    ("flag and variable", "[--nodes {n}{w?}]", {"n": 3, "w": False}, ()),
    ("nested fragment", "[--a {a}[ --b {b}]]", {"a": 1, "b": None}, ("--a", "1")),
    ("nested fragment set", "[--a {a}[ --b {b}]]", {"a": 1, "b": 2}, ("--a", "1", "--b", "2")),
    ("nested inner does not gate outer", "[--a {a}[ --b {b}]]", {"a": None, "b": 2}, ()),
    ("flatten", "k-{p|flatten}", {"p": "/proj/sub/STAGE-s"}, ("k-proj--sub--STAGE-s",)),
    ("flatten keeps inner text", "{p|flatten}", {"p": "a b/c"}, ("a b--c",)),
    ("flatten twice", "{p|flatten|flatten}", {"p": "//a//"}, ("a",)),
    ("flatten integer", "{n|flatten}", {"n": 7}, ("7",)),
    ("unicode text", "é {v}", {"v": "ü"}, ("é", "ü")),
]


@pytest.mark.parametrize("template,values,expected", [c[1:] for c in RENDER],
                         ids=[c[0] for c in RENDER])
def test_render(template, values, expected):
    assert parse(template).words(values) == expected


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_is_one_word_verbatim(value):
    assert parse("cmd --dir {v} [--x {v}] end").words({"v": value}) == (
        "cmd", "--dir", value, "--x", value, "end")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_in_text_is_verbatim(value):
    assert parse("{v}").text({"v": value}) == value


# (id, template, whole error message)
PARSE_ERRORS = [
    ("unknown filter", "{p|upper}", "template '{p|upper}': unknown filter 'upper'; known: flatten"),
    ("filter is not code", "{p|__class__}",
     "template '{p|__class__}': unknown filter '__class__'; known: flatten"),
    ("attribute access", "{p.real}", "template '{p.real}': syntax error at column 3"),
    ("indexing", "{p[0]}", "template '{p[0]}': syntax error at column 3"),
    ("format spec", "{p:>10}", "template '{p:>10}': syntax error at column 3"),
    ("call", "{p()}", "template '{p()}': syntax error at column 3"),
    ("unclosed brace", "{a", "template '{a': unexpected end (an unclosed '{' or '[')"),
    ("space in braces", "{ a}", "template '{ a}': syntax error at column 2"),
    ("empty braces", "{}", "template '{}': syntax error at column 2"),
    ("stray close", "a}", "template 'a}': syntax error at column 2"),
    ("unclosed fragment", "[--x {a}", "template '[--x {a}': unexpected end (an unclosed '{' or '[')"),
    ("stray bracket", "x]", "template 'x]': syntax error at column 2"),
    ("empty filter", "{a|}", "template '{a|}': syntax error at column 4"),
    ("test outside fragment", "x {w?}",
     "template 'x {w?}': a test {name?} only means something inside [ ... ]"),
    ("fragment without variable", "x [--always]",
     "template 'x [--always]': an optional fragment [ ... ] needs a variable or a test inside"),
]


@pytest.mark.parametrize("template,message", [c[1:] for c in PARSE_ERRORS],
                         ids=[c[0] for c in PARSE_ERRORS])
def test_parse_errors(template, message):
    with pytest.raises(ValueError) as info:
        parse(template)
    assert str(info.value) == message


# (id, template, values, whole error message)
RENDER_ERRORS = [
    ("undeclared variable", "run {dir} [{x}]", {"dir": "/d"},
     "template 'run {dir} [{x}]' uses undeclared variable(s): x"),
    ("unset outside fragment", "run {dir}", {"dir": None},
     "variable 'dir' is unset outside an optional fragment"),
    ("boolean as text", "run {w}", {"w": True},
     "variable 'w' must be a string or an integer, not bool (booleans are tested with {w?})"),
    ("object as text", "run {w}", {"w": object()},
     "variable 'w' must be a string or an integer, not object (booleans are tested with {w?})"),
    ("test on a string", "[--x{w?}]", {"w": "yes"},
     "variable 'w' is tested with {w?} but is not a boolean"),
]


@pytest.mark.parametrize("template,values,message", [c[1:] for c in RENDER_ERRORS],
                         ids=[c[0] for c in RENDER_ERRORS])
def test_render_errors(template, values, message):
    with pytest.raises(ValueError) as info:
        parse(template).words(values)
    assert str(info.value) == message


def test_text_needs_exactly_one_word():
    with pytest.raises(ValueError) as info:
        parse("a {b}").text({"b": "x"})
    assert str(info.value) == "template 'a {b}' rendered to 2 words, expected one"
    assert parse("[{b}]").words({"b": None}) == ()


def test_nodes_are_frozen_and_declare_their_variables():
    tpl = parse("hs {dir} [--writable{w?}] [--p {a}[-{b|flatten}]]")
    assert tpl == Template("hs {dir} [--writable{w?}] [--p {a}[-{b|flatten}]]", (
        Text("hs"), Space(), Var("dir"), Space(),
        Fragment((Text("--writable"), Flag("w"))), Space(),
        Fragment((Text("--p"), Space(), Var("a"), Fragment((Text("-"), Var("b", ("flatten",)))))),
    ))
    assert tpl.variables == frozenset({"dir", "w", "a", "b"})
    with pytest.raises(AttributeError):
        tpl.source = "x"


def test_parse_is_cached():
    assert parse("a {b}") is parse("a {b}")


def test_no_evaluation_machinery_in_the_interpreter():
    root = pathlib.Path(__file__).resolve().parent.parent / "seamless_config"
    for name in ("language/template.py", "plan/tooldefs.py", "plan/specs.py", "tools.py"):
        source = (root / name).read_text()
        found = re.findall(r"(?<![\w.])(?:eval|exec|compile|__import__)\(|\.format(?:_map)?\(",
                           source)
        assert found == [], name


# -- parsed templates kept as data (tools.py's cache) -----------------------------

CACHED = ["hashserver {dir} [--writable{writable?}] [--port-range {a} {b}] {key|flatten}",
          "x [[{a}] {b}]", "plain"]


@pytest.mark.parametrize("source", CACHED)
def test_data_round_trip_equals_the_parse(source):
    parsed = template.parse(source)
    assert template.from_data(source, template.to_data(parsed.items)) == parsed


def test_data_cannot_bring_an_unknown_filter():
    with pytest.raises(ValueError, match="unknown filter 'shell'"):
        template.from_data("{x|shell}", [["var", "x", ["shell"]]])


def test_tools_reads_its_cache_and_survives_a_corrupt_one(tmp_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    code = ("import sys; from seamless_config.plan.tooldefs import tool_defs; tool_defs(); "
            "print('lark' in sys.modules, 'yaml' in sys.modules)")
    run = lambda: subprocess.run([sys.executable, "-c", code], capture_output=True,  # noqa: E731
                                 text=True, check=True).stdout.strip()
    assert run() == "True True"  # first time: read and parsed, then cached
    assert run() == "False False"  # from the cache: neither YAML nor lark
    (cache,) = (tmp_path / "seamless-config").glob("tools-*.json")
    whole = cache.read_bytes()
    for damaged in (b"{not json", whole[: len(whole) // 2], b""):
        cache.write_bytes(damaged)
        assert run() == "True True"  # ignored and rebuilt
        assert run() == "False False"
    assert not list((tmp_path / "seamless-config").glob("*.tmp"))


def test_tools_cache_is_not_used_for_another_tools_yaml(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    raw, _ = tooldefs._tools_data()
    path = tooldefs._tools_cache_path(template.FORMAT)
    text = tooldefs._tools_text()
    assert tooldefs._read_tools_cache(path, text)[0] == raw
    assert tooldefs._read_tools_cache(path, text.replace("600", "601")) is None

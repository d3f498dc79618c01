"""Stage keys (grammar/stage.lark, stages.py) and the grammar locator."""

from pathlib import Path

import re

import pytest
from lark import Lark

from seamless_config.language import grammars
from seamless_config.errors import ConfigError, Span
from seamless_config.language.nodes import StageSelector
from seamless_config.language.stages import parse_stage_key

# The key text starts at line 3, column 3 (as in '- stage ...:' of a file).
SPAN = Span("f.yaml", 3, 3, 3, 40)
HINT = "; write 'stage NAME' or 'stage NAME:SUBSTAGE'"

VALID = [
    ("name", "stage prod", StageSelector("prod")),
    ("substage", "stage prod:gpu", StageSelector("prod", "gpu")),
    ("spaces-around-colon", "stage prod : gpu", StageSelector("prod", "gpu")),
    ("space-after-colon", "stage prod: gpu", StageSelector("prod", "gpu")),
    ("tab", "stage\tprod", StageSelector("prod")),
    ("trailing-space", "stage prod ", StageSelector("prod")),
    ("name-is-stage", "stage stage", StageSelector("stage")),
    ("all-name-chars", "stage a.B_9-x:y.Z_0-w", StageSelector("a.B_9-x", "y.Z_0-w")),
]

NOT_STAGE = ["stages prod", "stager", "project", "Stage prod", " stage prod", "", "stageprod"]

ERRORS = [
    ("alone", "stage", "f.yaml:3:8: missing stage name after 'stage'" + HINT),
    ("alone-space", "stage  ", "f.yaml:3:8: missing stage name after 'stage'" + HINT),
    ("colon-first", "stage :gpu", "f.yaml:3:9: missing stage name before ':'" + HINT),
    ("no-space", "stage:gpu", "f.yaml:3:8: missing stage name before ':'" + HINT),
    ("no-substage", "stage prod:", "f.yaml:3:14: missing substage name after ':'" + HINT),
    ("no-substage-space", "stage prod: ",
     "f.yaml:3:14: missing substage name after ':'" + HINT),
    ("two-words", "stage a b", "f.yaml:3:11: unexpected 'b': names cannot contain spaces" + HINT),
    ("three-words", "stage a b c",
     "f.yaml:3:11: unexpected 'b': names cannot contain spaces" + HINT),
    ("word-after-substage", "stage a:b c",
     "f.yaml:3:13: unexpected 'c': names cannot contain spaces" + HINT),
    ("two-colons", "stage prod:gpu:x", "f.yaml:3:17: a stage key has at most one ':'" + HINT),
    ("double-colon", "stage prod::gpu", "f.yaml:3:14: a stage key has at most one ':'" + HINT),
    ("dashes", "stage a--b",
     "f.yaml:3:9: stage name 'a--b' must not contain '--' (it separates key parts)"),
    ("STAGE-", "stage STAGE-x",
     "f.yaml:3:9: stage name 'STAGE-x' must not contain 'STAGE-' (it marks stage directories)"),
    ("slash", "stage a/b", "f.yaml:3:9: stage name 'a/b' must not contain '/'"),
    ("dotdot", "stage ..",
     "f.yaml:3:9: stage name '..' must not be '.' or '..' or contain them as a path part"),
    ("bad-char", "stage a$b",
     "f.yaml:3:9: stage name 'a$b' may only contain letters, digits, '.', '_', '-'"),
    ("substage-dashes", "stage a:b--c",
     "f.yaml:3:11: substage name 'b--c' must not contain '--' (it separates key parts)"),
    ("substage-slash", "stage a : b/c", "f.yaml:3:13: substage name 'b/c' must not contain '/'"),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_keys(text, expected):
    assert parse_stage_key(text, SPAN) == expected


@pytest.mark.parametrize("text", NOT_STAGE)
def test_other_keys_are_not_stage_keys(text):
    assert parse_stage_key(text, SPAN) is None


@pytest.mark.parametrize("text,message", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors(text, message):
    with pytest.raises(ConfigError) as info:
        parse_stage_key(text, SPAN)
    assert info.value.render(with_source=False) == message


def test_name_error_span_covers_the_name():
    with pytest.raises(ConfigError) as info:
        parse_stage_key("stage prod:a--b", SPAN)
    assert info.value.span == Span("f.yaml", 3, 14, 3, 18)


def test_multiline_key_points_at_the_key():
    span = Span("f.yaml", 3, 3, 4, 5)  # a quoted key folded over two lines
    with pytest.raises(ConfigError) as info:
        parse_stage_key("stage a--b", span)
    assert info.value.span == span


def test_caret_under_the_colon(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("f.yaml").write_text("- project: x\n\n- stage :gpu:\n    - cluster: a\n")
    with pytest.raises(ConfigError) as info:
        parse_stage_key("stage :gpu", SPAN)
    assert info.value.render() == "\n".join([
        "f.yaml:3:9: missing stage name before ':'" + HINT,
        "    3 | - stage :gpu:",
        "      |         ^",
    ])


def test_parser_is_built_once():
    assert grammars.parser("stage") is grammars.parser("stage")
    assert isinstance(grammars.parser("stage"), Lark)
    assert grammars.parser("stage").options.parser == "lalr"


def test_grammar_text_opens_with_a_comment():
    text = grammars.grammar_text("stage")
    assert text.startswith("// Stage keys")
    assert grammars.grammar_text("stage.lark") == text


def test_grammar_file_is_in_the_top_level_grammar_directory():
    repo = Path(grammars.__file__).resolve().parents[2]
    assert grammars.grammar_text("stage") == (repo / "grammar" / "stage.lark").read_text()


def test_unknown_grammar():
    with pytest.raises(FileNotFoundError):
        grammars.grammar_text("no-such-grammar")


# -- the regular-expression fast path agrees with the grammar ---------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from seamless_config.language import grammars, stages  # noqa: E402

KEY_TEXT = st.text(alphabet=st.sampled_from(list("stagepro: \t-_.x9")), max_size=16).map(
    lambda rest: "stage" + rest)


def _by_grammar(text: str, span: Span):
    """What parse_stage_key gives when the fast path is not taken."""
    from lark import UnexpectedInput

    try:
        names = grammars.parser("stage").parse(text).children
    except UnexpectedInput:
        return "refused"
    return tuple(str(n) for n in names)


@settings(max_examples=400, deadline=None)
@given(KEY_TEXT)
def test_fast_path_accepts_exactly_what_the_grammar_accepts(text):
    span = Span("s.yaml", 3, 3, 3, 3 + len(text))
    quick = stages._WELL_FORMED.fullmatch(text)
    expected = _by_grammar(text, span)
    if quick is None:
        # only keys the grammar refuses, or "stage" glued to a ':' (a key the
        # grammar reads and the slow path then handles) miss the fast path
        assert expected == "refused" or not stages._STAGE_WORD.match(text) or \
            text[5:6] in (":",), text
        return
    assert tuple(g for g in quick.groups() if g is not None) == expected, text


def _outcome(text, span):
    try:
        return stages.parse_stage_key(text, span)
    except ConfigError as err:
        return err.render(with_source=False), err.span


@pytest.mark.parametrize("text", ["stage prod", "stage prod:gpu", "stage  prod : gpu ",
                                  "stage\tprod:gpu", "stage a--b:gpu", "stage ok : x--y",
                                  "stage STAGE-1"])
def test_fast_path_gives_what_the_grammar_path_gives(text, monkeypatch):
    """Same selectors, same errors at the same spans (names are checked on
    either path)."""
    span = Span("s.yaml", 3, 3, 3, 3 + len(text))
    quick = _outcome(text, span)
    monkeypatch.setattr(stages, "_WELL_FORMED", re.compile(r"(?!)"))  # never matches
    assert _outcome(text, span) == quick

"""Stage keys: ``stage NAME`` and ``stage NAME:SUBSTAGE`` (grammar/stage.lark).

Malformed keys are classified by example, lark's ``match_examples`` idea: the
parser state in which an example fails identifies the mistake, so the user
reads "missing substage name after ':'" instead of "unexpected $END".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..core.names import check_name
from ..errors import ConfigError, Span
from . import grammars
from .nodes import StageSelector

if TYPE_CHECKING:  # lark is imported only when a file has a stage key
    from lark import Token, UnexpectedInput

HINT = "write 'stage NAME' or 'stage NAME:SUBSTAGE'"

# "stage" as a whole word: "stages" or "stager" are unknown commands instead.
_STAGE_WORD = re.compile(r"stage(?=$|[\s:])")

# The keys grammar/stage.lark accepts, for the common case of a well-formed
# key: importing lark costs ~20 ms, more than all the rest of init() on a
# small project. Anything this does not match goes to the grammar, which
# also explains the mistake; test_stages checks that both agree.
_WELL_FORMED = re.compile(r"stage\s+([^\s:]+)(?:\s*:\s*([^\s:]+))?\s*")

# Messages by the mistakes that produce them; "{token}" is the culprit.
_EXAMPLES = {
    "missing stage name after 'stage'": ["stage"],
    "missing stage name before ':'": ["stage :gpu", "stage:gpu"],
    "missing substage name after ':'": ["stage prod:"],
    "a stage key has at most one ':'": ["stage prod::gpu", "stage prod:gpu:x"],
    "unexpected '{token}': names cannot contain spaces": [
        "stage prod gpu", "stage prod:gpu x"],
}


def parse_stage_key(text: str, span: Span) -> StageSelector | None:
    """The selector of a stage-block key, or None if ``text`` does not start
    with the word ``stage``. ``span`` is where ``text``'s first character is."""
    if not _STAGE_WORD.match(text):
        return None
    quick = _WELL_FORMED.fullmatch(text)
    if quick is not None:
        return _selector(quick, span)
    from lark import UnexpectedInput

    try:
        tree = grammars.parser("stage").parse(text)
    except UnexpectedInput as exc:
        raise _classify(exc, text, span) from None
    names = tree.children
    stage = check_name(str(names[0]), _token_span(names[0], span), "stage")
    if len(names) == 1:
        return StageSelector(stage)
    return StageSelector(stage, check_name(str(names[1]), _token_span(names[1], span), "substage"))


def _selector(match: re.Match, span: Span) -> StageSelector:
    def name(group: int, what: str) -> str:
        column = match.start(group) + 1
        where = _offset(span, column)
        if where is not span:
            where = Span(span.path, where.line, where.column, where.line,
                         where.column + len(match.group(group)))
        return check_name(match.group(group), where, what)
    stage = name(1, "stage")
    return StageSelector(stage, name(2, "substage") if match.group(2) is not None else None)


def _classify(exc: "UnexpectedInput", text: str, span: Span) -> ConfigError:
    token = getattr(exc, "token", None)
    label = exc.match_examples(grammars.parser("stage").parse, _EXAMPLES,
                               token_type_match_fallback=True)
    if label is None:  # no example covers it: still say where
        label = "unexpected '{token}' in stage key"
    culprit = str(token) if token is not None else text[exc.pos_in_stream or 0:][:1]
    message = label.replace("{token}", culprit)
    if token is not None and token.type == "$END":
        return ConfigError(message, _offset(span, len(text.rstrip()) + 1), HINT)
    return ConfigError(message, _offset(span, exc.column), HINT)


def _token_span(token: "Token", span: Span) -> Span:
    start = _offset(span, token.column)
    if start is span:
        return span
    return Span(span.path, start.line, start.column, start.line, start.column + len(token))


def _offset(span: Span, column: int | None) -> Span:
    """The position of 1-based ``column`` of the key text, when the key sits
    on one line; the key's own span otherwise."""
    if column is None or column < 1 or span.end_line not in (None, span.line):
        return span
    return Span(span.path, span.line, span.column + column - 1)

"""Common mistakes that YAML reports far from their cause, named by what the
user wrote: a tab in the indentation, a stage key without its ':' (YAML
then complains about the next line), and ``- stage: prod`` (the name given
as the value). Classified from the file's text and the parser's position,
never by rewriting the text."""

from __future__ import annotations

import re

from .._files import read_regular
from ..errors import ConfigError, Span

STAGE_HINT = "write '- stage {name}:' and indent its commands under it"
# "- stage prod" (or "stage prod:gpu") with no ':' at the end of the key
_STAGE_NO_COLON = re.compile(r"^(\s*-\s+)(stage(?:\s+[^\s:#]+(?:\s*:\s*[^\s:#]+)?)?)\s*(#.*)?$")


def explain_yaml_error(err: ConfigError, path: str) -> ConfigError:
    """A clearer error for an ``invalid YAML`` one, when the text shows
    what went wrong; else ``err`` unchanged."""
    if not err.message.startswith("invalid YAML") or err.span is None:
        return err
    try:
        lines = read_regular(path).decode("utf-8", "replace").split("\n")
    except OSError:
        return err
    upto = lines[:err.span.line]
    return _tab(upto, path) or _stage_without_colon(upto, path) or err


def _tab(lines: list[str], path: str) -> ConfigError | None:
    """The first line, up to the error, whose indentation holds a tab."""
    for number, line in enumerate(lines, 1):
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            return ConfigError("a tab in the indentation: YAML indents with spaces only",
                               Span(path, number, indent.index("\t") + 1),
                               "replace the tab with spaces")
    return None


def _stage_without_colon(lines: list[str], path: str) -> ConfigError | None:
    """``- stage prod`` followed by a more indented line: the key lacks its
    ':', so YAML read the body as more text and failed on it."""
    body = [n for n, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if len(body) < 2:
        return None
    key_at, last = body[-2], body[-1]
    match = _STAGE_NO_COLON.match(lines[key_at])
    if match is None or _indent(lines[last]) <= len(match.group(1)) - 2:
        return None
    return stage_colon_error(match.group(2).strip(), Span(path, key_at + 1, len(match.group(1)) + 1))


def stage_colon_error(key: str, span: Span) -> ConfigError:
    name = key[len("stage"):].strip() or "NAME"
    return ConfigError(f"'{key}' has no ':' after it, so its indented commands are not a "
                       "stage block", span, STAGE_HINT.format(name=name))


def stage_as_value(value: str, span: Span) -> ConfigError:
    """``- stage: prod``: the stage name written as the value."""
    return ConfigError(f"'stage: {value}' gives the stage name as a value", span,
                       f"write '- stage {value}:' (the stage name belongs in the key) and "
                       "indent its commands under it")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))

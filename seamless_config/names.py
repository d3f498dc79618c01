"""Which names are allowed where, and why.

Project, subproject, cluster, stage and substage names become parts of
storage paths and of launcher keys (``^[A-Za-z0-9._-]+$`` after ``/`` is
turned into ``--``), and the key separator is ``--`` and ``STAGE-``. So the
character set is closed: nothing a user writes can become shell or
template syntax further down.
"""

from __future__ import annotations

import re

from .errors import ConfigError, Span

_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_SUBPROJECT = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
# Values that end up in a launch command or a remote shell line.
_TOKEN = re.compile(r"^[A-Za-z0-9@%+=:,._/~-]+$")
_PATH = re.compile(r"^[A-Za-z0-9@_./~-]+$")


def name_problem(value: str, what: str, allow_slash: bool = False) -> str | None:
    """Why ``value`` is not a valid ``what`` name, or None if it is."""
    if value == "":
        return f"{what} name must not be empty"
    if "--" in value:
        return f"{what} name '{value}' must not contain '--' (it separates key parts)"
    if "STAGE-" in value:
        return f"{what} name '{value}' must not contain 'STAGE-' (it marks stage directories)"
    if "/" in value and not allow_slash:
        return f"{what} name '{value}' must not contain '/'"
    if allow_slash and (value.startswith("/") or value.endswith("/") or "//" in value):
        return f"{what} name '{value}' must not start or end with '/' or contain '//'"
    parts = value.split("/") if allow_slash else [value]
    if any(p in (".", "..") for p in parts):
        return f"{what} name '{value}' must not be '.' or '..' or contain them as a path part"
    if not (_SUBPROJECT if allow_slash else _NAME).match(value):
        allowed = "letters, digits, '.', '_', '-'" + (" and '/'" if allow_slash else "")
        return f"{what} name '{value}' may only contain {allowed}"
    return None


def check_name(value: str, span: Span | None, what: str, allow_slash: bool = False) -> str:
    problem = name_problem(value, what, allow_slash)
    if problem:
        raise ConfigError(problem, span)
    return value


def token_problem(value: str, what: str) -> str | None:
    """For hostnames, conda env names, interfaces: one shell-safe word."""
    if not _TOKEN.match(value):
        return (f"{what} '{value}' may only contain letters, digits and "
                "'@%+=:,._/~-' (it is passed to a command line)")
    return None


def path_problem(value: str, what: str) -> str | None:
    """For directories (bufferdir, database_dir): the launcher's workdir rule."""
    if not _PATH.match(value):
        return f"{what} '{value}' may only contain letters, digits and '@_./~-'"
    if any(p == ".." for p in value.split("/")):
        return f"{what} '{value}' must not contain '..'"
    return None

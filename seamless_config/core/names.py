"""Which names are allowed where, and why.

Project, subproject, cluster, stage and substage names become parts of
storage paths and of launcher keys (``^[A-Za-z0-9._-]+$`` after ``/`` is
turned into ``--``), and the key separator is ``--`` and ``STAGE-``. So the
character set is closed: nothing a user writes can become shell or
template syntax further down.

Keys must also be injective: two scopes must never get one key, or two
projects would share a server and its storage. Keys join the cluster, the
mode and the path with ``-`` and path parts with ``--``, so a name part may
not begin or end with ``-`` (``p-`` + ``x`` and ``p`` + ``-x`` would both
give ``p---x``), and a cluster name may not hold ``rw`` or ``ro`` as a
dash-separated part after its first (cluster ``a-rw`` + project ``x`` and
cluster ``a`` + project ``rw-x`` would both give ``a-rw-rw-x``).
``services.parse_key`` reads every key back; a property test checks it.

Every pattern is applied with ``fullmatch``: ``$`` also matches before a
final newline, so ``"p\\n"`` would pass a ``match`` against ``...$``.
"""

from __future__ import annotations

import re

from ..errors import ConfigError, Span

_NAME = re.compile(r"[A-Za-z0-9._-]+")
_SUBPROJECT = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
# Values that end up in a launch command or a remote shell line.
_TOKEN = re.compile(r"[A-Za-z0-9@%+=:,._/~-]+")
_PATH = re.compile(r"[A-Za-z0-9@_./~-]+")
# A compute node's host name, as SLURM (--nodelist=) and OAR (host='...') take it.
_NODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
MODES = ("rw", "ro")


def name_problem(value: str, what: str, allow_slash: bool = False) -> str | None:
    """Why ``value`` is not a valid ``what`` name, or None if it is."""
    if value == "":
        return f"{what} name must not be empty"
    if "--" in value:
        return f"{what} name '{_shown(value)}' must not contain '--' (it separates key parts)"
    if "STAGE-" in value:
        return f"{what} name '{_shown(value)}' must not contain 'STAGE-' (it marks stage directories)"
    if "/" in value and not allow_slash:
        return f"{what} name '{_shown(value)}' must not contain '/'"
    if allow_slash and (value.startswith("/") or value.endswith("/") or "//" in value):
        return f"{what} name '{_shown(value)}' must not start or end with '/' or contain '//'"
    parts = value.split("/") if allow_slash else [value]
    if any(p in (".", "..") for p in parts):
        return f"{what} name '{_shown(value)}' must not be '.' or '..' or contain them as a path part"
    if not (_SUBPROJECT if allow_slash else _NAME).fullmatch(value):
        allowed = "letters, digits, '.', '_', '-'" + (" and '/'" if allow_slash else "")
        return f"{what} name '{_shown(value)}' may only contain {allowed}"
    if any(p.startswith("-") or p.endswith("-") for p in parts):
        where = " or next to '/'" if allow_slash else ""
        return (f"{what} name '{value}' must not start or end with '-'{where} (server keys "
                "join names with '-' and '--')")
    if what == "cluster" and any(p in MODES for p in value.split("-")[1:]):
        return (f"cluster name '{value}' must not contain '-rw' or '-ro' as a dash-separated "
                "part (server keys put the mode right after the cluster)")
    return None


def check_name(value: str, span: Span | None, what: str, allow_slash: bool = False) -> str:
    problem = name_problem(value, what, allow_slash)
    if problem:
        raise ConfigError(problem, span)
    return value


def token_problem(value: str, what: str) -> str | None:
    """For hostnames, conda env names, interfaces: one shell-safe word that
    no command can take for an option."""
    if not _TOKEN.fullmatch(value):
        return (f"{what} '{_shown(value)}' may only contain letters, digits and "
                "'@%+=:,._/~-' (it is passed to a command line)")
    if value.startswith("-"):
        return f"{what} '{value}' must not start with '-' (a command would read it as an option)"
    return None


def path_problem(value: str, what: str) -> str | None:
    """For directories (bufferdir, database_dir): the launcher's workdir rule."""
    if not _PATH.fullmatch(value):
        return f"{what} '{_shown(value)}' may only contain letters, digits and '@_./~-'"
    if any(p == ".." for p in value.split("/")):
        return f"{what} '{value}' must not contain '..'"
    if value.startswith("-"):
        return f"{what} '{value}' must not start with '-' (a command would read it as an option)"
    return None


def node_problem(value: str) -> str | None:
    """For ``node``: the host name of one compute node, which becomes part of
    a scheduler directive (``--nodelist=NODE``, ``-p host='NODE'``)."""
    if not _NODE.fullmatch(value):
        return (f"node '{_shown(value)}' must be a host name: letters, digits, '.', '_' and "
                "'-', not starting with '-' or '.'")
    return None


def check_node(value: str, span: Span | None) -> str:
    """``node_problem`` as a ConfigError at ``span`` (the loader's check of
    ``- node: NAME``, so a bad node is reported where it is written)."""
    problem = node_problem(value)
    if problem:
        raise ConfigError(problem, span, "for example '- node: n042'")
    return value


def _shown(value: str, limit: int = 60) -> str:
    """A refused value as it can sit in a one-line message: control
    characters escaped, long values cut."""
    text = value if value.isprintable() else value.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."

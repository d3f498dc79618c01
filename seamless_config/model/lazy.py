"""A catalogue that parses a cluster only when it is used.

A catalogue can hold thousands of clusters while a project uses one, and
composing YAML costs about a microsecond per node. So a plain block-style
catalogue file is first cut into its top-level entries by a line scan;
an entry is composed, parsed and validated (completely) on first access.
Files the scan cannot vouch for (flow style, anchors, document markers,
keys YAML would not read as plain names) are parsed whole, as before.
``seamless-config check`` still validates every cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .._record import frozen_record
from ..core.yaml_nodes import compose_text
from ..errors import ConfigError, Span

_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9._-]*)[ \t]*:(?:[ \t]|$)")
# Anchors and aliases may tie entries together; such files are read whole.
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s,\]}]")
_NOT_STRINGS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null"}


@frozen_record
class Entry:
    """One top-level entry: its name, key position and line range."""

    name: str
    path: str
    start: int  # 0-based first line
    end: int  # 0-based line after the last one

    @property
    def span(self) -> Span:
        return Span(self.path, self.start + 1, 1, self.start + 1, len(self.name) + 1)


def index_text(text: str, path: str) -> list[Entry] | None:
    """The file's top-level entries, or None when it must be parsed whole."""
    if _ANCHOR.search(text):
        return None
    lines = text.split("\n")
    starts: list[tuple[str, int]] = []
    for number, line in enumerate(lines):
        if not line or line[0] in " \t#":
            continue
        match = _KEY.match(line)
        if match is None or match.group(1).lower() in _NOT_STRINGS:
            return None
        starts.append((match.group(1), number))
    ends = [n for _, n in starts[1:]] + [len(lines)]
    return [Entry(name, path, start, end) for (name, start), end in zip(starts, ends)]


def compose_entry(entry: Entry, lines: list[str]):
    """The entry's YAML mapping node, with the file's line numbers."""
    # Leading newlines keep line numbers; the trailing one puts end marks
    # where a whole-file parse puts them (at the next entry's line).
    tail = "\n" if entry.end < len(lines) else ""
    chunk = "\n" * entry.start + "\n".join(lines[entry.start:entry.end]) + tail
    return compose_text(chunk, entry.path)


class LazyClusters(Mapping):
    """name -> Cluster; names are known up front, values built on first
    access (a broken cluster raises its ConfigError then, every time).
    ``build(entry, lines)`` parses one entry (the catalogue's parser, handed
    in so that this module does not import the catalogue that uses it)."""

    def __init__(self, built: dict, entries: dict[str, tuple[Entry, list[str]]], build):
        self._built = dict(built)
        self._entries = entries
        self._build = build
        self._failed: dict[str, ConfigError] = {}

    def __getitem__(self, name: str):
        if name in self._built:
            return self._built[name]
        if name in self._failed:
            raise self._failed[name]
        entry, lines = self._entries[name]  # KeyError for unknown names
        try:
            cluster = self._build(entry, lines)
        except ConfigError as err:
            self._failed[name] = err
            raise
        self._built[name] = cluster
        return cluster

    def __iter__(self):
        yield from self._built
        yield from (n for n in self._entries if n not in self._built)

    def __len__(self) -> int:
        return len(self._built) + sum(1 for n in self._entries if n not in self._built)

    def __contains__(self, name: object) -> bool:
        return name in self._built or name in self._entries

    def span(self, name: str) -> Span:
        """Where ``name`` is defined, without building it."""
        if name in self._entries:
            return self._entries[name][0].span
        return self._built[name].span

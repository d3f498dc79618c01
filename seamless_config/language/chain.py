"""A work directory's chain of files -> one ``Program``.

``discover`` finds the files (climbing through ``inherit_from_parent``);
``build_program`` joins them in run order and hoists inline ``clusters``
so every cluster is defined before any command can select it. Spans are
kept as loaded: an explanation always points at the line the user wrote.
"""

from __future__ import annotations

import os
import warnings
from typing import Callable

from ..errors import SeamlessConfigWarning, Span, display_path
from .loader import load_file
from .nodes import Command, Node, Program, SourceFile

FILE_NAMES = ("seamless.yaml", "seamless.profile.yaml")


def discover(workdir: str, load: Callable[[str], SourceFile] = load_file,
             warn: Callable[[str, Span | None], None] | None = None) -> tuple[SourceFile, ...]:
    """Every candidate file of the chain, found or not, in run order: the
    farthest ancestor first; within a directory, seamless.yaml first.
    ``warn(message, span)`` hears of an inherit_from_parent that finds no
    parent configuration (default: a SeamlessConfigWarning)."""
    directory = os.path.abspath(workdir)
    groups: list[tuple[SourceFile, ...]] = []
    while True:
        group = tuple(load(os.path.join(directory, name)) for name in FILE_NAMES)
        if groups and not any(f.found for f in group):
            _nothing_inherited(groups[-1], directory, warn or _warn)
        groups.append(group)
        parent = os.path.dirname(directory)
        if not any(f.inherit for f in group):
            break
        if parent == directory:
            _nothing_inherited(group, None, warn or _warn)
            break
        directory = parent
    return tuple(f for group in reversed(groups) for f in group)


def _nothing_inherited(group: tuple[SourceFile, ...], parent: str | None, warn) -> None:
    """inherit_from_parent in ``group``, but the parent directory has no
    configuration file (or there is no parent)."""
    said = next(f for f in group if f.inherit)
    where = ("there is no parent directory" if parent is None else
             f"{display_path(parent) or parent} has no {' or '.join(FILE_NAMES)}")
    warn(f"inherit_from_parent, but {where}: nothing is inherited", said.inherit_span)


def _warn(message: str, span: Span | None) -> None:
    warnings.warn(f"{span}: {message}" if span else message, SeamlessConfigWarning, stacklevel=4)


def build_program(files: tuple[SourceFile, ...]) -> Program:
    files = tuple(files)
    nodes = [node for f in files for node in f.nodes]
    clusters = tuple(n for n in nodes if _is_clusters(n))
    body = tuple(n for n in nodes if not _is_clusters(n))
    return Program(files, clusters, body)


def _is_clusters(node: Node) -> bool:
    # The loader refuses clusters inside stage blocks, so the top level is enough.
    return isinstance(node, Command) and node.name == "clusters"

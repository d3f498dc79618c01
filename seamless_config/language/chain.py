"""A work directory's chain of files -> one ``Program``.

``discover`` finds the files (climbing through ``inherit_from_parent``);
``build_program`` joins them in run order and hoists inline ``clusters``
so every cluster is defined before any command can select it. Spans are
kept as loaded: an explanation always points at the line the user wrote.
"""

from __future__ import annotations

import os
from typing import Callable

from .loader import load_file
from .nodes import Command, Node, Program, SourceFile

FILE_NAMES = ("seamless.yaml", "seamless.profile.yaml")


def discover(workdir: str, load: Callable[[str], SourceFile] = load_file) -> tuple[SourceFile, ...]:
    """Every candidate file of the chain, found or not, in run order: the
    farthest ancestor first; within a directory, seamless.yaml first."""
    directory = os.path.abspath(workdir)
    groups: list[tuple[SourceFile, ...]] = []
    while True:
        group = tuple(load(os.path.join(directory, name)) for name in FILE_NAMES)
        groups.append(group)
        parent = os.path.dirname(directory)
        if parent == directory or not any(f.inherit for f in group):
            break
        directory = parent
    return tuple(f for group in reversed(groups) for f in group)


def build_program(files: tuple[SourceFile, ...]) -> Program:
    files = tuple(files)
    nodes = [node for f in files for node in f.nodes]
    clusters = tuple(n for n in nodes if _is_clusters(n))
    body = tuple(n for n in nodes if not _is_clusters(n))
    return Program(files, clusters, body)


def _is_clusters(node: Node) -> bool:
    # The loader refuses clusters inside stage blocks, so the top level is enough.
    return isinstance(node, Command) and node.name == "clusters"

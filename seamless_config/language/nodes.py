"""AST of the command language: what one work-directory chain says.

The loader turns each YAML file into ``Command`` and ``StageBlock`` nodes;
the normaliser (``program.py``) joins a chain into one ``Program``. Nodes
are frozen and always carry the span of the YAML item they came from.
"""

from __future__ import annotations

from typing import Any, Union

from .._record import frozen_record
from ..errors import Span


@frozen_record
class Command:
    """One command. ``argument`` is already type-checked (``None`` for bare
    commands); for ``clusters`` it is an ``InlineClusters``."""

    name: str
    argument: Any
    span: Span  # the command word
    arg_span: Span | None = None  # the argument value, when there is one

    def source_text(self) -> str:
        """How the command reads, for explanations: ``cluster: hpc``."""
        if self.argument is None and self.arg_span is None:
            return self.name
        if self.name == "clusters":
            return "clusters: {" + ", ".join(c.name for c in self.argument) + "}"
        return f"{self.name}: {format_scalar(self.argument)}"


@frozen_record
class InlineClusters:
    """The argument of a ``clusters`` command: its clusters, in order, and
    the ``local_cluster: NAME`` it may name (the previous package read one
    from any clusters mapping; project files written for it rely on that)."""

    clusters: tuple
    local_cluster: str | None = None
    local_span: Span | None = None

    def __iter__(self):
        return iter(self.clusters)


@frozen_record
class StageSelector:
    """``stage NAME`` (any substage) or ``stage NAME:SUBSTAGE``."""

    stage: str
    substage: str | None = None

    def matches(self, stage: str | None, substage: str | None) -> bool:
        if stage != self.stage:
            return False
        return self.substage is None or self.substage == substage

    def __str__(self) -> str:
        return f"stage {self.stage}" + (f":{self.substage}" if self.substage else "")


@frozen_record
class StageBlock:
    selector: StageSelector
    body: tuple["Node", ...]
    span: Span


Node = Union[Command, StageBlock]


@frozen_record
class SourceFile:
    """One candidate file of the chain, found or absent, in run order."""

    path: str
    found: bool
    inherit: bool = False  # it said inherit_from_parent
    nodes: tuple[Node, ...] = ()
    inherit_span: Span | None = None  # where it said so


@frozen_record
class Program:
    """A chain's commands: inline ``clusters`` hoisted (in source order),
    then everything else, parents first. ``inherit_from_parent`` is gone."""

    files: tuple[SourceFile, ...]
    clusters: tuple[Command, ...]
    body: tuple[Node, ...]


def format_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)

"""Run a chain's program against the cluster catalogue: Program -> Context.

Bindings live in immutable frames: each command that sets a value adds a
frame on top of the current one, so a value's history (what it shadowed,
through which stage blocks) is simply the chain below it. A matching
``StageBlock`` evaluates its body with its selector pushed on the stage
chain; its bindings stay in force after the block, like any command's.
"""

from __future__ import annotations

from collections import ChainMap
from types import MappingProxyType
from typing import Iterator, Mapping

from .._record import frozen_record, replace
from ..errors import ConfigError, UnknownClusterError, did_you_mean
from ..language.nodes import Command, Program, StageBlock
from ..model.types import Catalogue, Cluster, frozen_map
from .context import Origin, Problem, Setting

ROOT = ("root",)
# A selection made outside the files: (value, how it was made), e.g.
# ("hpc", "select_cluster('hpc')") or ("process", "SEAMLESS_CACHE=/data").
Origin_Value = tuple


@frozen_record
class Frame:
    """One binding on top of ``parent``; the chain is the environment."""

    parent: "Frame | None"
    setting: Setting

    def lookup(self, name: str) -> Setting | None:
        frame: Frame | None = self
        while frame is not None:
            if frame.setting.name == name:
                return frame.setting
            frame = frame.parent
        return None


def bind(frame: Frame | None, setting: Setting) -> Frame:
    """A new frame; the setting records what it shadows."""
    previous = frame.lookup(setting.name) if frame else None
    if previous is not None:
        setting = replace(setting, shadowed=(previous,) + previous.shadowed)
    return Frame(frame, setting)


def lookup(frame: Frame | None, name: str) -> Setting | None:
    return frame.lookup(name) if frame else None


def merge_clusters(catalogue: Catalogue, program: Program) -> Mapping[str, Cluster]:
    """Catalogue clusters, replaced by inline definitions of the same name
    (which remember the definition they override). Catalogue clusters stay
    unparsed until used, so this reads only their names and positions."""
    inline: dict[str, Cluster] = {}
    for command in program.clusters:
        for cluster in command.argument:
            old = inline.get(cluster.name)
            first = old.overrides or old.span if old else _catalogue_span(catalogue, cluster.name)
            if first is not None:
                cluster = replace(cluster, overrides=first)
            inline[cluster.name] = cluster
    if not inline:
        return catalogue.clusters
    # A view, not a copy: copying would build every lazy catalogue cluster.
    return MappingProxyType(ChainMap(inline, catalogue.clusters))


def local_cluster_of(catalogue: Catalogue, program: Program,
                     clusters: Mapping[str, Cluster]) -> str | None:
    """The cluster this machine belongs to: the last ``local_cluster`` of an
    inline ``clusters`` command, else the catalogue's."""
    local, span = catalogue.local_cluster, None
    for command in program.clusters:
        if command.argument.local_cluster is not None:
            local, span = command.argument.local_cluster, command.argument.local_span
    if span is not None and local not in clusters:
        from ..model.fields import choice_hint

        raise ConfigError(f"local_cluster '{local}' is not a defined cluster", span,
                          choice_hint(local, list(clusters)))
    return local


def _catalogue_span(catalogue: Catalogue, name: str):
    clusters = catalogue.clusters
    if name not in clusters:
        return None
    return clusters.span(name) if hasattr(clusters, "span") else clusters[name].span


@frozen_record
class Evaluation:
    """What running the program produced, before defaults and derivation."""

    frame: Frame | None
    stage_names: tuple[tuple[str, str | None], ...]
    problems: tuple[Problem, ...] = ()


class _Run:
    """One evaluation: the inputs every command needs, read-only. A strict
    run raises at an unknown cluster; a tolerant one (the previous
    package's API) records it, to be raised when the cluster is used."""

    def __init__(self, clusters: Mapping[str, Cluster], stage: str | None, substage: str | None,
                 strict: bool = True):
        self.clusters = clusters
        self.stage = stage
        self.substage = substage
        self.strict = strict
        self.problems: list[Problem] = []

    def unknown_cluster(self, error: ConfigError) -> None:
        if self.strict:
            raise error
        self.problems.append(Problem(error, frozenset({"cluster"})))

    def block(self, frame: Frame | None, nodes, stages: tuple[str, ...]) -> Frame | None:
        for node in nodes:
            if isinstance(node, StageBlock):
                if node.selector.matches(self.stage, self.substage):
                    frame = self.block(frame, node.body, stages + (str(node.selector),))
            else:
                frame = self.command(frame, node, stages)
        return frame

    def command(self, frame: Frame | None, cmd: Command, stages: tuple[str, ...]) -> Frame:
        origin = Origin("command", cmd.span, cmd.source_text(), stages)
        if cmd.name == "cluster":
            if cmd.argument is not None:
                self.check_cluster(cmd)
            if lookup(frame, "queue") is not None and lookup(frame, "queue").value is not None:
                change = (f"changed to '{cmd.argument}'" if cmd.argument is not None
                          else "was deselected")
                reset = Origin("default", cmd.span, None, stages,
                               rule=f"reset when the cluster {change}", trigger=cmd.span)
                frame = bind(frame, Setting("queue", None, reset))
        elif cmd.name == "queue":
            self.check_queue(frame, cmd)
        return bind(frame, Setting(cmd.name, cmd.argument, origin))

    def check_cluster(self, cmd: Command) -> None:
        if cmd.argument not in self.clusters:
            self.unknown_cluster(unknown_cluster(cmd.argument, self.clusters,
                                                 cmd.arg_span or cmd.span))

    def check_queue(self, frame: Frame | None, cmd: Command) -> None:
        selected = lookup(frame, "cluster")
        if selected is None or selected.value is None:
            raise ConfigError(f"queue '{cmd.argument}' needs a cluster", cmd.span,
                              "select one first with '- cluster: NAME'")
        cluster = self.clusters.get(selected.value)
        if cluster is None:  # a tolerant run kept an unknown cluster; a queue needs it now
            raise unknown_cluster(selected.value, self.clusters, selected.origin.span)
        if cmd.argument in cluster.queues:
            return
        raise ConfigError(*queue_problem(cluster, cmd.argument, cmd.arg_span or cmd.span))


def unknown_cluster(name: str, clusters: Mapping[str, Cluster], span,
                    via: str | None = None) -> ConfigError:
    """The error for a cluster name nothing defines (also a KeyError)."""
    known = sorted(clusters)
    hint = did_you_mean(name, known)
    listing = "known clusters: " + ", ".join(known) if known else (
        "no clusters are defined (in ~/.seamless/clusters.yaml or a 'clusters' command)")
    where = f" (from {via})" if via else ""
    return UnknownClusterError(f"unknown cluster '{name}'{where}", span,
                               f"{hint} {listing}" if hint else listing)


def queue_problem(cluster: Cluster, name: str, span) -> tuple:
    known = sorted(cluster.queues)
    listing = "known queues: " + ", ".join(known) if known else "it defines no queues"
    hint = did_you_mean(name, known)
    return (f"queue '{name}' is not defined by cluster '{cluster.name}' "
            f"(defined in {cluster.span})", span, f"{hint} {listing}" if hint else listing)


def stage_selectors(nodes) -> Iterator[tuple[str, str | None]]:
    for node in nodes:
        if isinstance(node, StageBlock):
            yield (node.selector.stage, node.selector.substage)
            yield from stage_selectors(node.body)


def run_program(program: Program, clusters: Mapping[str, Cluster],
                stage: str | None, substage: str | None,
                layers: tuple[tuple[str, Mapping[str, Origin_Value]], ...] = (),
                strict: bool = True) -> Evaluation:
    """Evaluate the body, then each layer of selections made outside the
    files (SEAMLESS_CACHE, then ``select_*`` calls), which win over them."""
    run = _Run(clusters, stage, substage, strict)
    frame = run.block(None, program.body, ROOT)
    for kind, values in layers:
        for name, entry in values.items():
            value, text = entry[0], entry[1]
            if name == "cluster" and value is not None and value not in clusters:
                run.unknown_cluster(unknown_cluster(value, clusters, None, via=text))
            if name == "cluster" and _changes_cluster(frame, value):
                # as the 'cluster' command: a queue belongs to the cluster it was chosen for
                frame = bind(frame, Setting("queue", None, Origin(
                    "default", rule=f"reset when {text} changed the cluster")))
            frame = bind(frame, Setting(name, value, Origin(_origin_kind(kind, entry), text=text)))
    names = tuple(dict.fromkeys(stage_selectors(program.body)))
    return Evaluation(frame, names, tuple(run.problems))


def _changes_cluster(frame: Frame | None, value) -> bool:
    queue, cluster = lookup(frame, "queue"), lookup(frame, "cluster")
    return queue is not None and queue.value is not None and (
        cluster is None or cluster.value != value)


def _origin_kind(kind: str, entry: tuple) -> str:
    """``select_x(v, source="command")`` counts as a command, as it did in
    the previous package (its files' commands were such calls)."""
    return "command" if len(entry) > 2 and entry[2] == "command" else kind


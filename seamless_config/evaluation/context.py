"""The immutable result of evaluating a chain: every value with provenance.

A ``Setting`` knows the command (file:line:col) or default rule that
produced it, the stage chain it came through and the values it shadowed.
``Context`` adds the derived values the executor needs: effective
execution, persistence, backend, queue, storage paths and service keys.
"""

from __future__ import annotations

from typing import Any, Mapping

from .._record import frozen_record
from ..errors import ConfigError, Span, raise_all
from ..language.nodes import SourceFile
from ..model.types import Cluster, Frontend, Queue


@frozen_record
class Origin:
    """Where a value came from. ``kind``: command | default | manual | environment."""

    kind: str
    span: Span | None = None
    text: str | None = None  # the command as written: "cluster: hpc"
    stages: tuple[str, ...] = ("root",)  # ("root", "stage prod", "stage prod:gpu")
    rule: str | None = None  # for defaults: why this value
    trigger: Span | None = None  # for defaults: what made the rule apply

    def describe(self) -> str:
        if self.kind == "command":
            return f"{self.text} at {self.span}"
        if self.kind == "default":
            where = f" (see {self.trigger})" if self.trigger else ""
            return f"default: {self.rule}{where}"
        return f"{self.kind}: {self.text or self.rule}"


@frozen_record
class Setting:
    name: str
    value: Any
    origin: Origin
    shadowed: tuple["Setting", ...] = ()  # earlier values, most recent first


@frozen_record
class ServiceUse:
    """A service the context needs: which frontend hosts it, in which mode,
    under which launcher key, storing where (None for job servers)."""

    service: str  # hashserver | database | jobserver | daskserver | pure_daskserver
    frontend: Frontend
    mode: str  # "rw" | "ro"
    key: str
    data_path: str | None = None  # hashserver workdir, or database file


@frozen_record
class Warn:
    message: str
    span: Span | None = None

    def __str__(self) -> str:
        return self.message if self.span is None else f"{self.span}: {self.message}"


@frozen_record
class Problem:
    """A mistake that matters only when what it concerns is used, as the
    previous package found it only then (``load_config_files()`` and the
    compatibility getters stay quiet). ``needs`` names what it blocks: a
    service (hashserver, database, jobserver, daskserver, pure_daskserver),
    ``cluster`` (looking the selected cluster up) or ``init`` (any init)."""

    error: ConfigError
    needs: frozenset


@frozen_record
class Context:
    workdir: str
    stage: str | None
    substage: str | None
    files: tuple[SourceFile, ...]  # the chain, in run order, found or absent
    catalogue_files: tuple[tuple[str, bool], ...]
    settings: Mapping[str, Setting]  # effective values, defaults included
    clusters: Mapping[str, Cluster]  # catalogue merged with inline definitions
    cluster: Cluster | None = None
    queue: Queue | None = None
    local_cluster: str | None = None
    storage_subpath: str | None = None  # /<project>[/<subproject>][/STAGE-<stage>]
    scope_subpath: str | None = None  # the same plus SUBSTAGE-<substage>
    services: tuple[ServiceUse, ...] = ()
    warnings: tuple[Warn, ...] = ()
    stage_names: tuple[tuple[str, str | None], ...] = ()  # selectors seen anywhere
    problems: tuple[Problem, ...] = ()  # only in a tolerant evaluation (strict ones raise)

    def value(self, name: str, default: Any = None) -> Any:
        s = self.settings.get(name)
        return default if s is None else s.value

    @property
    def execution(self) -> str:
        return self.value("execution")

    @property
    def persistent(self) -> bool:
        return bool(self.value("persistent"))

    @property
    def remote(self) -> str | None:
        """The job backend in use: jobserver, daskserver, or None."""
        return self.value("remote")

    def raise_for(self, *needs: str) -> None:
        """Raise the problems that block any of ``needs`` (all of them together)."""
        wanted = set(needs)
        raise_all([p.error for p in self.problems if p.needs & wanted])

    def service(self, name: str) -> ServiceUse | None:
        for use in self.services:
            if use.service == name:
                return use
        return None

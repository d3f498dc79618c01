"""``seamless-config check``: every problem of a configuration in one pass.

Each chain file and each catalogue cluster is validated on its own, so one
broken file does not hide the mistakes of the others; then the chain is
evaluated for the requested stage (or for every stage it names) with the
clusters that are valid, and the launch plan is built, which finds the
services an execution mode needs but no frontend offers. Pure except for
reading the files; whether git tracks a profile is asked by the caller
(``tracked``), since that runs a program.
"""

from __future__ import annotations

import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, Iterable

import yaml

from ..core.paths import catalogue_files, read_regular
from ..core.vocabulary import stage_label
from ..core.yaml_nodes import compose_file
from ..errors import (ConfigError, SeamlessConfigWarning, Span, did_you_mean, display_path,
                      source_excerpt)
from ..evaluation.pipeline import evaluate_workdir
from ..evaluation.resolve import exposure_warnings
from ..language.chain import discover
from ..language.loader import load_file
from ..language.nodes import SourceFile, StageBlock
from ..model.catalogue import LOCAL_CLUSTER, parse_clusters
from ..model.catalogue_files import load_catalogue
from ..model.types import Catalogue, frozen_map
from ..plan.services import plan
from .document import SourceLines, location

NO_STAGE = "no stage"
# A file that does not load still says whether the chain climbs past it.
_INHERIT = re.compile(r"^-\s+['\"]?inherit_from_parent\b(?!['\"]?\s*:\s*(false|no|off)\b)", re.M)


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    message: str
    span: Span | None = None
    hint: str | None = None
    stages: tuple[str, ...] = ()  # the evaluations that met it; () for the files alone

    def headline(self) -> str:
        text = self.message if self.span is None else f"{self.span}: {self.message}"
        return text if not self.hint else f"{text}; {self.hint}"

    def render(self, show_stages: bool = False) -> list[str]:
        lines = [self.headline()]
        if self.span is not None:
            lines += source_excerpt(self.span)
        if show_stages and self.stages:
            lines.append("      (found with: " + ", ".join(self.stages) + ")")
        return lines


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    files: tuple[tuple[str, str, bool], ...]  # (path, "chain" | "catalogue", found)
    evaluated: tuple[str, ...]  # stage labels; empty when the files did not load

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")


def _errors(err: ConfigError, stages: tuple[str, ...] = ()) -> list[Finding]:
    return [Finding("error", p.message, p.span, p.hint, stages) for p in err.problems]


# -- the files, each on its own ----------------------------------------------------

def load_chain(workdir: str) -> tuple[tuple[SourceFile, ...], list[Finding]]:
    """The chain as ``discover`` finds it, with broken files kept (empty)."""
    findings: list[Finding] = []

    def load(path: str) -> SourceFile:
        try:
            return load_file(path)
        except ConfigError as err:
            findings.extend(_errors(err))
            return SourceFile(path, True, _says_inherit(path))

    def warn(message: str, span: Span | None) -> None:
        findings.append(Finding("warning", message, span))

    files = discover(workdir, load, warn)
    order = {f.path: n for n, f in enumerate(files)}
    findings.sort(key=lambda f: order.get(f.span.path, 0) if f.span else 0)
    return files, findings


def _says_inherit(path: str) -> bool:
    try:
        return _INHERIT.search(read_regular(path).decode("utf-8", "replace")) is not None
    except OSError:
        return False


def tolerant_catalogue(home: str) -> tuple[Catalogue, list[Finding], set[str]]:
    """The catalogue, its problems, and the names of broken clusters. When
    it has problems, the catalogue returned holds the clusters that are
    valid on their own, so the chain can still be evaluated against them."""
    try:
        return load_catalogue(home), [], set()
    except ConfigError as err:
        findings = _errors(err)
    catalogue, broken = _valid_clusters(home)
    return catalogue, findings, broken


def _valid_clusters(home: str) -> tuple[Catalogue, set[str]]:
    files = catalogue_files(home)
    clusters: dict = {}
    broken: set[str] = set()
    for path, found in files:
        if found:
            _add_valid(path, clusters, broken)
    return Catalogue(frozen_map(clusters), tuple(files)), broken - set(clusters)


def _add_valid(path: str, clusters: dict, broken: set[str]) -> None:
    """Parse each cluster of one file on its own: one cluster's mistakes
    must not take the others down (their errors are already reported)."""
    try:
        root = compose_file(path)
    except ConfigError:
        return
    for key, value in root.value if isinstance(root, yaml.MappingNode) else ():
        name = getattr(key, "value", None)
        if not isinstance(name, str) or name == LOCAL_CLUSTER or name in clusters:
            continue
        single = yaml.MappingNode(root.tag, [(key, value)], root.start_mark, root.end_mark)
        try:
            clusters.update(parse_clusters(single, path, "catalogue")[0])
        except ConfigError:
            broken.add(name)


# -- stage selectors and the profile ------------------------------------------------

def _blocks(nodes) -> Iterable[StageBlock]:
    for node in nodes:
        if isinstance(node, StageBlock):
            yield node
            yield from _blocks(node.body)


def selector_findings(files: Iterable[SourceFile], stage: str | None) -> list[Finding]:
    """A ``stage X:SUB`` block whose stage X no other block names is most
    likely a typo; so is a ``--stage`` that no block names."""
    blocks = [b for f in files for b in _blocks(f.nodes)]
    counts = Counter(b.selector.stage for b in blocks)
    out = [_lonely(b, counts) for b in blocks
           if b.selector.substage and counts[b.selector.stage] == 1]
    if stage is not None and stage not in counts:
        out.append(_unknown_stage(stage, sorted(counts)))
    return out


def _lonely(block: StageBlock, counts: Counter) -> Finding:
    sel = block.selector
    guess = did_you_mean(sel.stage, [s for s in counts if s != sel.stage])
    return Finding("warning", f"stage '{sel.stage}' appears only in this '{sel}' block",
                   block.span, guess or f"its commands run only with --stage {sel.stage}:"
                   f"{sel.substage}")


def _unknown_stage(stage: str, known: list[str]) -> Finding:
    hint = did_you_mean(stage, known)
    listing = ("stages named in the files: " + ", ".join(known) if known
               else "the files name no stages")
    return Finding("warning", f"--stage {stage}: no file has a 'stage {stage}' block", None,
                   f"{hint} {listing}" if hint else listing)


def profile_findings(files: Iterable[SourceFile],
                     tracked: Callable[[str], bool | None]) -> list[Finding]:
    return [Finding("warning", f"{display_path(f.path)} is tracked by git; it holds settings "
                    "for this machine and this developer",
                    None, "add it to .gitignore and run 'git rm --cached seamless.profile.yaml'")
            for f in files
            if f.found and os.path.basename(f.path) == "seamless.profile.yaml" and tracked(f.path)]


# -- evaluation -------------------------------------------------------------------

def label(stage: str | None, substage: str | None) -> str:
    text = stage_label(stage, substage)
    return NO_STAGE if text is None else "stage " + text


def targets(files: Iterable[SourceFile], stage, substage, all_stages: bool) -> list[tuple]:
    if not all_stages:
        return [(stage, substage)]
    named = [(b.selector.stage, b.selector.substage) for f in files for b in _blocks(f.nodes)]
    return list(dict.fromkeys([(None, None)] + named))


def evaluate_findings(workdir: str, stage, substage, catalogue: Catalogue,
                      broken: set[str], environ=None) -> list[Finding]:
    """What evaluating (and planning) for one stage finds."""
    where = (label(stage, substage),)
    try:
        with warnings.catch_warnings():  # the chain's warnings: load_chain has them
            warnings.simplefilter("ignore", SeamlessConfigWarning)
            ctx = evaluate_workdir(workdir, stage=stage, substage=substage,
                                   catalogue=lambda home: catalogue, environ=environ)
        found = [Finding("warning", w.message, w.span, None, where)
                 for w in (*ctx.warnings, *exposure_warnings(ctx))]
        found += _spawn_findings(ctx, where)
        plan(ctx)
    except ConfigError as err:
        return [_explain_broken(f, broken) for f in _errors(err, where)]
    return found


def _spawn_findings(ctx, where) -> list[Finding]:
    workers = (ctx.cluster.workers if ctx.cluster else None) or ctx.value("nparallel")
    if ctx.execution != "spawn" or workers:
        return []
    return [Finding("error", "execution 'spawn' needs a number of workers",
                    ctx.settings["execution"].origin.span,
                    "set 'workers' in the cluster definition or '- nparallel: N'", where)]


def _explain_broken(finding: Finding, broken: set[str]) -> Finding:
    """'unknown cluster' for a cluster that exists but is broken misleads."""
    for name in broken:
        if finding.message == f"unknown cluster '{name}'":
            return replace(finding, message=f"cluster '{name}' cannot be used: its definition "
                           "has errors (reported above)", hint=None)
    return finding


# -- the whole check -----------------------------------------------------------------

def merge(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """One finding per distinct problem, with every stage that met it;
    errors first, each group in the order found."""
    merged: dict[tuple, Finding] = {}
    for f in findings:
        key = (f.severity, f.message, f.span, f.hint)
        old = merged.get(key)
        stages = f.stages if old is None else old.stages + tuple(
            s for s in f.stages if s not in old.stages)
        merged[key] = replace(f, stages=stages)
    values = list(merged.values())
    return tuple([f for f in values if f.severity == "error"]
                 + [f for f in values if f.severity != "error"])


def run_checks(workdir: str, *, stage: str | None = None, substage: str | None = None,
               all_stages: bool = False, home: str | None = None, environ=None,
               tracked: Callable[[str], bool | None] = lambda path: None) -> Report:
    """Everything wrong with the configuration of ``workdir``. The chain is
    evaluated only when all its files load: without one of them the
    evaluation would report consequences, not causes."""
    home = os.path.expanduser("~") if home is None else home
    files, findings = load_chain(workdir)
    chain_ok = not any(f.severity == "error" for f in findings)
    catalogue, cat_findings, broken = tolerant_catalogue(home)
    findings += cat_findings
    findings += selector_findings(files, None if all_stages else stage)
    findings += profile_findings(files, tracked)
    evaluated: list[str] = []
    if chain_ok:
        for st, sub in targets(files, stage, substage, all_stages):
            evaluated.append(label(st, sub))
            findings += evaluate_findings(workdir, st, sub, catalogue, broken, environ)
    listed = tuple((f.path, "chain", f.found) for f in files) + tuple(
        (p, "catalogue", found) for p, found in catalogue.files)
    return Report(merge(findings), listed, tuple(evaluated))


# -- rendering ------------------------------------------------------------------------

def _finding_doc(finding: Finding) -> dict:
    doc = {"message": finding.message, "location": location(finding.span),
           "source": SourceLines().line(finding.span), "hint": finding.hint,
           "stages": list(finding.stages)}
    return {k: v for k, v in doc.items() if v is not None}


def report_document(report: Report) -> dict:
    return {
        "version": 1,
        "files": [{"path": display_path(p), "role": role, "found": found}
                  for p, role, found in report.files],
        "evaluated": list(report.evaluated),
        "errors": [_finding_doc(f) for f in report.errors],
        "warnings": [_finding_doc(f) for f in report.warnings],
    }


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary(report: Report) -> str:
    chain = sum(1 for _, role, found in report.files if role == "chain" and found)
    cat = sum(1 for _, role, found in report.files if role == "catalogue" and found)
    text = (f"checked {_count(chain, 'file')} of the chain and {_count(cat, 'catalogue file')}: "
            f"{_count(len(report.errors), 'error')}, {_count(len(report.warnings), 'warning')}")
    if not report.evaluated:
        return text + "; not evaluated: fix the errors in the chain's files first"
    return text + "; evaluated with: " + ", ".join(report.evaluated)


def report_lines(report: Report, style=lambda text, role: text) -> list[str]:
    """Each finding as ``error: path:line:col: message; hint`` plus the
    source line and caret, then a one-line summary."""
    many = len(report.evaluated) > 1
    lines = []
    for finding in report.findings:
        head, *rest = finding.render(show_stages=many)
        lines.append(style(f"{finding.severity}: ", finding.severity) + head)
        lines += rest
    return lines + [summary(report)]

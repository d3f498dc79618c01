"""Context -> the stable, JSON-able document of ``explain --json``,
``show --json`` and golden ``context.json``.

Every location is ``path:line:col`` with the path through ``display_path``
(relative to the current directory or ``~``), so the same configuration
gives the same document on every machine. Keys that do not apply are left
out rather than set to null; list and key order is fixed.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..core.paths import read_regular
from ..core.vocabulary import SERVICES, SETTINGS, stage_label
from ..errors import Span, display_path
from ..evaluation.context import Context, Origin, Setting
from ..evaluation.resolve import exposure_warnings
from ..model.types import Cluster, Queue, is_local_frontend, plain
from ..plan.services import plan

VERSION = 1
SECTIONS = ("cluster", "queue", "storage", "services")
KEYS = SETTINGS + tuple(s for s in SECTIONS if s not in SETTINGS)


class SourceLines:
    """The text of source lines, each file read once per document."""

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def line(self, span: Span | None) -> str | None:
        if span is None:
            return None
        if span.path not in self._files:
            self._files[span.path] = _read_lines(span.path)
        lines = self._files[span.path]
        if lines is None or not 0 < span.line <= len(lines):
            return None
        return lines[span.line - 1].strip() or None


def _read_lines(path: str) -> list[str] | None:
    try:
        return read_regular(path).decode("utf-8", "replace").splitlines()
    except OSError:  # a synthetic path such as <SEAMLESS_CACHE>, or a vanished file
        return None


def location(span: Span | None) -> str | None:
    return None if span is None else str(span)


def _compact(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


# -- settings ------------------------------------------------------------------

def origin_doc(origin: Origin, src: SourceLines) -> dict:
    return _compact({
        "kind": origin.kind,
        "text": origin.text,
        "location": location(origin.span) if origin.kind == "command" else None,
        "source": src.line(origin.span) if origin.kind == "command" else None,
        "rule": origin.rule,
        "trigger": location(origin.trigger),
        "trigger_source": src.line(origin.trigger),
        "stages": list(origin.stages),
    })


def setting_doc(setting: Setting, src: SourceLines) -> dict:
    return {
        "value": plain(setting.value),
        "origin": origin_doc(setting.origin, src),
        "overridden": [{"value": plain(s.value), "origin": origin_doc(s.origin, src)}
                       for s in setting.shadowed],
    }


# -- cluster, queue, services ----------------------------------------------------

def cluster_doc(cluster: Cluster, src: SourceLines) -> dict:
    return _compact({
        "name": cluster.name,
        "source": cluster.source,
        "location": location(cluster.span),
        "overrides": location(cluster.overrides),
        "type": cluster.type,
        "tunnel": cluster.tunnel,
        "workers": cluster.workers,
        "default_queue": cluster.default_queue,
        "frontends": [_compact({
            "index": fe.index + 1,
            "hostname": fe.hostname,
            "ssh_hostname": fe.ssh_hostname,
            "location": location(fe.span),
            "services": list(fe.services),
        }) for fe in cluster.frontends],
    })


def written_in(cluster: Cluster, queue: Queue, field: str) -> str:
    """The queue whose own line supplied ``field``: follow TEMPLATE links
    while the template holds the very same origin."""
    origin, current = queue.origins.get(field), queue
    while current.template in cluster.queues:
        parent = cluster.queues[current.template]
        if parent.origins.get(field) != origin or parent is current:
            break
        current = parent
    return current.name


def queue_doc(cluster: Cluster, queue: Queue) -> dict:
    fields = {}
    for name, value in queue.fields.items():
        source = written_in(cluster, queue, name)
        fields[name] = _compact({"value": plain(value),
                                 "location": location(queue.origins.get(name)),
                                 "from_template": source if source != queue.name else None})
    return _compact({"name": queue.name, "cluster": cluster.name,
                     "location": location(queue.span), "template": queue.template,
                     "fields": fields})


def host_of(ctx: Context, frontend) -> str:
    """Where init would start a service of ``frontend``."""
    if ctx.cluster is not None and is_local_frontend(ctx.cluster, frontend, ctx.local_cluster):
        return "this machine"
    return frontend.hostname or "this machine"


def services_doc(ctx: Context) -> list[dict]:
    return [_compact({
        "service": use.service,
        "key": use.key,
        "mode": use.mode,
        "host": host_of(ctx, use.frontend),
        "frontend": _compact({"index": use.frontend.index + 1, "hostname": use.frontend.hostname,
                              "location": location(use.frontend.span)}),
        "data_path": display_path(use.data_path) if use.data_path else None,
    }) for use in ctx.services]


def storage_doc(ctx: Context) -> dict | None:
    if ctx.storage_subpath is None:
        return None
    return {"storage_subpath": ctx.storage_subpath, "scope_subpath": ctx.scope_subpath}


# -- the whole document ------------------------------------------------------------

def searched(ctx: Context) -> list[dict]:
    chain = [{"path": display_path(f.path), "role": "chain", "found": f.found}
             for f in ctx.files]
    return chain + [{"path": display_path(p), "role": "catalogue", "found": found}
                    for p, found in ctx.catalogue_files]


def _sections(ctx: Context, src: SourceLines) -> dict:
    """Each section's builder, run only when the section is wanted."""
    return {
        "cluster": lambda: cluster_doc(ctx.cluster, src) if ctx.cluster else None,
        "queue": lambda: queue_doc(ctx.cluster, ctx.queue) if ctx.queue else None,
        "storage": lambda: storage_doc(ctx),
        "services": lambda: services_doc(ctx),
    }


def document(ctx: Context, keys: Iterable[str] | None = None) -> dict:
    """The explanation of ``ctx``; ``keys`` (setting or section names)
    limits the settings and sections shown, never the files searched.
    Its warnings add, to the evaluation's own, every server that would
    listen beyond loopback."""
    wanted = None if keys is None else set(keys)
    src = SourceLines()
    doc: dict[str, Any] = {
        "version": VERSION, "workdir": display_path(ctx.workdir),
        "stage": ctx.stage, "substage": ctx.substage, "searched": searched(ctx),
        "settings": {name: setting_doc(ctx.settings[name], src) for name in SETTINGS
                     if name in ctx.settings and (wanted is None or name in wanted)},
    }
    for name, build in _sections(ctx, src).items():
        if wanted is None or name in wanted:
            doc[name] = build()
    doc["stage_blocks"] = [stage_label(s, sub) for s, sub in ctx.stage_names]
    doc["warnings"] = [_compact({"message": w.message, "location": location(w.span)})
                       for w in (*ctx.warnings, *exposure_warnings(ctx))]
    return doc


# -- diff and plan -------------------------------------------------------------------

def _derived(rule: str) -> dict:
    return {"kind": "derived", "rule": rule, "stages": []}


def comparable(doc: dict) -> dict[str, dict]:
    """Settings and derived values under flat names, each with its origin."""
    out = {name: {"value": s["value"], "origin": s["origin"]}
           for name, s in doc["settings"].items()}
    storage = doc.get("storage") or {}
    if storage:
        out["storage_subpath"] = {"value": storage["storage_subpath"],
                                  "origin": _derived("from project, subproject and stage")}
        out["scope_subpath"] = {"value": storage["scope_subpath"],
                                "origin": _derived("from project, subproject, stage and substage")}
    for use in doc.get("services") or []:
        fe = use["frontend"]
        origin = _derived(f"frontend {fe['index']} at {fe['location']}")
        for field in ("host", "key", "data_path"):
            if field in use:
                out[f"{use['service']}.{field}"] = {"value": use[field], "origin": origin}
    return out


_ABSENT = object()
_FIELD_ORDER = ("host", "key", "data_path")


def _rank(name: str) -> tuple:
    """Settings first (in their usual order), then paths, then services."""
    if name in SETTINGS:
        return (0, SETTINGS.index(name), 0)
    if name in ("storage_subpath", "scope_subpath"):
        return (1, name != "storage_subpath", 0)
    service, _, field = name.partition(".")
    return (2, SERVICES.index(service) if service in SERVICES else 99,
            _FIELD_ORDER.index(field) if field in _FIELD_ORDER else 99)


def differences(doc_a: dict, doc_b: dict) -> list[dict]:
    """Every comparable name whose value differs (or exists on one side only)."""
    a, b = comparable(doc_a), comparable(doc_b)
    names = sorted(set(a) | set(b), key=_rank)
    return [{"name": n, "a": a.get(n), "b": b.get(n)} for n in names
            if (a.get(n) or {}).get("value", _ABSENT) != (b.get(n) or {}).get("value", _ABSENT)]


def _shown_path(word: str) -> str:
    return display_path(word) if word.startswith("/") else word


def plan_entry(spec, running: dict | None = None) -> dict:
    """One LaunchSpec as ``plan`` shows it; ``running``: {url, pid} of the
    server that serves it now, if any."""
    handshake = spec.handshake if isinstance(spec.handshake, str) else dict(spec.handshake)
    return _compact({
        "service": spec.service,
        "host": spec.hostname or "this machine",
        "key": spec.key,
        "argv": [_shown_path(a) for a in spec.argv],
        "workdir": _shown_path(spec.workdir),
        "log_file": _shown_path(spec.log_file),
        "handshake": handshake,
        "conda": spec.conda,
        "ssh_hostname": spec.ssh_hostname,
        "tunnel": spec.tunnel or None,
        "network_interface": spec.network_interface,
        "port_range": [spec.port_start, spec.port_end] if spec.port_start else None,
        "file_parameters": dict(spec.file_parameters) if spec.file_parameters else None,
    }) | {"running": running}


def plan_document(ctx: Context, probe=None) -> dict:
    """Every server init would start, in start order. ``probe(spec)`` says
    what runs now ({url, pid} or None); without it nothing is probed."""
    entries = [plan_entry(spec, probe(spec) if probe else None) for spec in plan(ctx)]
    return {"version": VERSION, "stage": ctx.stage, "substage": ctx.substage,
            "services": entries}

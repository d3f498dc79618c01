"""Text renderings of the documents of ``document.py``: explain, show,
diff and plan.

Pure: each function returns lines. ``style(text, role)`` decorates a piece
(the CLI colours it; golden files and pipes get it plain). Roles: heading,
name, value, location, quote, dim, overridden, warning, found, absent.
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Callable, Iterable

from ..core.vocabulary import SETTINGS, stage_label
from ..language.nodes import format_scalar
from ..model.types import LOCAL_HOSTNAMES

Style = Callable[[str, str], str]
INDENT = "    "
LABEL = 16
ARROW = " \u2192 "  # the stage chain: root → stage prod → stage prod:gpu


def no_style(text: str, role: str) -> str:
    return text


def show_value(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(", ", ": "))
    return format_scalar(value)


def _row(label: str, text: str, style: Style, depth: int = 1) -> str:
    return INDENT * depth + style(label.ljust(LABEL), "dim") + text


def _at(location: str | None, source: str | None, style: Style) -> str:
    """``path:line:col  "the line as written"``."""
    parts = [style(location, "location")] if location else []
    if source:
        parts.append(style(f'"{source}"', "quote"))
    return "  ".join(parts)


# -- settings ---------------------------------------------------------------------

def origin_rows(origin: dict, style: Style) -> list[tuple[str, str]]:
    kind = origin["kind"]
    if kind == "command":
        rows = [("set by", _at(origin.get("location"), origin.get("source") or origin.get("text"),
                               style))]
    elif kind == "default":
        rows = [("default", origin.get("rule", ""))]
        if origin.get("trigger"):
            rows.append(("trigger", _at(origin["trigger"], origin.get("trigger_source"), style)))
    else:
        rows = [("set by", f"{origin.get('text')} ({kind})")]
    if kind == "command" or len(origin["stages"]) > 1:
        rows.append(("stages", ARROW.join(origin["stages"])))
    return rows


def origin_summary(origin: dict, style: Style) -> str:
    """One line: where a value came from."""
    if origin["kind"] == "command":
        return _at(origin.get("location"), origin.get("source") or origin.get("text"), style)
    if origin["kind"] in ("default", "derived"):
        return f"{origin['kind']}: {origin.get('rule', '')}"
    return f"{origin.get('text')} ({origin['kind']})"


def setting_lines(name: str, setting: dict, style: Style) -> list[str]:
    lines = [INDENT + style(name, "name") + " = " + style(show_value(setting["value"]), "value")]
    lines += [_row(label, text, style, 2) for label, text in origin_rows(setting["origin"], style)]
    for old in setting["overridden"]:
        text = style(show_value(old["value"]), "overridden") + "  " + origin_summary(
            old["origin"], style)
        lines.append(_row("overridden", text, style, 2))
    return lines


# -- sections -----------------------------------------------------------------------

def files_lines(doc: dict, style: Style) -> list[str]:
    lines = [style("Files searched, in the order they ran", "heading")]
    if not doc["searched"]:
        cache = any(s["origin"]["kind"] == "environment" for s in doc["settings"].values())
        lines.append(INDENT + ("none: SEAMLESS_CACHE is set, so no file is read" if cache
                               else "none"))
    for f in doc["searched"]:
        mark = style("found ", "found") if f["found"] else style("absent", "absent")
        role = "  " + style("(cluster catalogue)", "dim") if f["role"] == "catalogue" else ""
        lines.append(f"{INDENT}{mark}  {f['path']}{role}")
    return lines


def stage_line(doc: dict, style: Style) -> str:
    label = stage_label(doc["stage"], doc["substage"], "(none)")
    blocks = ", ".join(b for b in doc["stage_blocks"]) or "none"
    return style("Stage", "heading") + f" {label}  " + style(f"(stage blocks in the chain: {blocks})",
                                                              "dim")


def cluster_lines(cluster: dict | None, style: Style) -> list[str]:
    if cluster is None:
        return [style("Cluster", "heading") + " none selected"]
    lines = [style("Cluster", "heading") + " " + style(cluster["name"], "name")]
    lines.append(_row("defined at", style(cluster["location"], "location")
                      + f"  ({cluster['source']})", style))
    if cluster.get("overrides"):
        lines.append(_row("overrides", style(cluster["overrides"], "location")
                          + "  (an earlier definition; this inline one replaces it)", style))
    for name in ("type", "tunnel", "workers", "default_queue"):
        if name in cluster:
            lines.append(_row(name, show_value(cluster[name]), style))
    for fe in cluster["frontends"]:
        host = fe.get("hostname", "no hostname") + _this_machine(fe)
        what = ", ".join(fe["services"]) or "no services"
        lines.append(_row(f"frontend {fe['index']}", f"{host} ({what})  "
                          + style(fe["location"], "location"), style))
    return lines


def _this_machine(frontend: dict) -> str:
    """A loopback name is this machine: its services start without SSH,
    and a tunnel would lead back here, so none is made."""
    name = frontend.get("hostname")
    if name in LOCAL_HOSTNAMES and frontend.get("ssh_hostname") in (None, name, *LOCAL_HOSTNAMES):
        return ": this machine, no SSH or tunnel"
    return ""


def queue_lines(queue: dict | None, style: Style) -> list[str]:
    if queue is None:
        return [style("Queue", "heading") + " none selected"]
    lines = [style("Queue", "heading") + " " + style(queue["name"], "name")
             + f" of cluster {queue['cluster']}"]
    lines.append(_row("defined at", style(queue["location"], "location"), style))
    if queue.get("template"):
        lines.append(_row("TEMPLATE", queue["template"], style))
    fields = queue["fields"]
    values = {name: show_value(f["value"]) for name, f in fields.items()}
    name_w = max([LABEL - 2] + [len(n) for n in fields])
    value_w = max((len(v) for v in values.values()), default=0)
    for name, field in fields.items():
        via = field.get("from_template")
        note = "  " + style(f"(from TEMPLATE {via})", "dim") if via else ""
        lines.append(INDENT + name.ljust(name_w) + "  " + style(values[name].ljust(value_w), "value")
                     + "  " + style(field.get("location", ""), "location") + note)
    return lines


def storage_lines(storage: dict | None, style: Style) -> list[str]:
    lines = [style("Storage", "heading")]
    if storage is None:
        return [lines[0] + " none (it needs a cluster and a project)"]
    lines.append(_row("storage path", storage["storage_subpath"], style))
    lines.append(_row("scope path", storage["scope_subpath"], style))
    return lines


def services_lines(services: list[dict], style: Style) -> list[str]:
    head = style("Services", "heading")
    if not services:
        return [head + " none (init starts no servers)"]
    lines = [head]
    for use in services:
        fe = use["frontend"]
        name = f" {fe['hostname']}" if fe.get("hostname") not in (None, use["host"]) else ""
        where = f"(frontend {fe['index']}{name} at " + style(fe["location"], "location") + ")"
        lines.append(INDENT + style(use["service"], "name") + f" on {use['host']}  {where}")
        lines.append(_row("key", use["key"], style, 2))
        if use.get("data_path"):
            lines.append(_row("data", use["data_path"], style, 2))
    return lines


def warning_lines(warnings: list[dict], style: Style) -> list[str]:
    if not warnings:
        return []
    lines = [style("Warnings", "heading")]
    for w in warnings:
        where = w["location"] + ": " if w.get("location") else ""
        lines.append(INDENT + style(where + w["message"], "warning"))
    return lines


def explain_lines(doc: dict, keys: Iterable[str] | None = None,
                  style: Style = no_style) -> list[str]:
    """The full explanation; with ``keys``, only those settings and sections."""
    lines = files_lines(doc, style) + [stage_line(doc, style), ""]
    lines.append(style("Settings", "heading"))
    for name in (doc["settings"] if keys is None else [k for k in keys if k in SETTINGS]):
        setting = doc["settings"].get(name)
        lines += (setting_lines(name, setting, style) if setting is not None
                  else [INDENT + style(name, "name") + " is not set"])
    renderers = {"cluster": cluster_lines, "queue": queue_lines, "storage": storage_lines,
                 "services": services_lines}
    for name, render in renderers.items():
        if name in doc:
            lines += [""] + render(doc[name], style)
    warnings = warning_lines(doc["warnings"], style)
    return lines + ([""] + warnings if warnings else [])



# -- show ----------------------------------------------------------------------------

def table(rows: list[tuple[str, ...]], style: Style, header: bool = False) -> list[str]:
    """Columns padded to their widest cell; the last column unpadded."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(row, widths)] + [row[-1]]
        line = "  ".join(cells).rstrip()
        out.append(style(line, "heading") if header and n == 0 else line)
    return out


def show_lines(doc: dict, style: Style = no_style) -> list[str]:
    """The resolved values, one per line, then what init would start where."""
    rows = [("stage", stage_label(doc["stage"], doc["substage"], "(none)"))]
    rows += [(name, show_value(s["value"])) for name, s in doc["settings"].items()]
    if doc.get("storage"):
        rows += [("storage path", doc["storage"]["storage_subpath"]),
                 ("scope path", doc["storage"]["scope_subpath"])]
    lines = table(rows, style)
    if doc.get("services"):
        header = ("service", "host", "key", "data")
        body = [(u["service"], u["host"], u["key"], u.get("data_path", "")) for u in doc["services"]]
        lines += [""] + table([header] + body, style, header=True)
    warnings = warning_lines(doc["warnings"], style)
    return lines + ([""] + warnings if warnings else [])


# -- diff and plan -----------------------------------------------------------------

def side_label(stage: str | None, substage: str | None) -> str:
    return stage_label(stage, substage, "(no stage)")


def diff_lines(doc_a: dict, doc_b: dict, diffs: list[dict], style: Style = no_style) -> list[str]:
    """Per differing name, one line per side: value, then where it came from."""
    labels = (side_label(doc_a["stage"], doc_a["substage"]),
              side_label(doc_b["stage"], doc_b["substage"]))
    if not diffs:
        return [f"No differences between {labels[0]} and {labels[1]}."]
    lines = [style(f"Differences between {labels[0]} and {labels[1]}", "heading")]
    for d in diffs:
        lines += ["", INDENT + style(d["name"], "name")]
        lines += _diff_sides(d, labels, style)
    return lines


def _diff_sides(d: dict, labels: tuple[str, str], style: Style) -> list[str]:
    width = max(map(len, labels))
    values = [show_value(d[side]["value"]) if d[side] else "(not set)" for side in "ab"]
    value_w = max(map(len, values))
    out = []
    for side, label, value in zip("ab", labels, values):
        text = INDENT * 2 + label.ljust(width) + "  "
        if d[side]:
            text += style(value.ljust(value_w), "value") + "  " + origin_summary(
                d[side]["origin"], style)
        else:
            text += style(value, "dim")
        out.append(text)
    return out


def handshake_text(handshake) -> str:
    if handshake == "healthcheck":
        return "GET /healthcheck on its port"
    return f"GET /{handshake['path']} on its {handshake['port_name']}"


def shell_word(word: str) -> str:
    """Quoted where a shell needs it; a display path's leading ``~/`` and
    the ``{status_file}`` placeholder are shown as they are."""
    if word == "{status_file}":
        return word
    if word.startswith("~/") and shlex.quote(word[2:]) == word[2:]:
        return word
    return shlex.quote(word)


def plan_lines(entries: list[dict], style: Style = no_style) -> list[str]:
    if not entries:
        return ["init would start no servers (no storage and no remote execution)."]
    lines: list[str] = []
    for e in entries:
        status = (style("running", "found") + f" at {e['running']['url']}"
                  if e["running"] else style("not running", "dim"))
        lines += ([""] if lines else []) + [
            style(e["service"], "name") + f" on {e['host']}: " + status]
        rows = [("key", e["key"]), ("argv", " ".join(map(shell_word, e["argv"]))), ("workdir", e["workdir"]),
                ("log file", e["log_file"]), ("handshake", handshake_text(e["handshake"]))]
        if e.get("conda"):
            rows.append(("conda env", e["conda"]))
        if e.get("program"):
            rows.append(("program", e["program"]))
        lines += [_row(label, text, style) for label, text in rows]
    return lines

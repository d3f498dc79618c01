"""How ``services`` shows servers: the ``ps`` table (with the key that
``--key`` takes), uptimes, and the selectors a suggestion repeats."""

from __future__ import annotations

import shlex

from ..core.vocabulary import stage_label


def _stage_cell(stage, substage) -> str:
    return stage_label(stage, substage, "-")


def format_uptime(seconds) -> str:
    if seconds is None:
        return "-"
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds % 60:02d}s" if minutes else f"{seconds}s"


def _tunnel_cell(tunnel) -> str:
    if not tunnel:
        return "-"
    return f"127.0.0.1:{tunnel['local_port']}" + ("" if tunnel["open"] else " (closed)")


def ps_cells(row) -> tuple[str, ...]:
    project = (row.project or "-") + (f"/{row.subproject}" if row.subproject else "")
    live = row.state + (f" ({row.reason})" if row.reason and row.state != "failed" else "")
    values = (row.service, row.cluster, project, _stage_cell(row.stage, row.substage),
              row.host, row.port, row.pid, live, format_uptime(row.uptime),
              _tunnel_cell(row.tunnel), row.key)
    return tuple("-" if v is None else str(v) for v in values)


PS_HEADER = ("SERVICE", "CLUSTER", "PROJECT", "STAGE", "HOST", "PORT", "PID", "STATE",
             "UPTIME", "TUNNEL", "KEY")


def table(rows) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]


def ps_lines(rows) -> list[str]:
    return table([PS_HEADER] + [ps_cells(r) for r in rows])


SELECTORS = ("workdir", "cluster", "project", "stage", "service", "key")


def command_with_selectors(ctx, command: str) -> str:
    """``seamless-config services COMMAND`` with the selectors the user gave
    to this command, so that the suggestion names the same servers."""
    words = ["seamless-config", "services", command]
    for name in SELECTORS:
        value = ctx.params.get(name)
        if value is not None:
            words += [f"--{name}", value]
    return shlex.join(words)

"""``seamless-init``'s options, defined once (``OPTIONS``), the parser of
usual invocations that needs no click (``fast_parse``), and the command
itself (``run``), which both entry paths call: ``init`` (the entry point)
and ``init_command`` (the click command, built from ``OPTIONS``)."""

from __future__ import annotations

import json
import os
import sys
from typing import NamedTuple


class Option(NamedTuple):
    name: str
    dest: str
    flag: bool  # else it takes one value
    default: object = None
    help: str | None = None  # None: the shared option of cli/common.py


# seamless-init's options, defined once: the fast parser and the click
# command (init_command.py) are both built from this table.
OPTIONS = (
    Option("--stage", "stage", False),
    Option("--new-stage", "new_stage", True, False,
           "Allow a stage (or substage) that no file names and that has no storage yet: "
           "start its new, empty storage."),
    Option("--workdir", "workdir", False),
    Option("--dry-run", "dry_run", True, False, "Resolve and show the plan; start nothing."),
    Option("--json", "as_json", True, False, "Machine-readable output."),
    Option("--deadline", "deadline", False, 60.0,
           "Seconds each server may take to become healthy."),
    Option("--with-clients", "with_clients", True, False,
           "Also activate seamless-remote's clients on the servers and initialise each "
           "(imports the Seamless runtime). Default: our own probes."),
)
_BY_NAME = {o.name: o for o in OPTIONS}


def fast_parse(argv, environ=os.environ) -> dict | None:
    """The command's keyword arguments for a usual ``argv``, exactly as
    click would pass them; None for anything click must see (help, version,
    -v, completion, an unknown or malformed option, a bad value)."""
    if any(k.startswith("_") and k.endswith("_COMPLETE") for k in environ):
        return None  # click's shell completion
    got = {o.dest: o.default for o in OPTIONS}
    args = list(argv)
    while args:
        name, eq, value = args.pop(0).partition("=")
        opt = _BY_NAME.get(name)
        if opt is None or (opt.flag and eq):
            return None
        if opt.flag:
            got[opt.dest] = True
            continue
        if not eq:
            if not args:
                return None
            value = args.pop(0)
        if not value or value.startswith("-"):
            return None  # click's reading of these is its own
        got[opt.dest] = value
    return got if _values_ok(got) else None


def _values_ok(got: dict) -> bool:
    """What click's types and callbacks would check, else click says so."""
    from ..core.names import name_problem

    if got["workdir"] is not None and not os.path.isdir(got["workdir"]):
        return False
    if isinstance(got["deadline"], str):
        try:
            got["deadline"] = float(got["deadline"])
        except ValueError:
            return False
    if got["stage"] is not None:
        stage, _, substage = got["stage"].partition(":")
        if name_problem(stage, "stage") or (substage and name_problem(substage, "substage")):
            return False
    return True


def run(stage, new_stage, workdir, dry_run, as_json, deadline, with_clients) -> None:
    """The command itself, for either parser; library errors propagate (the
    caller renders them)."""
    if os.environ.get("SEAMLESS_REMOTE_CLIENTS"):
        return  # a worker bootstrapping itself with set_remote_clients
    from .. import api

    st, _, sub = (stage or "").partition(":")
    api.set_workdir(os.path.abspath(workdir or os.getcwd()))
    ctx = api.set_stage(st or None, sub or None, launch=False)
    if ctx.stage is not None and not new_stage:
        _refuse_unknown_stage(ctx)
    if with_clients:
        _need_runtime()
    if dry_run:
        _report_dry(ctx, as_json)
        return
    from ..launch.activation import activate
    from .progress import Progress

    with Progress([u.service for u in ctx.services]) as progress:
        activation = activate(ctx, deadline=deadline, on_ready=progress.ready,
                              runtime=with_clients)
    if with_clients:
        _ensure_clients(activation)
    if as_json:
        _echo(json.dumps({"settings": dict(_settings_rows(ctx, typed=True)),
                          "services": [_handle_json(h, activation.checked)
                                       for h in activation.handles]},
                         indent=2, default=str))  # default: a value JSON has no type for
        return
    _print_rows(_settings_rows(ctx))
    if activation.handles:
        _echo()
        _handles_table(activation.handles)
    _print_dashboards(activation.handles)


def _echo(text: str = "") -> None:
    """Plain text on standard output (nothing here is styled)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _settings_rows(ctx, typed: bool = False) -> list[tuple[str, object]]:
    """(name, value) of what was resolved: as text for the table, or as
    JSON values (``typed``: null, true, numbers stay themselves)."""
    from ..core.vocabulary import stage_label
    from ..language.nodes import format_scalar

    show = (lambda v: v) if typed else format_scalar
    rows = [("stage", stage_label(ctx.stage, ctx.substage, None if typed else "(none)"))]
    for name, setting in ctx.settings.items():
        rows.append((name, show(setting.value)))
    if ctx.storage_subpath:
        for use in ctx.services:
            if use.data_path:
                rows.append((f"{use.service} data", use.data_path))
    return rows


def _print_rows(rows) -> None:
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        _echo(f"{name.ljust(width)}  {value}")


def _handles_table(handles) -> None:
    header = ("service", "host", "url", "status", "seconds")
    rows = [header] + [(h.service, h.host, h.url, "launched" if h.launched else "reused",
                        f"{h.seconds:.2f}") for h in handles]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        _echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _handle_json(h, checked: dict) -> dict:
    return {"service": h.service, "key": h.key, "host": h.host, "url": h.url,
            "launched": h.launched, "seconds": round(h.seconds, 3),
            "checked": checked.get(h.service)}


def _print_dashboards(handles) -> None:
    from ..launch.activation import dashboard_url

    for handle in handles:
        url = dashboard_url(handle)
        if url:
            _echo(f"dask dashboard of {handle.service}: {url}")


def _refuse_unknown_stage(ctx) -> None:
    from ..errors import RefusedError
    from ..launch.stage_check import unknown_stage

    problem = unknown_stage(ctx)
    if problem:
        raise RefusedError(problem, None, "to start it with new, empty storage, "
                           "add --new-stage")


def _need_runtime() -> None:
    """--with-clients without seamless-remote: say so before starting anything."""
    from ..errors import MissingExtraError
    from ..launch.runtime import runtime_available

    if not runtime_available():
        raise MissingExtraError("seamless_remote", "integration", "seamless-init --with-clients")


def _ensure_clients(activation) -> None:
    """--with-clients: seamless-remote's clients, each initialised (their
    own health checks, through the runtime's HTTP stack)."""
    from ..launch.runtime import ensure_clients

    if activation.runtime is None:  # nothing to start, so nothing to reach
        return
    for service in ensure_clients(activation.runtime):
        done = activation.checked.get(service)
        activation.checked[service] = (f"{done}; " if done else "") + \
            "seamless-remote client initialised"


def _report_dry(ctx, as_json: bool) -> None:
    from ..plan.services import plan

    specs = plan(ctx)
    if as_json:
        _echo(json.dumps({"settings": dict(_settings_rows(ctx, typed=True)),
                               "plan": [s.to_dict() for s in specs]}, indent=2, default=str))
        return
    from ..launch.executables import shown

    _print_rows(_settings_rows(ctx))
    for spec in specs:
        argv = list(spec.argv)
        if spec.is_local and argv:  # which program: beside this Python, or on PATH
            argv[0] = shown(argv[0], spec.conda)
        _echo(f"would start {spec.service} on {spec.hostname or 'this machine'}: "
                   + " ".join(argv))

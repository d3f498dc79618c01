"""``seamless-init``: initialise, start or reuse every server the
configuration needs, verify each, and print where everything runs."""

from __future__ import annotations

import json
import os
import sys

import click

from .common import (guarded, parse_stage, stage_option, verbose_option, version_option,
                     workdir_of, workdir_option)


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
        click.echo(f"{name.ljust(width)}  {value}")


def _handles_table(handles) -> None:
    header = ("service", "host", "url", "status", "seconds")
    rows = [header] + [(h.service, h.host, h.url, "launched" if h.launched else "reused",
                        f"{h.seconds:.2f}") for h in handles]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _handle_json(h, checked: dict) -> dict:
    return {"service": h.service, "key": h.key, "host": h.host, "url": h.url,
            "launched": h.launched, "seconds": round(h.seconds, 3),
            "checked": checked.get(h.service)}


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@stage_option
@click.option("--new-stage", is_flag=True,
              help="Allow a stage (or substage) that no file names and that has no storage "
                   "yet: start its new, empty storage.")
@workdir_option
@click.option("--dry-run", is_flag=True, help="Resolve and show the plan; start nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--deadline", type=float, default=60.0, show_default=True,
              help="Seconds each server may take to become healthy.")
@click.option("--with-clients", is_flag=True,
              help="Also activate seamless-remote's clients on the servers and initialise "
                   "each (imports the Seamless runtime). Default: our own probes.")
@verbose_option
@version_option
@guarded
def main(stage, new_stage, workdir, dry_run, as_json, deadline, with_clients):
    """Initialise Seamless for this directory and verify its servers.

    Each server is checked with a request only it answers correctly: the
    hashserver stores a buffer and gives it back, the database answers a
    transformation query, the jobserver and the Dask scheduler their own
    health checks. --with-clients adds seamless-remote's proof (its clients
    activated and initialised, as a Seamless script would have them)."""
    if os.environ.get("SEAMLESS_REMOTE_CLIENTS"):
        return  # a worker bootstrapping itself with set_remote_clients
    from .. import api

    st, sub = parse_stage(stage)
    api.set_workdir(workdir_of(workdir))
    ctx = api.set_stage(st, sub, launch=False)
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
        click.echo(json.dumps({"settings": dict(_settings_rows(ctx, typed=True)),
                               "services": [_handle_json(h, activation.checked)
                                            for h in activation.handles]},
                              indent=2, default=str))  # default: a value JSON has no type for
        return
    _print_rows(_settings_rows(ctx))
    if activation.handles:
        click.echo()
        _handles_table(activation.handles)
    _print_dashboards(activation.handles)


def _print_dashboards(handles) -> None:
    from ..launch.activation import dashboard_url

    for handle in handles:
        url = dashboard_url(handle)
        if url:
            click.echo(f"dask dashboard of {handle.service}: {url}")


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
        click.echo(json.dumps({"settings": dict(_settings_rows(ctx, typed=True)),
                               "plan": [s.to_dict() for s in specs]}, indent=2, default=str))
        return
    from ..launch.executables import shown

    _print_rows(_settings_rows(ctx))
    for spec in specs:
        argv = list(spec.argv)
        if spec.is_local and argv:  # which program: beside this Python, or on PATH
            argv[0] = shown(argv[0], spec.conda)
        click.echo(f"would start {spec.service} on {spec.hostname or 'this machine'}: "
                   + " ".join(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

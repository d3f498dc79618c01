"""``seamless-init``: initialise, start or reuse every server the
configuration needs, verify each, and print where everything runs."""

from __future__ import annotations

import json
import os
import sys

import click

from .common import (guarded, parse_stage, stage_option, verbose_option, workdir_of,
                     workdir_option)


def _settings_rows(ctx) -> list[tuple[str, str]]:
    from ..language.nodes import format_scalar

    from ..core.vocabulary import stage_label

    rows = [("stage", stage_label(ctx.stage, ctx.substage, "(none)"))]
    for name, setting in ctx.settings.items():
        rows.append((name, format_scalar(setting.value)))
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


def _handle_json(h) -> dict:
    return {"service": h.service, "key": h.key, "host": h.host, "url": h.url,
            "launched": h.launched, "seconds": round(h.seconds, 3)}


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@stage_option
@workdir_option
@click.option("--dry-run", is_flag=True, help="Resolve and show the plan; start nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--deadline", type=float, default=60.0, show_default=True,
              help="Seconds each server may take to become healthy.")
@verbose_option
@guarded
def main(stage, workdir, dry_run, as_json, deadline):
    """Initialise Seamless for this directory and verify its servers."""
    if os.environ.get("SEAMLESS_REMOTE_CLIENTS"):
        return  # a worker bootstrapping itself with set_remote_clients
    from .. import api

    st, sub = parse_stage(stage)
    api.set_workdir(workdir_of(workdir))
    ctx = api.set_stage(st, sub, launch=False)
    if dry_run:
        _report_dry(ctx, as_json)
        return
    from ..launch.activation import activate
    from .progress import Progress

    with Progress([u.service for u in ctx.services]) as progress:
        activation = activate(ctx, deadline=deadline, on_ready=progress.ready)
    if as_json:
        click.echo(json.dumps({"settings": dict(_settings_rows(ctx)),
                               "services": [_handle_json(h) for h in activation.handles]},
                              indent=2))
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


def _report_dry(ctx, as_json: bool) -> None:
    from ..plan.services import plan

    specs = plan(ctx)
    if as_json:
        click.echo(json.dumps({"settings": dict(_settings_rows(ctx)),
                               "plan": [s.to_dict() for s in specs]}, indent=2))
        return
    _print_rows(_settings_rows(ctx))
    for spec in specs:
        click.echo(f"would start {spec.service} on {spec.hostname or 'this machine'}: "
                   + " ".join(spec.argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

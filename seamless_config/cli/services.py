"""``seamless-config services``: ps, logs, inspect, stop, rm, prune,
clear, resolve.

Servers are named by Seamless-level arguments (``--cluster``,
``--project``, ``--stage STAGE[:SUBSTAGE]``, ``--service``), defaulting to
the resolved context of ``--workdir``, or by the key that ``ps`` shows
(``--key``), which needs no configuration. The ``seamless-service-*``
scripts are these commands under the old names.
"""

from __future__ import annotations

import logging
import sys

import click

from ..core.names import name_problem
from ..core.vocabulary import DASK_SERVICES, SERVICES, STORAGE_SERVICES
from ..errors import ConfigError, RefusedError
from ..services.targets import evaluate_scope, resolve_document, targets
from .common import (EXIT_SERVICE, EXIT_USAGE, echo_json, fail, guarded, parse_stage,
                     verbose_option, workdir_of, workdir_option)
from .service_table import command_with_selectors, ps_lines

SETTINGS = {"help_option_names": ["-h", "--help"]}


def _name(kind: str):
    def check(ctx, param, value):
        if value is not None and name_problem(value, kind):
            raise click.BadParameter(name_problem(value, kind))
        return value
    return check


def scope_options(f):
    """--workdir, --cluster, --project, --stage, --key and -v."""
    f = click.option("--key", metavar="KEY",
                     help="The server with this key (the KEY column of 'ps'), whatever "
                          "the work directory's configuration.")(f)
    f = click.option("--stage", metavar="STAGE[:SUBSTAGE]",
                     help="Stage (and substage) of the servers (default: none).")(f)
    f = click.option("--project", callback=_name("project"),
                     help="Project (default: from the work directory).")(f)
    f = click.option("--cluster", callback=_name("cluster"),
                     help="Cluster (default: from the work directory).")(f)
    return verbose_option(workdir_option(f))


def service_option(required: bool = False, choices=SERVICES,
                   text: str = "One service (default: every one the configuration uses)."):
    return click.option("--service", type=click.Choice(choices), required=required, help=text)


def _context(workdir, cluster, project, stage):
    st, sub = parse_stage(stage)
    return evaluate_scope(workdir_of(workdir), cluster=cluster, project=project, stage=st,
                          substage=sub)


def _targets(workdir, cluster, project, stage, service, key=None):
    if key is None:
        return targets(_context(workdir, cluster, project, stage), [service] if service else None)
    from ..services.bykey import key_target

    if cluster or project or stage or service:
        raise click.UsageError("--key names one server: leave out --cluster, --project, "
                               "--stage and --service")
    return [key_target(key)]


def _one(found):
    if len(found) > 1:
        names = ", ".join(t.service for t in found)
        raise click.UsageError(f"this configuration uses {names}; name one with --service")
    return found[0]


def _label(target) -> str:
    return f"{target.service} '{target.key}'"


def _ps_clusters(workdir, cluster, project, stage, all_clusters) -> tuple:
    """(context or None, cluster names whose frontends to ask)."""
    try:
        ctx = _context(workdir, cluster, project, stage)
    except ConfigError as exc:
        if cluster or all_clusters:
            raise
        click.echo(f"warning: {exc.headline()}; listing this machine only", err=True)
        return None, []
    if all_clusters:
        return ctx, list(ctx.clusters)
    return ctx, [ctx.cluster.name] if ctx.cluster is not None else []


def _selected(rows, cluster, project, stage, service, key):
    """The rows that the explicit selectors name."""
    from ..services.operations import matching

    st, sub = parse_stage(stage)
    rows = matching(rows, cluster=cluster, project=project, stage=st, substage=sub, key=key)
    if service is not None:  # "daskserver": either kind of Dask scheduler
        kinds = DASK_SERVICES if service == "daskserver" else (service,)
        rows = [r for r in rows if r.service in kinds]
    return rows


@click.command(context_settings=SETTINGS)
@scope_options
@service_option(text="Only this service.")
@click.option("--all-clusters", is_flag=True, help="Ask the frontends of every known cluster.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@guarded
def ps(workdir, cluster, project, stage, key, service, all_clusters, as_json):
    """Every server known on this machine and on the frontends of the
    selected cluster, checked live. --cluster, --project, --stage,
    --service and --key filter the list."""
    from ..services import operations as services

    ctx, clusters = _ps_clusters(workdir, cluster, project, stage, all_clusters)
    listing = services.list_servers(services.frontends(ctx, clusters) if ctx else [])
    rows = _selected(listing.rows, cluster, project, stage, service, key)
    _print_listing(rows, listing.unreachable, as_json)
    if listing.unreachable:
        sys.exit(EXIT_SERVICE)


def _print_listing(rows, unreachable, as_json: bool) -> None:
    if as_json:
        echo_json({"servers": [r.to_dict() for r in rows],
                   "unreachable": [{"host": h, "error": e} for h, e in unreachable]})
    elif rows:
        click.echo("\n".join(ps_lines(rows)))
    else:
        click.echo("no servers known")
    for host, error in unreachable:
        click.echo(f"warning: cannot list the servers on {host}: {error}", err=True)


# -- logs, inspect, resolve ----------------------------------------------------

@click.command(context_settings=SETTINGS)
@scope_options
@service_option()
@click.option("--tail", "lines", type=click.IntRange(min=0), default=None,
              help="Only the last N lines.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing what the server writes.")
@guarded
def logs(workdir, cluster, project, stage, key, service, lines, follow):
    """The log of one server (read over SSH when it runs on a frontend)."""
    from ..services import operations as services

    target = _one(_targets(workdir, cluster, project, stage, service, key))
    try:
        services.write_log(target, click.get_text_stream("stdout"), lines, follow)
    except KeyboardInterrupt:
        pass


@click.command(context_settings=SETTINGS)
@scope_options
@service_option()
@guarded
def inspect(workdir, cluster, project, stage, key, service):
    """The full state: server record and client record, per service."""
    from ..services import operations as services

    found = _targets(workdir, cluster, project, stage, service, key)
    echo_json({t.service or t.key: services.inspect(t) for t in found})


@click.command(context_settings=SETTINGS)
@scope_options
@service_option()
@guarded
def resolve(workdir, cluster, project, stage, key, service):
    """Key, host, SSH host, work directory and log of each server the
    arguments name, as JSON. Contacts nothing; reads no state, except with
    --key (this machine's state or client file says where the key runs)."""
    if key is not None:
        from ..services.bykey import key_target, resolve_key

        target = _targets(workdir, cluster, project, stage, service, key)[0]
        echo_json({target.service or key: resolve_key(target)})
        return
    echo_json(resolve_document(_targets(workdir, cluster, project, stage, service)))


# -- stop, rm ------------------------------------------------------------------

def stop_line(done) -> str:
    where = f"{_label(done.target)} on {done.host}"
    if not done.known:
        return f"nothing known about {where}"
    if done.signal:
        text = f"stopped {where} (pid {done.pid}, {done.signal})"
    else:
        text = f"{where} was not running" + (f" (pid {done.pid})" if done.pid else "")
    return text + ("; closed its tunnel" if done.tunnel_closed else "")


@click.command(context_settings=SETTINGS)
@scope_options
@service_option()
@click.option("--all", "everything", is_flag=True,
              help="Every server running on this machine that this user started, listed "
                   "first (selectors narrow it).")
@click.option("--yes", "-y", is_flag=True, help="With --all: do not ask for confirmation.")
@guarded
def stop(workdir, cluster, project, stage, key, service, everything, yes):
    """Stop servers: SIGINT, then SIGTERM, then SIGKILL. Their state becomes
    'stale', their data stays, a tunnel that served them is closed."""
    from ..services import operations as services

    if everything:
        return _stop_all(cluster, project, stage, service, key, yes)
    found = _targets(workdir, cluster, project, stage, service, key)
    results = [services.stop(t) for t in found]
    for done in results:
        click.echo(stop_line(done))
    if not any(done.known for done in results):
        fail("error: no state for these servers; 'seamless-config services ps' lists "
             "the known ones", EXIT_USAGE)


def _listed_and_confirmed(rows, none: str, verb: str, noun: str, yes: bool) -> bool:
    """List ``rows`` as ps does and ask before acting on them (``--yes``
    skips the question); False when there is nothing to act on."""
    if not rows:
        click.echo(none)
        return False
    click.echo("\n".join(ps_lines(rows)))
    if not yes:
        click.confirm(f"{verb} these {len(rows)} {noun}s?" if len(rows) > 1 else
                      f"{verb} this {noun}?", abort=True)
    return True


def _stop_all(cluster, project, stage, service, key, yes) -> None:
    from ..services import bykey

    rows = bykey.to_stop(_selected(bykey.local_rows(), cluster, project, stage, service, key))
    if not _listed_and_confirmed(rows, "no server is running on this machine",
                                 "stop", "server", yes):
        return
    for row in rows:
        used = bykey.stop_row(row)
        click.echo(f"stopped {row.service or 'server'} '{row.key}' (pid {row.pid}, {used})"
                   if used else f"{row.service or 'server'} '{row.key}' was not running "
                                f"(pid {row.pid})")


@click.command(context_settings=SETTINGS)
@scope_options
@service_option()
@click.option("--server", "server_side", is_flag=True, help="Only the server state.")
@click.option("--client", "client_side", is_flag=True, help="Only this machine's client file.")
@guarded
def rm(workdir, cluster, project, stage, key, service, server_side, client_side):
    """Forget servers: delete their state files (default: server and client
    side). Logs and data stay. A running server must be stopped first."""
    from ..services import operations as services

    both = not (server_side or client_side)
    suggestion = command_with_selectors(click.get_current_context(), "stop")
    for target in _targets(workdir, cluster, project, stage, service, key):
        removed = services.forget(target, server=both or server_side,
                                  client=both or client_side, stop_command=suggestion)
        what = " and ".join(removed) if removed else "nothing (no state files)"
        click.echo(f"{_label(target)}: removed {what}")


@click.command(context_settings=SETTINGS)
@scope_options
@service_option(text="Only this service.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@guarded
def prune(workdir, cluster, project, stage, key, service, yes):
    """Forget the records of servers that no longer run on this machine
    (stale or failed state files, client files of servers that do not
    answer), listed first. Logs and data stay; nothing is signalled."""
    from ..services import bykey

    rows = bykey.to_prune(_selected(bykey.local_rows(), cluster, project, stage, service, key))
    if not _listed_and_confirmed(rows, "no stale records", "forget", "record", yes):
        return
    for what in bykey.prune(rows):
        click.echo(f"removed {what}")


# -- clear ---------------------------------------------------------------------

def plan_lines(plan, verbose: bool = False) -> list[str]:
    from ..services.clear import format_size

    if not plan.files:
        return [f"nothing to delete in {plan.path} on {plan.host}"]
    what = "file" if len(plan.files) == 1 else "files"
    lines = [f"will delete {len(plan.files)} {what} ({format_size(plan.total)}) "
             f"of {_label(plan.target)} on {plan.host}:"]
    shown = plan.files if verbose or plan.target.service == "database" else ()
    lines += [f"  {path}  {format_size(size)}" for path, size in shown]
    if not shown:
        lines.append(f"  in {plan.path}")
    if plan.kept:
        lines.append("keeping: " + ", ".join(plan.kept))
    return lines


@click.command(context_settings=SETTINGS)
@scope_options
@service_option(required=True, choices=STORAGE_SERVICES, text="Whose data.")
@click.option("--stop", "stop_first", is_flag=True, help="Stop the server first if it runs.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@guarded
def clear(workdir, cluster, project, stage, key, service, stop_first, yes):
    """Delete the buffers (hashserver) or seamless.db (database) of exactly
    one project/stage. Refuses paths outside the configured bufferdir /
    database_dir and a running server (unless --stop). With --key, the
    configuration of --workdir must define that server's cluster."""
    from ..services import operations as services, clear as services_clear

    target = _clear_target(workdir, cluster, project, stage, service, key)
    with services.opened(target) as host:
        plan, running = services_clear.prepare_clear(host, target, stop_first)
        click.echo("\n".join(plan_lines(plan, logging_verbose())))
        if not plan.files:
            return
        if not yes:
            click.confirm("stop it and delete?" if running else "delete?", abort=True)
        done = services_clear.clear(host, target, running)
        click.echo(f"deleted {services_clear.format_size(done.total)} from {done.path}")


def _clear_target(workdir, cluster, project, stage, service, key):
    """The storage to clear: named by selectors, or by a key whose scope
    the work directory's configuration must reproduce (the configured
    directory is what bounds the deletion)."""
    if key is None:
        return _targets(workdir, cluster, project, stage, service)[0]
    from ..services.operations import parse_key

    scope = parse_key(key)
    if scope["service"] != service or scope["subproject"] or scope["substage"]:
        raise RefusedError(f"key '{key}' is not the {service} of a project or stage",
                           hint="'seamless-config services ps' shows the keys")
    try:
        found = _targets(workdir, scope["cluster"], scope["project"], scope["stage"], service)
    except ConfigError as exc:
        raise RefusedError(f"key '{key}': {exc.headline()}",
                           hint="clear needs the configuration that defines its storage: "
                                "pass --workdir") from None
    if found[0].key != key:
        raise RefusedError(f"key '{key}' is not a server of this configuration "
                           f"(it names '{found[0].key}')", hint="pass --workdir")
    return found[0]


def logging_verbose() -> bool:
    return logging.getLogger("seamless_config").getEffectiveLevel() <= logging.INFO


# -- the group and the seamless-service-* scripts ------------------------------

@click.group(context_settings=SETTINGS)
@verbose_option
def services():
    """List, inspect, stop and forget servers, and reclaim their storage."""


for _command in (ps, logs, inspect, stop, rm, prune, clear, resolve):
    services.add_command(_command)

ps_main, logs_main, inspect_main, stop_main = ps, logs, inspect, stop
rm_main, clear_main, resolve_main = rm, clear, resolve

__all__ = ["services", "ps_main", "logs_main", "inspect_main", "stop_main", "rm_main",
           "clear_main", "resolve_main"]

"""``plan``: every server init would start, and whether it runs already."""

from __future__ import annotations

import click

from .common import (echo_json, echo_lines, evaluate, guarded, json_option, stage_option,
                     style, verbose_option, workdir_option)


def probe(spec) -> dict | None:
    """What serves ``spec`` now: asks the executor, which checks the pid and
    the health port, and never launches or cleans anything up."""
    from ..launch.executor import read_handle

    handle = read_handle(spec)
    if handle is None:
        return None
    return {k: v for k, v in (("url", handle.url), ("pid", handle.pid)) if v is not None}


@click.command()
@workdir_option
@stage_option
@json_option
@verbose_option
@guarded
def plan(workdir, stage, as_json):
    """Every server init would start: host, key, command line, work
    directory, log file, handshake, and whether it is already running."""
    from ..inspect.document import plan_document

    doc = plan_document(evaluate(workdir, stage), probe)
    if as_json:
        echo_json(doc)
    else:
        from ..inspect.explain import plan_lines

        for entry in doc["services"]:  # text only: the JSON stays free of this machine's paths
            entry["program"] = program(entry)
        echo_lines(plan_lines(doc["services"], style))


def program(entry: dict) -> str:
    """Which executable will run: here, the one beside this Python or on
    PATH (as the launch looks it up); on a frontend, its shell's lookup."""
    name, conda = entry["argv"][0], entry.get("conda")
    if entry["host"] != "this machine":
        where = f"conda environment '{conda}'" if conda else "PATH"
        return f"'{name}' as found on {entry['host']}'s {where}"
    from ..launch.executables import shown

    return shown(name, conda)

"""Whether a requested stage looks mistyped, before anything starts.

The stages a project knows are those its files name in ``stage`` blocks
and those that have storage already: a server or client record under the
launcher directory, or a ``STAGE-<name>`` data directory on this machine.
A stage that is none of these while others are known is most likely a
typo, and would start new, empty storage (issue 16): ``seamless-init``
refuses it unless told ``--new-stage``; the Python API warns. A project
that knows no stage at all has nothing to mistype, so its first stage is
taken as asked.

A substage splits only job dispatch (jobserver, daskserver): the same
test, among the substages the files name for that stage and those its job
servers were started with.
"""

from __future__ import annotations

import os

from ..errors import did_you_mean
from ..model.types import is_local_frontend
from .state import client_dir, server_dir

STAGE, SUBSTAGE = "STAGE-", "SUBSTAGE-"
JOB_SERVICES = ("jobserver", "daskserver")


def unknown_stage(ctx) -> str | None:
    """Why ``ctx``'s stage (or substage) looks mistyped, with a suggestion;
    None when it is known, or nothing is known to compare it with."""
    if ctx.stage is None:
        return None
    stages = {stage for stage, _ in ctx.stage_names if stage}
    if ctx.stage not in stages:
        stages |= _stored(ctx, ctx.services, substages=False)
        if stages and ctx.stage not in stages:
            return _message("stage", ctx.stage, stages, "stage ")
    if ctx.substage is None:
        return None
    subs = {sub for stage, sub in ctx.stage_names if stage == ctx.stage and sub}
    if ctx.substage not in subs:
        jobs = [use for use in ctx.services if use.service in JOB_SERVICES]
        subs |= _stored(ctx, jobs, substages=True)
        if subs and ctx.substage not in subs:
            return _message(f"substage of stage '{ctx.stage}'", ctx.substage, subs,
                            f"stage {ctx.stage}:")
    return None


def _message(what: str, name: str, known: set[str], block: str) -> str:
    guess = did_you_mean(name, known)
    return (f"{what} '{name}' is new: no file has a '{block}{name}' block and it has no "
            f"storage yet (known: {', '.join(sorted(known))})" + (f"; {guess}" if guess else ""))


def _stored(ctx, uses, substages: bool) -> set[str]:
    """The stages (or substages of ``ctx.stage``) that ``uses``' servers
    were started with: their record names, and local data directories."""
    found: set[str] = set()
    for use in uses:
        key = use.key if substages else use.key.partition(SUBSTAGE)[0]
        marker = SUBSTAGE if substages else STAGE
        head, sep, _ = key.rpartition(marker)
        if not sep:
            continue
        for folder in (server_dir(), client_dir()):
            found |= _names(_listing(folder), head + marker, substages)
        if not substages and use.data_path and \
                is_local_frontend(ctx.cluster, use.frontend, ctx.local_cluster):
            parent = _stage_parent(os.path.expanduser(use.data_path))
            found |= _names(_listing(parent), STAGE, substages) if parent else set()
    return found


def _names(entries, prefix: str, substages: bool) -> set[str]:
    out = set()
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        name = entry[len(prefix):].removesuffix(".json").removesuffix(".log")
        if not substages:
            name = name.partition(SUBSTAGE)[0]
        if name and "/" not in name and "--" not in name:
            out.add(name)
    return out


def _stage_parent(path: str) -> str | None:
    """The directory holding ``STAGE-<name>`` in a data path."""
    while path and path != os.path.dirname(path):
        if os.path.basename(path).startswith(STAGE):
            return os.path.dirname(path)
        path = os.path.dirname(path)
    return None


def _listing(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []

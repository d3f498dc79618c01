"""``seamless-init`` as a click command: built from the option table in
``init_run`` (the one place the options are defined); used for ``--help``,
``--version``, ``-v``, shell completion and any invocation the fast parser
hands over, so bad usage gets click's own messages and exit code 2."""

from __future__ import annotations

import click

from . import init_run
from .common import (guarded, parse_stage, stage_option, verbose_option, version_option,
                     workdir_option)

_SHARED = {"stage": stage_option, "workdir": workdir_option}


def _decorate(f):
    """The click options of ``init_run.OPTIONS``, in their order (the first
    table entry is the first option in --help)."""
    for opt in reversed(init_run.OPTIONS):
        if opt.dest in _SHARED:  # the same option as seamless-config's commands
            f = _SHARED[opt.dest](f)
        elif opt.flag:
            f = click.option(opt.name, opt.dest, is_flag=True, help=opt.help)(f)
        else:
            f = click.option(opt.name, opt.dest, type=float, default=opt.default,
                             show_default=True, help=opt.help)(f)
    return f


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@_decorate
@verbose_option
@version_option
@guarded
def main(**options):
    """Initialise Seamless for this directory and verify its servers.

    Each server is checked with a request only it answers correctly: the
    hashserver stores a buffer and gives it back, the database answers a
    transformation query, the jobserver and the Dask scheduler their own
    health checks. --with-clients adds seamless-remote's proof (its clients
    activated and initialised, as a Seamless script would have them)."""
    parse_stage(options["stage"])  # a malformed one is click's usage error
    init_run.run(**options)

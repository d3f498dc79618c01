"""``seamless-config``: explain, show, check, diff, plan, schema, golden,
jobscript, services.

Every subcommand imports what it needs when it runs, so starting the tool
costs click and nothing else (no requests, fabric or distributed).
"""

from __future__ import annotations

import click

from .check import check
from .common import verbose_option, version_option
from .explain import diff, explain, show
from .golden import golden
from .jobscript import jobscript
from .plan import plan
from .schema import schema
from .services import services


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option
@verbose_option
def cli():
    """Inspect a seamless-config configuration: why each setting has its
    value, what init would start, and what is wrong with it.

    Shell completion (bash; zsh_source and fish_source likewise):
    eval "$(_SEAMLESS_CONFIG_COMPLETE=bash_source seamless-config)"
    """


for command in (explain, show, check, diff, plan, schema, golden, jobscript, services):
    cli.add_command(command)


def main(argv=None):
    return cli.main(args=argv, prog_name="seamless-config")


if __name__ == "__main__":  # pragma: no cover
    main()

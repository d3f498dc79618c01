"""``golden check`` / ``golden update``: golden-file regression cases (see
``seamless_config/golden.py`` for the layout of a case)."""

from __future__ import annotations

import sys

import click

from .common import EXIT_PROBLEMS, guarded, style, verbose_option

_DIRS = click.argument("dirs", nargs=-1, required=True,
                       type=click.Path(exists=True, file_okay=False))


@click.group()
@verbose_option
def golden():
    """Golden-file regression cases: configuration trees with the outputs
    they must produce (context.json, explain.txt, plan.json or error.txt)."""


@golden.command("check")
@_DIRS
@verbose_option
@guarded
def check_cases(dirs):
    """Run each case (a case directory, or a directory of them) and print a
    unified diff for every output that differs; exit 1 if any does."""
    from ..inspect.golden import compare, find_cases

    cases = find_cases(dirs)
    failed = []
    for case in cases:
        diffs = compare(case)
        click.echo((style("FAIL", "error") if diffs else style("ok  ", "found")) + " " + case.name)
        for diff in diffs:
            click.echo(diff.unified(case.name), nl=False)
        if diffs:
            failed.append(case.name)
    click.echo(f"{len(cases) - len(failed)} of {len(cases)} cases match their expected outputs")
    if failed:
        sys.exit(EXIT_PROBLEMS)


@golden.command("update")
@_DIRS
@verbose_option
@guarded
def update_cases(dirs):
    """Run each case and rewrite its expected outputs, deleting the ones it
    no longer produces (error.txt once a case succeeds, and the reverse)."""
    from ..inspect.golden import find_cases, update

    for case in find_cases(dirs):
        changes = update(case)
        what = ", ".join(f"{action} {name}" for name, action in changes) or "unchanged"
        click.echo(f"{case.name}: {what}")

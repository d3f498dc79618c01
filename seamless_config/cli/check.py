"""``check``: validate every file of the chain and every catalogue cluster,
then evaluate; report every problem found, and exit 1 if any is an error."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from .common import (EXIT_PROBLEMS, echo_json, echo_lines, guarded, json_option, parse_stage,
                     stage_option, style, verbose_option, workdir_of, workdir_option)


def git_tracked(path: str) -> bool | None:
    """Whether git tracks ``path`` (None: not in a repository, or no git)."""
    try:
        done = subprocess.run(["git", "ls-files", "--error-unmatch", "--", os.path.basename(path)],
                              cwd=os.path.dirname(path) or ".", capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.returncode == 0


@click.command()
@workdir_option
@stage_option
@click.option("--all-stages", is_flag=True,
              help="Evaluate with every stage and substage the files name, and with none.")
@json_option
@verbose_option
@guarded
def check(workdir, stage, all_stages, as_json):
    """Report every problem of the configuration in one run: errors (exit 1)
    and warnings."""
    from ..inspect.checks import report_document, report_lines, run_checks

    st, sub = parse_stage(stage)
    report = run_checks(workdir_of(workdir), stage=st, substage=sub, all_stages=all_stages,
                        tracked=git_tracked)
    if as_json:
        echo_json(report_document(report))
    else:
        echo_lines(report_lines(report, style))
    if report.errors:
        sys.exit(EXIT_PROBLEMS)

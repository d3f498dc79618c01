"""``jobscript``: the batch script a daskserver would submit for the
selected queue, printed without starting or submitting anything."""

from __future__ import annotations

import click

from .common import guarded, parse_stage, stage_option, verbose_option, workdir_of, workdir_option


def _context(workdir: str | None, stage: str | None, queue: str | None):
    from ..evaluation.pipeline import evaluate_workdir

    st, sub = parse_stage(stage)
    manual = {"queue": (queue, f"--queue {queue}")} if queue else None
    return evaluate_workdir(workdir_of(workdir), stage=st, substage=sub, manual=manual)


def _python(ctx) -> str | None:
    """This interpreter when the wrapper would run here; else a placeholder,
    since the wrapper's workers use the frontend's interpreter."""
    from ..plan.jobscript import DASK_SERVICES, PYTHON
    from ..model.types import is_local_frontend

    frontend = ctx.cluster.frontend_for("daskserver")
    for use in ctx.services:
        if use.service in DASK_SERVICES:
            frontend = use.frontend
    if frontend is not None and is_local_frontend(ctx.cluster, frontend, ctx.local_cluster):
        return None
    return PYTHON


@click.command()
@workdir_option
@stage_option
@click.option("--queue", metavar="QUEUE", default=None,
              help="Show this queue of the selected cluster instead of the selected one.")
@verbose_option
@guarded
def jobscript(workdir, stage, queue):
    """Print the batch script (#SBATCH / #OAR header and worker command)
    that dask-jobqueue would submit for one Dask worker job of the selected
    queue. Nothing is started or submitted; placeholders in <...> are
    filled in by the daskserver when it runs."""
    from ..plan.jobscript import for_context

    ctx = _context(workdir, stage, queue)
    if ctx.cluster is not None and ctx.cluster.type in ("slurm", "oar"):
        python = _python(ctx)
    else:
        python = None  # for_context explains why there is no script
    script = for_context(ctx, python=python)
    click.echo(script.text, nl=False)
    for note in script.notes:
        click.echo(f"note: {note}", err=True)
    if ctx.service("daskserver") is not None:
        click.echo("note: this configuration starts the Seamless daskserver "
                   "(seamless-dask-wrapper): it submits this header, but its own worker "
                   "command and prologue", err=True)

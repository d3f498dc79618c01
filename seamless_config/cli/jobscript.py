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


@click.command()
@workdir_option
@stage_option
@click.option("--queue", metavar="QUEUE", default=None,
              help="Show this queue of the selected cluster instead of the selected one.")
@verbose_option
@guarded
def jobscript(workdir, stage, queue):
    """Print the batch script (#SBATCH, #OAR, #$, #PBS, #BSUB header or
    HTCondor submit description, and the worker command) that the
    daskserver would submit for one Dask worker job of the selected queue.
    Nothing is started or submitted; what only the frontend knows is shown
    in <...>. The Seamless daskserver's script is built by the installed
    seamless-dask, as its wrapper will build it."""
    from ..plan.jobscript import NoJobScript, for_context

    ctx = _context(workdir, stage, queue)
    try:
        script = for_context(ctx)
    except NoJobScript as exc:
        click.echo(f"note: {exc}", err=True)
        return
    click.echo(script.text, nl=False)
    for note in script.notes:
        click.echo(f"note: {note}", err=True)

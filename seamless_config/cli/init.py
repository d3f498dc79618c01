"""``seamless-init``: initialise, start or reuse every server the
configuration needs, verify each, and print where everything runs.

The usual invocations (the options of ``init_run.OPTIONS``, each well
formed) are parsed without importing click, which costs a warm init about
as much as its two health checks; anything else (``--help``, ``--version``,
``-v``, shell completion, an unknown or malformed option) goes to the click
command of ``init_command``, built from the same table, unchanged.
"""

from __future__ import annotations

import os
import sys

from .init_run import fast_parse, run


class _Entry:
    """``seamless-init``'s entry point: the fast path for a usual argv, else
    the click command (which also stands behind every attribute, so this
    object can be used as that command, e.g. ``main(args, standalone_mode=False)``)."""

    def __call__(self, args=None, prog_name=None, standalone_mode=True, **extra):
        argv = sys.argv[1:] if args is None else list(args)
        options = None if extra else fast_parse(argv)
        if options is None:
            return _command()(argv, prog_name=prog_name, standalone_mode=standalone_mode,
                              **extra)
        _quiet_logging()
        try:
            run(**options)
        except KeyboardInterrupt:
            sys.stderr.write("\nAborted!\n")
            sys.exit(1)
        except Exception as exc:
            _render(exc, prog_name)
        if standalone_mode:
            sys.exit(0)

    def __getattr__(self, name):
        return getattr(_command(), name)


def _command():
    from .init_command import main as command

    return command


def _quiet_logging() -> None:
    """What click's -v callback sets up when -v is not given: warnings of
    ours shown plainly, log records at WARNING."""
    import logging
    import warnings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("seamless_config").setLevel(logging.WARNING)
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        from ..errors import SeamlessConfigWarning

        if not issubclass(category, SeamlessConfigWarning):
            return default(message, category, filename, lineno, file, line)
        import click

        from .common import color_choice
        click.echo(click.style("warning: ", fg="yellow", bold=True) + str(message), err=True,
                   color=color_choice())
    warnings.showwarning = show


def _render(exc: Exception, prog_name) -> None:
    """An error of the fast path, rendered and mapped to its exit code by
    the click path's own handler (click is imported only now)."""
    import click

    from .common import guarded

    def again():
        raise exc

    if prog_name is None:  # as click's main names the command (python -m ... included)
        detect = getattr(click.utils, "_detect_program_name", None)
        prog_name = detect() if detect else os.path.basename(sys.argv[0])
    with click.Context(_command(), info_name=prog_name):
        guarded(again)()


main = _Entry()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

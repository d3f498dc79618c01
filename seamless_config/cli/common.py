"""What every command-line entry point shares: options, logging, and the
one place where library errors become messages and exit codes."""

from __future__ import annotations

import functools
import logging
import os
import sys

import click

from ..errors import (ConfigError, ConfigurationError, MissingExtraError, RefusedError,
                      ServiceError, UnknownClusterError, missing_extra)

# The README's "Exit codes" table; each code keeps one meaning.
EXIT_PROBLEMS = 1  # check found errors, golden outputs differ
EXIT_USAGE = 2  # wrong command-line usage, or a request refused (click's own code)
EXIT_CONFIG = 3  # a mistake in a configuration file
EXIT_SERVICE = 4  # a server could not be started, reached or verified
EXIT_MISSING_EXTRA = 5  # an optional dependency is not installed
EXIT_INTERNAL = 70  # a defect in seamless-config itself (EX_SOFTWARE)


def parse_stage(value: str | None, hint: str = "--stage") -> tuple[str | None, str | None]:
    """``STAGE[:SUBSTAGE]`` from the command line."""
    if not value:
        return None, None
    stage, _, substage = value.partition(":")
    from ..core.names import name_problem

    for part, what in ((stage, "stage"), (substage, "substage")):
        if (part or what == "stage") and name_problem(part, what):
            raise click.BadParameter(name_problem(part, what), param_hint=hint)
    return stage, substage or None


def stage_option(f):
    return click.option("--stage", "stage", metavar="STAGE[:SUBSTAGE]",
                        help="Evaluate with 'stage' blocks for this stage (and substage) active.")(f)


def workdir_option(f):
    return click.option("--workdir", type=click.Path(exists=True, file_okay=False), default=None,
                        help="Directory whose seamless.yaml chain is read (default: current).")(f)


VERBOSITY = "seamless_config.verbose"  # -v counted before and after the subcommand


def verbose_option(f):
    def callback(ctx, param, value):
        root = ctx.find_root()
        value = root.meta[VERBOSITY] = root.meta.get(VERBOSITY, 0) + value
        level = logging.WARNING - 10 * min(value, 2)
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("seamless_config").setLevel(level)
        _show_our_warnings_plainly()
        if value >= 2 and not root.meta.get(VERBOSITY + ".said"):
            root.meta[VERBOSITY + ".said"] = True  # what a bug report needs, once
            logging.getLogger("seamless_config").debug(
                "%s with Python %s (%s)", root.command_path, sys.version.split()[0],
                sys.executable)
        return value
    return click.option("-v", "--verbose", count=True, expose_value=False, is_eager=True,
                        callback=callback, help="More diagnostics (-vv for debug).")(f)


def version_option(f):
    """``--version``: the installed distribution's version (read only when asked)."""
    return click.version_option(package_name="seamless-config", message="%(prog)s %(version)s",
                                help="Show the version and exit.")(f)


def _show_our_warnings_plainly() -> None:
    """Our warnings name their own file:line:col; Python's default display
    would add the library line that raised them. Others keep that display."""
    import warnings

    from ..errors import SeamlessConfigWarning

    default = warnings.showwarning
    if getattr(default, "seamless_config", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SeamlessConfigWarning):
            click.echo(click.style("warning: ", fg="yellow", bold=True) + str(message), err=True)
        else:
            default(message, category, filename, lineno, file, line)
    show.seamless_config = True
    warnings.showwarning = show


def workdir_of(value: str | None) -> str:
    return os.path.abspath(value or os.getcwd())


def fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def color_choice(environ=os.environ) -> bool | None:
    """NO_COLOR (https://no-color.org) and FORCE_COLOR, each when set and
    not empty; NO_COLOR wins. None: colour only on a terminal (click's)."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return None


def _error(text: str, code: int) -> None:
    fail(click.style("error: ", fg="red", bold=True) + text, code)


def guarded(f):
    """Map library errors to rendered messages and exit codes, once; and
    apply NO_COLOR / FORCE_COLOR to everything the command prints."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context(silent=True)
        if ctx is not None and color_choice() is not None:
            ctx.color = color_choice()
        try:
            return f(*args, **kwargs)
        except MissingExtraError as exc:
            _error(exc.render(), EXIT_MISSING_EXTRA)
        except RefusedError as exc:
            _error(exc.render(), EXIT_USAGE)
        except ConfigError as exc:
            _error(exc.render(), config_exit_code(exc))
        except ServiceError as exc:
            _error(exc.render(), EXIT_SERVICE)
        except ConfigurationError as exc:
            _error(str(exc), EXIT_CONFIG)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            _unexpected(exc, ctx)
    return wrapper


def config_exit_code(exc: ConfigError) -> int:
    """3 for a mistake in a file; a cluster that only the command line
    named (``--cluster``, no place in a file) is wrong usage."""
    if isinstance(exc, UnknownClusterError) and all(e.span is None for e in exc.problems):
        return EXIT_USAGE
    return EXIT_CONFIG


def _unexpected(exc: Exception, ctx) -> None:
    """An optional package that is not installed (ours to name, not a
    defect), else a bug of ours: one line, the traceback under -vv."""
    logger = logging.getLogger("seamless_config")
    logger.debug("internal error", exc_info=True)
    found = missing_extra(exc, ctx.command_path if ctx is not None else None)
    if found is not None:
        _error(found.render(), EXIT_MISSING_EXTRA)
    fail(click.style("internal error: ", fg="red", bold=True)
         + f"{type(exc).__name__}: {exc}\n"
         "This is a defect in seamless-config, not in your configuration; "
         "rerun with -vv for the traceback and report it.", EXIT_INTERNAL)


def evaluate(workdir: str | None, stage: str | None):
    """A fresh evaluation for a CLI command (no session state)."""
    from ..evaluation.pipeline import evaluate_workdir

    st, sub = parse_stage(stage)
    return evaluate_workdir(workdir_of(workdir), stage=st, substage=sub)


# Colours by role (explain.py names the roles); click drops them when piped.
ROLE_STYLES = {
    "heading": {"bold": True}, "name": {"fg": "cyan", "bold": True}, "value": {"fg": "green"},
    "location": {"fg": "blue"}, "quote": {"dim": True}, "dim": {"dim": True},
    "overridden": {"fg": "yellow"}, "warning": {"fg": "yellow"}, "found": {"fg": "green"},
    "absent": {"dim": True}, "error": {"fg": "red", "bold": True},
}


def style(text: str, role: str) -> str:
    return click.style(text, **ROLE_STYLES.get(role, {}))


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(f)


def echo_lines(lines) -> None:
    click.echo("\n".join(lines))


def echo_json(data) -> None:
    import json

    click.echo(json.dumps(data, indent=2))

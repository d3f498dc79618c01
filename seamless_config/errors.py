"""Source spans, the one error type, its renderer, and the warning category.

Every user mistake becomes a ``ConfigError`` carrying the ``Span`` of the
offending YAML node; ``render()`` turns it into ``path:line:col: message``
plus the source line and a caret, the only format users ever see.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

from ._files import read_regular
from ._record import frozen_record


@frozen_record
class Span:
    """A region of a source file; line and column are 1-based."""

    path: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{display_path(self.path)}:{self.line}:{self.column}"


def display_path(path: str) -> str:
    """Shorten a path for messages: relative to the current directory when
    below it, ``~/...`` when below $HOME, absolute otherwise. Golden tests
    depend on this being stable."""
    if not path or path.startswith("<"):
        return path
    path = os.path.abspath(path)
    cwd = os.getcwd().rstrip(os.sep)
    home = os.path.expanduser("~").rstrip(os.sep)
    in_cwd = path == cwd or path.startswith(cwd + os.sep)
    in_home = bool(home) and path.startswith(home + os.sep)
    # Below both (a project inside $HOME, or a test's fake home inside its
    # work tree): the deeper root gives the shorter, more telling name.
    if in_home and (not in_cwd or len(home) > len(cwd)):
        return "~" + path[len(home):]
    if in_cwd:
        return os.path.relpath(path, cwd)
    return path


class ConfigurationError(RuntimeError):
    """Base class: the configuration cannot be used. A ``RuntimeError``, as
    in the previous package, whose callers catch either name."""


class SeamlessConfigWarning(UserWarning):
    """Category of every warning seamless-config emits."""


class ConfigError(ConfigurationError, ValueError):
    """A user mistake at a known place. ``hint`` says what would be valid.
    Also a ``ValueError``: the previous package raised that for invalid
    values, and seamless-transformer's tools catch it to print one line."""

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None):
        self.message = message
        self.span = span
        self.hint = hint
        super().__init__(self.render(with_source=False))

    def __str__(self) -> str:
        return self.render(with_source=False)

    @property
    def problems(self) -> tuple["ConfigError", ...]:
        return (self,)

    def headline(self) -> str:
        text = self.message if self.span is None else f"{self.span}: {self.message}"
        return text if not self.hint else f"{text}; {self.hint}"

    def render(self, with_source: bool = True) -> str:
        lines = [self.headline()]
        if with_source and self.span is not None:
            lines.extend(source_excerpt(self.span))
        return "\n".join(lines)


class ConfigErrors(ConfigError):
    """Several independent mistakes found in one pass (e.g. a cluster
    validated completely); renders them all, in source order."""

    def __init__(self, errors: Sequence[ConfigError]):
        flat: list[ConfigError] = []
        for err in errors:
            flat.extend(err.problems)
        self.errors = tuple(sorted(flat, key=_sort_key))
        first = self.errors[0]
        super().__init__(first.message, first.span, first.hint)

    @property
    def problems(self) -> tuple[ConfigError, ...]:
        return self.errors

    def render(self, with_source: bool = True) -> str:
        return "\n".join(e.render(with_source) for e in self.errors)


def _sort_key(err: ConfigError):
    s = err.span
    return ("", 0, 0) if s is None else (s.path, s.line, s.column)


def raise_all(errors: Sequence[ConfigError]) -> None:
    """Raise nothing, the single error, or all of them together."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


MAX_EXCERPT = 200  # characters of a source line shown under a message


def source_excerpt(span: Span) -> list[str]:
    """The source line of ``span`` and a caret line under the culprit."""
    try:  # regular files only, capped: the file may be a FIFO or /dev/zero
        lines = read_regular(span.path).decode("utf-8", "replace").split("\n")
    except OSError:
        return []
    if not 1 <= span.line <= len(lines):
        return []
    text = lines[span.line - 1].rstrip("\r").expandtabs(1)
    if len(text) > MAX_EXCERPT:  # a minified or hostile file: keep the message readable
        text = text[:MAX_EXCERPT] + " ..."
    width = 1
    if span.end_line == span.line and span.end_column and span.end_column > span.column:
        width = span.end_column - span.column
    gutter = f"{span.line:>5} | "
    caret = " " * (len(gutter) - 2) + "| " + " " * (span.column - 1) + "^" + "~" * (width - 1)
    return [gutter + text, caret]


def did_you_mean(word: object, candidates: Iterable[str]) -> str | None:
    """'did you mean 'x'?' for the closest candidate, or None."""
    if not isinstance(word, str):
        return None
    import difflib  # only when there is a mistake to explain

    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def one_of(candidates: Iterable[str]) -> str:
    """'expected one of: a, b, c' with the candidates sorted."""
    items = sorted(candidates)
    return "expected one of: " + ", ".join(items) if items else "none are defined"


class RefusedError(ConfigError):
    """A request that cannot be carried out as asked, though no file is
    wrong: forgetting a running server, stopping what nothing knows, an
    unknown service. The CLI treats it as wrong usage (exit 2)."""


class UnknownClusterError(ConfigError, KeyError):
    """A cluster name that no catalogue file or ``clusters`` command defines.
    Also a ``KeyError``, as the previous package's ``get_cluster`` raised."""


# The optional extras of pyproject.toml and the top-level modules each one
# installs; "seamless" and "seamless_transformer" also come with "servers",
# but "integration" is the extra that promises them for import.
EXTRAS = {
    "dask": ("dask", "distributed", "dask_jobqueue"),
    "integration": ("seamless", "seamless_transformer", "seamless_remote", "seamless_dask"),
}


class MissingExtraError(ConfigurationError, ImportError):
    """An optional dependency is not installed: neither a mistake in a file
    nor a defect. Names the extra that installs it (the CLI gives it its
    own exit code). Also an ``ImportError``, which code probing for an
    optional package catches."""

    def __init__(self, module: str, extra: str, purpose: str | None = None):
        self.module = module
        self.extra = extra
        self.purpose = purpose
        super().__init__(self.render())
        self.name = module  # ImportError's field: the module that is missing

    def render(self) -> str:
        who = self.purpose or "this"
        return (f"{who} needs the module '{self.module}', which is not installed; install "
                f"the extra that provides it: pip install \"seamless-config[{self.extra}]\"")

    def __str__(self) -> str:
        return self.render()


def extra_of(module: str | None) -> str | None:
    """The extra that installs ``module`` (a dotted name), or None."""
    top = (module or "").partition(".")[0]
    return next((extra for extra, tops in EXTRAS.items() if top in tops), None)


def missing_extra(exc: BaseException, purpose: str | None = None) -> MissingExtraError | None:
    """The MissingExtraError that a ModuleNotFoundError stands for, when the
    missing module is one an extra installs (else None: a real defect)."""
    if isinstance(exc, MissingExtraError):
        return exc
    if not isinstance(exc, ModuleNotFoundError):
        return None
    extra = extra_of(exc.name)
    return None if extra is None else MissingExtraError(exc.name.partition(".")[0], extra, purpose)


def import_optional(module: str, purpose: str):
    """``import module``, or MissingExtraError naming the extra to install
    (also when one of its own optional dependencies is what is missing)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        found = missing_extra(exc, purpose)
        if found is None:
            raise
        raise found from None


class ServiceError(ConfigurationError):
    """A server could not be started, reached or verified (not a mistake in
    a file: the CLI gives it its own exit code)."""

    def __init__(self, message: str, *, service: str | None = None, host: str | None = None,
                 command: str | None = None, log_tail: str | None = None):
        self.message = message
        self.service = service
        self.host = host
        self.command = command
        self.log_tail = log_tail
        super().__init__(self.render())

    def render(self) -> str:
        lines = [self.message]
        if self.command:
            lines.append(f"  command: {self.command}")
        if self.log_tail:
            lines.append("  last lines of its log:")
            lines.extend("    " + ln for ln in self.log_tail.rstrip("\n").splitlines())
        return "\n".join(lines)

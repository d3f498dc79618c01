"""Golden cases: a configuration tree plus the outputs it must produce.

A case is a directory holding ``case.yaml`` ({description, workdir
(default ``work``), stage, substage, env}), the work-directory tree, a fake
home ``home/`` (``.seamless/clusters.yaml``, ``.seamless/clusters/*.yaml``)
and ``expected/``: ``context.json``, ``explain.txt`` and ``plan.json`` (plus
``jobscript.txt`` when a daskserver runs on a slurm or oar cluster), or
``error.txt`` alone for a case that must fail. A case runs in-process with
HOME, REMOTE_HTTP_LAUNCHER_DIR, the case's env and the current directory
pointed at the case, all restored afterwards, so every displayed path is
relative (``work/seamless.yaml``, ``~/.seamless/clusters.yaml``).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

import yaml

from ..errors import ConfigError, SeamlessConfigWarning, display_path, import_optional
from ..evaluation.pipeline import evaluate_workdir
from ..model.types import frozen_map
from .document import document, plan_document
from .explain import explain_lines

CASE_FILE = "case.yaml"
EXPECTED = "expected"
OUTPUTS = ("context.json", "explain.txt", "plan.json", "jobscript.txt", "error.txt")
CASE_KEYS = ("description", "workdir", "stage", "substage", "env")
# Variables of the surrounding shell that would change a case's outcome.
CLEARED = ("SEAMLESS_CACHE", "SEAMLESS_REMOTE_CLIENTS")


@dataclass(frozen=True)
class Case:
    name: str
    directory: str  # absolute
    description: str = ""
    workdir: str = "work"  # relative to the case directory
    stage: str | None = None
    substage: str | None = None
    env: Mapping[str, str] = field(default_factory=frozen_map)


@dataclass(frozen=True)
class Difference:
    output: str
    expected: str | None  # None: no expected file
    actual: str | None  # None: the run no longer produces it

    def unified(self, case: str) -> str:
        lines = difflib.unified_diff(
            (self.expected or "").splitlines(keepends=True),
            (self.actual or "").splitlines(keepends=True),
            fromfile=f"{case}/{EXPECTED}/{self.output}" + (" (missing)" if self.expected is None
                                                           else ""),
            tofile=f"{case}/actual/{self.output}" + (" (not produced)" if self.actual is None
                                                      else ""))
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in lines)


# -- finding and reading cases ---------------------------------------------------------

def is_case(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, CASE_FILE))


def find_cases(paths: Iterable[str]) -> list[Case]:
    """Each path is a case directory or a directory of case directories."""
    cases = []
    for path in paths:
        if is_case(path):
            cases.append(load_case(path))
            continue
        found = sorted(d for d in _subdirs(path) if is_case(d))
        if not found:
            raise ConfigError(f"{display_path(path)} is not a golden case directory and holds "
                              f"none", None, f"a case directory contains {CASE_FILE}")
        cases += [load_case(d) for d in found]
    return cases


def _subdirs(path: str) -> list[str]:
    try:
        return [os.path.join(path, n) for n in os.listdir(path)
                if os.path.isdir(os.path.join(path, n))]
    except OSError:
        return []


def load_case(directory: str) -> Case:
    directory = os.path.abspath(directory)
    path = os.path.join(directory, CASE_FILE)
    where = display_path(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{where} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping of {', '.join(CASE_KEYS)}")
    unknown = sorted(set(data) - set(CASE_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}",
                          None, "expected: " + ", ".join(CASE_KEYS))
    env = data.get("env") or {}
    if not isinstance(env, dict):
        raise ConfigError(f"{where}: env must be a mapping of variable names to values")
    return Case(os.path.basename(directory), directory, str(data.get("description") or ""),
                _text(data, "workdir", where) or "work", _text(data, "stage", where),
                _text(data, "substage", where),
                frozen_map({str(k): str(v) for k, v in env.items()}))


def _text(data: dict, key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, not {value!r}")
    return value


# -- running a case -----------------------------------------------------------------------

@contextlib.contextmanager
def case_environment(case: Case) -> Iterator[None]:
    """The case's HOME, launcher directory, env and current directory,
    restored afterwards whatever happens."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    home = os.path.join(case.directory, "home")
    # caches (the parser tables) stay in the user's own cache, not the case
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        for name in CLEARED:
            os.environ.pop(name, None)
        os.environ["XDG_CACHE_HOME"] = cache
        os.environ["HOME"] = home
        os.environ["REMOTE_HTTP_LAUNCHER_DIR"] = os.path.join(home, ".remote-http-launcher")
        os.environ.update(case.env)
        os.chdir(case.directory)
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def run_case(case: Case) -> dict[str, str]:
    """Output file name -> text, as the expected files should hold them
    (a case's SeamlessConfigWarnings are in its outputs or not at all)."""
    with case_environment(case), warnings.catch_warnings():
        warnings.simplefilter("ignore", SeamlessConfigWarning)
        return _outputs(case)


def _outputs(case: Case) -> dict[str, str]:
    try:
        ctx = evaluate_workdir(os.path.join(case.directory, case.workdir),
                               stage=case.stage, substage=case.substage)
        doc = document(ctx)
        plan = plan_document(ctx)  # nothing runs in a golden case: no probe
    except ConfigError as err:
        return {"error.txt": err.render() + "\n"}
    outputs = {"context.json": _json(doc), "explain.txt": "\n".join(explain_lines(doc)) + "\n",
               "plan.json": _json(plan)}
    outputs.update(_jobscript(ctx, case.name))
    return outputs


def _jobscript(ctx, case_name: str) -> dict[str, str]:
    """The worker job script, with the interpreter and the user's dask
    configuration fixed so that it reads the same on every machine."""
    from ..plan import jobscript

    if not jobscript.wants_jobscript(ctx):
        return {}
    _import_jobqueue(case_name)
    try:
        script = jobscript.for_context(ctx, python=jobscript.PYTHON, packaged_defaults=True)
    except ConfigError as err:
        return {"jobscript.txt": "error: " + err.render() + "\n"}
    return {"jobscript.txt": script.text}


def _import_jobqueue(case_name: str) -> None:
    """On first import dask_jobqueue copies its defaults into the dask
    config directory, here the case's fake home: point it elsewhere (the
    case environment restores DASK_CONFIG afterwards)."""
    if "dask_jobqueue" in sys.modules:
        return
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["DASK_CONFIG"] = scratch
        import_optional("dask_jobqueue", f"golden case '{case_name}' (its jobscript.txt)")


def _json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# -- comparing and updating -----------------------------------------------------------------

def expected_outputs(case: Case) -> dict[str, str]:
    out = {}
    for name in OUTPUTS:
        path = os.path.join(case.directory, EXPECTED, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                out[name] = f.read()
    return out


def compare(case: Case, actual: Mapping[str, str] | None = None) -> list[Difference]:
    actual = run_case(case) if actual is None else actual
    expected = expected_outputs(case)
    return [Difference(name, expected.get(name), actual.get(name)) for name in OUTPUTS
            if expected.get(name) != actual.get(name)]


def update(case: Case) -> list[tuple[str, str]]:
    """Rewrite the expected files; returns (file, "written" | "deleted")."""
    changes = []
    folder = os.path.join(case.directory, EXPECTED)
    os.makedirs(folder, exist_ok=True)
    for diff in compare(case):
        path = os.path.join(folder, diff.output)
        if diff.actual is None:
            os.remove(path)
            changes.append((diff.output, "deleted"))
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(diff.actual)
            changes.append((diff.output, "written"))
    return changes

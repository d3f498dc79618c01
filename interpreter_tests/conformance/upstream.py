"""Foreign test files on both environments, compared item by item.

``run_own_tests``: 0.3.2's tests, each item in its own process (0.3.2's
tests share module state, and one leaking into the next would blur what
fails), on ours after the checked rewrite and on 0.3.2 unchanged.

``run_client_tests``: the seamless-transformer and seamless-dask test
files that touch seamless_config, one process per file and environment
(as their authors run them).  An item whose outcome differs between the
two is run again alone on both, and counts as passed on a side where any
attempt passed; such items are marked flaky in the results.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import rewrite
from .runner import Env, Job, Outcome, Run, job_env, pytest_argv, run_jobs

OWN = "seamless-config"
CLIENTS = ("seamless-transformer", "seamless-dask")
ITEM_JOB_TIMEOUT = 90
FILE_JOB_TIMEOUT = 300
# "touches seamless_config": names it, or patches a function 0.3.2's
# select module exports (the clients import those into their own modules)
_NAMES = re.compile(r"\bseamless_config\b|\bseamless\.config\b")


@dataclass(frozen=True)
class Item:
    node: str
    ours: Outcome
    theirs: Outcome
    flaky: bool = False

    @property
    def regression(self) -> bool:
        return self.theirs.status == "passed" and self.ours.status != "passed"


@dataclass
class FileResult:
    dist: str
    file: str  # tests/<name>.py
    items: dict[str, Item] = field(default_factory=dict)
    problem: str = ""  # why a run reported no items (collection error, crash)


def prepare(src: Path, dest: Path, files: list[str]) -> tuple[Path, Path]:
    """Copies of the test folder: ``dest/0.3.2`` unchanged, ``dest/ours``
    with the checked rewrite applied to ``files``."""
    theirs, ours = dest / "0.3.2", dest / "ours"
    for folder in (theirs, ours):
        shutil.copytree(src, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in files:
        path = ours / name
        path.write_text(rewrite.rewrite_checked(path.read_text()))
    return ours, theirs


def collect(env: Env, rootdir: Path, files: list[str], home: Path) -> list[str]:
    """Node ids, as 0.3.2's own environment collects them."""
    ini = home / "pytest.ini"
    ini.write_text("[pytest]\n")
    out = subprocess.run([*pytest_argv(env, rootdir, ini), "--collect-only", *files],
                         cwd=str(rootdir), env=job_env(env, home), capture_output=True,
                         text=True, timeout=300)
    nodes = [ln.strip() for ln in out.stdout.splitlines() if "::" in ln]
    if out.returncode != 0 or not nodes:
        raise RuntimeError(f"collecting {files} in {env.name} failed:\n"
                           + "\n".join((out.stdout + out.stderr).splitlines()[-30:]))
    return nodes


def run_own_tests(ours: Env, theirs: Env, ours_dir: Path, theirs_dir: Path,
                  nodes: list[str]) -> dict[str, Item]:
    jobs = [Job(env, folder, (node,), ITEM_JOB_TIMEOUT)
            for node in nodes for env, folder in ((ours, ours_dir), (theirs, theirs_dir))]
    runs = iter(run_jobs(jobs))
    return {node: Item(node, _single(next(runs), node), _single(next(runs), node))
            for node in nodes}


def _single(run: Run, node: str) -> Outcome:
    found = run.items.get(node)
    if found is not None:
        return found
    status = "timeout" if run.returncode is None else "error"
    return Outcome(status, _last_lines(run.output))


def _last_lines(output: str, count: int = 6) -> str:
    lines = [ln for ln in output.splitlines() if ln.strip()]
    return " | ".join(lines[-count:])[-600:]


def touches_config(text: str, select_names: set[str]) -> bool:
    if _NAMES.search(text):
        return True
    patched = re.findall(r"monkeypatch\.setattr\([^,()]+,\s*[\"'](\w+)[\"']", text)
    return any(name in select_names for name in patched)


def client_files(tests: Path, select_names: set[str]) -> list[str]:
    return sorted(p.name for p in tests.glob("test_*.py")
                  if touches_config(p.read_text(), select_names))


def run_client_tests(ours: Env, theirs: Env, suites: list[tuple[str, Path, Path, list[str]]]
                     ) -> list[FileResult]:
    """``suites``: (dist, ours_dir, theirs_dir, files) per client."""
    plan = [(dist, o, t, name) for dist, o, t, files in suites for name in files]
    jobs = [Job(env, folder, (name,), FILE_JOB_TIMEOUT)
            for _, o, t, name in plan for env, folder in ((ours, o), (theirs, t))]
    runs = iter(run_jobs(jobs))
    results = []
    for dist, o, t, name in plan:
        mine, other = next(runs), next(runs)
        result = FileResult(dist, f"tests/{name}")
        for node in sorted(set(mine.items) | set(other.items)):
            result.items[node] = Item(node, mine.items.get(node, _missing(mine)),
                                      other.items.get(node, _missing(other)))
        if not result.items:
            result.problem = f"ours: {_last_lines(mine.output)}; 0.3.2: {_last_lines(other.output)}"
        results.append(result)
    _retry_disagreements(ours, theirs, plan, results)
    return results


def _missing(run: Run) -> Outcome:
    return Outcome("error", "not run: " + _last_lines(run.output))


def _retry_disagreements(ours: Env, theirs: Env, plan: list, results: list[FileResult]) -> None:
    todo = [(result, node, o, t) for result, (_, o, t, _) in zip(results, plan)
            for node, item in result.items.items()
            if (item.ours.status == "passed") != (item.theirs.status == "passed")]
    jobs = [Job(env, folder, (node,), ITEM_JOB_TIMEOUT)
            for _, node, o, t in todo for env, folder in ((ours, o), (theirs, t))]
    runs = iter(run_jobs(jobs))
    for result, node, _, _ in todo:
        first = result.items[node]
        again = (_single(next(runs), node), _single(next(runs), node))
        ours_final = _better(first.ours, again[0])
        theirs_final = _better(first.theirs, again[1])
        # flaky: on one side, one attempt passed and the other did not
        flaky = any((a.status == "passed") != (b.status == "passed")
                    for a, b in ((first.ours, again[0]), (first.theirs, again[1])))
        result.items[node] = Item(node, ours_final, theirs_final, flaky)


def _better(first: Outcome, second: Outcome) -> Outcome:
    return first if first.status == "passed" else second if second.status == "passed" \
        else first

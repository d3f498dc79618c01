"""The sides of the comparison: this package, and seamless-config 0.3.2.

Each side runs from its own virtual environment under bench/.cache/ (the
same interpreter, only the packages differ), with its own HOME and launcher
directory, so neither sees the other's servers, catalogue or caches.

Four venvs, two per table:
- ``stack-ours``: this checkout with its extras (servers, dask,
  integration) plus the published Seamless stack at the conformance pins
  (interpreter_tests/conformance/pins.py): what a Seamless user has;
- ``stack-old``: seamless-config 0.3.2 plus the same pinned stack;
- ``servers-ours``: this checkout with the ``[servers]`` extra only (no
  seamless-remote): the setup of earlier runs, kept as the second table;
- ``needs-old``: 0.3.2 with what it needs, as in earlier runs: the
  launcher, the two storage servers and seamless-transformer (its
  seamless-init imports it through seamless-remote), at the same pins,
  without seamless-dask and seamless-jobserver. seamless-dask alone adds
  ~0.2 s to every 0.3.2 process (seamless-transformer then imports
  distributed), which would flatter us in the second table.

A venv is rebuilt when what it was built from changes (the pins, and for
ours pyproject.toml). Our package itself is a regular (non-editable)
install of the current tree, redone on every run: the machine's global
site-packages carries start-up hooks (.pth files, the editable-install
finder) worth ~15 ms per process that a user's environment does not have,
and that would otherwise be charged to us.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
PINS_FILE = os.path.join(ROOT, "interpreter_tests", "conformance", "pins.py")
OLD_VERSION = "0.3.2"
# hashserver 1.1.0 imports aiofiles without declaring it.
UNDECLARED = ("aiofiles",)
# Our extras that a Seamless user's install has (not "test").
OUR_EXTRAS = "servers,dask,integration"
# Not in "what 0.3.2 needs" (the second table's old side).
NOT_NEEDED_BY_OLD = ("seamless-dask", "seamless-jobserver")
# Variables that would hand one side's setup to the other.
_SCRUB = ("SEAMLESS_CACHE", "SEAMLESS_REMOTE_CLIENTS", "PYTHONPATH", "PYTHONHOME",
          "VIRTUAL_ENV", "REMOTE_HTTP_LAUNCHER_DIR", "PYTHONSTARTUP")
# Not part of the package build: kept out of the copy that is installed.
_NOT_BUILT = shutil.ignore_patterns(".git", "bench", "__pycache__", "*.egg-info", "build",
                                    "dist", ".pytest_cache", ".hypothesis", ".benchmarks",
                                    "golden", "interpreter_tests", ".conformance-cache")
# What the header names from each venv's pip freeze (besides the count).
_FREEZE_SHOWN = ("seamless", "hashserver", "remote-http-launcher", "aiohttp", "numpy",
                 "distributed")


def _pins():
    """The conformance pins, loaded by path: importing the test package
    would run its __init__ and the suite's imports."""
    spec = importlib.util.spec_from_file_location("_bench_pins", PINS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stack_requirements(leave_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The published Seamless stack a user has, at the conformance pins
    (every pinned package except seamless-config itself and ``leave_out``)."""
    pins = _pins()
    return tuple(pins.requirement(name) for name in pins.MAIN_ENV
                 if name not in leave_out) + UNDECLARED


def _pip(python: str, *args: str) -> None:
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"pip install {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def _venv(path: str, key: str, install) -> str:
    """The venv at ``path``, (re)created when ``key`` (what it was built
    from) changed; ``install(python)`` fills a new one. The key file is
    written last, so a build that died half-way is redone."""
    python = os.path.join(path, "bin", "python")
    ready = os.path.join(path, ".bench-ready")
    if os.path.exists(python) and os.path.exists(ready) and open(ready).read() == key:
        return python
    print(f"creating {os.path.relpath(path)} (once)...", file=sys.stderr, flush=True)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(CACHE, mode=0o700, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", path], check=True)
    install(python)
    with open(ready, "w") as f:
        f.write(key)
    return python


def _source_copy(tmp: str) -> str:
    """A copy of the tree, so a build writes nothing into the shared work tree."""
    src = os.path.join(tmp, "src")
    if not os.path.exists(src):
        shutil.copytree(ROOT, src, ignore=_NOT_BUILT)
    return src


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _pyproject() -> str:
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        return f.read()


def ensure_ours_venv(path: str, extras: str, tmp: str, add: tuple[str, ...] = ()) -> str:
    """Our dependencies once per (pyproject.toml, extras, pins); our package
    itself from the current tree on every call. ``add``: pinned packages
    installed beside the extras, in the same pip call so the resolver keeps
    them; whatever the extras bring from the stack is held to the pins too
    (a constraints file), so both tables run the same releases."""
    constraints = stack_requirements()
    key = _key(_pyproject(), extras, *add, "constraints", *constraints)
    src = _source_copy(tmp)

    def install(python):
        _pip(python, "setuptools>=77", "wheel")
        pinned = os.path.join(tmp, "constraints.txt")
        with open(pinned, "w") as f:
            f.write("\n".join(constraints) + "\n")
        _pip(python, "--no-build-isolation", "-c", pinned, f"{src}[{extras}]", *add)
    python = _venv(path, key, install)
    _pip(python, "--no-deps", "--force-reinstall", "--no-build-isolation", src)
    return python


def ensure_old_venv(path: str, leave_out: tuple[str, ...] = ()) -> str:
    packages = (f"seamless-config=={OLD_VERSION}", *stack_requirements(leave_out))
    return _venv(path, _key(*packages), lambda py: _pip(py, *packages))


def freeze_summary(side: "Side") -> str:
    """'N packages; name==version, ...' for the packages the comparison is
    about (pip list in freeze format: it gives our local install's version)."""
    done = subprocess.run([side.python, "-m", "pip", "list", "--format=freeze",
                           "--disable-pip-version-check"], capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if "==" in line]
    shown = sorted((line for line in lines if any(w in line.lower() for w in _FREEZE_SHOWN)),
                   key=str.lower)
    if side.name == "ours":
        shown = [line + (" (this checkout)" if line.lower().startswith("seamless-config==")
                         else "") for line in shown]
    return f"{len(lines)} packages; " + ", ".join(shown)


@dataclass(frozen=True)
class Side:
    name: str  # "ours" or "old"
    python: str
    bindir: str | None  # prepended to PATH (the venv's console scripts)
    setup: str = ""  # which venv: named in the table

    def env(self, home: str, cache: str | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env["HOME"] = home
        if self.bindir:
            env["PATH"] = self.bindir + os.pathsep + env.get("PATH", "")
            env["VIRTUAL_ENV"] = os.path.dirname(self.bindir)
        if self.name == "ours":
            env["REMOTE_HTTP_LAUNCHER_DIR"] = launcher_dir(home)
        # The old launcher reads REMOTE_HTTP_LAUNCHER_DIR as the server
        # directory in one place and as its parent in another, so it fails
        # with the variable set; unset, both mean ~/.remote-http-launcher,
        # which is private to this side through HOME.
        if cache:
            env["SEAMLESS_CACHE"] = cache
        return env

    def seamless_init(self, workdir: str, *extra: str) -> tuple[list[str], str]:
        """argv and cwd of this side's seamless-init for ``workdir``."""
        if self.name == "ours":
            return [os.path.join(self.bindir, "seamless-init"), "--workdir", workdir,
                    *extra], workdir
        # The old command has no --workdir: it reads the current directory.
        return [self.python, os.path.join(self.bindir, "seamless-init"), *extra], workdir

    def probe(self, task: str, *args: str) -> list[str]:
        return [self.python, os.path.join(HERE, "probe.py"), self.name, task, *args]

    @property
    def venv(self) -> str:
        return os.path.dirname(os.path.dirname(self.python))


def launcher_dir(home: str) -> str:
    return os.path.join(home, ".remote-http-launcher")


@dataclass(frozen=True)
class Sides:
    stack_ours: Side
    stack_old: Side | None
    servers_ours: Side
    needs_old: Side | None

    def all(self) -> list[Side]:
        return [s for s in (self.stack_ours, self.stack_old, self.servers_ours, self.needs_old)
                if s is not None]


VENVS = ("stack-ours", "stack-old", "servers-ours", "needs-old")
# Names earlier versions of this file used: never read again.
_FORMER = ("ours-venv", "old-venv")


def build(with_old: bool = True) -> Sides:
    for name in _FORMER:
        shutil.rmtree(os.path.join(CACHE, name), ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="seamless-bench-src-") as tmp:
        stack = ensure_ours_venv(os.path.join(CACHE, "stack-ours"), OUR_EXTRAS, tmp,
                                 add=stack_requirements())
        servers = ensure_ours_venv(os.path.join(CACHE, "servers-ours"), "servers", tmp)
    stack_old = needs_old = None
    if with_old:
        stack_old = ensure_old_venv(os.path.join(CACHE, "stack-old"))
        needs_old = ensure_old_venv(os.path.join(CACHE, "needs-old"), NOT_NEEDED_BY_OLD)

    def side(name, python, setup):
        return None if python is None else Side(name, python, os.path.dirname(python), setup)
    return Sides(side("ours", stack, "full stack"), side("old", stack_old, "full stack"),
                 side("ours", servers, "[servers]"), side("old", needs_old, "what it needs"))

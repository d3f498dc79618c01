"""The two sides of the comparison: this package, and seamless-config 0.3.2
with remote-http-launcher 0.4.5.

Each side runs from its own virtual environment under bench/.cache/ (the
same interpreter, only the packages differ), with its own HOME and launcher
directory, so neither sees the other's servers, catalogue or caches. Ours
is a regular (non-editable) install of the current tree, rebuilt on every
run: the machine's global site-packages carries start-up hooks (.pth files,
the editable-install finder) worth ~15 ms per process that a user's
environment does not have, and that would otherwise be charged to us.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
VENV = os.path.join(CACHE, "old-venv")
OURS_VENV = os.path.join(CACHE, "ours-venv")
# seamless-transformer: the old seamless-init imports it through
# seamless_remote even on a process-only run.
OLD_PACKAGES = ("seamless-config==0.3.2", "remote-http-launcher==0.4.5", "hashserver",
                "seamless-database", "aiofiles", "seamless-transformer")
# Variables that would hand one side's setup to the other.
_SCRUB = ("SEAMLESS_CACHE", "SEAMLESS_REMOTE_CLIENTS", "PYTHONPATH", "PYTHONHOME",
          "VIRTUAL_ENV", "REMOTE_HTTP_LAUNCHER_DIR", "PYTHONSTARTUP")
# Not part of the package build: kept out of the copy that is installed.
_NOT_BUILT = shutil.ignore_patterns(".git", "bench", "__pycache__", "*.egg-info", "build",
                                    "dist", ".pytest_cache", ".hypothesis", ".benchmarks",
                                    "golden", "interpreter_tests")


def _pip(python: str, *args: str) -> None:
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *args], check=True, stdout=subprocess.DEVNULL)


def _venv(path: str, key: str, install) -> str:
    """The venv at ``path``, (re)created when ``key`` (what it was built
    from) changed; ``install(python)`` fills a new one."""
    python = os.path.join(path, "bin", "python")
    ready = os.path.join(path, ".bench-ready")
    if os.path.exists(python) and os.path.exists(ready) and open(ready).read() == key:
        return python
    print(f"creating {os.path.relpath(path)} (once)...", file=sys.stderr, flush=True)
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", path], check=True)
    install(python)
    with open(ready, "w") as f:
        f.write(key)
    return python


def ensure_old_venv() -> str:
    return _venv(VENV, "\n".join(OLD_PACKAGES), lambda py: _pip(py, *OLD_PACKAGES))


def ensure_ours_venv() -> str:
    """Our dependencies (servers included) once per pyproject.toml; our
    package itself from the current tree on every call."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()
    python = _venv(OURS_VENV, key, lambda py: _pip(py, "setuptools>=77", "wheel"))
    with tempfile.TemporaryDirectory(prefix="seamless-bench-src-") as tmp:
        # A copy, so the build writes nothing into the shared work tree.
        src = os.path.join(tmp, "src")
        shutil.copytree(ROOT, src, ignore=_NOT_BUILT)
        if not os.path.exists(os.path.join(OURS_VENV, ".bench-deps")):
            _pip(python, "--no-build-isolation", src + "[servers]")
            open(os.path.join(OURS_VENV, ".bench-deps"), "w").close()
        _pip(python, "--no-deps", "--force-reinstall", "--no-build-isolation", src)
    return python


@dataclass(frozen=True)
class Side:
    name: str  # "ours" or "old"
    python: str
    bindir: str | None  # prepended to PATH (the venv's console scripts)

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

    def seamless_init(self, workdir: str) -> tuple[list[str], str]:
        """argv and cwd of this side's seamless-init for ``workdir``."""
        if self.name == "ours":
            return [os.path.join(self.bindir, "seamless-init"), "--workdir", workdir], workdir
        # The old command has no --workdir: it reads the current directory.
        return [self.python, os.path.join(self.bindir, "seamless-init")], workdir

    def probe(self, task: str, *args: str) -> list[str]:
        return [self.python, os.path.join(HERE, "probe.py"), self.name, task, *args]


def launcher_dir(home: str) -> str:
    return os.path.join(home, ".remote-http-launcher")


def ours() -> Side:
    python = ensure_ours_venv()
    return Side("ours", python, os.path.dirname(python))


def old() -> Side:
    python = ensure_old_venv()
    return Side("old", python, os.path.dirname(python))

"""The published packages, fetched at test time and cached.

``ensure_published()`` downloads the pinned sdists, unpacks them and builds
a side venv holding 0.3.2 and the published stack.  Everything lives in one
folder per cache key (a hash of ``pins``), so changing a pin builds a fresh
folder and the stale ones are deleted.  A build happens under a file lock
(two pytest sessions may start together); a folder is used only once its
``complete`` marker exists, so a build that died half-way is redone.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import pins

REPO = Path(__file__).resolve().parents[2]
CACHE_ENV = "SEAMLESS_CONFORMANCE_CACHE"
FORMAT = 2  # bump when the folder layout changes
PIP_TIMEOUT = 900


class BuildError(Exception):
    """Downloading or installing failed; the message carries pip's output."""


@dataclass(frozen=True)
class Published:
    folder: Path

    @property
    def python(self) -> Path:
        return self.folder / "venv" / "bin" / "python"

    @property
    def bin(self) -> Path:
        return self.folder / "venv" / "bin"

    def sdist(self, name: str) -> Path:
        """The unpacked source tree of one of ``pins.SDISTS``."""
        return self.folder / "src" / f"{name.replace('-', '_')}-{pins.SDISTS[name]}"

    def tests(self, name: str) -> Path:
        return self.sdist(name) / "tests"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or REPO / ".conformance-cache")


def cache_key() -> str:
    """Changes with any pin, the helper list, the layout or the Python
    version (a venv is tied to its interpreter)."""
    data = json.dumps([FORMAT, pins.SDISTS, pins.STACK, pins.HELPERS,
                       sys.version_info[:2]], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def ensure_published() -> Published:
    root = cache_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    # pip runs code from the venv later: keep the cache private (shared machines)
    os.chmod(root, 0o700)
    folder = root / f"published-{cache_key()}"
    with _locked(root / "build.lock"):
        if not (folder / "complete").exists():
            _build(folder)
            _remove_stale(root, keep=folder)
    return Published(folder)


@contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(folder: Path) -> None:
    # Built in place (a venv's scripts name its path, so it cannot be
    # renamed); the 'complete' marker, written last, is what makes it usable.
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    archives = _download(folder / "sdists")
    for archive in archives:
        _unpack(archive, folder / "src")
    _make_venv(folder / "venv", archives)
    (folder / "complete").write_text(json.dumps(
        {"sdists": pins.SDISTS, "stack": pins.STACK, "helpers": pins.HELPERS}, indent=1))


def _download(dest: Path) -> list[Path]:
    dest.mkdir()
    for name in pins.SDISTS:
        _pip("download", "--no-deps", "--no-binary", ":all:", "-d", str(dest),
             pins.requirement(name))
    archives = sorted(dest.glob("*.tar.gz"))
    if len(archives) != len(pins.SDISTS):
        raise BuildError(f"expected {len(pins.SDISTS)} sdists in {dest}, got "
                         f"{[a.name for a in archives]}")
    return archives


def _unpack(archive: Path, dest: Path) -> None:
    dest.mkdir(exist_ok=True)
    with tarfile.open(archive) as tar:
        # the archive comes from the network: refuse absolute paths, links
        # out of the tree and device files (the 'data' filter, or by hand on
        # Pythons that predate it)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
            return
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if not (member.isfile() or member.isdir()) or \
                    not target.is_relative_to(dest.resolve()):
                raise BuildError(f"{archive.name}: refusing member {member.name!r}")
        tar.extractall(dest)


def _make_venv(venv: Path, archives: list[Path]) -> None:
    # --without-pip: Debian's python3 may lack ensurepip; the main
    # environment's pip installs into the venv through --python.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _pip("--python", str(python), "install", "--no-input",
         *map(str, archives),
         *(pins.requirement(name) for name in pins.STACK), *pins.HELPERS)


def _pip(*args: str) -> None:
    _run([sys.executable, "-m", "pip", *args])


def _run(argv: list[str]) -> None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_TIMEOUT,
                             env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{' '.join(argv)}: no result after {PIP_TIMEOUT} s") from exc
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).splitlines()[-40:])
        raise BuildError(f"{' '.join(argv)} exited with {out.returncode}:\n{tail}")


def _remove_stale(root: Path, keep: Path) -> None:
    """Folders of other keys were built from other pins: never used again."""
    for path in root.glob("published-*"):
        if path != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)

"""``clear``: delete the buffers or the database of one project/stage.

Deletion is planned first, against a file-system view (``LocalFS`` or
``SftpFS``), and the plan is what the user confirms. The target must lie
strictly below the configured root once symbolic links are resolved, and
no link may sit between root and target: a stage directory linked to a
sibling stage (or outside) would otherwise be emptied through the link.
A stage directory of a project also holds the directories of its other
stages and subprojects, so only hashserver's own entries are deleted:
two-hex-digit prefix directories holding only buffer files, flat buffer
files, and its layout marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from typing import Any

from ..errors import RefusedError
from .operations import describe, is_running, stop_key
from ..launch.hosts import is_dir, is_regular
from ..core.vocabulary import STORAGE_DIRECTORY
from .targets import Target

PREFIX_DIR = re.compile(r"[0-9a-f]{2}")  # fullmatch, like every pattern here
# <checksum>, plus .zst/.gz, .BUFFERLENGTH sidecars, and '-xxxx' temporaries
BUFFER_FILE = re.compile(r"[0-9a-f]{64}([.-][A-Za-z0-9_.-]*)?")
LAYOUT_MARKER = ".HASHSERVER_PREFIX"
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class ClearPlan:
    target: Target
    host: str
    path: str  # the stage directory, or the database file
    files: tuple[tuple[str, int], ...]  # (path, size) to delete
    dirs: tuple[str, ...] = ()  # prefix directories, removed once emptied
    kept: tuple[str, ...] = ()  # entries of the directory left alone

    @property
    def total(self) -> int:
        return sum(size for _, size in self.files)


def _refuse(target: Target, path: str, why: str) -> RefusedError:
    root_name = STORAGE_DIRECTORY[target.service]
    return RefusedError(f"refusing to clear {path}: {why}",
                       hint=f"clear only deletes below the configured {root_name} "
                            f"{target.root}")


def check_contained(fs, target: Target, path: str) -> str:
    """``path`` with ``~`` expanded, if it lies strictly below the root with
    no '..' and no symbolic link below the root; else RefusedError."""
    root = target.root or ""
    if ".." in path.split("/") or ".." in root.split("/"):
        raise _refuse(target, path, "the path contains '..'")
    if not path.startswith(root.rstrip("/") + "/"):
        raise _refuse(target, path, "it is not below the configured directory")
    root, path = fs.expand(root).rstrip("/"), fs.expand(path)
    if not root.startswith("/"):
        raise _refuse(target, path, "the configured directory is not an absolute path")
    real_root = fs.realpath(root).rstrip("/")
    real = fs.realpath(path)
    if real != real_root + path[len(root):]:
        where = "outside it" if not real.startswith(real_root + "/") else "through a link"
        raise _refuse(target, path, f"it resolves to {real} ({where}; symbolic links "
                                    "below the configured directory are not followed)")
    return path


def plan_clear(fs, target: Target, host: str) -> ClearPlan:
    """What ``clear`` would delete for ``target`` (hashserver or database)."""
    if target.service not in STORAGE_DIRECTORY or target.data_path is None:
        raise RefusedError(f"clear works on a hashserver or a database, not a {target.service}")
    path = check_contained(fs, target, target.data_path)
    if target.service == "database":
        return _plan_database(fs, target, host, path)
    return _plan_buffers(fs, target, host, path)


def _plan_database(fs, target: Target, host: str, path: str) -> ClearPlan:
    files = []
    for suffix in DB_SUFFIXES:
        found = fs.lstat(path + suffix)
        if found is not None:
            if not is_regular(found[0]):
                raise _refuse(target, path + suffix, "it is not a regular file")
            files.append((path + suffix, found[1]))
    return ClearPlan(target, host, path, tuple(files))


def _plan_buffers(fs, target: Target, host: str, path: str) -> ClearPlan:
    found = fs.lstat(path)
    if found is None:
        return ClearPlan(target, host, path, ())
    if not is_dir(found[0]):
        raise _refuse(target, path, "it is not a directory")
    files, dirs, kept = [], [], []
    for name, mode, size in fs.entries(path):
        full = f"{path}/{name}"
        inside = _prefix_files(fs, full, name) if is_dir(mode) else None
        if is_regular(mode) and (name == LAYOUT_MARKER or BUFFER_FILE.fullmatch(name)):
            files.append((full, size))
        elif inside is not None:
            files += inside
            dirs.append(full)
        else:
            kept.append(name + ("/" if is_dir(mode) else ""))
    return ClearPlan(target, host, path, tuple(files), tuple(dirs), tuple(kept))


def _prefix_files(fs, path: str, prefix: str) -> list[tuple[str, int]] | None:
    """The buffer files of a prefix directory; None if it holds anything
    else (then it is not hashserver's, e.g. a subproject named 'ab')."""
    if not PREFIX_DIR.fullmatch(prefix):
        return None
    files = []
    for name, mode, size in fs.entries(path):
        if not (is_regular(mode) and name.startswith(prefix) and BUFFER_FILE.fullmatch(name)):
            return None
        files.append((f"{path}/{name}", size))
    return files


def execute_clear(fs, plan: ClearPlan) -> int:
    """Delete what ``plan`` lists; the number of bytes freed."""
    for path, _ in plan.files:
        fs.remove(path)
    for path in plan.dirs:
        fs.rmdir(path)
    return plan.total


def busy(host, target: Target) -> list[tuple[str, dict[str, Any]]]:
    """Live servers on ``host`` using the target's data: its rw and ro keys,
    and any server of that kind with the same work directory (e.g. started
    by remote-http-launcher under another key)."""
    found = []
    for key in host.keys():
        record = host.read(key)
        if not record or not is_running(host, key, record):
            continue
        same_dir = record.get("workdir") == target.spec.workdir and \
            describe(key, record)[0]["service"] == target.service
        if key in target.sibling_keys() or same_dir:
            found.append((key, record))
    return found


def prepare_clear(host, target: Target, stop: bool = False):
    """(plan, servers to stop first). A live server using the data is
    refused unless ``stop``: it would write into what is being deleted."""
    plan = plan_clear(host.fs(), target, host.name)
    running = busy(host, target)
    if running and not stop:
        keys = ", ".join(f"'{k}' (pid {r.get('pid')})" for k, r in running)
        raise RefusedError(f"{target.service} {keys} is running on {host.name} and uses "
                          f"{plan.path}", hint="stop it first, or pass --stop")
    return plan, running


def clear(host, target: Target, running) -> ClearPlan:
    """Stop ``running``, then delete; the plan as executed (re-made after
    the stop, so buffers written until then go too)."""
    for key, record in running:
        stop_key(host, key, record)
    plan = plan_clear(host.fs(), target, host.name)
    execute_clear(host.fs(), plan)
    return plan


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"

"""State files shared with remote-http-launcher (COMPAT.md section 3).

Under ``paths.launcher_dir()``: ``server/<key>.json`` (written by the
launcher, then by the server: ``starting`` -> ``running`` + ``port``),
``server/<key>.log`` (the server's stdout and stderr) and
``client/<key>.json`` (how this machine reaches the server). Every write is
atomic (temporary file + ``os.replace``) because servers, other launchers
and ``ps`` read these files at any moment.

Logs can hold paths, tokens in URLs and tracebacks, and state files say
which ports serve which data: the directories are kept private (0700, an
existing one of ours made so), the files we write 0600. remote-http-launcher
runs as the same user, so it still reads and writes all of them.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from typing import Any

from ..core import paths
from ..errors import SeamlessConfigWarning

STARTING = "starting"
RUNNING = "running"
FAILED = "failed"
STALE = "stale"

PRIVATE_FILE = 0o600


def private_dir(path: str) -> str:
    """Make the directory ``path`` exist, readable by this user only: new
    ones are made 0700, an existing one of ours that others may enter is
    made 0700 (one of another user is left alone: it cannot be ours to fix).
    A missing launcher directory above it is made 0700 too."""
    parent = os.path.dirname(os.path.normpath(path))
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, mode=0o700, exist_ok=True)
    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.stat(path)
    if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
    return path


def open_private(path: str, append: bool = False, truncate: bool | None = None) -> int:
    """A file descriptor for writing ``path`` (a log), created 0600; not
    through a symbolic link. Emptied unless ``append`` (or as ``truncate``
    says); with ``append``, every write lands at the end even when another
    program appends to the same file meanwhile."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    if append:
        flags |= os.O_APPEND
    if (not append) if truncate is None else truncate:
        flags |= os.O_TRUNC
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # a file from an earlier version may be 0644
    except OSError:
        pass
    return fd


def server_dir(base: str | None = None) -> str:
    return os.path.join(base or paths.launcher_dir(), "server")


def client_dir(base: str | None = None) -> str:
    return os.path.join(base or paths.launcher_dir(), "client")


def server_state_path(key: str, base: str | None = None) -> str:
    return os.path.join(server_dir(base), key + ".json")


def server_log_path(key: str, base: str | None = None) -> str:
    return os.path.join(server_dir(base), key + ".log")


def client_path(key: str, base: str | None = None) -> str:
    return os.path.join(client_dir(base), key + ".json")


def parse_state(text: str, where: str) -> dict[str, Any] | None:
    """JSON object from ``text``; anything else is reported and read as absent
    (a half-written or hand-edited file must not block a relaunch)."""
    try:
        data = json.loads(text)
    except RecursionError:  # nested beyond the parser's limit: garbage too
        warnings.warn(f"ignoring corrupt state file {where}: nested too deeply",
                      SeamlessConfigWarning, stacklevel=3)
        return None
    except ValueError as exc:
        warnings.warn(f"ignoring corrupt state file {where}: {exc}", SeamlessConfigWarning,
                      stacklevel=3)
        return None
    if not isinstance(data, dict):
        warnings.warn(f"ignoring state file {where}: not a JSON object", SeamlessConfigWarning,
                      stacklevel=3)
        return None
    return data


MAX_STATE_BYTES = 2**20  # a state file is a few hundred bytes


def read_json(path: str) -> dict[str, Any] | None:
    """A state file, or None when absent or unusable (said in a warning): a
    regular file of at most a MiB, so that a FIFO or a link to /dev/zero
    put in its place blocks nothing and fills no memory."""
    try:
        data = paths.read_regular(path, MAX_STATE_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        warnings.warn(f"cannot read state file {path}: {exc.strerror or exc}",
                      SeamlessConfigWarning, stacklevel=2)
        return None
    return parse_state(data.decode("utf-8", "replace"), path)


def write_json(path: str, data: dict[str, Any], mode: int = PRIVATE_FILE) -> None:
    directory = os.path.dirname(path)
    private_dir(directory)
    import tempfile  # ~3 ms: the warm seamless-init only reads state

    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read_server(key: str) -> dict[str, Any] | None:
    return read_json(server_state_path(key))


def write_server(key: str, data: dict[str, Any]) -> None:
    write_json(server_state_path(key), data)


def remove_server(key: str) -> None:
    _unlink(server_state_path(key))


def mark_failed(key: str, data: dict[str, Any] | None) -> None:
    """Leave a ``failed`` record (never a ``running`` one) after a failed launch."""
    record = dict(data or {})
    record["status"] = FAILED
    write_server(key, record)


def read_client(key: str) -> dict[str, Any] | None:
    return read_json(client_path(key))


def write_client(key: str, data: dict[str, Any]) -> None:
    write_json(client_path(key), data)


def remove_client(key: str) -> None:
    _unlink(client_path(key))


def starting_record(*, workdir: str, log: str, command: str, pid: int,
                    network_interface: str, parameters: Any, meta: Any,
                    uid: int | None = None) -> dict[str, Any]:
    """The record the launcher writes right after starting the server."""
    record: dict[str, Any] = {
        "workdir": workdir,
        "log": log,
        "command": command,
        "uid": os.getuid() if uid is None else uid,
        "pid": pid,
        "status": STARTING,
        "network_interface": network_interface,
    }
    if parameters is not None:
        record["parameters"] = dict(parameters)
    record["meta"] = dict(meta or {})
    return record


def client_record(hostname: str, server: dict[str, Any], spec_meta: Any) -> dict[str, Any]:
    """Client file for a directly reachable server (no tunnel)."""
    record: dict[str, Any] = {"hostname": hostname, "port": server["port"]}
    for name, value in server.items():
        if name.endswith("_port") and isinstance(value, int):
            record[name] = value
    if isinstance(server.get("parameters"), dict):
        record["parameters"] = server["parameters"]
    record["meta"] = dict(spec_meta or {})
    return record


def tail(path: str, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' when missing)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])

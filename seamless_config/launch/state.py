"""State files shared with remote-http-launcher (COMPAT.md section 3).

Under ``paths.launcher_dir()``: ``server/<key>.json`` (written by the
launcher, then by the server: ``starting`` -> ``running`` + ``port``),
``server/<key>.log`` (the server's stdout and stderr) and
``client/<key>.json`` (how this machine reaches the server). Every write is
atomic (temporary file + ``os.replace``) because servers, other launchers
and ``ps`` read these files at any moment.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from typing import Any

from .. import paths
from ..errors import SeamlessConfigWarning

STARTING = "starting"
RUNNING = "running"
FAILED = "failed"
STALE = "stale"

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
    except ValueError as exc:
        warnings.warn(f"ignoring corrupt state file {where}: {exc}", SeamlessConfigWarning,
                      stacklevel=3)
        return None
    if not isinstance(data, dict):
        warnings.warn(f"ignoring state file {where}: not a JSON object", SeamlessConfigWarning,
                      stacklevel=3)
        return None
    return data


def read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        warnings.warn(f"cannot read state file {path}: {exc}", SeamlessConfigWarning,
                      stacklevel=2)
        return None
    return parse_state(text, path)


def write_json(path: str, data: dict[str, Any], mode: int = 0o600) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
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
    write_json(server_state_path(key), data, mode=0o644)


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

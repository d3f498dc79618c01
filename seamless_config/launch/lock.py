"""A per-key lock across processes and threads.

remote-http-launcher has no locking, so two sessions asking for the same
service can start two servers. Ours take ``flock`` on
``<launcher_dir>/locks/<key>.lock`` around check-and-launch. ``flock`` locks
belong to an open file description, so two threads of one process that open
the file separately exclude each other too; the lock dies with its holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import Iterator

from ..core import paths
from ..errors import ServiceError
from .state import private_dir


def lock_path(key: str) -> str:
    return os.path.join(paths.launcher_dir(), "locks", key + ".lock")


@contextlib.contextmanager
def key_lock(key: str, timeout: float = 120.0) -> Iterator[None]:
    path = lock_path(key)
    private_dir(os.path.dirname(path))
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        _acquire(fd, key, path, timeout)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, key: str, path: str, timeout: float) -> None:
    # Polling rather than a blocking flock: a blocking call cannot time out
    # without signals, and signals only work in the main thread.
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise ServiceError(
                    f"timed out after {timeout:.0f} s waiting for another launcher of "
                    f"'{key}' (lock {path}); if no other launch is running, a hung "
                    "process holds the lock") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

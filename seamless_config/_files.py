"""Reading a file that someone else may have made: a regular file only,
up to a size limit, without blocking. The lowest layer, beside
``errors`` (whose renderer quotes the line of a mistake) and ``_record``.
"""

from __future__ import annotations

import errno
import os
import stat

# Configuration files are a few kB; a 4,000-cluster catalogue is 1.5 MB.
MAX_CONFIG_BYTES = 8 * 2**20
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class UnreadableFile(OSError):
    """A file refused before it is read: not a regular file, too large, or
    (in the cache) not private to this user. An ``OSError``, so callers that
    already handle unreadable files handle these too."""


def read_regular(path: str, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of the regular file at ``path`` (symbolic links followed),
    at most ``limit`` of them. A FIFO would block the open until a writer
    comes and ``/dev/zero`` never ends, so the kind is checked before
    opening, and again on the opened descriptor (the path may have changed
    in between), which is opened non-blocking."""
    _refuse_unusual(os.stat(path), path, limit)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        _refuse_unusual(os.fstat(fd), path, limit)
        return read_capped(fd, path, limit)
    finally:
        os.close(fd)


def _refuse_unusual(st: os.stat_result, path: str, limit: int) -> None:
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise UnreadableFile(errno.EINVAL, f"it is {kind}, not a regular file", path)
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableFile(errno.EINVAL, "it is not a regular file", path)
    if st.st_size > limit:
        raise _too_large(path, limit)


def _too_large(path: str, limit: int) -> UnreadableFile:
    return UnreadableFile(errno.EFBIG, f"it is larger than {limit // 2**20} MiB, the limit "
                                       "for a configuration file", path)


def read_capped(fd: int, path: str, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:  # grew since fstat
            raise _too_large(path, limit)

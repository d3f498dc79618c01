"""Storage paths and launcher keys (COMPAT.md section 2), and the careful
reading of files that someone else may have placed: configuration files
(regular and not huge) and the cache (private to this user).

Storage is split by project, subproject and stage; job dispatch (jobserver,
daskserver) additionally by substage. Keys flatten the path with ``--``.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings

# The file primitives live one layer down (errors quotes files too); these
# names are the core's way to them.
from .._files import MAX_CONFIG_BYTES, UnreadableFile, read_capped, read_regular  # noqa: F401
from ..errors import SeamlessConfigWarning


def storage_subpath(project: str, subproject: str | None, stage: str | None) -> str:
    """``/<project>[/<subproject>][/STAGE-<stage>]``"""
    path = "/" + project
    if subproject:
        path += "/" + subproject
    if stage:
        path += "/STAGE-" + stage
    return path


def scope_subpath(project: str, subproject: str | None, stage: str | None,
                  substage: str | None) -> str:
    """The job-dispatch scope: ``.../STAGE-<stage>SUBSTAGE-<substage>``."""
    path = storage_subpath(project, subproject, stage)
    if substage:
        path += ("" if stage else "/") + "SUBSTAGE-" + substage
    return path


def flatten(subpath: str) -> str:
    return subpath.strip("/").replace("/", "--")


def service_key(service: str, cluster: str, mode: str, subpath: str) -> str:
    """``<service>-<cluster>-<mode>-<flattened path>``"""
    return f"{service}-{cluster}-{mode}-{flatten(subpath)}"


def pure_dask_key(cluster: str, queue: str) -> str:
    """``pure-daskserver-<cluster>--<queue>``: ``--`` (which names cannot
    contain) keeps cluster ``a-b`` + queue ``c`` apart from ``a`` + ``b-c``.
    seamless-config 0.3.2 joined them with ``-``."""
    return f"pure-daskserver-{cluster}--{queue}"


def join(root: str, subpath: str) -> str:
    return root.rstrip("/") + subpath


def seamless_cache_dir() -> str | None:
    """The ``SEAMLESS_CACHE`` directory (absolute, ``~`` expanded) when that
    mode is on, else None."""
    value = (os.environ.get("SEAMLESS_CACHE") or "").strip()
    return os.path.abspath(os.path.expanduser(value)) if value else None


def launcher_dir() -> str:
    """Where server/client state files live (shared with remote-http-launcher)."""
    return os.environ.get("REMOTE_HTTP_LAUNCHER_DIR") or os.path.expanduser("~/.remote-http-launcher")


def catalogue_files(home: str) -> list[tuple[str, bool]]:
    """(path, found) in load order: clusters.yaml always, then the
    ``clusters/*.yaml`` that exist, by name (dot files are editor debris,
    directories are not files). A name that exists but is no regular file
    (a FIFO, a device, a broken link) counts as found, so that reading it
    says what is wrong instead of silently skipping it."""
    base = os.path.join(home, ".seamless")
    main = os.path.join(base, "clusters.yaml")
    folder = os.path.join(base, "clusters")
    try:
        names = sorted(os.listdir(folder))
    except OSError:  # no such directory (or not one): nothing to add
        names = []
    extra = [os.path.join(folder, n) for n in names
             if n.endswith(".yaml") and not n.startswith(".")]
    return [(main, os.path.lexists(main))] + [(p, True) for p in extra if not os.path.isdir(p)]


# -- the cache directory -----------------------------------------------------------

# Other users must not be able to put files there: what is read back from
# it decides which parser (and, for tools.py, which argv) runs.
MAX_CACHE_BYTES = 16 * 2**20


def cache_dir() -> str | None:
    """``$XDG_CACHE_HOME/seamless-config`` (default ``~/.cache/...``), made
    private to the user; None when it cannot be made or is not private
    (then nothing is cached, and a warning says so once)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "seamless-config")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = _open_private_dir(folder)
    except OSError as exc:
        if isinstance(exc, UnreadableFile):
            _warn_unsafe(folder, exc.strerror)
        return None
    os.close(fd)
    return folder


def _open_private_dir(folder: str) -> int:
    """A descriptor of ``folder`` after checking that it is a directory (not a
    link to one) of this user that nobody else may write to. Files are then
    opened relative to it, so renaming the path afterwards changes nothing."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnreadableFile(exc.errno, "it is a symbolic link or not a directory",
                                 folder) from None
        raise
    problem = _not_private(os.fstat(fd))
    if problem:
        os.close(fd)
        raise UnreadableFile(errno.EPERM, problem, folder)
    return fd


def _not_private(st: os.stat_result) -> str | None:
    if st.st_uid != os.geteuid():
        return f"it is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_mode & 0o022:
        who = " and ".join(w for bit, w in ((0o020, "group"), (0o002, "others"))
                           if st.st_mode & bit)
        return f"it is writable by {who} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def _warn_unsafe(path: str, problem: str) -> None:
    # A warning, not a log record: it names something the user should fix,
    # the CLI shows it as "warning: ...", and Python's warning registry
    # shows each text once per process however often the cache is asked.

    warnings.warn(f"not using the cache {path}: {problem}; parsers are built in memory "
                  "instead (make it yours and private, e.g. chmod 700, or set XDG_CACHE_HOME)",
                  SeamlessConfigWarning, stacklevel=2)


def read_cache_file(path: str, limit: int = MAX_CACHE_BYTES) -> bytes | None:
    """The bytes of ``path`` in the cache directory, or None when it is
    absent or not safe to use: the directory and the file must be this
    user's, writable by nobody else, the file regular and no link."""
    folder, name = os.path.split(path)
    try:
        dfd = _open_private_dir(folder)
    except UnreadableFile as exc:
        _warn_unsafe(folder, exc.strerror)
        return None
    except OSError:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=dfd)
    except OSError as exc:  # absent (the usual case), or a link (ELOOP): build afresh
        if exc.errno == errno.ELOOP:
            _warn_unsafe(path, "it is a symbolic link")
        return None
    finally:
        os.close(dfd)
    try:
        st = os.fstat(fd)
        problem = _not_private(st) or (None if stat.S_ISREG(st.st_mode) else
                                       "it is not a regular file")
        if problem:
            _warn_unsafe(path, problem)
            return None
        return read_capped(fd, path, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def write_cache_file(path: str, write) -> None:
    """Write a file of ``cache_dir()`` whole or not at all: ``write(f)``
    fills a new private temporary file, which is then renamed, so a process
    starting meanwhile never reads half of it. A cache that cannot be
    written (or is not private) only costs time."""
    folder, name = os.path.split(path)
    try:
        dfd = _open_private_dir(folder)
    except OSError:
        return
    tmp = f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600, dir_fd=dfd)
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    except OSError:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass
    finally:
        os.close(dfd)

"""Storage paths and launcher keys (COMPAT.md section 2). Pure string work.

Storage is split by project, subproject and stage; job dispatch (jobserver,
daskserver) additionally by substage. Keys flatten the path with ``--``.
"""

from __future__ import annotations

import os


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


def launcher_dir() -> str:
    """Where server/client state files live (shared with remote-http-launcher)."""
    return os.environ.get("REMOTE_HTTP_LAUNCHER_DIR") or os.path.expanduser("~/.remote-http-launcher")


def log_file(cluster: str, subpath: str, service: str) -> str:
    """``~/.remote-http-launcher/logs/<cluster><path>/<service>.log``, kept
    with ``~`` so it means the home directory of the host that runs it."""
    return f"~/.remote-http-launcher/logs/{cluster}{subpath}/{service}.log"


def catalogue_files(home: str) -> list[tuple[str, bool]]:
    """(path, found) in load order: clusters.yaml always, then the
    ``clusters/*.yaml`` that exist, by name (dot files are editor debris)."""
    base = os.path.join(home, ".seamless")
    main = os.path.join(base, "clusters.yaml")
    folder = os.path.join(base, "clusters")
    try:
        names = sorted(os.listdir(folder))
    except OSError:  # no such directory (or not one): nothing to add
        names = []
    extra = [os.path.join(folder, n) for n in names
             if n.endswith(".yaml") and not n.startswith(".")]
    return [(main, os.path.exists(main))] + [(p, True) for p in extra if os.path.isfile(p)]


def cache_dir() -> str | None:
    """``$XDG_CACHE_HOME/seamless-config`` (default ``~/.cache/...``), made
    private to the user; None when it cannot be made (no caching then).
    Only this user's own files are ever read back from it."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "seamless-config")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder


def write_cache_file(path: str, write) -> None:
    """Write a file of ``cache_dir()`` whole or not at all: ``write(f)``
    fills a temporary file, which is then renamed, so a process starting
    meanwhile never reads half of it. A cache that cannot be written only
    costs time."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass

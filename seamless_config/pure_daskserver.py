"""Compatibility: the previous package's ``seamless_config.pure_daskserver``.

Pure Dask mode (``execution: remote``, a daskserver, ``persistent: false``)
needs no Seamless runtime: ``init()`` starts or reuses the scheduler and
``get_client()`` connects to it. ``DISABLED = True`` keeps ``init()`` from
starting it (tests and dry runs set it, as for seamless-remote's servers).
``activate``/``deactivate`` and ``PureDaskserverLaunchedHandle`` keep their
old meaning for callers that used them directly: start (or reuse) the
scheduler of a cluster and queue through our launcher, and connect.
"""

from __future__ import annotations

from .errors import ConfigurationError

DISABLED = False  # True: init() does not launch the pure Dask scheduler

_launched: dict = {}  # "handle": the PureDaskserverLaunchedHandle of activate()


class PureDaskserverLaunchedHandle:
    """The pure Dask scheduler of ``cluster``/``queue``, started or reused,
    and a ``distributed.Client`` on it (``client``). ``launch_config`` is
    the launch dict (``configure_pure_daskserver``), ``launch_payload`` the
    server's state record, ``dashboard_url`` its dashboard."""

    def __init__(self, cluster: str | None, queue: str | None, frontend_name: str | None):
        self.dashboard_url = None
        self.config(cluster, queue, frontend_name)
        self._do_init()

    def config(self, cluster: str | None, queue: str | None, frontend_name: str | None) -> None:
        from .tools import pure_daskserver_spec

        self._spec = pure_daskserver_spec(cluster=cluster, queue=queue,
                                          frontend_name=frontend_name)
        self.launch_config = self._spec.to_dict()

    def _do_init(self) -> None:
        from .dask.client import client_of, dashboard_url
        from .launch.executor import ensure_parallel

        handle = ensure_parallel([self._spec])[0]
        self.launch_payload = dict(handle.state or {})
        self.client = client_of(handle, set_as_default=False)
        self.dashboard_url = dashboard_url(handle)


def activate(*, no_main: bool = False, queue: str | None = None) -> None:
    """Start or reuse the pure Dask scheduler of the selected cluster (and
    ``queue``, default the selected one). ``no_main`` is accepted for the
    old signature; it meant nothing for pure Dask there either."""
    if DISABLED:
        return
    deactivate()
    _launched["handle"] = PureDaskserverLaunchedHandle(None, queue, None)


def deactivate() -> None:
    """Close the client of ``activate``; the scheduler keeps running for
    reuse (it stops itself when idle)."""
    handle = _launched.pop("handle", None)
    if handle is not None:
        handle.client.close()


def get_client():
    """A ``distributed.Client`` on the pure Dask scheduler: the one
    ``activate`` reached, else one on the scheduler ``init()`` started."""
    handle = _launched.get("handle")
    if handle is not None:
        return handle.client
    from .dask.client import get_dask_client

    return get_dask_client()


__all__ = ["DISABLED", "ConfigurationError", "PureDaskserverLaunchedHandle", "activate",
           "deactivate", "get_client"]

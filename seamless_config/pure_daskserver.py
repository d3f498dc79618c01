"""Compatibility: the previous package's ``seamless_config.pure_daskserver``.

Pure Dask mode (``execution: remote``, a daskserver, ``persistent: false``)
needs no Seamless runtime: ``init()`` starts or reuses the scheduler and
``get_client()`` connects to it. ``DISABLED = True`` keeps ``init()`` from
starting it (tests and dry runs set it, as for seamless-remote's servers).
``activate``/``deactivate`` keep their old meaning for callers that used
them directly: start (or reuse) the scheduler of the selected cluster, and
drop the client.
"""

from __future__ import annotations

from .errors import ConfigurationError

DISABLED = False  # True: init() does not launch the pure Dask scheduler

_state: dict = {}  # "handle": the scheduler activate() reached, "client": its Client


def activate(*, no_main: bool = False, queue: str | None = None) -> None:
    """Start or reuse the pure Dask scheduler of the selected cluster (and
    ``queue``, default the selected one). ``no_main`` is accepted for the
    old signature; it meant nothing for pure Dask there either."""
    if DISABLED:
        return
    from .launch.executor import ensure_parallel
    from .tools import pure_daskserver_spec

    _state["handle"] = ensure_parallel([pure_daskserver_spec(queue=queue)])[0]


def deactivate() -> None:
    """Forget the scheduler reached by ``activate`` and close its client;
    the scheduler keeps running for reuse (it stops itself when idle)."""
    client = _state.pop("client", None)
    _state.pop("handle", None)
    if client is not None:
        client.close()


def get_client():
    """A ``distributed.Client`` on the pure Dask scheduler: the one
    ``activate`` reached, else the one ``init()`` started."""
    if "client" in _state:
        return _state["client"]
    from .dask_client import get_dask_client, scheduler_address

    handle = _state.get("handle")
    if handle is None:
        client = get_dask_client()
    else:
        from distributed import Client

        client = Client(scheduler_address(handle), timeout=30)
    _state["client"] = client
    return client


__all__ = ["DISABLED", "ConfigurationError", "activate", "deactivate", "get_client"]

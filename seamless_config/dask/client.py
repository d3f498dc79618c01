"""``get_dask_client()``: a ``distributed.Client`` on the scheduler that
``init()`` started or reused (pure Dask, or the Seamless daskserver).

The address is the one this machine reaches: through the SSH tunnel when
the cluster has ``tunnel: true``. distributed is imported only here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..core.vocabulary import DASK_SERVICES
from ..errors import ConfigurationError
from ..session import default_session


def dask_handle(activation=None):
    """The running dask service of ``activation`` (default: what
    ``init()`` activated in the default session)."""
    if activation is None:
        activation = default_session().activation
    if activation is None:
        raise ConfigurationError("no Dask scheduler is running for this session: call "
                                 "seamless_config.init() first")
    for handle in activation.handles:
        if handle.service in DASK_SERVICES:
            return handle
    ctx = activation.context
    raise ConfigurationError(
        f"this configuration starts no Dask scheduler (execution '{ctx.execution}', "
        f"remote '{ctx.remote}'); Dask needs 'execution: remote' on a cluster whose "
        "frontend has a daskserver")


def dashboard_url(handle) -> str | None:
    """The dashboard of a launched handle (launch/activation's, imported on
    first use: ``import seamless.config`` does not load the launch code)."""
    from ..launch.activation import dashboard_url as of

    return of(handle)


def scheduler_address(handle) -> str:
    """``tcp://host:port`` as this machine reaches the scheduler."""
    return "tcp://" + urlsplit(handle.url).netloc


def get_dask_client(activation=None, *, timeout: float = 30.0):
    """A connected ``distributed.Client``. Each call opens a new connection:
    keep the client and ``close()`` it when done."""
    return client_of(dask_handle(activation), timeout=timeout)


def client_of(handle, *, timeout: float = 30.0, set_as_default: bool = True):
    """A ``distributed.Client`` on the scheduler of a launched handle."""
    from distributed import Client

    return Client(scheduler_address(handle), timeout=timeout, set_as_default=set_as_default)

"""seamless-config: where a Seamless pipeline runs, and against which storage.

The public surface. Names resolve on first use (PEP 562), so that
``import seamless_config`` costs almost nothing; ``from seamless_config
import *`` (as ``seamless.config`` does) loads them all.
"""

from importlib import import_module

_EXPORTS = {
    "init": "api", "set_stage": "api", "set_substage": "api", "set_workdir": "api",
    "set_nparallel": "api", "get_nparallel": "api", "get_context": "api",
    "get_seamless_cache": "api", "get_workdir": "api",
    "collect_remote_clients": "extern_clients", "set_remote_clients": "extern_clients",
    "set_remote_clients_from_env": "extern_clients",
    "change_stage": "select",
    "get_dask_client": "dask.client",
    "ConfigError": "errors", "ConfigurationError": "errors",
    "SeamlessConfigWarning": "errors", "ServiceError": "errors",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seamless_config' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # resolved once
    return value


def __dir__():
    return sorted(list(globals()) + __all__)

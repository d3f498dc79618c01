"""seamless-config: where a Seamless pipeline runs, and against which storage.

The public surface; ``import seamless_config`` stays light (no YAML, lark,
requests, fabric or distributed until they are needed).
"""

from .api import (get_context, get_nparallel, get_seamless_cache, init, set_nparallel,
                  set_stage, set_substage, set_workdir)
from .errors import ConfigError, ConfigurationError, SeamlessConfigWarning, ServiceError
from .extern_clients import (collect_remote_clients, set_remote_clients,
                             set_remote_clients_from_env)
from .select import change_stage

__all__ = [
    "init", "set_stage", "set_substage", "set_workdir", "set_nparallel", "get_nparallel",
    "get_context", "collect_remote_clients", "set_remote_clients",
    "set_remote_clients_from_env", "change_stage", "get_seamless_cache",
    "ConfigError", "ConfigurationError",
    "SeamlessConfigWarning", "ServiceError",
]

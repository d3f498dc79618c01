"""seamless-config: where a Seamless pipeline runs, and against which storage.

The public surface; ``import seamless_config`` stays light (no YAML, lark,
requests, fabric or distributed until they are needed).
"""

from .api import (get_context, get_nparallel, init, set_nparallel, set_stage,
                  set_substage, set_workdir)
from .errors import ConfigError, ConfigurationError, SeamlessConfigWarning, ServiceError
from .extern_clients import (collect_remote_clients, set_remote_clients,
                             set_remote_clients_from_env)

__all__ = [
    "init", "set_stage", "set_substage", "set_workdir", "set_nparallel", "get_nparallel",
    "get_context", "collect_remote_clients", "set_remote_clients",
    "set_remote_clients_from_env", "ConfigError", "ConfigurationError",
    "SeamlessConfigWarning", "ServiceError",
]

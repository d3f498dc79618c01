"""The bridge to the Seamless runtime (seamless-remote), when installed.

seamless-config works without Seamless itself: it then launches and
verifies servers and says once that nothing was activated.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field

logger = logging.getLogger("seamless_config")


@dataclass
class RuntimeClients:
    """What was handed to the runtime, so ``deactivate`` can undo it."""

    buffers: list = field(default_factory=list)
    databases: list = field(default_factory=list)
    active: bool = False

    def client_entries(self):
        for b in self.buffers:
            yield {"kind": "buffer", "cluster": None, **b}
        for d in self.databases:
            yield {"kind": "database", "cluster": None, **d}


def runtime_available() -> bool:
    return importlib.util.find_spec("seamless_remote") is not None


def activate_clients(buffers: list, databases: list) -> RuntimeClients:
    record = RuntimeClients(list(buffers), list(databases))
    if not runtime_available():
        logger.info("the Seamless runtime (seamless-remote) is not installed: "
                    "servers are running but no client was activated")
        return record
    record.active = False  # activation through seamless-remote: see issue 7
    return record

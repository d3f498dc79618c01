"""What it takes to start one server: the pure output of ``tools.py``.

A ``LaunchSpec`` is fully rendered: ``argv`` is a list, with the element
``STATUS_FILE`` standing for the state file the executor will create.
``to_dict()`` gives the launch dict of COMPAT.md section 2 for
remote-http-launcher, whose ``command`` it evaluates as an f-string: so
every literal brace is doubled and only ``{status_file}`` is left open.
"""

from __future__ import annotations

import shlex
from typing import Any, Mapping

from .._record import Factory, frozen_record
from ..model.types import frozen_map

STATUS_FILE = "{status_file}"


def escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@frozen_record
class LaunchSpec:
    service: str  # hashserver | database | jobserver | daskserver | pure_daskserver
    key: str
    argv: tuple[str, ...]
    workdir: str
    log_file: str
    hostname: str | None = None  # None: start on this machine
    ssh_hostname: str | None = None
    tunnel: bool = False
    conda: str | None = None
    network_interface: str | None = None
    port_start: int | None = None
    port_end: int | None = None
    timeout: int = 600  # the server's idle shutdown, seconds
    handshake: Any = "healthcheck"  # or {"path": "health", "port_name": "dashboard_port"}
    file_parameters: Mapping[str, Any] | None = None
    meta: Mapping[str, Any] = Factory(frozen_map)
    extra: Mapping[str, Any] = Factory(frozen_map)  # cluster_string, workers
    create_workdir: bool = True  # hashserver refuses a missing DIR
    log_level: str = "minimal"

    @property
    def is_local(self) -> bool:
        return self.hostname is None

    @property
    def health_path(self) -> str:
        return "healthcheck" if self.handshake == "healthcheck" else self.handshake["path"]

    @property
    def health_port_name(self) -> str:
        return "port" if self.handshake == "healthcheck" else self.handshake["port_name"]

    def argv_for(self, status_file: str) -> list[str]:
        return [status_file if a == STATUS_FILE else a for a in self.argv]

    def command_line(self) -> str:
        """The shell line, braces escaped, ``{status_file}`` left open."""
        return " ".join(a if a == STATUS_FILE else escape_braces(shlex.quote(a))
                        for a in self.argv)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.hostname is not None:
            d["hostname"] = self.hostname
        if self.ssh_hostname is not None:
            d["ssh_hostname"] = self.ssh_hostname
        if self.tunnel:
            d["tunnel"] = True
        if self.conda is not None:
            d["conda"] = self.conda
        for name in ("network_interface", "port_start", "port_end"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        d["timeout"] = self.timeout
        d["workdir"] = self.workdir
        d["key"] = escape_braces(self.key)
        d["command"] = self.command_line()
        d["handshake"] = self.handshake if self.handshake == "healthcheck" else dict(self.handshake)
        if self.file_parameters is not None:
            d["file_parameters"] = dict(self.file_parameters)
        d["meta"] = dict(self.meta)
        d["log_level"] = self.log_level
        d["log_file"] = self.log_file
        d.update(self.extra)
        return d

"""Whether a process is alive: the one question the warm path asks, kept
apart from ``local.py`` so that answering it loads no subprocess machinery."""

from __future__ import annotations

import os
from typing import Any


def pid_alive(pid: Any) -> bool:
    """Whether ``pid`` is a live process; zombies count as dead (nobody may
    reap them when PID 1 is not an init)."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return True
    fields = stat.rsplit(")", 1)[-1].split()
    return not fields or fields[0] != "Z"


def signal_group(pid: int, sig: int) -> None:
    """Signal the process group ``pid`` leads (servers lead their own, and
    ``conda run`` wraps them), or ``pid`` alone; gone is fine."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

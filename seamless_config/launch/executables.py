"""Which program a server command runs on this machine (issue 16).

A server's command names its executable (``hashserver``,
``seamless-database``, ``seamless-jobserver``, ``seamless-dask-wrapper``,
``seamless-config-dask-wrapper``). It is looked up beside the running
interpreter first: a venv's ``bin/python`` has its own servers beside it
even when the venv is not activated (``venv/bin/seamless-init``, or
``venv/bin/python script.py``), and a server found first on ``PATH`` may
belong to another Python. Then on ``PATH``. A ``conda:`` environment runs
the name inside that environment instead (``conda run``), as before.
"""

from __future__ import annotations

import os
import sys


def beside_interpreter(name: str) -> str | None:
    """``name`` in the directory of ``sys.executable`` (not resolving its
    symlink: a venv's python links to the base interpreter), if runnable."""
    if not sys.executable or os.sep in name:
        return None
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def server_executable(name: str) -> str | None:
    """The program that runs for command word ``name``: beside the
    interpreter, else on PATH; None when neither has it."""
    found = beside_interpreter(name)
    if found is not None:
        return found
    import shutil  # not on the warm path: only a launch asks

    return shutil.which(name)


def shown(name: str, conda: str | None = None) -> str:
    """For ``plan`` and error messages: which executable will run."""
    if conda:
        return f"'{name}' of conda environment '{conda}'"
    found = server_executable(name)
    return found if found else f"'{name}' (not found beside {sys.executable} or on PATH)"

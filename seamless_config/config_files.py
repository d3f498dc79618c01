"""Compatibility: ``seamless_config.config_files.load_config_files``.

Re-reads and re-evaluates the files of the work directory with the current
stage and manual selections, activating nothing.
"""

from __future__ import annotations

from .session import default_session


def load_config_files(workdir: str | None = None):
    return default_session().load(workdir)

"""The one piece of module-level state: the default ``Session``.

A session remembers what the user chose outside the files (work directory,
stage, ``select_*`` calls, remote clients handed down by a server) and the
last evaluated ``Context``. Everything else is recomputed from the files,
so command-set values never survive a reload while manual ones do.
"""

from __future__ import annotations

import os
from typing import Any


class Session:
    def __init__(self) -> None:
        self.workdir: str | None = None  # set_workdir(); None: caller decides
        self.stage: str | None = None
        self.substage: str | None = None
        self.manual: dict[str, tuple[Any, str]] = {}  # name -> (value, "select_x(...)")
        self.loaded_workdir: str | None = None
        self.initialized = False
        self.activation: Any = None  # what the executor started and activated
        self.remote_clients: dict | None = None  # set_remote_clients()
        self.in_remote = False
        self._context = None
        self._catalogue = None  # (stat key, Catalogue)

    # -- selections -------------------------------------------------------
    def select(self, name: str, value: Any) -> None:
        text = f"select_{name}({value!r})"
        self.manual[name] = (value, text)
        self._context = None

    def manual_value(self, name: str, default: Any = None) -> Any:
        entry = self.manual.get(name)
        return default if entry is None else entry[0]

    def set_stage(self, stage: str | None, substage: str | None = None) -> None:
        self.stage, self.substage = stage, substage
        self._context = None

    # -- evaluation -------------------------------------------------------
    def load(self, workdir: str | None = None):
        """Read every file again and evaluate (``load_config_files``)."""
        from .loading import evaluate_workdir

        workdir = os.path.abspath(workdir or self.workdir or self.loaded_workdir or os.getcwd())
        self._context = evaluate_workdir(
            workdir, stage=self.stage, substage=self.substage,
            manual=dict(self.manual), catalogue=self.catalogue)
        self.loaded_workdir = workdir
        return self._context

    def context(self):
        """The current context, evaluated again if a selection changed."""
        if self._context is None:
            return self.load()
        return self._context

    def peek(self):
        """The last context without evaluating (None if there is none)."""
        return self._context

    def catalogue(self, home: str):
        """The catalogue, parsed again only when one of its files changed."""
        from .loading import catalogue_stat_key, empty_catalogue

        key = catalogue_stat_key(home)
        if self._catalogue is None or self._catalogue[0] != key:
            if all(size is None for _, _, size in key):  # no catalogue file at all
                catalogue = empty_catalogue(key)
            else:
                from .catalogue import load_catalogue

                catalogue = load_catalogue(home, lazy=True)
            self._catalogue = (key, catalogue)
        return self._catalogue[1]

    def reset(self) -> None:
        """Forget everything (tests, and ``set_workdir`` to another project)."""
        self.__init__()


_DEFAULT = Session()


def default_session() -> Session:
    return _DEFAULT

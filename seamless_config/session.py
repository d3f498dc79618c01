"""The one piece of module-level state: the default ``Session``.

A session remembers what the user chose outside the files (work directory,
stage, ``select_*`` calls, clusters defined in Python, remote clients
handed down by a server) and the last evaluated ``Context``. Everything
else is recomputed from the files, so command-set values never survive a
reload while manual ones do.

The session's evaluations are tolerant: a mistake that matters only when
something is used (an unknown cluster nothing launches on, say) is kept in
``Context.problems`` and raised by whatever uses it, as the previous
package's API behaved. The command-line tools evaluate strictly.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Selections whose ``source="command"`` form the previous package cleared
# before every load (its reset_*_before_load functions).
COMMAND_RESETTABLE = ("execution", "queue", "remote", "persistent", "record", "node")


class Session:
    def __init__(self) -> None:
        self.workdir: str | None = None  # set_workdir(); None: caller decides
        self.stage: str | None = None
        self.substage: str | None = None
        # name -> (value, "select_x(...)", source); source "manual" or "command"
        self.manual: dict[str, tuple[Any, str, str]] = {}
        self.defined = None  # define_clusters(): a Catalogue, over the files' clusters
        self.loaded_workdir: str | None = None
        self.initialized = False
        self.activation: Any = None  # what the executor started and activated
        self.remote_clients: dict | None = None  # set_remote_clients()
        self.in_remote = False
        self._context = None
        self._stale = False  # a selection changed since _context was evaluated
        self._catalogue = None  # (stat key, Catalogue)

    # -- selections -------------------------------------------------------
    def select(self, name: str, value: Any, source: str = "manual") -> None:
        text = f"select_{name}({value!r})"
        if name == "cluster" and self.manual_value("cluster", _ABSENT) != value:
            self.manual.pop("queue", None)  # a queue belongs to the cluster it was chosen for
        self.manual[name] = (value, text, source)
        self._changed(name)

    def forget(self, name: str, source: str | None = None) -> None:
        """Drop a selection (only one made with ``source``, when given)."""
        entry = self.manual.get(name)
        if entry is not None and (source is None or entry[2] == source):
            del self.manual[name]
            self._changed(name)

    def manual_value(self, name: str, default: Any = None) -> Any:
        entry = self.manual.get(name)
        return default if entry is None else entry[0]

    def manual_source(self, name: str) -> str | None:
        entry = self.manual.get(name)
        return None if entry is None else entry[2]

    def set_stage(self, stage: str | None, substage: str | None = None) -> None:
        self.stage, self.substage = stage, substage
        self._context = None

    def _changed(self, name: str) -> None:
        self._stale = True
        if name == "record":
            invalidate_record_mode_cache()

    # -- evaluation -------------------------------------------------------
    def load(self, workdir: str | None = None):
        """Read every file again and evaluate (``load_config_files``).
        Command-sourced selections give way to the files, as they did."""
        for name in COMMAND_RESETTABLE:
            self.forget(name, "command")
        workdir = os.path.abspath(workdir or self.workdir or self.loaded_workdir or os.getcwd())
        self._context = self._evaluate(workdir)
        self.loaded_workdir = workdir
        invalidate_record_mode_cache()
        return self._context

    def _evaluate(self, workdir: str | None):
        from .evaluation.pipeline import evaluate_workdir

        self._stale = False
        return evaluate_workdir(
            workdir, stage=self.stage, substage=self.substage,
            manual={n: (v, t, s) for n, (v, t, s) in self.manual.items()},
            catalogue=self.catalogue if workdir is not None else None,
            defined=self.defined, strict=False)

    def context(self):
        """The current context: evaluated again when a selection changed;
        before any load, the selections alone (no file is read)."""
        if self._context is None or self._stale:
            self._context = self._evaluate(self.loaded_workdir)
        return self._context

    def cluster(self, name: str):
        """The model of the cluster named ``name``; an unknown name raises
        ``UnknownClusterError`` (also a KeyError, as it was)."""
        ctx = self.context()
        try:
            return ctx.clusters[name]
        except KeyError:
            from .evaluation.evaluator import unknown_cluster

            raise unknown_cluster(name, ctx.clusters, None) from None

    def peek(self):
        """The last context without evaluating (None if there is none)."""
        return self._context

    def catalogue(self, home: str):
        """The catalogue, parsed again only when one of its files changed."""
        from .evaluation.pipeline import catalogue_stat_key, empty_catalogue

        key = catalogue_stat_key(home)
        if self._catalogue is None or self._catalogue[0] != key:
            if all(size is None for _, _, size in key):  # no catalogue file at all
                catalogue = empty_catalogue(key)
            else:
                from .model.catalogue_files import load_catalogue

                catalogue = load_catalogue(home, lazy=True)
            self._catalogue = (key, catalogue)
        return self._catalogue[1]

    def reset(self) -> None:
        """Forget everything (tests, and ``set_workdir`` to another project)."""
        self.__init__()


_ABSENT = object()


def invalidate_record_mode_cache() -> None:
    """seamless-transformer caches the record mode it read from us; a change
    must reach it (only if it was imported: otherwise there is no cache)."""
    runtime = sys.modules.get("seamless_transformer.record_runtime")
    invalidate = getattr(runtime, "invalidate_record_mode_cache", None)
    if callable(invalidate):
        invalidate()


_DEFAULT = Session()


def default_session() -> Session:
    return _DEFAULT

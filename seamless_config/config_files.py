"""Compatibility: the previous package's ``seamless_config.config_files``.

``load_config_files`` re-reads and re-evaluates the files of the work
directory with the current stage and selections, activating nothing; a
mistake that matters only when something is used is raised then, not
here. The other names are the ones the previous module exposed (most of
them imported from ``select``), kept for callers that reached them here.
"""

from __future__ import annotations

from .api import get_workdir  # noqa: F401
from .cluster import define_clusters as register_clusters  # noqa: F401
from .evaluation.pipeline import CACHE_CLUSTER as SEAMLESS_CACHE_CLUSTER  # noqa: F401
from .select import (PROJECT_TOPLEVEL, get_selected_project, get_stage,  # noqa: F401
                     reset_execution_before_load, reset_node_before_load,
                     reset_persistent_before_load, reset_queue_before_load,
                     reset_record_before_load, reset_remote_before_load, select_cluster,
                     select_execution, select_node, select_nparallel, select_persistent,
                     select_project, select_queue, select_record, select_remote, select_subproject)
from .session import default_session
from .tools import define_tools, load_tools  # noqa: F401

TOOLS_FILENAME = "tools.yaml"
CONFIG_FILENAMES = ("seamless.yaml", "seamless.profile.yaml")
INHERIT_COMMAND = "inherit_from_parent"
COMMAND_LIST_EXAMPLE = "- project: myproject"


def load_config_files(workdir: str | None = None):
    """Evaluate the files again (``workdir``: default the session's)."""
    return default_session().load(workdir)

"""The words every phase shares, each defined once: the services, which of
them store and which run jobs, where storage lives, the settings, and how
a stage is written."""

from __future__ import annotations

# What a frontend of clusters.yaml can host.
FRONTEND_SERVICES = ("hashserver", "database", "jobserver", "daskserver")
# What init can start, in start order; pure Dask's scheduler is hosted by a
# frontend's daskserver.
SERVICES = ("hashserver", "database", "jobserver", "daskserver", "pure_daskserver")
STORAGE_SERVICES = ("hashserver", "database")
JOB_SERVICES = ("jobserver", "daskserver", "pure_daskserver")
DASK_SERVICES = ("daskserver", "pure_daskserver")
# The directory field of each storage service.
STORAGE_DIRECTORY = {"hashserver": "bufferdir", "database": "database_dir"}

# The settings commands (and select_* calls) set, in explain's order.
SETTINGS = ("project", "subproject", "cluster", "execution", "queue", "remote",
            "persistent", "record", "node", "nparallel")


def hosting_service(service: str) -> str:
    """The frontend service that hosts ``service`` (pure Dask: the daskserver)."""
    return "daskserver" if service == "pure_daskserver" else service


def stage_label(stage: str | None, substage: str | None, none: str | None = None) -> str | None:
    """``prod``, ``prod:gpu``; ``none`` when there is no stage."""
    if not stage and not substage:
        return none
    return (stage or "") + (f":{substage}" if substage else "")

"""Context -> every ``LaunchSpec`` init would use (pure: nothing starts).

The launch boundary (``launch/activation.py``) starts them; the inspectors
(``plan``, ``check``) show them. A tolerant evaluation's problems that block
a service are raised here, before anything could start.
"""

from __future__ import annotations

from ..core.vocabulary import SERVICES, STORAGE_SERVICES as STORAGE
from ..evaluation.context import Context, ServiceUse
from .specs import service_spec


def spec_for(ctx: Context, use: ServiceUse, file_parameters=None):
    """The LaunchSpec of one service the context needs (pure)."""
    return service_spec(
        use.service, cluster=ctx.cluster, frontend=use.frontend, mode=use.mode,
        project=ctx.value("project"), subproject=ctx.value("subproject"),
        stage=ctx.stage, substage=ctx.substage, queue=ctx.queue,
        node=ctx.value("node"), record=bool(ctx.value("record")),
        local_cluster=ctx.local_cluster, file_parameters=file_parameters)


def plan(ctx: Context, disabled: frozenset = frozenset()) -> list:
    """Every LaunchSpec init would use, in start order. The jobserver's
    parameters are only known once storage runs: here they are a
    placeholder naming the storage keys. Raises the problems that block
    any of these services (a tolerant evaluation kept them)."""
    uses = enabled_uses(ctx, disabled)
    specs = [spec_for(ctx, use) for use in uses if use.service in STORAGE]
    for use in uses:
        if use.service not in STORAGE:
            params = ({"clients-of": [s.key for s in specs], "record": bool(ctx.value("record"))}
                      if use.service == "jobserver" else None)
            specs.append(spec_for(ctx, use, params))
    return specs


def enabled_uses(ctx: Context, disabled: frozenset) -> list:
    """The services to start, after raising what blocks an init or them."""
    ctx.raise_for("init", *(s for s in SERVICES if s not in disabled))
    return [use for use in ctx.services if use.service not in disabled]

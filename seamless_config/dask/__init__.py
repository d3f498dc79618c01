"""Dask on top of the launched servers: a ``distributed.Client`` on the
scheduler init started (``client``), and our scheduler wrapper for pure
Dask (``wrapper``, the ``seamless-config-dask-wrapper`` program).

Deferred imports: ``distributed`` and ``dask_jobqueue`` (seconds to import
with their dependencies) only when a client is made or a cluster built.
"""

"""Dask on top of the launched servers: a ``distributed.Client`` on the
scheduler init started (``client``), our scheduler wrapper for pure Dask
(``wrapper``, the ``seamless-config-dask-wrapper`` program), and the
cluster classes the Seamless daskserver loads (``jobqueue``).

Deferred imports: ``distributed`` and ``dask_jobqueue`` (seconds to import
with their dependencies) only when a client is made or a cluster built;
``jobqueue`` imports dask_jobqueue plainly, since only seamless-dask's
wrapper loads it, to build a cluster.
"""

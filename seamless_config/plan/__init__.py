"""Context -> what would run, without running anything: ``tools.yaml`` and
its cache (``tooldefs``), one server's ``LaunchSpec`` (``spec``,
``specs``), every spec of a context (``services``), the Dask parameters of
a queue (``dask_params``), the cluster a pure Dask scheduler builds
(``dask``) and the job scripts it submits (``jobscript``).

Deferred imports: ``yaml`` and ``lark`` only when ``tools.yaml``'s cached
data cannot be used; ``dask`` and ``dask_jobqueue`` only for a job script
(they render it with dask-jobqueue's own job classes); ``json`` for the
cache.
"""

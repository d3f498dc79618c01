"""The inspectors: the explain/show document (``document``) and its text
(``explain``), every problem of a configuration (``checks``), and the
golden-file corpus (``golden``). They read files and render; they never
start anything (they import no ``launch``).

Deferred imports: ``dask_jobqueue`` for golden job scripts.
"""

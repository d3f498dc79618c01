"""The cluster model: what ``~/.seamless/clusters.yaml`` and inline
``clusters`` commands define. ``types`` (frozen clusters, frontends,
services, queues), ``fields`` (typed value readers), ``queues`` (TEMPLATE
expansion and queue rules), ``catalogue`` (one mapping of clusters),
``catalogue_files`` (the catalogue files, read whole or line-scanned) and
``lazy`` (the line scan: a cluster is parsed when first used).

Deferred imports: ``yaml`` (through ``fields``) where only a mistake needs
it (``evaluation`` asks ``fields.choice_hint`` on an error), and
``ipaddress`` when an interface is judged.
"""

"""The cluster classes the Seamless daskserver loads (``seamless-dask-wrapper
seamless_config.dask.jobqueue::SGECluster``...).

seamless-dask's wrapper builds the cluster it is named with no arguments,
from the ``jobqueue.<system>`` dask configuration it writes. These are
dask-jobqueue's clusters, of the same names, submitting this package's
job classes (plan/jobclasses.py): one ``--nthreads`` per worker, Grid
Engine's memory, HTCondor's directives. seamless-dask depends on
seamless-config, so wherever it runs this module is there too.
"""

from __future__ import annotations

import dask_jobqueue

from ..model.schedulers import BATCH_TYPES, CLASSES
from ..plan.jobclasses import job_class


def _cluster(kind: str) -> type:
    base = getattr(dask_jobqueue, CLASSES[kind] + "Cluster")
    return type(base.__name__, (base,), {"job_cls": job_class(kind), "__module__": __name__,
                                         "__doc__": base.__doc__})


SLURMCluster, OARCluster, SGECluster, PBSCluster, LSFCluster, HTCondorCluster = (
    _cluster(kind) for kind in BATCH_TYPES)

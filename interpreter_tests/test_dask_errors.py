"""Dask configuration mistakes: each a ConfigError at file:line:col, word
for word, raised before anything is launched."""

from __future__ import annotations

import pytest

from seamless_config.plan.services import plan
from seamless_config.errors import ConfigError
from seamless_config.evaluation.pipeline import evaluate_workdir


def slurm(queue: str, frontend: str = "daskserver: {network_interface: 0.0.0.0}",
          *extra: str) -> str:
    lines = ["- project: p", "- clusters:", "    hpc:", "      type: slurm",
             "      frontends:", "        - hostname: login.example",
             f"          {frontend}", "      default_queue: q", "      queues:",
             f"        q: {queue}", "- cluster: hpc", "- persistent: false", *extra]
    return "\n".join(lines) + "\n"


LOCAL_NODE = """\
- project: p
- clusters:
    here:
      type: local
      workers: 2
      frontends:
        - daskserver: {}
      default_queue: q
      queues:
        q: {cores: 2}
- cluster: here
- persistent: false
- node: n1
"""

CASES = [
    ("queue without memory", slurm('{cores: 4, walltime: "01:00:00"}'),
     "seamless.yaml:10:9: queue 'q' of cluster 'hpc' does not set memory, which a "
     "daskserver on a slurm cluster needs"),
    ("queue without walltime", slurm("{cores: 4, memory: 4GB}"),
     "seamless.yaml:10:9: queue 'q' of cluster 'hpc' does not set walltime, which a "
     "daskserver on a slurm cluster needs"),
    ("queue without cores", slurm('{memory: 4GB, walltime: "01:00:00"}'),
     "seamless.yaml:10:9: queue 'q' of cluster 'hpc' needs cores; only exclusive queues "
     "and queues of local clusters may leave it out"),
    ("unknown cluster type", slurm("{cores: 1}").replace("type: slurm", "type: pbz"),
     "seamless.yaml:4:13: type of cluster 'hpc' must be one of local, slurm, oar, sge, pbs, lsf, htcondor, not "
     "'pbz'; did you mean 'pbs'? (expected one of: htcondor, local, lsf, oar, pbs, sge, slurm)"),
    ("daskserver on a cluster without one",
     slurm("{cores: 1}", "jobserver: {}", "- remote: daskserver"),
     "seamless.yaml:13:3: remote 'daskserver' is not offered by cluster 'hpc' (defined in "
     "seamless.yaml:3:5); it offers: jobserver"),
    ("node on a local cluster", LOCAL_NODE,
     "seamless.yaml:13:3: node 'n1' is selected, but cluster 'here' (defined in "
     "seamless.yaml:3:5) is of type local: its Dask workers run on the frontend, not on a "
     "chosen node; node selection applies to slurm and oar clusters; remove the 'node' "
     "command or select such a cluster"),
]


@pytest.mark.parametrize("text,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_dask_mistakes(tree, text, message):
    root = tree({"seamless.yaml": text})
    with pytest.raises(ConfigError) as caught:
        ctx = evaluate_workdir(str(root))
        plan(ctx)
    assert caught.value.headline() == message


def test_node_on_a_batch_cluster_is_fine(tree):
    ctx = evaluate_workdir(str(tree({"seamless.yaml": slurm(
        '{cores: 1, memory: 1GB, walltime: "01:00:00"}', "daskserver: {network_interface: 0.0.0.0}",
        "- node: n1")})))
    assert plan(ctx)[0].file_parameters["job_extra_directives"] == ["--nodelist=n1"]

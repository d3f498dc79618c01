"""The lazily parsed catalogue gives the same clusters as a full parse,
and an unused broken cluster does not stop a project that does not use it."""

from __future__ import annotations

import pytest

from seamless_config.model.catalogue_files import load_catalogue
from seamless_config.errors import ConfigError
from seamless_config.evaluation.pipeline import evaluate_workdir

from .conftest import write_tree

GOOD = """
# a comment at column 0
hpc:
  type: slurm
  frontends:
    - hostname: login.example
      hashserver: {bufferdir: /scratch/b}
      database: {database_dir: /scratch/d}
  queues:
    base: {walltime: "01:00:00", cores: 4, memory: 4GB}
    big:
      TEMPLATE: base
      cores: 8

local_cluster: laptop
laptop:
  type: local
  frontends:
    - hashserver: {bufferdir: /b}
      database: {database_dir: /d}
"""

BROKEN = """
broken:
  type: slrum
  frontend: []
"""


def test_lazy_equals_full(home):
    write_tree(home, {".seamless/clusters.yaml": GOOD})
    full, lazy = load_catalogue(str(home)), load_catalogue(str(home), lazy=True)
    assert sorted(full.clusters) == sorted(lazy.clusters) == ["hpc", "laptop"]
    for name in full.clusters:
        assert full.clusters[name] == lazy.clusters[name]
    assert (lazy.local_cluster, str(lazy.local_cluster_span)) == (
        "laptop", "~/.seamless/clusters.yaml:14:16")


def test_unused_broken_cluster_does_not_block(tree, home):
    write_tree(home, {".seamless/clusters.yaml": GOOD, ".seamless/clusters/z.yaml": BROKEN})
    root = tree({"seamless.yaml": "- project: p\n- cluster: laptop\n- execution: process\n"})
    assert evaluate_workdir(str(root)).cluster.name == "laptop"
    with pytest.raises(ConfigError) as info:  # the full parse (check) still sees it
        load_catalogue(str(home))
    assert [p.render(with_source=False) for p in info.value.problems] == [
        "~/.seamless/clusters/z.yaml:1:1: cluster 'broken' needs frontends; add 'frontends: "
        "[{hostname: login.example.org}]'; a local cluster can use 'frontends: [{}]'",
        "~/.seamless/clusters/z.yaml:2:9: type of cluster 'broken' must be one of local, slurm, "
        "oar, sge, pbs, lsf, htcondor, not 'slrum'; did you mean 'slurm'? (expected one of: htcondor, local, lsf, oar, pbs, sge, slurm)",
        "~/.seamless/clusters/z.yaml:3:3: unknown key 'frontend' in cluster 'broken'; did you "
        "mean 'frontends'? (expected one of: default_queue, frontends, "
        "memory_per_core_property_name, queues, tunnel, type, workers)",
    ]


def test_used_broken_cluster_reports_its_lines(tree, home):
    write_tree(home, {".seamless/clusters/z.yaml": BROKEN})
    root = tree({"seamless.yaml": "- project: p\n- cluster: broken\n"})
    with pytest.raises(ConfigError) as info:
        evaluate_workdir(str(root))
    assert [str(p.span) for p in info.value.problems] == [
        "~/.seamless/clusters/z.yaml:1:1", "~/.seamless/clusters/z.yaml:2:9",
        "~/.seamless/clusters/z.yaml:3:3"]


def test_duplicates_found_without_parsing(home):
    write_tree(home, {".seamless/clusters.yaml": GOOD,
                      ".seamless/clusters/a.yaml": "hpc:\n  type: local\n"
                                                   "hpc:\n  type: local\n"})
    with pytest.raises(ConfigError) as info:
        load_catalogue(str(home), lazy=True)
    assert [p.render(with_source=False) for p in info.value.problems] == [
        "~/.seamless/clusters/a.yaml:1:1: cluster 'hpc' is defined twice "
        "(first at ~/.seamless/clusters.yaml:2:1)",
        "~/.seamless/clusters/a.yaml:3:1: duplicate key 'hpc' in one mapping of clusters "
        "(first at line 1); YAML would silently keep only the last one; remove one",
    ]


@pytest.mark.parametrize("text", [
    "base: &b {type: slrum, frontends: [{}]}\nother: *b\n",  # anchors tie entries
    "{hpc: {type: slrum, frontends: [{}]}}\n",  # flow style
    "---\nhpc: {type: slrum, frontends: [{}]}\n",  # document marker
])
def test_files_the_scan_cannot_vouch_for_are_parsed_whole(home, text):
    """Parsed whole at load time: the mistake shows although nothing uses it."""
    write_tree(home, {".seamless/clusters.yaml": text})
    with pytest.raises(ConfigError, match="must be one of local, slurm, oar, sge, pbs, lsf, htcondor, not 'slrum'"):
        load_catalogue(str(home), lazy=True)


def test_the_no_catalogue_shortcut_equals_a_load(home):
    """The session skips the catalogue parser when no file exists: what it
    builds instead must be what load_catalogue would give."""
    from seamless_config.evaluation.pipeline import catalogue_stat_key, empty_catalogue

    loaded = load_catalogue(str(home), lazy=True)
    shortcut = empty_catalogue(catalogue_stat_key(str(home)))
    assert (shortcut.files, dict(shortcut.clusters), shortcut.local_cluster) == (
        loaded.files, dict(loaded.clusters), loaded.local_cluster)

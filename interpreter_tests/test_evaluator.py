"""Semantics of the command language: values, defaults, provenance, and the
previous package's behaviours (COMPAT.md section 5), as tables."""

from __future__ import annotations

import pytest

from seamless_config.errors import ConfigError
from seamless_config.evaluation.pipeline import evaluate_workdir

from .conftest import write_tree

CATALOGUE = """
hpc:
  type: slurm
  tunnel: true
  frontends:
    - hostname: login.hpc.example
      hashserver: {bufferdir: /scratch/buffers}
      database: {database_dir: /scratch/db}
      daskserver: {port_start: 60300, port_end: 60399}
  default_queue: default
  queues:
    default: {walltime: "01:00:00", cores: 16, memory: 32000MB}
    highmem: {TEMPLATE: default, cores: 4, memory: 128000MB}
both:
  type: local
  frontends:
    - hashserver: {bufferdir: /data/b}
      database: {database_dir: /data/d}
      jobserver: {}
      daskserver: {}
local:
  type: local
  workers: 3
  frontends:
    - hashserver: {bufferdir: /data/buffers}
      database: {database_dir: /data/db}
      jobserver: {port_start: 55300, port_end: 55399}
"""


def evaluate(tree, home, files, stage=None, substage=None, catalogue=CATALOGUE):
    write_tree(home, {".seamless/clusters.yaml": catalogue})
    root = tree(files)
    return evaluate_workdir(str(root), stage=stage, substage=substage)


VALUE_CASES = [
    ("nothing", {}, None, None,
     {"execution": "process", "persistent": False}),
    ("project-only", {"seamless.yaml": "- project: p\n"}, None, None,
     {"project": "p", "execution": "process", "persistent": False}),
    ("cluster-defaults", {"seamless.yaml": "- project: p\n- cluster: local\n"}, None, None,
     {"project": "p", "cluster": "local", "execution": "remote", "persistent": True,
      "remote": "jobserver"}),
    ("default-queue", {"seamless.yaml": "- project: p\n- cluster: hpc\n"}, None, None,
     {"project": "p", "cluster": "hpc", "execution": "remote", "persistent": True,
      "remote": "daskserver", "queue": "default"}),
    ("queue-selected", {"seamless.yaml": "- project: p\n- cluster: hpc\n- queue: highmem\n"},
     None, None, {"queue": "highmem"}),
    ("cluster-change-resets-queue",
     {"seamless.yaml": "- project: p\n- cluster: hpc\n- queue: highmem\n- cluster: local\n"},
     None, None, {"cluster": "local", "queue": None}),
    ("persistent-false", {"seamless.yaml": "- project: p\n- cluster: hpc\n- persistent: false\n"},
     None, None, {"persistent": False, "remote": "daskserver"}),
    ("process-with-cluster",
     {"seamless.yaml": "- project: p\n- cluster: local\n- execution: process\n"}, None, None,
     {"execution": "process", "persistent": True}),
    ("pinned-remote", {"seamless.yaml": "- project: p\n- cluster: both\n- remote: jobserver\n"},
     None, None, {"remote": "jobserver"}),
    ("record-node-nparallel",
     {"seamless.yaml": "- record: true\n- node: n17\n- nparallel: 4\n"}, None, None,
     {"record": True, "node": "n17", "nparallel": 4}),
    ("stage-block-inactive",
     {"seamless.yaml": "- project: p\n- stage prod:\n    - project: q\n"}, None, None,
     {"project": "p"}),
    ("stage-block-active",
     {"seamless.yaml": "- project: p\n- stage prod:\n    - project: q\n"}, "prod", None,
     {"project": "q"}),
    ("stage-matches-any-substage",
     {"seamless.yaml": "- project: p\n- stage prod:\n    - project: q\n"}, "prod", "gpu",
     {"project": "q"}),
    ("substage-block-needs-substage",
     {"seamless.yaml": "- project: p\n- stage prod:gpu:\n    - project: q\n"}, "prod", None,
     {"project": "p"}),
    ("substage-block-active",
     {"seamless.yaml": "- project: p\n- stage prod:gpu:\n    - project: q\n"}, "prod", "gpu",
     {"project": "q"}),
    ("nested-blocks",
     {"seamless.yaml": "- project: p\n- stage prod:\n    - project: q\n"
                       "    - stage prod:gpu:\n        - subproject: g\n"}, "prod", "gpu",
     {"project": "q", "subproject": "g"}),
    ("profile-overrides-project",
     {"seamless.yaml": "- project: p\n", "seamless.profile.yaml": "- project: mine\n"},
     None, None, {"project": "mine"}),
]


@pytest.mark.parametrize("files,stage,substage,expected",
                         [c[1:] for c in VALUE_CASES], ids=[c[0] for c in VALUE_CASES])
def test_values(tree, home, files, stage, substage, expected):
    ctx = evaluate(tree, home, files, stage, substage)
    for name, value in expected.items():
        assert ctx.value(name) == value, name


ERROR_CASES = [
    ("unknown-cluster", "- cluster: hcp\n",
     "seamless.yaml:1:12: unknown cluster 'hcp'; did you mean 'hpc'? known clusters: both, hpc, local"),
    ("unknown-queue", "- project: p\n- cluster: hpc\n- queue: gpu\n",
     "seamless.yaml:3:10: queue 'gpu' is not defined by cluster 'hpc' "
     "(defined in ~/.seamless/clusters.yaml:1:1); known queues: default, highmem"),
    ("misspelt-queue", "- project: p\n- cluster: hpc\n- queue: highmen\n",
     "seamless.yaml:3:10: queue 'highmen' is not defined by cluster 'hpc' "
     "(defined in ~/.seamless/clusters.yaml:1:1); did you mean 'highmem'? "
     "known queues: default, highmem"),
    ("queue-without-cluster", "- queue: default\n",
     "seamless.yaml:1:3: queue 'default' needs a cluster; select one first with '- cluster: NAME'"),
    ("remote-without-cluster", "- execution: remote\n",
     "seamless.yaml:1:3: execution 'remote' needs a cluster; select one with "
     "'- cluster: NAME', or use 'execution: process'"),
    ("persistent-without-cluster", "- persistent: true\n",
     "seamless.yaml:1:3: persistent storage needs a cluster; select one with "
     "'- cluster: NAME', or write 'persistent: false'"),
    ("both-backends", "- project: p\n- cluster: both\n",
     "seamless.yaml:2:3: cluster 'both' offers both a jobserver and a daskserver "
     "(defined in ~/.seamless/clusters.yaml:13:1); pin one with '- remote: jobserver' "
     "or '- remote: daskserver' in seamless.profile.yaml"),
    ("pinned-backend-missing", "- project: p\n- cluster: local\n- remote: daskserver\n",
     "seamless.yaml:3:3: remote 'daskserver' is not offered by cluster 'local' "
     "(defined in ~/.seamless/clusters.yaml:20:1); it offers: jobserver"),
    ("cluster-without-project", "- cluster: local\n",
     "seamless.yaml:1:3: cluster 'local' is selected but no project is set; "
     "add '- project: NAME' to seamless.yaml"),
]


@pytest.mark.parametrize("text,message", [c[1:] for c in ERROR_CASES],
                         ids=[c[0] for c in ERROR_CASES])
def test_errors(tree, home, text, message):
    with pytest.raises(ConfigError) as info:
        evaluate(tree, home, {"seamless.yaml": text})
    assert info.value.render(with_source=False) == message


def test_provenance_and_shadowing(tree, home):
    ctx = evaluate(tree, home, {
        "seamless.yaml": "- project: p\n- stage prod:\n    - project: q\n",
        "seamless.profile.yaml": "- stage prod:\n    - stage prod:gpu:\n        - project: r\n",
    }, "prod", "gpu")
    s = ctx.settings["project"]
    assert s.value == "r"
    assert s.origin.kind == "command"
    assert str(s.origin.span) == "seamless.profile.yaml:3:11"
    assert s.origin.stages == ("root", "stage prod", "stage prod:gpu")
    assert [(x.value, str(x.origin.span), x.origin.stages) for x in s.shadowed] == [
        ("q", "seamless.yaml:3:7", ("root", "stage prod")),
        ("p", "seamless.yaml:1:3", ("root",)),
    ]


def test_default_rules_name_their_trigger(tree, home):
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: p\n- cluster: hpc\n"})
    ex = ctx.settings["execution"].origin
    assert (ex.kind, ex.rule, str(ex.trigger)) == (
        "default", "a cluster is selected ('hpc' at seamless.yaml:2:3) and no 'execution' "
        "command ran", "seamless.yaml:2:3")
    q = ctx.settings["queue"].origin
    assert q.rule == "the default_queue of cluster 'hpc' (defined in ~/.seamless/clusters.yaml:1:1)"


def test_warnings_as_the_old_package(tree, home):
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: p\n"})
    assert [str(w) for w in ctx.warnings] == [
        "No 'execution' command found; Seamless falls back to 'process' because no cluster is selected",
        "No cluster defined; running without persistence (results are not cached between runs)",
    ]
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: p\n- persistent: false\n"
                                                 "- execution: process\n"})
    assert ctx.warnings == ()


def test_storage_paths_and_keys(tree, home):
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: p\n- subproject: a/b\n"
                                                 "- cluster: local\n"}, "prod", "gpu")
    assert ctx.storage_subpath == "/p/a/b/STAGE-prod"
    assert ctx.scope_subpath == "/p/a/b/STAGE-prodSUBSTAGE-gpu"
    assert [(u.service, u.key, u.data_path) for u in ctx.services] == [
        ("hashserver", "hashserver-local-rw-p--a--b--STAGE-prod", "/data/buffers/p/a/b/STAGE-prod"),
        ("database", "database-local-rw-p--a--b--STAGE-prod", "/data/db/p/a/b/STAGE-prod/seamless.db"),
        ("jobserver", "jobserver-local-rw-p--a--b--STAGE-prodSUBSTAGE-gpu", None),
    ]


def test_pure_dask_key(tree, home):
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: p\n- cluster: hpc\n"
                                                 "- persistent: false\n- queue: highmem\n"})
    assert [(u.service, u.key) for u in ctx.services] == [
        ("pure_daskserver", "pure-daskserver-hpc--highmem")]


def test_inline_cluster_overrides_catalogue(tree, home):
    ctx = evaluate(tree, home, {"seamless.profile.yaml": """
        - project: p
        - cluster: local
        - clusters:
            local:
              type: local
              frontends:
                - hashserver: {bufferdir: /elsewhere}
                  database: {database_dir: /elsewhere/db}
        - execution: process
        """})
    assert ctx.cluster.source == "inline"
    assert str(ctx.cluster.overrides) == "~/.seamless/clusters.yaml:20:1"
    assert ctx.services[0].data_path == "/elsewhere/p"


def test_clusters_are_hoisted(tree, home):
    """A cluster may be selected before the inline command defining it."""
    ctx = evaluate(tree, home, {"seamless.yaml": """
        - project: p
        - cluster: mine
        - execution: process
        - clusters:
            mine:
              type: local
              frontends:
                - hashserver: {bufferdir: /b}
                  database: {database_dir: /d}
        """}, catalogue="")
    assert ctx.cluster.name == "mine"


def test_seamless_cache(tree, home, monkeypatch, tmp_path):
    monkeypatch.setenv("SEAMLESS_CACHE", str(tmp_path / "cache"))
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: ignored\n- cluster: nowhere\n"})
    assert (ctx.value("project"), ctx.execution, ctx.persistent) == ("__TOPLEVEL__", "process", True)
    assert [u.data_path for u in ctx.services] == [
        f"{tmp_path}/cache/__TOPLEVEL__", f"{tmp_path}/cache/__TOPLEVEL__/seamless.db"]
    assert ctx.files == ()


def test_tilde_is_expanded_only_for_services_on_this_machine(tree, home):
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: p\n- cluster: far\n- execution: process\n"},
                   catalogue="""
        far:
          type: slurm
          tunnel: true
          frontends:
            - hostname: login.far.example
              hashserver: {bufferdir: ~/buffers}
              database: {database_dir: ~/db}
        """)
    assert [u.data_path for u in ctx.services] == ["~/buffers/p", "~/db/p/seamless.db"]
    ctx = evaluate(tree, home, {"seamless.yaml": "- project: p\n- cluster: near\n- execution: process\n"},
                   catalogue="""
        near:
          type: local
          frontends:
            - hashserver: {bufferdir: ~/buffers}
              database: {database_dir: ~/db}
        """)
    assert [u.data_path for u in ctx.services] == [f"{home}/buffers/p", f"{home}/db/p/seamless.db"]


MORE_ERRORS = [
    ("execution-null", "- execution: ~\n",
     "seamless.yaml:1:14: execution cannot be null; expected one of: process, remote, spawn"),
    ("node-list", "- node: [a]\n",
     "seamless.yaml:1:9: node must be a string or null, not a list; write '- node: HOSTNAME'"),
    ("subproject-leading-slash", "- subproject: /abs\n",
     "seamless.yaml:1:15: subproject name '/abs' must not start or end with '/' or contain '//'"),
    ("dask-without-queue", "- project: p\n- cluster: noq\n- execution: remote\n",
     "seamless.yaml:2:3: a daskserver needs a queue, but none is selected and cluster 'noq' "
     "(defined in ~/.seamless/clusters.yaml:1:1) has no default_queue; add '- queue: NAME' "
     "(short) or a default_queue to the cluster"),
]

NOQ = """
noq:
  type: slurm
  frontends:
    - hashserver: {bufferdir: /b}
      database: {database_dir: /d}
      daskserver: {}
  queues:
    short: {walltime: "00:10:00", cores: 1, memory: 1GB}
"""


@pytest.mark.parametrize("text,message", [c[1:] for c in MORE_ERRORS],
                         ids=[c[0] for c in MORE_ERRORS])
def test_more_errors(tree, home, text, message):
    with pytest.raises(ConfigError) as info:
        evaluate(tree, home, {"seamless.yaml": text}, catalogue=NOQ)
    assert info.value.render(with_source=False) == message


def test_pure_dask_needs_no_project(tree, home):
    ctx = evaluate(tree, home, {"seamless.yaml": "- cluster: noq\n- persistent: false\n"
                                                 "- queue: short\n"}, catalogue=NOQ)
    assert [(u.service, u.key) for u in ctx.services] == [
        ("pure_daskserver", "pure-daskserver-noq--short")]
    assert ctx.storage_subpath is None

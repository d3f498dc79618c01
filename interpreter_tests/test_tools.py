"""Launch specs and launch dicts (tools.py, tools.yaml), as tables of whole values."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import shlex
import subprocess
import sys

import pytest
import remote_http_launcher

from seamless_config import _record, tools
from seamless_config.core.vocabulary import SERVICES
from seamless_config.plan import specs, tooldefs
from seamless_config.core import paths
from seamless_config.language import template
from seamless_config.core.yaml_nodes import compose_text
from seamless_config.model.catalogue import parse_clusters
from seamless_config.errors import ConfigError, Span
from seamless_config.plan.spec import STATUS_FILE
from seamless_config.model.types import Cluster, Frontend, Queue, Service, frozen_map
from seamless_config.plan.specs import service_spec

CATALOGUE = """\
hpc:
  type: slurm
  tunnel: true
  workers: 4
  memory_per_core_property_name: mem_per_cpu
  frontends:
    - hostname: login.hpc.example
      ssh_hostname: gateway.hpc.example
      hashserver: {bufferdir: /scratch/buffers, conda: hashserver, network_interface: 0.0.0.0,
                   port_start: 60100, port_end: 60199}
      database: {database_dir: /scratch/db, network_interface: 0.0.0.0,
                 port_start: 60200, port_end: 60299}
      jobserver: {conda: seamless-jobserver, port_start: 60400, port_end: 60499}
      daskserver: {network_interface: 0.0.0.0, port_start: 60300, port_end: 60399}
  default_queue: default
  queues:
    default: {conda: seamless-dask, walltime: "01:00:00", cores: 16, memory: 32000MB,
              tmpdir: /tmp, partition: batch, maximum_jobs: 20, unknown-task-duration: 1m,
              target-duration: 10m, lifetime-stagger: 4m}
    gpu: {TEMPLATE: default, memory: 64000MB, job_extra_directives: ["--gres=gpu:1"],
          dask_resources: {GPU: 1}}
    whole: {TEMPLATE: default, exclusive: true, cores: null, partition: null}
oarc:
  type: oar
  tunnel: true
  frontends:
    - hostname: oar.example
      daskserver:
  default_queue: default
  queues:
    default: {walltime: "02:00:00", cores: 8, memory: 16GB, project: capsid,
              job_script_prologue: ["module load dask"]}
    whole: {TEMPLATE: default, exclusive: true, cores: null}
laptop:
  type: local
  workers: 3
  frontends:
    - hostname: localhost
      hashserver: {bufferdir: /data/buffers}
      database: {database_dir: /data/db}
      jobserver:
      daskserver:
  default_queue: default
  queues:
    default:
    threads: {worker_threads: 4, maximum_jobs: 1, processes: 2, interactive: true,
              lifetime: 1h, extra_dask_config: {distributed.comm.timeouts.connect: 30s}}
    whole: {exclusive: true, cores: 2}
"""
SPAN = Span("<test>", 1, 1)


@functools.cache
def catalogue() -> dict[str, Cluster]:
    return parse_clusters(compose_text(CATALOGUE, "<clusters>"), "<clusters>", "catalogue")[0]


def spec(service, cluster="hpc", *, mode="rw", project="proj", subproject=None, stage=None,
         substage=None, queue=None, frontend=None, **kw):
    c = catalogue()[cluster] if isinstance(cluster, str) else cluster
    q = c.queues[queue] if isinstance(queue, str) else queue
    return service_spec(service, cluster=c, frontend=frontend, mode=mode, project=project,
                        subproject=subproject, stage=stage, substage=substage, queue=q, **kw)


def launch_dict(service, **kw):
    return spec(service, **kw).to_dict()


def meta(service, mode="rw", stage=None, substage=None, queue=None, cluster="hpc",
         project="proj", subproject=None):
    return {"service": service, "cluster": cluster, "mode": mode, "project": project,
            "subproject": subproject, "stage": stage, "substage": substage, "queue": queue}


REMOTE = {"hostname": "login.hpc.example", "ssh_hostname": "gateway.hpc.example", "tunnel": True}
COMMON_TAIL = ["--status-file", STATUS_FILE]

# ---- every service, whole launch dicts -------------------------------------------------

HPC_DASK_PARAMETERS = {
    "walltime": "01:00:00", "cores": 16, "memory": "32000MB", "tmpdir": "/tmp",
    "partition": "batch", "memory_per_core_property_name": "mem_per_cpu",
    "unknown-task-duration": "1m", "target-duration": "10m", "lifetime-stagger": "4m",
    "maximum_jobs": 20, "record": False,
}
DASK_HANDSHAKE = {"path": "health", "port_name": "dashboard_port"}

WHOLE_DICTS = [
    ("hashserver rw", "hashserver", dict(mode="rw", stage="prod"), {
        **REMOTE, "conda": "hashserver", "network_interface": "0.0.0.0",
        "port_start": 60100, "port_end": 60199, "timeout": 600,
        "workdir": "/scratch/buffers/proj/STAGE-prod", "key": "hashserver-hpc-rw-proj--STAGE-prod",
        "command": "hashserver --writable --port-range 60100 60199 --status-file {status_file}"
                   " --host 0.0.0.0 --timeout 600 -- /scratch/buffers/proj/STAGE-prod",
        "handshake": "healthcheck", "meta": meta("hashserver", stage="prod"),
        "log_level": "minimal",
        "log_file": "~/.remote-http-launcher/server/hashserver-hpc-rw-proj--STAGE-prod.log"}),
    ("hashserver ro", "hashserver", dict(mode="ro"), {
        **REMOTE, "conda": "hashserver", "network_interface": "0.0.0.0",
        "port_start": 60100, "port_end": 60199, "timeout": 600,
        "workdir": "/scratch/buffers/proj", "key": "hashserver-hpc-ro-proj",
        "command": "hashserver --port-range 60100 60199 --status-file {status_file}"
                   " --host 0.0.0.0 --timeout 600 -- /scratch/buffers/proj",
        "handshake": "healthcheck", "meta": meta("hashserver", mode="ro"),
        "log_level": "minimal", "log_file": "~/.remote-http-launcher/server/hashserver-hpc-ro-proj.log"}),
    ("database ro is still --writable", "database", dict(mode="ro", subproject="a/b"), {
        **REMOTE, "network_interface": "0.0.0.0", "port_start": 60200, "port_end": 60299,
        "timeout": 600, "workdir": "/scratch/db/proj/a/b", "key": "database-hpc-ro-proj--a--b",
        "command": "seamless-database --writable --port-range 60200 60299"
                   " --status-file {status_file} --host 0.0.0.0 --timeout 600"
                   " -- /scratch/db/proj/a/b/seamless.db",
        "handshake": "healthcheck", "meta": meta("database", mode="ro", subproject="a/b"),
        "log_level": "minimal",
        "log_file": "~/.remote-http-launcher/server/database-hpc-ro-proj--a--b.log"}),
    ("jobserver", "jobserver", dict(stage="prod", substage="gpu",
                                    file_parameters={"buffer": [], "database": []}), {
        **REMOTE, "conda": "seamless-jobserver", "network_interface": "127.0.0.1",
        "port_start": 60400, "port_end": 60499, "timeout": 600,
        "workdir": "~/.remote-http-launcher/work/jobserver-hpc-rw-proj--STAGE-prodSUBSTAGE-gpu",
        "key": "jobserver-hpc-rw-proj--STAGE-prodSUBSTAGE-gpu",
        "command": "seamless-jobserver --workers 4 --port-range 60400 60499"
                   " --status-file {status_file} --host 127.0.0.1 --timeout 600",
        "handshake": "healthcheck", "file_parameters": {"buffer": [], "database": []},
        "meta": meta("jobserver", stage="prod", substage="gpu"), "log_level": "minimal",
        "log_file": "~/.remote-http-launcher/server/jobserver-hpc-rw-proj--STAGE-prodSUBSTAGE-gpu.log",
        "workers": 4}),
    ("daskserver default queue", "daskserver", dict(stage="prod"), {
        **REMOTE, "conda": "seamless-dask", "network_interface": "0.0.0.0",
        "port_start": 60300, "port_end": 60399, "timeout": 600,
        "workdir": "~/.remote-http-launcher/work/daskserver-hpc-rw-proj--STAGE-prod",
        "key": "daskserver-hpc-rw-proj--STAGE-prod",
        "command": "seamless-dask-wrapper seamless_config.dask.jobqueue::SLURMCluster "
                   "--port-range 60300 60399"
                   " --status-file {status_file} --host 0.0.0.0 --timeout 600",
        "handshake": DASK_HANDSHAKE, "file_parameters": HPC_DASK_PARAMETERS,
        "meta": meta("daskserver", stage="prod", queue="default"), "log_level": "minimal",
        "log_file": "~/.remote-http-launcher/server/daskserver-hpc-rw-proj--STAGE-prod.log",
        "cluster_string": "seamless_config.dask.jobqueue::SLURMCluster"}),
    ("pure daskserver", "pure_daskserver", dict(project=None, queue="gpu"), {
        **REMOTE, "conda": "seamless-dask", "network_interface": "0.0.0.0",
        "port_start": 60300, "port_end": 60399, "timeout": 600,
        "workdir": "~/.remote-http-launcher/work/pure-daskserver-hpc--gpu",
        "key": "pure-daskserver-hpc--gpu",
        "command": "seamless-config-dask-wrapper dask_jobqueue::SLURMCluster --port-range 60300"
                   " 60399 --status-file {status_file} --host 0.0.0.0 --timeout 600",
        "handshake": DASK_HANDSHAKE,
        "file_parameters": {**HPC_DASK_PARAMETERS, "memory": "64000MB",
                            "job_extra_directives": ["--gres=gpu:1"], "dask-resources": {"GPU": 1},
                            "worker_threads": 2, "pure_dask": True},
        "meta": meta("pure_daskserver", project=None, queue="gpu"), "log_level": "minimal",
        "log_file": "~/.remote-http-launcher/server/pure-daskserver-hpc--gpu.log",
        "cluster_string": "dask_jobqueue::SLURMCluster"}),
]


@pytest.mark.parametrize("service,kw,expected", [c[1:] for c in WHOLE_DICTS],
                         ids=[c[0] for c in WHOLE_DICTS])
def test_whole_launch_dict(service, kw, expected):
    assert launch_dict(service, **kw) == expected


def test_storage_ignores_the_dask_queue_and_substage():
    d = launch_dict("hashserver", queue="gpu", substage="g", node="n1")
    assert (d["conda"], d["meta"], "file_parameters" in d) == (
        "hashserver", meta("hashserver"), False)


def test_spec_is_frozen_and_argv_is_a_tuple():
    s = spec("hashserver", mode="ro")
    assert s.argv == ("hashserver", "--port-range", "60100", "60199", "--status-file",
                      STATUS_FILE, "--host", "0.0.0.0", "--timeout", "600", "--",
                      "/scratch/buffers/proj")
    with pytest.raises(AttributeError, match="LaunchSpec is frozen"):
        s.key = "x"
    assert s == spec("hashserver", mode="ro") != spec("hashserver", mode="rw")


# ---- keys and storage paths -------------------------------------------------------------

# (project, subproject, stage, substage) ->
#   (storage key part, hashserver workdir, database file, dispatch key part)
SCOPES = [
    (("proj", None, None, None), ("proj", "/scratch/buffers/proj", "/scratch/db/proj/seamless.db",
                                  "proj")),
    (("proj", None, "prod", None), ("proj--STAGE-prod", "/scratch/buffers/proj/STAGE-prod",
                                    "/scratch/db/proj/STAGE-prod/seamless.db",
                                    "proj--STAGE-prod")),
    (("proj", "sub", None, None), ("proj--sub", "/scratch/buffers/proj/sub",
                                   "/scratch/db/proj/sub/seamless.db", "proj--sub")),
    (("p.1_x", "a/b-c/d", "s.2", "gpu_1"), (
        "p.1_x--a--b-c--d--STAGE-s.2", "/scratch/buffers/p.1_x/a/b-c/d/STAGE-s.2",
        "/scratch/db/p.1_x/a/b-c/d/STAGE-s.2/seamless.db",
        "p.1_x--a--b-c--d--STAGE-s.2SUBSTAGE-gpu_1")),
    (("proj", None, "prod", "gpu"), ("proj--STAGE-prod", "/scratch/buffers/proj/STAGE-prod",
                                     "/scratch/db/proj/STAGE-prod/seamless.db",
                                     "proj--STAGE-prodSUBSTAGE-gpu")),
    (("proj", None, None, "gpu"), ("proj", "/scratch/buffers/proj", "/scratch/db/proj/seamless.db",
                                   "proj--SUBSTAGE-gpu")),
    (("proj", "", "", ""), ("proj", "/scratch/buffers/proj", "/scratch/db/proj/seamless.db",
                            "proj")),
]


@pytest.mark.parametrize("scope,expected", SCOPES, ids=[repr(s[0]) for s in SCOPES])
def test_keys_and_storage(scope, expected):
    project, subproject, stage, substage = scope
    storage, bufferdir, dbfile, dispatch = expected
    kw = dict(project=project, subproject=subproject, stage=stage, substage=substage)
    hs, db = spec("hashserver", mode="ro", **kw), spec("database", **kw)
    js, ds = spec("jobserver", **kw), spec("daskserver", **kw)
    got = (hs.key, hs.workdir, hs.argv[-1], db.key, db.argv[-1], js.key, ds.key, ds.workdir)
    assert got == ("hashserver-hpc-ro-" + storage, bufferdir, bufferdir,
                   "database-hpc-rw-" + storage, dbfile, "jobserver-hpc-rw-" + dispatch,
                   "daskserver-hpc-rw-" + dispatch,
                   "~/.remote-http-launcher/work/daskserver-hpc-rw-" + dispatch)
    # the templates agree with paths.py, the key rules' other implementation
    sub = paths.scope_subpath(project, subproject or None, stage or None, substage or None)
    assert js.key == paths.service_key("jobserver", "hpc", "rw", sub)


def test_pure_dask_key_matches_paths():
    assert spec("pure_daskserver", project=None, queue="whole").key == paths.pure_dask_key(
        "hpc", "whole")


def test_trailing_slash_of_bufferdir_is_not_doubled():
    svc = Service("hashserver", frozen_map({"bufferdir": "/buf/"}), SPAN)
    c = one_frontend_cluster("local", None, None, {"hashserver": svc})
    assert spec("hashserver", c).workdir == "/buf/proj"


# ---- where it runs -----------------------------------------------------------------------

def one_frontend_cluster(ctype, hostname, ssh_hostname, services=None, tunnel=True,
                         name="c", queues=None):
    services = services or {"hashserver": Service("hashserver",
                                                  frozen_map({"bufferdir": "/buf"}), SPAN)}
    fe = Frontend(hostname, ssh_hostname, frozen_map(services), SPAN)
    return Cluster(name, ctype, tunnel, (fe,), frozen_map(queues or {}), SPAN, "catalogue")


# (id, cluster type, hostname, ssh_hostname, local_cluster, expected placement keys)
PLACEMENT = [
    ("local type, no hostname", "local", None, None, None, {}),
    ("slurm, no hostname", "slurm", None, None, None, {}),
    ("localhost", "local", "localhost", None, None, {}),
    ("127.0.0.1 on a slurm cluster", "slurm", "127.0.0.1", None, None, {}),
    ("::1", "local", "::1", None, None, {}),
    ("localhost, same ssh", "local", "localhost", "localhost", None, {}),
    ("localhost, loopback ssh", "local", "localhost", "127.0.0.1", None, {}),
    ("localhost reached through a gateway", "local", "localhost", "gw.example", None,
     {"hostname": "localhost", "ssh_hostname": "gw.example", "tunnel": True}),
    ("remote", "slurm", "login.example", None, None,
     {"hostname": "login.example", "tunnel": True}),
    ("remote with ssh", "slurm", "login.example", "gw.example", None,
     {"hostname": "login.example", "ssh_hostname": "gw.example", "tunnel": True}),
    ("remote, but the local cluster", "slurm", "login.example", "gw.example", "c", {}),
    ("remote, another cluster is local", "slurm", "login.example", None, "other",
     {"hostname": "login.example", "tunnel": True}),
]


@pytest.mark.parametrize("ctype,hostname,ssh,local_cluster,expected",
                         [c[1:] for c in PLACEMENT], ids=[c[0] for c in PLACEMENT])
def test_placement(ctype, hostname, ssh, local_cluster, expected):
    c = one_frontend_cluster(ctype, hostname, ssh)
    d = launch_dict("hashserver", cluster=c, local_cluster=local_cluster)
    assert {k: d[k] for k in ("hostname", "ssh_hostname", "tunnel") if k in d} == expected
    assert spec("hashserver", c, local_cluster=local_cluster).is_local == (expected == {})


def test_no_tunnel_when_the_cluster_has_none():
    hs = Service("hashserver", frozen_map({"bufferdir": "/buf", "network_interface": "10.0.0.1"}),
                 SPAN)
    c = one_frontend_cluster("slurm", "login.example", None, {"hashserver": hs}, tunnel=False)
    d = launch_dict("hashserver", cluster=c)
    assert "tunnel" not in d and d["network_interface"] == "10.0.0.1"


def test_frontend_choice():
    hs = Service("hashserver", frozen_map({"bufferdir": "/first"}), SPAN)
    hs2 = Service("hashserver", frozen_map({"bufferdir": "/second"}), SPAN)
    db = Service("database", frozen_map({"database_dir": "/db"}), SPAN)
    fe1 = Frontend("one.example", None, frozen_map({"database": db}), SPAN)
    fe2 = Frontend("two.example", None, frozen_map({"hashserver": hs}), SPAN, index=1)
    fe3 = Frontend("three.example", None, frozen_map({"hashserver": hs2}), SPAN, index=2)
    c = Cluster("c", "slurm", True, (fe1, fe2, fe3), frozen_map(), SPAN, "catalogue")
    assert spec("hashserver", c).hostname == "two.example"  # the first that offers it
    assert spec("hashserver", c, frontend=fe3).workdir == "/second/proj"
    assert spec("database", c).hostname == "one.example"


# ---- dask file_parameters -------------------------------------------------------------

OAR_DEFAULT = {"walltime": "02:00:00", "cores": 8, "memory": "16GB", "project": "capsid",
               "job_script_prologue": ["module load dask"], "record": False}

# (id, service, cluster, queue, node, record, expected file_parameters)
DASK_PARAMETERS = [
    ("slurm default", "daskserver", "hpc", None, None, False, HPC_DASK_PARAMETERS),
    ("slurm template-derived", "daskserver", "hpc", "gpu", None, False, {
        **HPC_DASK_PARAMETERS, "memory": "64000MB", "job_extra_directives": ["--gres=gpu:1"],
        "dask-resources": {"GPU": 1}}),
    ("slurm template-derived, node", "daskserver", "hpc", "gpu", "n17", True, {
        **HPC_DASK_PARAMETERS, "memory": "64000MB", "dask-resources": {"GPU": 1},
        "job_extra_directives": ["--gres=gpu:1", "--nodelist=n17"], "record": True}),
    ("slurm exclusive", "daskserver", "hpc", "whole", None, False, {
        key: value for key, value in HPC_DASK_PARAMETERS.items() if key not in ("cores", "partition")
    } | {"exclusive": True, "job_extra_directives": ["--exclusive"]}),
    ("slurm exclusive, node", "daskserver", "hpc", "whole", "n1", False, {
        key: value for key, value in HPC_DASK_PARAMETERS.items() if key not in ("cores", "partition")
    } | {"exclusive": True, "job_extra_directives": ["--nodelist=n1", "--exclusive"]}),
    ("oar default", "daskserver", "oarc", None, None, False, OAR_DEFAULT),
    ("oar node", "daskserver", "oarc", None, "node-3", False, {
        **OAR_DEFAULT, "job_extra_directives": ['-p "host=\'node-3\'"']}),
    ("oar exclusive", "daskserver", "oarc", "whole", None, False, {
        **{k: v for k, v in OAR_DEFAULT.items() if k != "cores"},
        "exclusive": True, "resource_spec": "/nodes=1"}),
    ("local: cores from workers", "daskserver", "laptop", None, None, False,
     {"cores": 3, "record": False}),
    ("local: node means nothing", "daskserver", "laptop", None, "n1", False,
     {"cores": 3, "record": False}),
    ("local: queue fields", "daskserver", "laptop", "threads", None, True, {
        "cores": 3, "worker_threads": 4, "maximum_jobs": 1, "processes": 2, "interactive": True,
        "lifetime": "1h", "extra_dask_config": {"distributed.comm.timeouts.connect": "30s"},
        "record": True}),
    ("local exclusive", "daskserver", "laptop", "whole", None, False,
     {"exclusive": True, "cores": 2, "record": False}),
    ("pure local: defaults", "pure_daskserver", "laptop", None, None, False,
     {"cores": 3, "worker_threads": 2, "maximum_jobs": 3, "pure_dask": True, "record": False}),
    ("pure local: queue wins", "pure_daskserver", "laptop", "threads", None, False, {
        "cores": 3, "worker_threads": 4, "maximum_jobs": 1, "processes": 2, "interactive": True,
        "lifetime": "1h", "extra_dask_config": {"distributed.comm.timeouts.connect": "30s"},
        "pure_dask": True, "record": False}),
    ("pure slurm: no maximum_jobs default", "pure_daskserver", "oarc", None, None, False,
     {**OAR_DEFAULT, "worker_threads": 2, "pure_dask": True}),
]


@pytest.mark.parametrize("service,cluster,queue,node,record,expected",
                         [c[1:] for c in DASK_PARAMETERS], ids=[c[0] for c in DASK_PARAMETERS])
def test_dask_file_parameters(service, cluster, queue, node, record, expected):
    d = launch_dict(service, cluster=cluster, queue=queue, node=node, record=record)
    assert d["file_parameters"] == expected


@pytest.mark.parametrize("ctype,pure,seamless", [
    ("local", "distributed::LocalCluster", "distributed::LocalCluster"),
    *((kind, f"dask_jobqueue::{name}Cluster", f"seamless_config.dask.jobqueue::{name}Cluster")
      for kind, name in (("slurm", "SLURM"), ("oar", "OAR"), ("sge", "SGE"), ("pbs", "PBS"),
                         ("lsf", "LSF"), ("htcondor", "HTCondor")))])
def test_cluster_string(ctype, pure, seamless):
    """Our wrapper knows dask-jobqueue's classes by name; seamless-dask's is
    given ours, which it imports (dask/jobqueue.py)."""
    limit = {"disk": "1GB", "lifetime": "5m"} if ctype == "htcondor" else {"walltime": "00:10:00"}
    q = Queue("q", frozen_map({"cores": 1, "memory": "1GB", **limit}), frozen_map(), SPAN)
    c = one_frontend_cluster(ctype, None, None, {"daskserver": Service("daskserver",
                             frozen_map(), SPAN)}, queues={"q": q})
    for service, expected in (("daskserver", seamless), ("pure_daskserver", pure)):
        s = spec(service, c, queue=q)
        assert (s.extra["cluster_string"], s.argv[1]) == (expected, expected)
    module, _, name = seamless.partition("::")
    assert getattr(importlib.import_module(module), name).__name__ == name


def test_extra_file_parameters_are_merged_for_dask():
    d = launch_dict("daskserver", cluster="laptop", file_parameters={"clients": {"buffer": []}})
    assert d["file_parameters"] == {"cores": 3, "record": False, "clients": {"buffer": []}}


# ---- user mistakes: ConfigError naming the cluster and its definition --------------------

def _dask_cluster(ctype, queue_fields, default=True, name="h"):
    q = Queue("q", frozen_map(queue_fields), frozen_map(), Span("<clusters>", 9, 5))
    fe = Frontend("x.example", None, frozen_map({"daskserver": Service(
        "daskserver", frozen_map(), Span("<clusters>", 5, 7))}), Span("<clusters>", 4, 7))
    return Cluster(name, ctype, False, (fe,), frozen_map({"q": q}), Span("<clusters>", 1, 1),
                   "catalogue", default_queue="q" if default else None)


NO_BUFFERDIR = Service("hashserver", frozen_map(), Span("<clusters>", 3, 7))

# (id, service, cluster, kwargs, whole message)
CONFIG_ERRORS = [
    ("no frontend offers it", "jobserver", "oarc", {},
     "<clusters>:23:1: cluster 'oarc' has no frontend offering a jobserver"),
    ("the given frontend lacks it", "database", "oarc",
     {"frontend": "first"},
     "<clusters>:27:7: frontend 'oar.example' of cluster 'oarc' does not offer a database"),
    ("no queue", "daskserver", _dask_cluster("slurm", {}, default=False), {},
     "<clusters>:1:1: no queue selected and cluster 'h' has no default_queue; queues: q"),
    ("no type", "daskserver", _dask_cluster(None, {"cores": 1}), {},
     "<clusters>:1:1: cluster 'h' has no type; a daskserver needs one; "
     "expected one of: htcondor, local, lsf, oar, pbs, sge, slurm"),
    ("slurm queue without resources", "daskserver", _dask_cluster("slurm", {"cores": 4}), {},
     "<clusters>:9:5: queue 'q' of cluster 'h' does not set walltime, memory, "
     "which a daskserver on a slurm cluster needs"),
    ("oar queue without cores", "pure_daskserver",
     _dask_cluster("oar", {"memory": "1GB", "walltime": "1:00:00"}), {"project": None},
     "<clusters>:9:5: queue 'q' of cluster 'h' does not set cores, "
     "which a daskserver on a oar cluster needs"),
    ("hashserver without bufferdir", "hashserver",
     one_frontend_cluster("slurm", "x.example", None, {"hashserver": NO_BUFFERDIR}), {},
     "<clusters>:3:7: the hashserver of frontend 'x.example' in cluster 'c' does not set "
     "bufferdir"),
    ("no project", "hashserver", "laptop", {"project": None},
     "a hashserver on cluster 'laptop' needs a project"),
]


@pytest.mark.parametrize("service,cluster,kw,message", [c[1:] for c in CONFIG_ERRORS],
                         ids=[c[0] for c in CONFIG_ERRORS])
def test_config_errors(service, cluster, kw, message):
    if kw.get("frontend") == "first":
        kw = {**kw, "frontend": catalogue()[cluster].frontends[0]}
    with pytest.raises(ConfigError) as info:
        spec(service, cluster, **kw)
    assert str(info.value) == message


# (id, service, kwargs, whole message): caller mistakes, not user mistakes
PROGRAMMING_ERRORS = [
    ("unknown service", "webserver", {},
     "unknown service 'webserver'; expected one of: daskserver, database, hashserver, "
     "jobserver, pure_daskserver"),
    ("bad mode", "hashserver", {"mode": "rx"}, "mode 'rx' is not valid for a hashserver"),
    ("job servers are rw", "jobserver", {"mode": "ro"}, "mode 'ro' is not valid for a jobserver"),
    ("key out of the launcher's alphabet", "hashserver", {"project": "a b"},
     "hashserver key 'hashserver-hpc-rw-a b' does not match [A-Za-z0-9._-]+"),
    ("traversal in the workdir", "hashserver", {"project": "..", "subproject": "../etc"},
     "hashserver workdir '/scratch/buffers/../../etc' must not contain '..'"),
    ("hostile node", "daskserver", {"node": "n1'; rm -rf ~"},
     "node 'n1'; rm -rf ~' must be a host name: letters, digits, '.', '_' and '-', "
     "not starting with '-' or '.'"),
]


@pytest.mark.parametrize("service,kw,message", [c[1:] for c in PROGRAMMING_ERRORS],
                         ids=[c[0] for c in PROGRAMMING_ERRORS])
def test_programming_errors(service, kw, message):
    with pytest.raises(ValueError) as info:
        spec(service, **kw)
    assert str(info.value) == message


# ---- hostile values that bypassed validation ---------------------------------------------

HOSTILE = ["{x}", "{config}", "{status_file}x", "it's", 'a"b', "$(touch /tmp/pwned)", "a;b",
           "a b", "`id`", "}{", "\\", "%s", ""]
WORKDIR_REFUSED = "may only contain letters, digits and '@_./~-'"


def _hostile_cluster(bufferdir="/buf", interface="lo"):
    svc = Service("hashserver", frozen_map({"bufferdir": bufferdir,
                                            "network_interface": interface}), SPAN)
    return one_frontend_cluster("local", None, None, {"hashserver": svc})


@pytest.mark.parametrize("value", [v for v in HOSTILE if v])
def test_hostile_bufferdir_is_refused(value):
    """The workdir reaches argv; the launcher's own rule refuses it first."""
    with pytest.raises(ValueError) as info:
        spec("hashserver", _hostile_cluster(bufferdir="/data/" + value))
    assert str(info.value) == f"hashserver workdir '/data/{value}/proj' {WORKDIR_REFUSED}"


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_interface_stays_one_argv_element(value):
    s = spec("hashserver", _hostile_cluster(interface=value))
    host = s.argv.index("--host") + 1
    assert (s.argv[host], len(s.argv)) == (value or "127.0.0.1", 10)


# (id, network_interface, whole message)
HOSTILE_REFUSED = [
    ("is the placeholder", "{status_file}",
     "hashserver: a value renders as the status-file placeholder"),
    ("newline", "lo\nrm -rf ~", "hashserver: network_interface 'lo\\nrm -rf ~' holds a line "
                                "break or NUL"),
    ("carriage return", "lo\r", "hashserver: network_interface 'lo\\r' holds a line break or NUL"),
    ("NUL", "\0status_file\0",
     "hashserver: network_interface '\\x00status_file\\x00' holds a line break or NUL"),
]


@pytest.mark.parametrize("value,message", [c[1:] for c in HOSTILE_REFUSED],
                         ids=[c[0] for c in HOSTILE_REFUSED])
def test_hostile_interface_refused(value, message):
    with pytest.raises(ValueError) as info:
        spec("hashserver", _hostile_cluster(interface=value))
    assert str(info.value) == message


# ---- interop: remote-http-launcher's own template evaluation -----------------------------

def launcher_renders(d: dict, status_file: str) -> tuple[str, list[str]]:
    """What remote-http-launcher 0.4.5 makes of our key and command: its
    namespace is every identifier-named key plus ``config`` (and
    ``status_file`` for the command), evaluated by ``_evaluate_template``;
    the command is then split with shlex (``launch_process``)."""
    namespace = {k: v for k, v in d.items() if k.isidentifier()}
    namespace["config"] = d
    key = remote_http_launcher._evaluate_template(d["key"], namespace)
    namespace.update(key=key, status_file=status_file)
    command = remote_http_launcher._evaluate_template(d["command"], namespace)
    return key, shlex.split(command)


INTEROP = [("plain", "/buf", "lo")] + [
    (f"interface {v!r}", "/b@x/~y/a.b-c_d", v) for v in HOSTILE if v]


@pytest.mark.parametrize("bufferdir,interface", [c[1:] for c in INTEROP],
                         ids=[c[0] for c in INTEROP])
def test_launcher_renders_exactly_our_argv(bufferdir, interface):
    c = _hostile_cluster(bufferdir=bufferdir, interface=interface)
    for s in (spec("hashserver", c, subproject="s/t", stage="x.1"), spec("hashserver", c)):
        status = "/home/u/.remote-http-launcher/server/" + s.key + ".json"
        assert launcher_renders(s.to_dict(), status) == (s.key, s.argv_for(status))


@pytest.mark.parametrize("service,kw", [
    ("hashserver", {}), ("database", {"subproject": "a/b", "stage": "s"}),
    ("jobserver", {"stage": "s", "substage": "g"}), ("daskserver", {"queue": "gpu"}),
    ("pure_daskserver", {"project": None, "queue": "whole"})])
def test_launcher_accepts_every_service(service, kw):
    s = spec(service, **kw)
    conf = remote_http_launcher.Configuration.from_mapping(s.to_dict())
    assert (conf.key, conf.workdir, conf.tunnel) == (s.key, s.workdir, True)
    assert launcher_renders(s.to_dict(), "/st.json") == (s.key, s.argv_for("/st.json"))


# ---- tools.yaml itself -------------------------------------------------------------------

GOOD_BODY = {"hosted_by": "hashserver", "variables": ["cluster", "bufferdir"],
             "key": "k-{cluster}", "workdir": "{bufferdir}", "log_file": "~/{key}.log",
             "command": "x {workdir} {status_file}", "handshake": "healthcheck", "timeout": 600}

# (id, changes to GOOD_BODY, whole message)
TOOLS_YAML_ERRORS = [
    ("unknown declared variable", {"variables": ["cluster", "bufferdir", "home"]},
     "tools.yaml: t declares unknown variable(s) home"),
    ("undeclared in key", {"key": "k-{mode}"}, "tools.yaml: t.key uses undeclared variable(s) mode"),
    ("key before itself", {"key": "k-{key}"}, "tools.yaml: t.key uses undeclared variable(s) key"),
    ("status file outside the command", {"workdir": "{status_file}"},
     "tools.yaml: t.workdir uses undeclared variable(s) status_file"),
    ("unknown filter", {"command": "x {workdir|shell}"},
     "template 'x {workdir|shell}': unknown filter 'shell'; known: flatten"),
]


@pytest.mark.parametrize("changes,message", [c[1:] for c in TOOLS_YAML_ERRORS],
                         ids=[c[0] for c in TOOLS_YAML_ERRORS])
def test_tools_yaml_errors(changes, message):
    with pytest.raises(ValueError) as info:
        tooldefs._tool_def("t", {**GOOD_BODY, **changes})
    assert str(info.value) == message


def test_status_file_must_be_a_whole_word():
    tool = _record.replace(tooldefs._tool_def("t", GOOD_BODY),
                           command=template.parse("x --status-file={status_file}"))
    with pytest.raises(ValueError) as info:
        specs._rendered(tool, {"cluster": "c", "bufferdir": "/b"})
    assert str(info.value) == "t: {status_file} must be a whole argv word"


def test_shipped_tools_yaml():
    defs = tooldefs.tool_defs()
    assert sorted(defs) == sorted(SERVICES)
    assert {n: (d.hosted_by, d.timeout) for n, d in defs.items()} == {
        "hashserver": ("hashserver", 600), "database": ("database", 600),
        "jobserver": ("jobserver", 600), "daskserver": ("daskserver", 600),
        "pure_daskserver": ("daskserver", 600)}
    assert tooldefs.tool_defs() is defs


def test_tools_yaml_and_grammar_load_lazily():
    code = ("import seamless_config.plan.tooldefs as t, seamless_config.language.grammars as g;"
            "print(t.tool_defs.cache_info().currsize, g.parser.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]


# ---- the compatibility wrappers -----------------------------------------------------------

SIGNATURES = {  # 0.3.2's: every None means "the current selection"
    "configure_hashserver": "(mode: 'str', *, cluster=None, project=None, subproject=None, "
                            "stage=None, frontend_name=None)",
    "configure_database": "(mode: 'str', *, cluster=None, project=None, subproject=None, "
                          "stage=None, frontend_name=None)",
    "configure_jobserver": "(*, cluster=None, project=None, subproject=None, stage=None, "
                           "substage=None, frontend_name=None)",
    "configure_daskserver": "(*, cluster=None, project=None, subproject=None, stage=None, "
                            "substage=None, frontend_name=None)",
    "configure_pure_daskserver": "(*, cluster=None, queue: 'str | None' = None, "
                                 "frontend_name=None)",
}


def test_wrapper_signatures():
    assert {n: str(inspect.signature(getattr(tools, n))) for n in SIGNATURES} == SIGNATURES


@pytest.fixture
def selected(monkeypatch):
    """The default session knowing the test catalogue (as define_clusters
    would), with the given selections; nothing is read from files."""
    from seamless_config import select
    from seamless_config.model.types import Catalogue
    from seamless_config.session import default_session

    def install(cluster="hpc", local_cluster=None, **selections):
        default_session().defined = Catalogue(frozen_map(catalogue()), (), local_cluster)
        if cluster is not None:
            select.select_cluster(cluster)
        for name, value in selections.items():
            getattr(select, f"select_{name}")(value)
    return install


def test_wrappers_give_service_spec_dicts(selected, monkeypatch):
    from seamless_config import extern_clients

    selected(queue="gpu", node="n1", record=True)
    monkeypatch.setattr(extern_clients, "collect_remote_clients",
                        lambda cluster: {"buffer": [{"url": f"http://{cluster}"}], "database": []})
    scope = dict(cluster="hpc", project="proj", subproject="a/b", stage="s")
    assert tools.configure_hashserver("ro", **scope) == launch_dict("hashserver", mode="ro",
                                                                    **{**scope, "cluster": "hpc"})
    assert tools.configure_database("rw", **scope, frontend_name="login.hpc.example") == \
        launch_dict("database", **scope)
    assert tools.configure_jobserver(**scope, substage="g") == launch_dict(
        "jobserver", **scope, substage="g",
        file_parameters={"buffer": [{"url": "http://hpc"}], "database": [], "record": True})
    assert tools.configure_daskserver(**scope, substage="g") == launch_dict(
        "daskserver", **scope, substage="g", queue="gpu", node="n1", record=True)
    assert tools.configure_pure_daskserver() == launch_dict(
        "pure_daskserver", project=None, queue="gpu", node="n1", record=True)
    assert tools.configure_pure_daskserver(cluster="hpc", queue="whole") == launch_dict(
        "pure_daskserver", project=None, queue="whole", node="n1", record=True)


def test_wrappers_default_to_the_current_selection(selected):
    """As 0.3.2's own scripts call them: configure_hashserver(mode="ro")."""
    from seamless_config.session import default_session

    selected(project="proj", subproject="a/b")
    default_session().set_stage("s", "g")
    assert tools.configure_hashserver("ro") == launch_dict(
        "hashserver", mode="ro", project="proj", subproject="a/b", stage="s")
    assert tools.configure_daskserver() == launch_dict(
        "daskserver", project="proj", subproject="a/b", stage="s", substage="g")
    assert tools.configure_hashserver("rw", subproject="", stage="") == launch_dict(
        "hashserver", project="proj")


def test_wrappers_use_the_queue_of_the_selected_cluster_only(selected):
    selected(cluster="laptop", queue="threads", local_cluster="laptop")
    assert tools.configure_pure_daskserver(cluster="hpc")["key"] == "pure-daskserver-hpc--default"
    assert tools.configure_pure_daskserver()["key"] == "pure-daskserver-laptop--threads"
    assert "hostname" not in tools.configure_pure_daskserver(cluster="laptop")


# (id, call, whole message)
WRAPPER_ERRORS = [
    ("unknown cluster", lambda: tools.configure_hashserver(
        "rw", cluster="hcp", project="p", subproject=None, stage=None),
     "unknown cluster 'hcp'; did you mean 'hpc'? known clusters: hpc, laptop, oarc"),
    ("unknown queue", lambda: tools.configure_pure_daskserver(queue="gpus"),
     "queue 'gpus' is not defined by cluster 'hpc' (defined in <clusters>:1:1); "
     "did you mean 'gpu'? known queues: default, gpu, whole"),
    ("unknown frontend", lambda: tools.configure_hashserver(
        "rw", cluster="hpc", project="p", subproject=None, stage=None, frontend_name="x"),
     "<clusters>:1:1: no frontend of cluster 'hpc' named 'x' offers a hashserver"),
]


@pytest.mark.parametrize("call,message", [c[1:] for c in WRAPPER_ERRORS],
                         ids=[c[0] for c in WRAPPER_ERRORS])
def test_wrapper_errors(selected, call, message):
    selected()
    with pytest.raises(ConfigError) as info:
        call()
    assert str(info.value) == message


def test_unknown_cluster_is_also_a_key_error(selected):
    """0.3.2's get_cluster raised KeyError; callers catch that."""
    from seamless_config import cluster

    selected()
    with pytest.raises(KeyError):
        cluster.get_cluster("nope")
    with pytest.raises(ValueError):
        tools.configure_hashserver("rw", cluster="nope", project="p")


def test_pure_daskserver_without_a_cluster(selected):
    selected(cluster=None)
    with pytest.raises(tools.ConfigurationError) as info:
        tools.configure_pure_daskserver()
    assert str(info.value) == ("no cluster is selected (seamless_config.init() not called, "
                               "or no 'cluster' command)")


def test_the_warm_path_knows_the_storage_handshake():
    """activation reuses storage servers without building specs: its
    handshake constant must be what tools.yaml says."""
    from seamless_config.core.vocabulary import STORAGE_SERVICES
    from seamless_config.launch import activation

    assert {tooldefs.tool_defs()[s].handshake for s in STORAGE_SERVICES} == {
        activation.STORAGE_HANDSHAKE}


@pytest.mark.parametrize("text,expected", [("4GB", 4 * 10**9), ("1.5 GiB", 3 * 2**29),
                                           ("32000MB", 32 * 10**9), ("512", 512), ("2kib", 2048)])
def test_memory_bytes_reads_sizes_as_dask_does(text, expected):
    from dask.utils import parse_bytes

    from seamless_config.model.fields import memory_bytes

    assert memory_bytes(text) == expected == parse_bytes(text)

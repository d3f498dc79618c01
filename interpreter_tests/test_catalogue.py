"""The cluster catalogue loader: what loads, into which values, from which
files. Error messages are in test_catalogue_errors.py."""

from __future__ import annotations

import os
import textwrap

import pytest

from seamless_config.core import yaml_nodes as _yaml
from seamless_config.model.catalogue import parse_clusters
from seamless_config.model.catalogue_files import load_catalogue
from seamless_config.errors import ConfigError

README_CATALOGUE = """\
# ~/.seamless/clusters.yaml

mycluster:
  tunnel: true                # connect via SSH tunnel
  type: slurm                 # local | slurm | oar
  workers: 4                  # for 'spawn' / 'jobserver' mode
  frontends:
    - hostname: login.mycluster.example
      ssh_hostname: login.mycluster.example   # optional SSH override
      hashserver:
        bufferdir: /scratch/seamless/buffers
        conda: hashserver
        network_interface: 0.0.0.0
        port_start: 60100
        port_end: 60199
      database:
        database_dir: /scratch/seamless/db
        conda: seamless-database
        network_interface: 0.0.0.0
        port_start: 60200
        port_end: 60299
      daskserver:
        network_interface: 0.0.0.0
        port_start: 60300
        port_end: 60399

  default_queue: default
  queues:
    default:
      conda: seamless-dask
      walltime: "01:00:00"
      cores: 16
      memory: 32000MB
      tmpdir: /tmp
      maximum_jobs: 20
      unknown_task_duration: 1m
      target_duration: 10m
      lifetime_stagger: 4m

    highmem:
      TEMPLATE: default         # inherit all fields from 'default', then override
      cores: 4
      memory: 128000MB
"""

README_PROFILE = """\
# seamless.profile.yaml
- clusters:
    local:
      tunnel: false
      type: local
      frontends:
        - hostname: localhost
          hashserver:
            bufferdir: /data/buffers
            conda: hashserver
            network_interface: 127.0.0.1
            port_start: 55100
            port_end: 55199
          database:
            database_dir: /data/db
            conda: seamless-database
            network_interface: 127.0.0.1
            port_start: 55200
            port_end: 55299
          jobserver:
            conda: seamless-jobserver
            network_interface: 127.0.0.1
            port_start: 55300
            port_end: 55399

- cluster: local
"""


@pytest.fixture
def home(home, tmp_path, monkeypatch):
    """conftest's fake $HOME (paths display as ``~/...``), with a working
    directory that is not above it (else they would display relative)."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return home


def write(home, rel: str, text: str) -> str:
    path = home / ".seamless" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return str(path)


def lines(span_map) -> dict:
    return {name: span.line for name, span in span_map.items()}


def test_readme_catalogue_example_loads(home):
    write(home, "clusters.yaml", README_CATALOGUE)
    cat = load_catalogue()
    c = cat.clusters["mycluster"]
    assert (c.name, c.type, c.tunnel, c.workers, c.default_queue, c.source) == \
        ("mycluster", "slurm", True, 4, "default", "catalogue")
    assert str(c.span) == "~/.seamless/clusters.yaml:3:1"
    (fe,) = c.frontends
    assert (fe.hostname, fe.ssh_hostname, fe.index) == (
        "login.mycluster.example", "login.mycluster.example", 0)
    assert list(fe.services) == ["hashserver", "database", "daskserver"]
    assert dict(fe.services["hashserver"].fields) == {
        "bufferdir": "/scratch/seamless/buffers", "conda": "hashserver",
        "network_interface": "0.0.0.0", "port_start": 60100, "port_end": 60199}
    assert lines(fe.services["database"].field_spans) == {
        "database_dir": 17, "conda": 18, "network_interface": 19, "port_start": 20, "port_end": 21}
    assert c.offered_backends() == ("daskserver",)
    high = c.queues["highmem"]
    assert high.template == "default"
    assert dict(high.fields) == {
        "conda": "seamless-dask", "walltime": "01:00:00", "cores": 4, "memory": "128000MB",
        "tmpdir": "/tmp", "maximum_jobs": 20, "unknown_task_duration": "1m",
        "target_duration": "10m", "lifetime_stagger": "4m"}
    assert lines(high.origins)["cores"] == 42 and lines(high.origins)["conda"] == 30
    assert lines(c.field_spans) == {"tunnel": 4, "type": 5, "workers": 6, "default_queue": 27,
                                    "frontends": 8, "queues": 29}


def test_readme_inline_example_parses(tmp_path):
    profile = tmp_path / "seamless.profile.yaml"
    profile.write_text(README_PROFILE)
    node = _yaml.compose_file(str(profile))
    clusters_value = node.value[0].value[0][1]
    clusters, local = parse_clusters(clusters_value, str(profile), "inline")
    assert local is None
    c = clusters["local"]
    assert (c.type, c.tunnel, c.source, c.workers) == ("local", False, "inline", None)
    assert c.offered_backends() == ("jobserver",)
    fe = c.frontends[0]
    assert fe.services["database"].get("database_dir") == "/data/db"
    assert dict(fe.services["jobserver"].fields) == {
        "conda": "seamless-jobserver", "network_interface": "127.0.0.1",
        "port_start": 55300, "port_end": 55399}


def test_readme_queue_template_example(home):
    write(home, "clusters.yaml", """\
        hpc:
          type: slurm
          frontends: [{hostname: login}]
          queues:
            base:
              conda: seamless-dask
              walltime: "02:00:00"
              cores: 8
              memory: 16000MB
              maximum_jobs: 10
              tmpdir: /tmp
              unknown_task_duration: 1m
              target_duration: 10m

            gpu:
              TEMPLATE: base
              memory: 32000MB
              job_extra_directives: ["--gres=gpu:1"]
              dask_resources: {GPU: 1}
        """)
    gpu = load_catalogue().clusters["hpc"].queues["gpu"]
    assert gpu.get("memory") == "32000MB" and gpu.get("cores") == 8
    assert gpu.get("job_extra_directives") == ("--gres=gpu:1",)
    assert gpu.get("dask_resources") == {"GPU": 1}


def test_template_chain_of_three_with_null_unset(home):
    write(home, "clusters.yaml", """\
        hpc:
          type: slurm
          frontends: [{}]
          queues:
            base:
              cores: 8
              memory: 16000MB
              walltime: "02:00:00"
              tmpdir: /tmp
            mid:
              TEMPLATE: base
              memory: 32000MB
              tmpdir: null
            top:
              TEMPLATE: mid
              cores: 2
              job-extra-directives: ["--gres=gpu:1"]
        """)
    queues = load_catalogue().clusters["hpc"].queues
    top = queues["top"]
    assert (top.template, top.span.line) == ("mid", 14)
    assert dict(top.fields) == {"cores": 2, "memory": "32000MB", "walltime": "02:00:00",
                                "job_extra_directives": ("--gres=gpu:1",)}
    assert lines(top.origins) == {"cores": 16, "memory": 12, "walltime": 8,
                                  "job_extra_directives": 17}
    assert "tmpdir" not in queues["mid"].fields and queues["base"].get("tmpdir") == "/tmp"
    assert lines(queues["mid"].origins) == {"cores": 6, "memory": 12, "walltime": 8}


@pytest.mark.parametrize("fields, expected", [
    ("{cores: 0x10}", {"cores": 16}),
    ("{cores: 1_000}", {"cores": 1000}),
    ("{cores: 1, interactive: yes}", {"cores": 1, "interactive": True}),
    ("{cores: 1, interactive: 3}", {"cores": 1, "interactive": 3}),
    ("{cores: 1, exclusive: off}", {"cores": 1, "exclusive": False}),
    ("{exclusive: true}", {"exclusive": True}),
    ("{cores: 1, walltime: '30:00'}", {"cores": 1, "walltime": "30:00"}),
    ("{cores: 1, walltime: 2-12:00:00}", {"cores": 1, "walltime": "2-12:00:00"}),
    ("{cores: 1, memory: 1.5 GiB}", {"cores": 1, "memory": "1.5 GiB"}),
    ("{cores: 1, memory: 4gb, lifetime: '01:30:00'}",
     {"cores": 1, "memory": "4gb", "lifetime": "01:30:00"}),
    ("{cores: 1, dask_resources: {GPU: 0.5, MEM: 2}}",
     {"cores": 1, "dask_resources": {"GPU": 0.5, "MEM": 2}}),
    ("{cores: 1, extra_dask_config: {distributed: {worker: {x: [1, two]}}}}",
     {"cores": 1, "extra_dask_config": {"distributed": {"worker": {"x": [1, "two"]}}}}),
    ("{cores: 1, memory-per-core-property-name: mem_per_cpu, project: '2024'}",
     {"cores": 1, "memory_per_core_property_name": "mem_per_cpu", "project": "2024"}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_queue_field_values(home, fields, expected):
    write(home, "clusters.yaml", f"hpc:\n  type: slurm\n  frontends: [{{}}]\n"
                                 f"  queues:\n    q: {fields}\n")
    assert dict(load_catalogue().clusters["hpc"].queues["q"].fields) == expected


def test_local_cluster_queues_need_no_cores(home):
    write(home, "clusters.yaml", """\
        lc:
          type: local
          workers: 2
          frontends: [{}]
          queues:
            plain: {}
            bare:
            whole: {exclusive: true, cores: 2}
        """)
    queues = load_catalogue().clusters["lc"].queues
    assert list(queues) == ["plain", "bare", "whole"] and dict(queues["bare"].fields) == {}


def test_defaults_and_nulls(home):
    write(home, "clusters.yaml", """\
        hpc:
          type:
          workers: null
          frontends:
            - hostname:
              jobserver:
        """)
    c = load_catalogue().clusters["hpc"]
    assert (c.type, c.tunnel, c.workers, c.default_queue, dict(c.queues)) == \
        (None, False, None, None, {})
    fe = c.frontends[0]
    assert (fe.hostname, fe.name, dict(fe.services["jobserver"].fields)) == (None, "localhost", {})


def test_directories_are_made_absolute_but_keep_their_tilde(home, tmp_path):
    """``~`` means the home of the host running the service: it is kept
    here and expanded only for a service on this machine."""
    write(home, "clusters.yaml", """\
        hpc:
          frontends:
            - hashserver: {bufferdir: buffers}
              database: {database_dir: ~/db/./x}
        """)
    services = load_catalogue().clusters["hpc"].frontends[0].services
    assert services["hashserver"].get("bufferdir") == str(home / ".seamless" / "buffers")
    assert services["database"].get("database_dir") == "~/db/x"
    profile = tmp_path / "project" / "seamless.profile.yaml"
    profile.parent.mkdir()
    profile.write_text("lc:\n  frontends: [{hashserver: {bufferdir: ../store/b}}]\n")
    clusters, _ = parse_clusters(_yaml.compose_file(str(profile)), str(profile), "inline")
    assert clusters["lc"].frontends[0].services["hashserver"].get("bufferdir") == \
        str(tmp_path / "store" / "b")


def test_files_are_read_in_sorted_order(home):
    for name in ("c.yaml", "a.yaml", "b.yaml"):
        write(home, f"clusters/{name}", f"from-{name[0]}:\n  frontends: [{{}}]\n")
    write(home, "clusters/.a.yaml", "this is: [not read\n")
    write(home, "clusters/notes.txt", "neither: [is this\n")
    (home / ".seamless" / "clusters" / "dir.yaml").mkdir()
    cat = load_catalogue()
    base = str(home / ".seamless")
    assert cat.files == ((base + "/clusters.yaml", False), (base + "/clusters/a.yaml", True),
                         (base + "/clusters/b.yaml", True), (base + "/clusters/c.yaml", True))
    assert list(cat.clusters) == ["from-a", "from-b", "from-c"]


def test_missing_and_empty_files(home):
    assert load_catalogue().files == ((str(home / ".seamless" / "clusters.yaml"), False),)
    assert dict(load_catalogue().clusters) == {}
    write(home, "clusters.yaml", "# nothing yet\n")
    cat = load_catalogue(str(home))
    assert (dict(cat.clusters), cat.files[0][1], cat.local_cluster) == ({}, True, None)


def test_local_cluster_may_name_a_cluster_of_another_file(home):
    write(home, "clusters.yaml", "hpc:\n  frontends: [{}]\n")
    write(home, "clusters/mine.yaml", "# my machine\nlocal_cluster: hpc\n")
    cat = load_catalogue()
    assert cat.local_cluster == "hpc"
    assert str(cat.local_cluster_span) == "~/.seamless/clusters/mine.yaml:2:16"


def test_parse_clusters_returns_local_cluster_unchecked(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("local_cluster: elsewhere\n")
    clusters, (name, span) = parse_clusters(_yaml.compose_file(str(path)), str(path), "inline")
    assert (clusters, name, span.line, span.column) == ({}, "elsewhere", 1, 16)


def test_errors_of_every_file_come_together(home):
    write(home, "clusters.yaml", "hpc: [unclosed\n")
    write(home, "clusters/b.yaml", "b:\n  frontends: [{}]\n  workers: 0\n")
    with pytest.raises(ConfigError) as info:
        load_catalogue()
    assert info.value.render(with_source=False) == (
        "~/.seamless/clusters.yaml:2:1: invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence at line 1, column 6); check indentation, quoting and the ':' after each key\n"
        "~/.seamless/clusters/b.yaml:3:12: workers of cluster 'b' must be at least 1, not 0")


def test_error_renders_with_source_line(home):
    write(home, "clusters.yaml", "hpc:\n  frontends:\n    - hashservr: {}\n")
    with pytest.raises(ConfigError) as info:
        load_catalogue()
    assert info.value.render().splitlines()[1:] == [
        "    3 |     - hashservr: {}",
        "      |       ^~~~~~~~~"]


def test_catalogue_values_are_read_only(home):
    write(home, "clusters.yaml", "hpc:\n  frontends: [{}]\n  queues: {q: {cores: 1}}\n")
    cat = load_catalogue()
    with pytest.raises(TypeError):
        cat.clusters["other"] = None
    with pytest.raises(TypeError):
        cat.clusters["hpc"].queues["q"].fields["cores"] = 2
    assert os.path.isabs(cat.clusters["hpc"].span.path)

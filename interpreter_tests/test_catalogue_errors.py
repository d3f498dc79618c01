"""Every mistake the catalogue loader reports, word for word: one row per
(id, ~/.seamless/clusters.yaml text, whole rendered error)."""

from __future__ import annotations

import pytest

from interpreter_tests.test_catalogue import home, write  # noqa: F401 (fixture)
from seamless_config.model.catalogue_files import load_catalogue
from seamless_config.errors import ConfigError

F = "~/.seamless/clusters.yaml"
SLURM = "hpc:\n  type: slurm\n  frontends:\n    - hostname: login\n"  # 4 lines
QUEUE_FIELDS = ("TEMPLATE, conda, cores, dask_resources, disk, exclusive, extra_dask_config, "
                "interactive, job_cores, job_extra_directives, job_script_prologue, lifetime, "
                "lifetime_stagger, maximum_jobs, memory, memory_per_core_property_name, "
                "partition, processes, project, target_duration, tmpdir, unknown_task_duration, "
                "walltime, worker_threads")
CLUSTER_KEYS = ("default_queue, frontends, memory_per_core_property_name, queues, tunnel, type, "
                "workers")
FRONTEND_KEYS = "daskserver, database, hashserver, hostname, jobserver, ssh_hostname"
TOKEN = "may only contain letters, digits and '@%+=:,._/~-' (it is passed to a command line)"
NEEDS_CORES = "only exclusive queues and queues of local clusters may leave it out"
EXAMPLE = "for example 'hpc: {type: slurm, frontends: [{hostname: login.example.org}]}'"
QUOTE = "write \"{0}\" in quotes if you meant the text"
DURATION = 'a duration such as "30s", "10m", "2h" or "01:00:00"'


def queue(fields: str) -> str:
    """SLURM plus one queue 'b' on line 6."""
    return SLURM + f"  queues:\n    b: {fields}\n"


CASES = [
    # -- the file and cluster names
    ("top level is a list", "- hpc: {}\n",
     f"{F}:1:1: cluster definitions must be a mapping of cluster names to definitions, "
     f"not a list; {EXAMPLE}"),
    ("cluster is a scalar", "hpc: 3\n",
     f"{F}:1:6: cluster 'hpc' must be a mapping, not an integer; {EXAMPLE}"),
    ("cluster name with --", "a--b:\n  frontends: [{}]\n",
     f"{F}:1:1: cluster name 'a--b' must not contain '--' (it separates key parts)"),
    ("cluster name with STAGE-", "xSTAGE-y:\n  frontends: [{}]\n",
     f"{F}:1:1: cluster name 'xSTAGE-y' must not contain 'STAGE-' (it marks stage directories)"),
    ("same cluster twice in one file", "hpc:\n  frontends: [{}]\nhpc:\n  frontends: [{}]\n",
     f"{F}:3:1: duplicate key 'hpc' in one mapping of clusters (first at line 1); "
     "YAML would silently keep only the last one; remove one"),
    ("non-string key", "1: {}\n",
     f"{F}:1:1: mapping of clusters keys must be plain strings, not an integer; quote the key"),
    # -- cluster keys
    ("four errors in one cluster",
     "hpc:\n  type: slrum\n  tunel: yes\n  workers: 0\n  frontends: []\n",
     f"{F}:2:9: type of cluster 'hpc' must be one of local, slurm, oar, sge, pbs, lsf, htcondor, not 'slrum'; "
     "did you mean 'slurm'? (expected one of: htcondor, local, lsf, oar, pbs, sge, slurm)\n"
     f"{F}:3:3: unknown key 'tunel' in cluster 'hpc'; did you mean 'tunnel'? "
     f"(expected one of: {CLUSTER_KEYS})\n"
     f"{F}:4:12: workers of cluster 'hpc' must be at least 1, not 0\n"
     f"{F}:5:14: frontends of cluster 'hpc' must list at least one frontend; "
     "start each frontend with '- '"),
    ("type is a number", "hpc:\n  type: 3\n  frontends: [{}]\n",
     f"{F}:2:9: type of cluster 'hpc' must be a string, but YAML reads 3 as an integer; "
     + QUOTE.format(3)),
    ("tunnel is not a boolean", "hpc:\n  tunnel: maybe\n  frontends: [{}]\n",
     f"{F}:2:11: tunnel of cluster 'hpc' must be true or false, not a string; "
     "write true or false"),
    ("workers is a float", "hpc:\n  workers: 2.5\n  frontends: [{}]\n",
     f"{F}:2:12: workers of cluster 'hpc' must be an integer, not a number"),
    ("memory_per_core_property_name is a bool",
     "hpc:\n  memory_per_core_property_name: yes\n  frontends: [{}]\n",
     f"{F}:2:34: memory_per_core_property_name of cluster 'hpc' must be a string, but YAML "
     "reads yes as a boolean; " + QUOTE.format("yes")),
    ("unknown key without a near miss", "hpc:\n  colour: blue\n  frontends: [{}]\n",
     f"{F}:2:3: unknown key 'colour' in cluster 'hpc'; expected one of: {CLUSTER_KEYS}"),
    ("key written with a dash", "hpc:\n  default-queue: q\n  frontends: [{}]\n",
     f"{F}:2:3: unknown key 'default-queue' in cluster 'hpc'; did you mean 'default_queue'? "
     f"(expected one of: {CLUSTER_KEYS})"),
    ("duplicate key in a cluster is reported, the rest still read",
     "hpc:\n  frontends: [{}]\n  frontends: [{}]\n  typo: 1\n",
     f"{F}:3:3: duplicate key 'frontends' in one cluster 'hpc' (first at line 2); "
     "YAML would silently keep only the last one; remove one\n"
     f"{F}:4:3: unknown key 'typo' in cluster 'hpc'; did you mean 'type'? "
     f"(expected one of: {CLUSTER_KEYS})"),
    # -- frontends
    ("frontends missing", "hpc:\n  type: local\n",
     f"{F}:1:1: cluster 'hpc' needs frontends; add 'frontends: [{{hostname: "
     "login.example.org}]'; a local cluster can use 'frontends: [{}]'"),
    ("frontends null", "hpc:\n  frontends:\n",
     f"{F}:2:13: frontends of cluster 'hpc' must list at least one frontend; "
     "start each frontend with '- '"),
    ("frontends is a string", "hpc:\n  frontends: login\n",
     f"{F}:2:14: frontends of cluster 'hpc' must be a list, not a string; "
     "start each frontend with '- '"),
    ("frontend is a bare hostname", "hpc:\n  frontends:\n    - login.example\n",
     f"{F}:3:7: frontend 1 of cluster 'hpc' must be a mapping, not a string; "
     "write '- hostname: login.example'"),
    ("misspelt service", SLURM + "      hashservr: {bufferdir: /x}\n",
     f"{F}:5:7: unknown key 'hashservr' in frontend 1 of cluster 'hpc'; did you mean "
     f"'hashserver'? (expected one of: {FRONTEND_KEYS})"),
    ("hostname with a space", "hpc:\n  frontends:\n    - hostname: a b\n",
     f"{F}:3:17: hostname 'a b' {TOKEN}"),
    ("ssh_hostname with a semicolon", SLURM + "      ssh_hostname: 'x;y'\n",
     f"{F}:5:21: ssh_hostname 'x;y' {TOKEN}"),
    ("hostname is a number", "hpc:\n  frontends:\n    - hostname: 2024\n",
     f"{F}:3:17: hostname of frontend 1 of cluster 'hpc' must be a string, but YAML reads "
     "2024 as an integer; " + QUOTE.format(2024)),
    # -- services
    ("service is a list", SLURM + "      jobserver: [a]\n",
     f"{F}:5:18: jobserver of cluster 'hpc' must be a mapping of its settings, not a list"),
    ("hashserver without bufferdir", SLURM + "      hashserver: {conda: env}\n",
     f"{F}:5:7: hashserver of cluster 'hpc' needs bufferdir; "
     "add 'bufferdir: /some/directory'"),
    ("database without database_dir", SLURM + "      database:\n",
     f"{F}:5:7: database of cluster 'hpc' needs database_dir; "
     "add 'database_dir: /some/directory'"),
    ("unknown service field", SLURM + "      jobserver: {port_begin: 1}\n",
     f"{F}:5:19: unknown key 'port_begin' in jobserver of cluster 'hpc'; did you mean "
     "'port_end'? (expected one of: conda, network_interface, port_end, port_start)"),
    ("ports out of range",
     SLURM + "      hashserver: {bufferdir: /x, port_start: 0, port_end: 70000}\n",
     f"{F}:5:47: port_start of hashserver of cluster 'hpc' must be at least 1, not 0\n"
     f"{F}:5:60: port_end of hashserver of cluster 'hpc' must be at most 65535, not 70000"),
    ("port_start without port_end", SLURM + "      daskserver: {port_start: 10}\n",
     f"{F}:5:32: daskserver of cluster 'hpc' sets port_start but not port_end; "
     "give both ends of the port range, or neither"),
    ("port_end without port_start", SLURM + "      daskserver: {port_end: 10}\n",
     f"{F}:5:30: daskserver of cluster 'hpc' sets port_end but not port_start; "
     "give both ends of the port range, or neither"),
    ("ports reversed", SLURM + "      jobserver: {port_start: 10, port_end: 5}\n",
     f"{F}:5:31: port_start 10 of jobserver of cluster 'hpc' is greater than port_end 5"),
    ("port is a string", SLURM + "      jobserver: {port_start: '10', port_end: 20}\n",
     f"{F}:5:31: port_start of jobserver of cluster 'hpc' must be an integer, not a string"),
    ("bufferdir with a space", SLURM + "      hashserver: {bufferdir: '/x y'}\n",
     f"{F}:5:31: bufferdir '/x y' may only contain letters, digits and '@_./~-'"),
    ("empty database_dir", SLURM + "      database: {database_dir: ''}\n",
     f"{F}:5:32: database_dir of database of cluster 'hpc' must not be empty"),
    ("interface with a space and conda read as a boolean",
     SLURM + "      jobserver: {network_interface: 'a b', conda: no}\n",
     f"{F}:5:38: network_interface 'a b' {TOKEN}\n"
     f"{F}:5:52: conda of jobserver of cluster 'hpc' must be a string, but YAML reads no as "
     "a boolean; " + QUOTE.format("no")),
    # -- queues mapping and default_queue
    ("queues is a list", SLURM + "  queues: [a]\n",
     f"{F}:5:11: queues of cluster 'hpc' must be a mapping of queue names to settings, "
     "not a list"),
    ("queue is a list", queue("[1]"),
     f"{F}:6:8: queue 'b' of cluster 'hpc' must be a mapping of queue fields, not a list"),
    ("queue name with /", SLURM + "  queues:\n    a/b: {cores: 1}\n",
     f"{F}:6:5: queue name 'a/b' must not contain '/'"),
    ("default_queue unknown",
     SLURM + "  default_queue: dflt\n  queues:\n    default: {cores: 2}\n",
     f"{F}:5:18: default_queue 'dflt' is not a queue of cluster 'hpc'; did you mean "
     "'default'? (expected one of: default)"),
    ("default_queue without queues", SLURM + "  default_queue: dflt\n",
     f"{F}:5:18: default_queue 'dflt' is not a queue of cluster 'hpc'; none are defined"),
    # -- TEMPLATE
    ("TEMPLATE names a later queue", SLURM + "  queues:\n    a: {cores: 1}\n"
     "    b: {TEMPLATE: c}\n    c: {cores: 2}\n",
     f"{F}:7:19: TEMPLATE 'c' of queue 'b' is defined later (line 8); a template must come "
     "before the queues using it; queues defined before 'b': a"),
    ("TEMPLATE misspelt", SLURM + "  queues:\n    base: {cores: 1}\n    b: {TEMPLATE: bse}\n",
     f"{F}:7:19: TEMPLATE 'bse' of queue 'b' is not a queue of cluster 'hpc'; did you mean "
     "'base'? queues defined before 'b': base"),
    ("TEMPLATE names itself", queue("{TEMPLATE: b}"),
     f"{F}:6:19: queue 'b' cannot be its own TEMPLATE; no queue is defined before 'b'"),
    ("TEMPLATE is a list", queue("{TEMPLATE: [a], cores: 1}"),
     f"{F}:6:19: TEMPLATE of queue 'b' must be a string, not a list"),
    ("template in lower case", queue("{template: a}"),
     f"{F}:6:9: unknown field 'template' in queue 'b' of cluster 'hpc'; did you mean "
     f"'TEMPLATE'? (expected one of: {QUEUE_FIELDS})"),
    ("heir of a broken queue gets no rule errors",
     SLURM + "  queues:\n    a: {cores: 0}\n    b: {TEMPLATE: a}\n",
     f"{F}:6:16: cores of queue 'a' of cluster 'hpc' must be at least 1, not 0"),
    # -- queue fields
    ("unknown queue field", queue("{cores: 1, walltme: '1:00'}"),
     f"{F}:6:19: unknown field 'walltme' in queue 'b' of cluster 'hpc'; did you mean "
     f"'walltime'? (expected one of: {QUEUE_FIELDS})"),
    ("field given with - and _", queue("{cores: 1, job-cores: 1, job_cores: 2}"),
     f"{F}:6:33: field 'job_cores' is given twice in queue 'b' of cluster 'hpc' (first as "
     "'job-cores' at line 6); remove one"),
    ("walltime read as sexagesimal", queue("{walltime: 1:00:00, cores: 1}"),
     f"{F}:6:19: walltime of queue 'b' of cluster 'hpc' must be a string, but YAML reads "
     "1:00:00 as an integer; " + QUOTE.format("1:00:00")),
    ("walltime shape", queue("{walltime: '25:61', cores: 1}"),
     f"{F}:6:19: walltime of queue 'b' of cluster 'hpc' must look like \"HH:MM:SS\", "
     "\"MM:SS\" or \"D-HH:MM:SS\", not '25:61'"),
    ("memory without a unit", queue("{memory: 32000, cores: 1}"),
     f"{F}:6:17: memory of queue 'b' of cluster 'hpc' must look like a size with a unit such "
     "as \"32000MB\", \"4GB\" or \"1.5 GiB\", not '32000'"),
    ("memory with a bad unit", queue("{memory: '32 XB', cores: 1}"),
     f"{F}:6:17: memory of queue 'b' of cluster 'hpc' must look like a size with a unit such "
     "as \"32000MB\", \"4GB\" or \"1.5 GiB\", not '32 XB'"),
    ("durations", queue("{lifetime: 30, cores: 1, target_duration: 10 minutes}"),
     f"{F}:6:19: lifetime of queue 'b' of cluster 'hpc' must look like {DURATION}, not '30'\n"
     f"{F}:6:50: target_duration of queue 'b' of cluster 'hpc' must look like {DURATION}, "
     "not '10 minutes'"),
    ("YAML 1.1 surprises in string fields",
     queue("{cores: 1, project: no, partition: 2024, conda: 1.0}"),
     f"{F}:6:28: project of queue 'b' of cluster 'hpc' must be a string, but YAML reads no "
     "as a boolean; " + QUOTE.format("no") + "\n"
     f"{F}:6:43: partition of queue 'b' of cluster 'hpc' must be a string, but YAML reads "
     "2024 as an integer; " + QUOTE.format(2024) + "\n"
     f"{F}:6:56: conda of queue 'b' of cluster 'hpc' must be a string, but YAML reads 1.0 as "
     "a number; " + QUOTE.format("1.0")),
    ("counts", queue("{cores: 0, job_cores: -1, maximum_jobs: x, processes: 1.5}"),
     f"{F}:6:16: cores of queue 'b' of cluster 'hpc' must be at least 1, not 0\n"
     f"{F}:6:30: job_cores of queue 'b' of cluster 'hpc' must be at least 1, not -1\n"
     f"{F}:6:48: maximum_jobs of queue 'b' of cluster 'hpc' must be an integer, not a string\n"
     f"{F}:6:62: processes of queue 'b' of cluster 'hpc' must be an integer, not a number"),
    ("interactive and exclusive", queue("{cores: 1, interactive: -1, exclusive: 3}"),
     f"{F}:6:32: interactive of queue 'b' of cluster 'hpc' must be at least 0, not -1\n"
     f"{F}:6:47: exclusive of queue 'b' of cluster 'hpc' must be true or false, not an "
     "integer; write true or false"),
    ("interactive is text", queue("{cores: 1, interactive: sometimes}"),
     f"{F}:6:32: interactive of queue 'b' of cluster 'hpc' must be true, false or a number of "
     "jobs, not a string"),
    ("string lists", queue("{cores: 1, job_extra_directives: '--x', job_script_prologue: [1]}"),
     f"{F}:6:41: job_extra_directives of queue 'b' of cluster 'hpc' must be a list of strings, "
     "not a string; write it as [\"...\", \"...\"]\n"
     f"{F}:6:70: each entry of job_script_prologue of queue 'b' of cluster 'hpc' must be a "
     "string, but YAML reads 1 as an integer; " + QUOTE.format(1)),
    ("resources and dask config",
     queue("{cores: 1, dask_resources: {GPU: yes}, extra_dask_config: [1]}"),
     f"{F}:6:41: resource 'GPU' in dask_resources of queue 'b' of cluster 'hpc' must be a "
     "number, not a boolean\n"
     f"{F}:6:66: extra_dask_config of queue 'b' of cluster 'hpc' must be a mapping, not a list"),
    ("resources not a mapping", queue("{cores: 1, dask_resources: 1}"),
     f"{F}:6:35: dask_resources of queue 'b' of cluster 'hpc' must be a mapping of resource "
     "names to numbers, not an integer; for example {GPU: 1}"),
    ("conda with a space", queue("{cores: 1, conda: 'my env'}"),
     f"{F}:6:26: conda 'my env' {TOKEN}"),
    ("explicit tag on a bad value", queue("{cores: !!int abc}"),
     f"{F}:6:16: cores of queue 'b' of cluster 'hpc' cannot be read (invalid literal for int() "
     "with base 10: 'abc')"),
    # -- rules after expansion
    ("non-exclusive queue without cores", queue("{walltime: '01:00:00'}"),
     f"{F}:6:5: queue 'b' of cluster 'hpc' needs cores; {NEEDS_CORES}"),
    ("bare queue name on a slurm cluster", SLURM + "  queues:\n    b:\n",
     f"{F}:6:5: queue 'b' of cluster 'hpc' needs cores; {NEEDS_CORES}"),
    ("cores unset through TEMPLATE",
     SLURM + "  queues:\n    a: {cores: 1}\n    b: {TEMPLATE: a, cores: null}\n",
     f"{F}:7:5: queue 'b' of cluster 'hpc' needs cores; {NEEDS_CORES}"),
    ("exclusive with job_cores, own and inherited",
     SLURM + "  queues:\n    a: {exclusive: true, job_cores: 2}\n    b: {TEMPLATE: a}\n",
     f"{F}:6:37: exclusive queue 'a' of cluster 'hpc' must not set job_cores; an exclusive "
     "job takes whole nodes; remove job_cores\n"
     f"{F}:7:5: exclusive queue 'b' of cluster 'hpc' must not set job_cores (inherited from "
     f"{F}:6:37); an exclusive job takes whole nodes; remove job_cores"),
    ("made exclusive over an inherited job_cores",
     SLURM + "  queues:\n    a: {cores: 2, job_cores: 2}\n    b: {TEMPLATE: a, exclusive: true}\n",
     f"{F}:7:5: exclusive queue 'b' of cluster 'hpc' must not set job_cores (inherited from "
     f"{F}:6:30); an exclusive job takes whole nodes; remove job_cores"),
    ("exclusive queue on a local cluster needs cores",
     "hpc:\n  type: local\n  frontends: [{}]\n  queues:\n    b: {exclusive: true}\n",
     f"{F}:5:5: exclusive queue 'b' of cluster 'hpc' needs cores; a local cluster has no node "
     "size to take it from"),
    ("no rule errors when the type is wrong",
     "hpc:\n  type: locl\n  frontends: [{}]\n  queues:\n    b: {}\n",
     f"{F}:2:9: type of cluster 'hpc' must be one of local, slurm, oar, sge, pbs, lsf, htcondor, not 'locl'; "
     "did you mean 'local'? (expected one of: htcondor, local, lsf, oar, pbs, sge, slurm)"),
    # -- local_cluster
    ("local_cluster unknown", "local_cluster: hcp\nhpc:\n  frontends: [{}]\n",
     f"{F}:1:16: local_cluster 'hcp' is not a defined cluster; did you mean 'hpc'? "
     "(expected one of: hpc)"),
    ("local_cluster is a number", "local_cluster: 3\n",
     f"{F}:1:16: local_cluster must be a string, but YAML reads 3 as an integer; "
     + QUOTE.format(3)),
    ("local_cluster is not a name", "local_cluster: a/b\n",
     f"{F}:1:16: local_cluster: cluster name 'a/b' must not contain '/'"),
    ("errors of two clusters together",
     "a:\n  frontends: [{}]\n  workers: -1\nb:\n  frontends: [{}]\n  tunnel: 1\n",
     f"{F}:3:12: workers of cluster 'a' must be at least 1, not -1\n"
     f"{F}:6:11: tunnel of cluster 'b' must be true or false, not an integer; "
     "write true or false"),
    # -- values that are written into the batch script: closed shapes
    ("partition with a newline", queue('{cores: 1, partition: "a\\nrm -rf ~"}'),
     f"{F}:6:30: partition 'a\\nrm -rf ~' may only contain letters, digits and "
     "'@%+=:,._/~-' (it is written into the job script), not starting with '-'; "
     "for example batch"),
    ("tmpdir with command substitution", queue('{cores: 1, tmpdir: "/x$(id)"}'),
     f"{F}:6:27: tmpdir '/x$(id)' must be a directory path: letters, digits, '@%+=:,._/~-' "
     "and $VAR (it is written into the job script's worker command); "
     "for example /scratch/$USER"),
    ("directive with a newline", queue('{cores: 1, job_extra_directives: ["--a", "x\\ny"]}'),
     f"{F}:6:49: each entry of job_extra_directives must be one line without control "
     "characters, not 'x\\ny'; write one directive per entry"),
    ("resource name with a blank", queue('{cores: 1, dask_resources: {"G P": 1}}'),
     f"{F}:6:36: resource name 'G P' in dask_resources must be letters, digits, '_', '.' "
     "or '-', starting with a letter; for example GPU"),
    ("memory property not a column", SLURM + "  memory_per_core_property_name: mem-core\n",
     f"{F}:5:34: memory_per_core_property_name 'mem-core' must be an OAR property name "
     "(letters, digits, '_'; it becomes part of the job's SQL condition); "
     "for example memcore"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error(home, text, expected):
    write(home, "clusters.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_catalogue()
    assert info.value.render(with_source=False) == expected


def test_cluster_defined_in_two_files(home):
    write(home, "clusters.yaml", "# clusters\n\nhpc:\n  frontends: [{}]\nlocal_cluster: hpc\n")
    write(home, "clusters/b.yaml", "hpc:\n  frontends: [{}]\nlocal_cluster: hpc\n")
    with pytest.raises(ConfigError) as info:
        load_catalogue()
    assert info.value.render(with_source=False) == (
        "~/.seamless/clusters/b.yaml:1:1: cluster 'hpc' is defined twice "
        "(first at ~/.seamless/clusters.yaml:3:1)\n"
        "~/.seamless/clusters/b.yaml:3:16: local_cluster is given twice "
        "(first at ~/.seamless/clusters.yaml:5:16)")

"""The injection matrix (issue 13, item 6): every name and value field of a
configuration × hostile payloads (shell metacharacters, template braces,
'..', a leading dash, a trailing newline, NUL, 5,000 characters), through
the commands that read a configuration: check, explain, plan, jobscript.

Counted: internal errors (exit 70, or any exception other than the CLI's
own exit) and side effects (a marker file that a shell would create). Both
must count zero; a refused value must be a ConfigError (exit 1 from check,
3 from the others) or a usage error (exit 2), never a traceback.

The batch scripts that jobscript prints are also run, by bash, in an empty
directory: a payload accepted into a #SBATCH/#OAR line or the worker
command must not become a command of its own (job_script_prologue is shell
by design and is left out)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from click.testing import CliRunner

from seamless_config.cli.main import cli

COMMANDS = ("check", "explain", "plan", "jobscript")

# Every field holds a valid value; one at a time is replaced by a payload.
VALID = {
    "project": "p", "subproject": "sub/deep", "cluster": "hpc", "queue": "q", "stage": "prod",
    "substage": "gpu", "node": "n042", "hostname": "login.example",
    "ssh_hostname": "login-ssh", "conda": "env", "queue_conda": "qenv",
    "network_interface": "127.0.0.1", "bufferdir": "/scratch/buffers",
    "database_dir": "/scratch/db", "partition": "main", "queue_project": "acct",
    "tmpdir": "/tmp", "memory_per_core_property_name": "memcore",
    "job_extra_directive": "--qos=normal", "job_script_prologue": "module load x",
    "dask_config_key": "distributed.worker.x", "dask_config_value": "v",
    "dask_resource": "GPU",
}
TEMPLATE = """\
- project: {project}
- subproject: {subproject}
- clusters:
    {cluster}:
      type: slurm
      frontends:
        - hostname: {hostname}
          ssh_hostname: {ssh_hostname}
          hashserver: {{bufferdir: {bufferdir}, conda: {conda}, network_interface: {network_interface}}}
          database: {{database_dir: {database_dir}, network_interface: {network_interface}}}
          daskserver: {{conda: {conda}, network_interface: {network_interface}}}
      default_queue: {queue}
      memory_per_core_property_name: {memory_per_core_property_name}
      queues:
        {queue}:
          walltime: "01:00:00"
          cores: 2
          memory: 2GB
          conda: {queue_conda}
          partition: {partition}
          project: {queue_project}
          tmpdir: {tmpdir}
          job_extra_directives: [{job_extra_directive}]
          job_script_prologue: [{job_script_prologue}]
          extra_dask_config: {{{dask_config_key}: {dask_config_value}}}
          dask_resources: {{{dask_resource}: 1}}
- cluster: {cluster}
- queue: {queue}
- remote: daskserver
- node: {node}
- {stage_key}:
    - subproject: {subproject}
"""  # noqa: E501


def payloads(marker: str) -> list[str]:
    return [
        f"x;touch {marker}", f"$(touch {marker})", f"`touch {marker}`", f"x|touch {marker}",
        f"x && touch {marker}", "it's \"quoted\"", "{status_file}", "{key}", "{{x}}",
        "{0.__class__}", "..", "../../etc", f"-oProxyCommand=touch {marker}", "--help",
        "x\n", f"x\ntouch {marker}", "x\r\ny", "x\0y", "a" * 5000, "", " x", "é", "x--y", "STAGE-x", "a-rw",
    ]


def config(field: str, payload: str) -> tuple[str, list[str]]:
    """(seamless.yaml text, extra CLI arguments) with ``payload`` in ``field``."""
    values = dict(VALID, **{field: payload})
    quoted = {k: json.dumps(v) for k, v in values.items()}  # a valid YAML double-quoted scalar
    stage_key = f"stage {values['stage']}:{values['substage']}"
    quoted["stage_key"] = json.dumps(stage_key)
    args = ["--stage", f"{values['stage']}:{values['substage']}"] \
        if field in ("stage", "substage") else []
    return TEMPLATE.format(**quoted), args


def run(workdir: str, command: str, args: list[str]) -> tuple[int, str, str | None]:
    result = CliRunner().invoke(cli, [command, "--workdir", workdir, *args])
    exc = result.exception
    unexpected = None if exc is None or isinstance(exc, SystemExit) else type(exc).__name__
    return result.exit_code, result.output, unexpected


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".seamless").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(home / ".rhl"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SEAMLESS_CACHE", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_the_valid_configuration_works(sandbox):
    text, args = config("project", "p")
    (sandbox / "seamless.yaml").write_text(text)
    for command in COMMANDS:
        code, output, unexpected = run(str(sandbox), command, args)
        assert (code, unexpected) == (0, None), (command, output)


@pytest.mark.parametrize("field", sorted(VALID))
def test_injection_matrix(sandbox, tmp_path, field):
    marker = str(tmp_path / "injected")
    internal, refused, accepted = [], 0, 0
    for payload in payloads(marker):
        text, args = config(field, payload)
        (sandbox / "seamless.yaml").write_text(text)
        for command in COMMANDS:
            code, output, unexpected = run(str(sandbox), command, args)
            if code == 70 or unexpected or "Traceback" in output:
                internal.append((payload[:40], command, code, unexpected, output[-300:]))
            elif code == 0:
                accepted += 1
            else:
                assert code in (1, 2, 3), (payload[:40], command, code, output[-300:])
                refused += 1
    assert not _injected(marker), "a payload ran as a shell command"
    assert internal == [], f"{len(internal)} internal errors in field {field}"
    assert refused + accepted == len(payloads(marker)) * len(COMMANDS)


def _injected(marker: str) -> list[str]:
    folder, name = os.path.split(marker)
    return [n for n in os.listdir(folder) if n.startswith(name)]


# Fields whose accepted values still reach the batch script unchecked, with
# the file that must check them (not helper H3's): see the report. Strict,
# so a fixed field fails here until it is removed.
SCRIPT_BLOCKED: dict[str, str] = {}


@pytest.mark.parametrize("cluster_type", ["slurm", "oar"])
@pytest.mark.parametrize("field", [
    pytest.param(f, marks=[pytest.mark.xfail(strict=True, reason=SCRIPT_BLOCKED[f])]
                 if f in SCRIPT_BLOCKED else []) for f in sorted(VALID)
    if f != "job_script_prologue"])
def test_job_scripts_run_no_payload(sandbox, tmp_path, field, cluster_type):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    marker = str(tmp_path / "injected")
    ran = []
    for payload in payloads(marker):
        text, args = config(field, payload)
        (sandbox / "seamless.yaml").write_text(text.replace("type: slurm", f"type: {cluster_type}"))
        code, output, _ = run(str(sandbox), "jobscript", args)
        if code != 0:
            continue
        script = output.split("\nnote:")[0]
        subprocess.run(["bash"], input=script.encode("utf-8", "surrogateescape"),
                       cwd=str(run_dir), env={"PATH": "/usr/bin:/bin"},
                       capture_output=True, timeout=30)
        if _injected(marker):
            ran.append(payload)
            for name in _injected(marker):
                os.unlink(os.path.join(str(tmp_path), name))
    assert ran == [], f"payloads of {field} ran in the {cluster_type} batch script"

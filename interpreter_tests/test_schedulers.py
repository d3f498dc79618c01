"""The queue field x cluster type table (model/schedulers.py) is what the
code does: COMMAND_LANGUAGE.md prints it, the loader refuses what it says
does not apply, the JSON schemas' per-type rules say the same, and each
applicable field reaches dask-jobqueue under the parameter it names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from seamless_config.errors import ConfigError
from seamless_config.model import queues, schedulers
from seamless_config.model.catalogue_files import load_catalogue
from seamless_config.plan.dask import plan_for
from seamless_config.plan.dask_params import dask_parameters

ROOT = Path(__file__).resolve().parent.parent
TYPES = schedulers.CLUSTER_TYPES

# One value per field, valid for every type where the field applies.
VALUES = {
    "cores": "2", "job_cores": "4", "memory": "4GB", "walltime": '"01:00:00"',
    "tmpdir": "/scratch", "partition": "short", "project": "chem", "exclusive": "false",
    "job_extra_directives": '["a = b"]', "job_script_prologue": '["module load x"]',
    "memory_per_core_property_name": "memcore", "disk": "10GB", "processes": "1",
    "worker_threads": "2", "conda": "env", "interactive": "1", "maximum_jobs": "3",
    "target_duration": "5m", "unknown_task_duration": "30s", "lifetime": "40m",
    "lifetime_stagger": "2m", "dask_resources": "{GPU: 1}",
    "extra_dask_config": "{distributed.comm.timeouts.connect: 30s}",
}


def test_command_language_prints_the_table():
    text = (ROOT / "COMMAND_LANGUAGE.md").read_text()
    assert schedulers.markdown_table() in text


def test_the_table_covers_every_field_and_type():
    assert set(schedulers.PARAMETERS) == set(queues.FIELDS)
    for field, row in schedulers.PARAMETERS.items():
        assert tuple(row) == TYPES or set(row) == set(TYPES), field
    assert queues.FIELDS.keys() >= {"disk"}


def catalogue(home: Path, kind: str, fields: dict[str, str]) -> str:
    base = {"cores": "2", "memory": "4GB"}
    base.update({"disk": "10GB"} if kind == "htcondor" else {"walltime": '"01:00:00"'})
    base.update(fields)
    body = "".join(f"      {k}: {v}\n" for k, v in base.items())
    text = f"c:\n  type: {kind}\n  frontends: [{{}}]\n  queues:\n    q:\n{body}"
    (home / ".seamless").mkdir(exist_ok=True)
    (home / ".seamless" / "clusters.yaml").write_text(text)
    return text


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("field", sorted(VALUES))
def test_loader_and_schema_follow_the_table(tmp_path, kind, field):
    text = catalogue(tmp_path, kind, {field: VALUES[field]})
    applies = schedulers.PARAMETERS[field][kind] is not None
    doc = yaml.safe_load(text)
    schema = json.loads((ROOT / "seamless_config/schemas/clusters.schema.json").read_text())
    valid = jsonschema.Draft202012Validator(schema).is_valid(doc)
    assert valid == applies, (field, kind)
    if applies:
        load_catalogue(str(tmp_path))
        return
    with pytest.raises(ConfigError) as err:
        load_catalogue(str(tmp_path))
    [problem] = [p for p in err.value.problems if field in p.message]
    assert problem.message.startswith(f"{field} does not apply to a cluster of type {kind} ")
    line = 6 + [k for k in text.splitlines()[5:]].index(f"      {field}: {VALUES[field]}")
    assert (problem.span.line, problem.span.column) == (line, 9 + len(field))


BATCH_PARAMETER = re.compile(r"`(\w+)`")


@pytest.mark.parametrize("kind", schedulers.BATCH_TYPES)
def test_applicable_fields_reach_the_parameter_the_table_names(tmp_path, kind):
    """Every dask-jobqueue parameter the table names for a batch type is a
    keyword the plan hands that type's job class, set from the field."""
    import inspect

    import dask_jobqueue

    from seamless_config.plan.jobclasses import job_class

    fields = {f: VALUES[f] for f, row in schedulers.PARAMETERS.items()  # exclusive: its own
              if row[kind] is not None and row[kind] != schedulers.IGNORED and f != "exclusive"}
    catalogue(tmp_path, kind, fields)
    cluster = load_catalogue(str(tmp_path)).clusters["c"]
    params = dask_parameters(cluster, cluster.queues["q"], None, False, pure=True)
    plan = plan_for(kind, params)
    base = getattr(dask_jobqueue, schedulers.CLASSES[kind] + "Cluster").job_cls
    accepted = set(inspect.signature(base.__init__).parameters) | set(
        inspect.signature(dask_jobqueue.core.Job.__init__).parameters)
    for field in fields:
        for name in BATCH_PARAMETER.findall(schedulers.PARAMETERS[field][kind]):
            if name.startswith("adapt") or name == "worker_extra_args" and field not in (
                    "lifetime", "lifetime_stagger", "dask_resources"):
                continue
            if name == "resource_spec" and kind == "sge":
                continue  # the job class derives it: checked in the script below
            if name in ("worker_extra_args", "job_script_prologue", "job_extra_directives",
                        "resource_spec"):
                assert plan.job.get(name), (field, name)
            elif "(" not in name and name in accepted:
                assert name in plan.job, (field, name)
    script = job_class(kind, plan.threads)("tcp://127.0.0.1:1", name="w", **plan.job).job_script()
    assert script.count("--nthreads 2 ") == 1  # worker_threads, said once
    if kind == "sge":
        assert "#$ -l h_vmem=3815M\n" in script

"""Property: random command lists, run through the whole pipeline (loader,
catalogue, evaluator, defaults), either evaluate or raise a ConfigError
that names a file and a line. Nothing else may escape."""

from __future__ import annotations

import os
import tempfile

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from seamless_config.errors import ConfigError
from seamless_config.evaluation.pipeline import evaluate_workdir

CATALOGUE = """
hpc:
  type: slurm
  frontends:
    - hostname: login.example
      hashserver: {bufferdir: /b}
      database: {database_dir: /d}
      jobserver: {}
      daskserver: {}
  default_queue: q
  queues:
    q: {walltime: "01:00:00", cores: 2, memory: 2GB}
local:
  type: local
  frontends:
    - hashserver: {bufferdir: /b}
      database: {database_dir: /d}
"""

names = st.sampled_from(["p", "hpc", "local", "q", "prod", "gpu", "x--y", "", "a/b", "nope"])
values = st.one_of(names, st.booleans(), st.none(), st.integers(-2, 5),
                   st.sampled_from(["process", "spawn", "remote", "jobserver", "daskserver"]))
commands = st.sampled_from(["project", "subproject", "cluster", "execution", "queue", "remote",
                            "persistent", "record", "node", "nparallel", "inherit_from_parent"])
item = st.one_of(st.builds(lambda c, v: {c: v}, commands, values), commands)


def stage_block(children):
    key = st.sampled_from(["stage prod", "stage prod:gpu", "stage dev", "stage :x"])
    return st.builds(lambda k, body: {k: body}, key, st.lists(children, max_size=4))


programs = st.lists(st.recursive(item, stage_block, max_leaves=12), max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(main=programs, profile=programs, stage=st.sampled_from([None, "prod", "dev"]),
       substage=st.sampled_from([None, "gpu"]))
def test_pipeline_raises_only_config_errors(main, profile, stage, substage):
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, ".seamless"))
        with open(os.path.join(home, ".seamless", "clusters.yaml"), "w") as f:
            f.write(CATALOGUE)
        work = os.path.join(tmp, "w")
        os.makedirs(work)
        for name, prog in (("seamless.yaml", main), ("seamless.profile.yaml", profile)):
            with open(os.path.join(work, name), "w") as f:
                yaml.safe_dump(prog, f)
        old = os.environ.get("HOME")
        os.environ["HOME"] = home
        try:
            evaluate_workdir(work, stage=stage, substage=substage if stage else None)
        except ConfigError as err:
            for problem in err.problems:
                assert problem.span is not None, problem.render()
                assert problem.span.path.startswith(tmp) and problem.span.line >= 1
        finally:
            os.environ["HOME"] = old

"""Wrapper parameters -> dask cluster arguments (pure; no cluster starts)."""

from __future__ import annotations

import pytest

from seamless_config.plan.dask import env_name, kind_of, plan_for, seconds

SLURM = "dask_jobqueue::SLURMCluster"
OAR = "dask_jobqueue::OARCluster"
LOCAL = "distributed::LocalCluster"
BASE = {"walltime": "01:00:00", "cores": 16, "memory": "32000MB"}


def test_kinds_are_a_closed_table():
    assert [kind_of(s) for s in (LOCAL, SLURM, OAR)] == ["local", "slurm", "oar"]
    with pytest.raises(ValueError, match="unknown cluster class 'os::system'"):
        kind_of("os::system")


def test_pure_dask_defaults_processes_from_threads_and_scales_1_to_max():
    plan = plan_for(SLURM, {**BASE, "worker_threads": 2, "maximum_jobs": 20})
    assert (plan.job["cores"], plan.job["processes"], plan.threads) == (16, 8, 2)
    assert (plan.minimum, plan.maximum) == (0, 20)


def test_without_threads_dask_jobqueue_divides_cores():
    plan = plan_for(SLURM, {**BASE, "processes": 4})
    assert (plan.job["processes"], plan.threads) == (4, None)
    with pytest.raises(ValueError, match="8 processes cannot share 4 cores"):
        plan_for(SLURM, {**BASE, "cores": 4, "processes": 8})


def test_default_lifetime_is_walltime_minus_stagger_minus_a_minute():
    args = plan_for(SLURM, BASE).job["worker_extra_args"]
    assert args == ["--lifetime", "3300s", "--lifetime-stagger", "240s"]
    short = plan_for(SLURM, {**BASE, "walltime": "00:10:00"}).job["worker_extra_args"]
    assert short == ["--lifetime", "480s", "--lifetime-stagger", "60s"]
    given = plan_for(SLURM, {**BASE, "lifetime": "50m", "lifetime-stagger": "2m"})
    assert given.job["worker_extra_args"][:4] == ["--lifetime", "3000s", "--lifetime-stagger",
                                                  "120s"]


def test_a_walltime_too_short_for_the_stagger_is_refused():
    with pytest.raises(ValueError, match="walltime 00:04:00 leaves no worker lifetime after a "
                                         "stagger of 240s and 60s of grace"):
        plan_for(SLURM, {**BASE, "walltime": "00:04:00", "lifetime-stagger": "4m"})


def test_exclusive_takes_one_process_and_a_nominal_core():
    plan = plan_for(SLURM, {"walltime": "12:00:00", "exclusive": True, "memory": "190GB",
                            "job_extra_directives": ["--exclusive"]})
    assert (plan.job["cores"], plan.job["processes"]) == (1, 1)
    assert plan.job["job_extra_directives"] == ["--exclusive"]


def test_slurm_and_oar_fields():
    params = {**BASE, "partition": "gpu", "project": "p42", "tmpdir": "/scratch",
              "dask-resources": {"GPU": 1, "MEM": 2.5}}
    slurm = plan_for(SLURM, params).job
    assert (slurm["queue"], slurm["account"], slurm["local_directory"]) == ("gpu", "p42",
                                                                           "/scratch")
    assert slurm["worker_extra_args"][-2:] == ["--resources", "GPU=1,MEM=2.5"]
    oar = plan_for(OAR, {**params, "resource_spec": "/nodes=1",
                         "memory_per_core_property_name": "memcore",
                         "walltime": "2-00:00:00"}).job
    assert (oar["project"], oar["resource_spec"], oar["memory_per_core_property_name"],
            oar["walltime"]) == ("p42", "/nodes=1", "memcore", "48:00:00")
    assert "account" not in oar


def test_extra_dask_config_reaches_scheduler_and_batch_workers():
    plan = plan_for(SLURM, {**BASE, "unknown-task-duration": "1m",
                            "job_script_prologue": ["module load python"],
                            "extra_dask_config": {"distributed.worker.memory.target": 0.9,
                                                  "distributed.comm.timeouts.connect": "30s"}})
    assert plan.config == {"distributed.scheduler.unknown-task-duration": "60s",
                           "distributed.worker.memory.target": 0.9,
                           "distributed.comm.timeouts.connect": "30s"}
    assert plan.job["job_script_prologue"] == [
        "module load python", "export DASK_DISTRIBUTED__WORKER__MEMORY__TARGET=0.9",
        "export DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=30s"]
    with pytest.raises(ValueError, match="not a dask config key"):
        env_name("a;rm -rf /")


def test_local_cluster_is_adaptive_workers_of_this_machine():
    plan = plan_for(LOCAL, {"cores": 2, "worker_threads": 2, "maximum_jobs": 2,
                            "interactive": True, "lifetime": "1h", "target-duration": "1s"})
    assert plan.job == {"n_workers": 0, "processes": True, "threads_per_worker": 2,
                        "memory_limit": "auto"}
    assert (plan.minimum, plan.maximum, plan.threads) == (1, 2, None)
    assert plan.adapt == {"target_duration": "1s"}
    assert plan.config == {"distributed.worker.lifetime.duration": "3600s"}


@pytest.mark.parametrize("params,message", [
    ({"cores": 2}, "parameter 'memory' is required by a slurm queue"),
    ({"memory": "1GB", "walltime": "01:00:00"}, "parameter 'cores' is required"),
    ({**BASE, "interactive": 3, "maximum_jobs": 2}, r"interactive \(3 jobs\) exceeds "
                                                    r"maximum_jobs \(2\)"),
    ({**BASE, "maximum_jobs": 0}, "'maximum_jobs' must be a positive integer, not 0"),
    ({**BASE, "exclusive": "yes"}, "'exclusive' must be true or false"),
    ({**BASE, "lifetime": "soon"}, "lifetime 'soon' is not a duration"),
    ({**BASE, "dask-resources": {"GPU": "one"}}, "must map resource names to numbers"),
])
def test_bad_parameters_name_the_parameter(params, message):
    with pytest.raises(ValueError, match=message):
        plan_for(SLURM, params)


def test_unknown_parameters_are_reported_not_dropped_silently():
    plan = plan_for(SLURM, {**BASE, "record": True, "transformation_throttle": 3})
    assert plan.notes == ("ignoring unknown parameter 'transformation_throttle'",)


@pytest.mark.parametrize("text,value", [("30s", 30), ("10m", 600), ("2h", 7200), ("1.5 h", 5400),
                                        ("01:00:00", 3600), ("05:30", 330),
                                        ("2-01:00:00", 176400), (90, 90)])
def test_durations(text, value):
    assert seconds(text, "x") == value

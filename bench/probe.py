"""One benchmark task in a fresh interpreter of either side.

Usage: python probe.py ours|old TASK [WORKDIR]
Prints one JSON line: ``op_ms`` (the task's own time inside this process,
after the import unless the task is the import) and the module's file, so
the harness can check which package really ran. Stdlib only: it runs under
the old package's venv as well.
"""

import sys
import time


def _import():
    import seamless_config

    return seamless_config


def _evaluate(side, sc, workdir):
    """init() without starting anything. The old package's init() starts
    servers when a cluster is selected; its set_stage() minus change_stage()
    is the evaluation: read every file, run the commands, check defaults."""
    if side == "ours":
        sc.init(workdir, launch=False)
        return
    from seamless_config.config_files import load_config_files
    from seamless_config.select import select_stage, select_substage

    sc.set_workdir(workdir)
    select_stage(None)
    select_substage(None)
    load_config_files()
    sc._report_execution_requirements()


def _configure(side, sc, workdir):
    """The three launch descriptions a SLURM Dask run needs. Timed after
    the evaluation: both packages answer from the evaluated session."""
    _evaluate(side, sc, workdir)
    from seamless_config.tools import (configure_daskserver, configure_database,
                                       configure_hashserver)

    where = dict(cluster="hpc", project="my-project", subproject=None, stage=None)
    t = time.perf_counter()
    configure_hashserver("rw", **where)
    configure_database("rw", **where)
    configure_daskserver(substage=None, **where)
    return time.perf_counter() - t


def main(side, task, workdir=None):
    if task == "bare":
        return None, None
    if side == "old":
        # 0.3.2 imports seamless_transformer (0.2-0.4 s: numpy and the
        # Seamless runtime) on every load, only to reset its record mode, and
        # skips that when it is missing. The venv has it for seamless-init;
        # hiding it here measures the configuration package alone, the
        # comparison least favourable to us.
        sys.modules["seamless_transformer"] = None
    t = time.perf_counter()
    sc = _import()
    elapsed = time.perf_counter() - t
    if task == "import":
        return elapsed, sc
    if task == "init-empty" and side == "old":
        t = time.perf_counter()
        sc.init(workdir=workdir)  # no cluster: nothing to start, nothing to skip
        return time.perf_counter() - t, sc
    if task in ("init-empty", "evaluate"):
        t = time.perf_counter()
        _evaluate(side, sc, workdir)
        return time.perf_counter() - t, sc
    if task == "configure":
        return _configure(side, sc, workdir), sc
    if task == "evaluate-again":
        # "init() takes under 5 ms after import": once the modules are loaded,
        # a fresh evaluation (every file read again) in the same process
        _evaluate(side, sc, workdir)
        if side == "ours":
            from seamless_config.session import default_session
            default_session().reset()
        t = time.perf_counter()
        _evaluate(side, sc, workdir)
        return time.perf_counter() - t, sc
    raise SystemExit(f"unknown task {task}")


if __name__ == "__main__":
    op, module = main(*sys.argv[1:])
    import json  # after the timing: seamless_config may import it itself

    print(json.dumps({"op_ms": None if op is None else op * 1000,
                      "module": getattr(module, "__file__", None)}))

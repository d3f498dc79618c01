"""One benchmark task in a fresh interpreter of either side.

Usage: python probe.py ours|old TASK [ARG...]
Prints one JSON line: ``op_ms`` (the task's own time inside this process,
after the import unless the task is the import), the module's file, so
the harness can check which package really ran, and for some tasks the
parts of ``op_ms``. Stdlib only: it runs under the old package's venv as
well.
"""

import sys
import time

# What a script that uses the runtime imports itself; the "script" tasks
# import it before their clock starts (it also brings seamless_remote's
# buffer and database clients, and the select module of seamless_config).
RUNTIME_IMPORTS = "import seamless; from seamless.transformer import direct"


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


def _runtime():
    """The runtime, imported the way a script that uses it does: untimed,
    so nothing it imports for itself counts. Returns the transformation
    the script runs, and which of our modules the runtime had imported."""
    import seamless
    from seamless.transformer import direct

    @direct
    def add(a, b):
        return a + b

    ours = sorted(m for m in sys.modules if m.split(".")[0] == "seamless_config")
    return seamless, add, ours


def _first_use(seamless, add):
    """One transformation against the cached storage: where whatever the
    configuration left for the first use (launched clients connecting,
    health checks) is paid. Returns its time."""
    t = time.perf_counter()
    result = add(2, 5)
    elapsed = time.perf_counter() - t
    if result != 7:
        raise SystemExit(f"the transformation gave {result!r}, not 7")
    return elapsed


def _script(workdir):
    """init() in a script that then runs one transformation: the package's
    import and init() plus the first transformation, after the runtime's
    own imports."""
    seamless, add, preloaded = _runtime()
    t = time.perf_counter()
    import seamless.config as config

    config.init(workdir=workdir)
    init = time.perf_counter() - t
    first = _first_use(seamless, add)
    _check_storage(seamless)
    seamless.close()
    return init + first, {"init_ms": init * 1000, "first_ms": first * 1000,
                          "runtime_imported": len(preloaded)}


def _script_base(workdir, hashserver_url, bufferdir, database_url):
    """The same transformation with no configuration package at work: the
    configuration is evaluated before the clock, without activating
    anything (the runtime's calls into the package during the run are then
    look-ups, as after init(); unevaluated, they would evaluate it on the
    clock), and the runtime is handed the running servers by hand (extern
    clients, as seamless-remote defines them). What this takes is the
    runtime's own cost, which the harness subtracts."""
    seamless, add, preloaded = _runtime()
    _load_config(workdir)
    from seamless_remote import buffer_remote, database_remote

    t = time.perf_counter()
    database_remote.define_extern_client("bench-db", "database", url=database_url,
                                         readonly=False)
    database_remote.activate(no_main=True, extern_clients=["bench-db"])
    buffer_remote.define_extern_client("bench-folder", "bufferfolder", directory=bufferdir,
                                       readonly=True)
    buffer_remote.define_extern_client("bench-buffer", "hashserver", url=hashserver_url,
                                       readonly=False)
    buffer_remote.activate(no_main=True, extern_clients=["bench-folder", "bench-buffer"])
    setup = time.perf_counter() - t
    first = _first_use(seamless, add)
    _check_storage(seamless)
    seamless.close()
    return setup + first, {"init_ms": setup * 1000, "first_ms": first * 1000,
                           "runtime_imported": len(preloaded)}


def _load_config(workdir):
    """Evaluate the configuration and activate nothing, through the names
    both packages have (tools and tests rely on this sequence)."""
    import seamless_config
    from seamless_config.config_files import load_config_files
    from seamless_config.select import select_stage, select_substage

    seamless_config.set_workdir(workdir)
    select_stage(None)
    select_substage(None)
    load_config_files()


def _check_storage(seamless):
    """The run must have had the cached storage (a write server for
    buffers, a read server for results): otherwise it measured an
    in-memory run."""
    from seamless_remote import buffer_remote, database_remote

    if not (buffer_remote.has_write_server() and database_remote.has_read_server()):
        raise SystemExit("the runtime has no buffer write server or database: "
                         "the transformation did not use the cached storage")


def main(side, task, *args):
    if task == "bare":
        return None, None
    if task == "script":
        op, parts = _script(*args)
        return op, sys.modules["seamless_config"], parts
    if task == "script-base":
        op, parts = _script_base(*args)
        return op, sys.modules["seamless_config"], parts
    workdir = args[0] if args else None
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
    op, module, *parts = main(*sys.argv[1:])
    import json  # after the timing: seamless_config may import it itself

    print(json.dumps({"op_ms": None if op is None else op * 1000,
                      "module": getattr(module, "__file__", None),
                      **(parts[0] if parts else {})}))

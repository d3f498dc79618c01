"""The command-line tools: ``seamless-config`` (``main`` and one module per
command group) and ``seamless-init`` (``init``: its entry point;
``init_run``: its options, defined once, the parser of usual invocations
and the command itself; ``init_command``: the same command as a click
command, for help, completion and anything unusual).

Deferred imports: every subcommand imports what it needs when it runs, so
starting ``seamless-config`` costs click and nothing else; a usual
``seamless-init`` (servers already running) does not import click at all,
about 20 ms of its time (the README's Performance section).
"""

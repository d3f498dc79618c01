"""``seamless-config services``: the servers named by Seamless-level
arguments (targets.py) or by key (bykey.py, which also stops everything
on this machine and prunes stale records), listed, stopped and forgotten
(operations.py) on their hosts (hosts.py, over ``launch/hosts.py``), and
their storage cleared (clear.py).

Deferred imports, for start-up time: the CLI (``cli/services.py``) imports
``operations`` and ``clear`` (and through them the launch and SSH modules)
only inside the commands that use them, since every ``seamless-config``
command loads that CLI module, and ``targets.py``, which it imports,
takes the planner (``plan.specs``, tools.yaml) and the state-file paths
(``launch.state``) only once asked for a server.
"""

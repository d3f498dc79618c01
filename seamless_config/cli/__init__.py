"""The command-line tools: ``seamless-config`` (``main`` and one module per
command group) and ``seamless-init`` (``init``).

Deferred imports: every subcommand imports what it needs when it runs, so
starting a tool costs click and nothing else.
"""

"""Program -> Context: the evaluator with its immutable binding frames
(``evaluator``), defaults and derived values (``resolve``), the immutable
context with provenance (``context``), and the pure pipeline from a work
directory to a context (``pipeline``).

Deferred imports: ``pipeline`` imports the loader and the evaluator only
when it evaluates, so that ``SEAMLESS_CACHE`` mode (which reads no file)
loads no YAML, and modules that only read the session's selections
(``select``) stay small.
"""

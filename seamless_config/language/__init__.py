"""The command language: stage keys (``stages``), the AST of commands and
stage blocks (``nodes``), one file to nodes (``loader``), the YAML
mistakes named by what the user wrote (``mistakes``), the
work-directory chain to one program (``chain``), the closed template
language of launch commands (``template``), and the grammars in
``grammar/`` (``grammars``).

Deferred imports: ``lark`` (about 20 ms) is imported only when a grammar
must be built or a parse fails; stage keys are usually recognised by a
regular expression equal to the grammar, and parsed templates and parser
tables are read back as data from the user's cache.
"""

"""The shared ground every phase stands on: YAML nodes with their spans
(``yaml_nodes``), which names are allowed (``names``), storage paths,
launcher keys and the user's private cache (``paths``), and the words
every phase shares (``vocabulary``).

Deferred imports: none beyond ``yaml`` itself, which ``yaml_nodes``
imports when a file is read (``SEAMLESS_CACHE`` mode reads no file and
never loads it).
"""

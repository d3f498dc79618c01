"""The LALR tables cached in the user's cache directory: written whole or
not at all, read back by many processes starting together."""

from __future__ import annotations

import os
import subprocess
import sys

from seamless_config.language import grammars
from seamless_config.core import paths

PROBE = """
from seamless_config.language import grammars, template
assert grammars.parser("stage").parse("stage prod:gpu").children == ["prod", "gpu"]
template.parse("--port {port}")
print("ok")
"""


def _cache_files(home):
    folder = os.path.join(home, ".cache", "seamless-config")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_processes_starting_together_on_an_empty_cache_all_parse(tmp_path):
    """Twelve processes build and read the tables at once, several rounds
    on a fresh cache; lark's own cache file is written in place and once
    let a process read half a table."""
    for round_ in range(3):
        home = tmp_path / f"home{round_}"
        home.mkdir()
        env = {**os.environ, "HOME": str(home)}
        env.pop("XDG_CACHE_HOME", None)
        procs = [subprocess.Popen([sys.executable, "-c", PROBE], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(12)]
        results = [(p.communicate(), p.returncode) for p in procs]
        assert [rc for _, rc in results] == [0] * 12, [err for (_, err), _ in results]
        names = _cache_files(str(home))
        assert not [n for n in names if n.endswith(".tmp")], names
        assert any(n.startswith("stage-") and n.endswith(".lark-json") for n in names)


def test_a_damaged_table_file_is_rebuilt_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    grammars.parser.cache_clear()
    try:
        grammars.parser("stage")
        path = grammars._cache_file("stage", grammars.grammar_text("stage"),
                                    {"parser": "lalr"})
        with open(path, "rb") as f:
            whole = f.read()
        with open(path, "wb") as f:
            f.write(whole[: len(whole) // 2])
        grammars.parser.cache_clear()
        assert grammars.parser("stage").parse("stage a:b").children == ["a", "b"]
        assert grammars._load_tables(path).parse("stage c").children == ["c"]
        assert os.path.dirname(path) == paths.cache_dir()
    finally:
        grammars.parser.cache_clear()


def test_tables_are_written_under_a_temporary_name_then_renamed(tmp_path, monkeypatch):
    """While the tables are being written, the name other processes read
    does not exist yet: they build their own instead of reading half."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    path = grammars._cache_file("stage", grammars.grammar_text("stage"), {"parser": "lalr"})
    seen = []
    real_write = paths.write_cache_file

    def watching(target, write):
        def watched(f):
            write(f)
            seen.append((os.readlink(f"/proc/self/fd/{f.fileno()}"), os.path.exists(target)))
        real_write(target, watched)

    monkeypatch.setattr(paths, "write_cache_file", watching)
    grammars.parser.cache_clear()
    try:
        grammars.parser("stage")
    finally:
        grammars.parser.cache_clear()
    assert len(seen) == 1
    written_to, final_existed = seen[0]
    assert written_to != path and os.path.dirname(written_to) == os.path.dirname(path)
    assert not final_existed
    assert os.path.exists(path) and not os.path.exists(written_to)


BAD_KEYS = ["stage", "stage :gpu", "stage prod:", "stage prod:gpu:x", "stage pr od",
            "stage prod::gpu", "stage 'prod'", "stage prod: gpu x"]


def test_tables_read_back_give_the_same_keys_and_the_same_errors(tmp_path, monkeypatch):
    """Processes after the first use the tables from the file: the stage
    keys they accept and the errors they name (lark's match_examples runs
    on the loaded parser) must be those of a freshly built one."""
    from seamless_config.language import stages
    from seamless_config.errors import ConfigError, Span

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(stages, "_WELL_FORMED", stages.re.compile(r"(?!)"))  # always the grammar

    def outcomes():
        out = []
        for text in BAD_KEYS + ["stage prod", "stage prod : gpu"]:
            span = Span("s.yaml", 2, 3, 2, 3 + len(text))
            try:
                out.append(stages.parse_stage_key(text, span))
            except ConfigError as err:
                out.append((err.render(with_source=False), err.span))
        return out

    grammars.parser.cache_clear()
    try:
        built = outcomes()  # builds the tables and writes them
        grammars.parser.cache_clear()
        path = grammars._cache_file("stage", grammars.grammar_text("stage"), {"parser": "lalr"})
        assert os.path.exists(path)
        from lark import Lark

        def no_building(self, *args, **kwargs):
            raise AssertionError("the tables were built again instead of read")

        with monkeypatch.context() as m:
            m.setattr(Lark, "__init__", no_building)
            loaded = outcomes()  # reads them back
    finally:
        grammars.parser.cache_clear()
    assert loaded == built
    assert sum(isinstance(o, tuple) for o in built) == len(BAD_KEYS)

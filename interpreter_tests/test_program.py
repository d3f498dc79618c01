"""program.discover (the chain through inherit_from_parent) and build_program."""

import os
from pathlib import Path

import pytest

from seamless_config.errors import ConfigError, Span

from seamless_config.language.nodes import Command, SourceFile, StageBlock, StageSelector
from seamless_config.language.chain import build_program, discover

from .test_loader import LOCAL  # the same inline cluster



def write(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)


def searched(files, root: Path):
    """(path relative to root, found) for each file, in run order."""
    return [(os.path.relpath(f.path, root), f.found) for f in files]


@pytest.fixture
def tree(tmp_path):
    """root/top/a/b/c: c, b and a inherit (through either file); top does not."""
    top = tmp_path / "top"
    write(top, "seamless.yaml", "- project: top\n")
    write(top / "a", "seamless.yaml", "- inherit_from_parent\n- subproject: a\n")
    write(top / "a" / "b", "seamless.profile.yaml", "- inherit_from_parent\n- cluster: b\n")
    c = top / "a" / "b" / "c"
    write(c, "seamless.yaml", "- inherit_from_parent\n- execution: spawn\n")
    write(c, "seamless.profile.yaml", "- queue: c\n")
    return tmp_path


def test_three_levels_parents_first(tree):
    files = discover(str(tree / "top" / "a" / "b" / "c"))
    assert searched(files, tree) == [
        ("top/seamless.yaml", True),
        ("top/seamless.profile.yaml", False),
        ("top/a/seamless.yaml", True),
        ("top/a/seamless.profile.yaml", False),
        ("top/a/b/seamless.yaml", False),
        ("top/a/b/seamless.profile.yaml", True),
        ("top/a/b/c/seamless.yaml", True),
        ("top/a/b/c/seamless.profile.yaml", True),
    ]
    program = build_program(files)
    assert [(n.name, n.argument) for n in program.body] == [
        ("project", "top"), ("subproject", "a"), ("cluster", "b"),
        ("execution", "spawn"), ("queue", "c")]
    assert program.files == files and program.clusters == ()


def test_stops_at_directory_without_the_flag(tree):
    write(tree / "top" / "a", "seamless.yaml", "- subproject: a\n")
    files = discover(str(tree / "top" / "a" / "b" / "c"))
    assert searched(files, tree)[0] == ("top/a/seamless.yaml", True)
    assert len(files) == 6


def test_explicit_false_stops(tree):
    write(tree / "top" / "a" / "b", "seamless.profile.yaml", "- inherit_from_parent: false\n")
    files = discover(str(tree / "top" / "a" / "b" / "c"))
    assert searched(files, tree)[0] == ("top/a/b/seamless.yaml", False)


def test_no_files_at_all(tmp_path):
    files = discover(str(tmp_path))
    assert files == (SourceFile(str(tmp_path / "seamless.yaml"), False),
                     SourceFile(str(tmp_path / "seamless.profile.yaml"), False))
    assert build_program(files).body == ()


def test_relative_workdir_is_made_absolute(tree, monkeypatch):
    monkeypatch.chdir(tree / "top")
    files = discover("a")
    assert files[0].path == str(tree / "top" / "seamless.yaml")


def test_stops_at_filesystem_root():
    seen = []

    def always_inherit(path):
        seen.append(path)
        return SourceFile(path, True, inherit=True)

    files = discover("/x/y", load=always_inherit)
    assert [f.path for f in files] == [
        "/seamless.yaml", "/seamless.profile.yaml",
        "/x/seamless.yaml", "/x/seamless.profile.yaml",
        "/x/y/seamless.yaml", "/x/y/seamless.profile.yaml"]
    assert seen == ["/x/y/seamless.yaml", "/x/y/seamless.profile.yaml",
                    "/x/seamless.yaml", "/x/seamless.profile.yaml",
                    "/seamless.yaml", "/seamless.profile.yaml"]


def test_error_in_a_parent_names_the_parent(tree):
    write(tree / "top", "seamless.yaml", "- projet: top\n")
    with pytest.raises(ConfigError) as info:
        discover(str(tree / "top" / "a" / "b" / "c"))
    assert info.value.span.path == str(tree / "top" / "seamless.yaml")


def span(line):
    return Span("f.yaml", line, 3)


def test_build_program_hoists_clusters_in_run_order():
    c1 = Command("clusters", (), span(1))
    c2 = Command("clusters", (), span(9))
    block = StageBlock(StageSelector("prod"), (Command("queue", "q", span(4)),), span(3))
    files = (
        SourceFile("p/seamless.yaml", True, True, (Command("project", "p", span(1)), c1)),
        SourceFile("p/seamless.profile.yaml", False),
        SourceFile("c/seamless.yaml", True, False, (block, c2, Command("cluster", "x", span(10)))),
    )
    program = build_program(files)
    assert program.clusters == (c1, c2)
    assert program.clusters[0] is c1 and program.body[1] is block  # moved, not copied
    assert [getattr(n, "name", None) for n in program.body] == ["project", None, "cluster"]
    assert program.files == files


def test_build_program_of_loaded_files(tmp_path):
    write(tmp_path / "p", "seamless.yaml", "- project: p\n" + LOCAL.format(name="parent"))
    write(tmp_path / "p" / "c", "seamless.yaml", "- inherit_from_parent\n- cluster: child\n")
    write(tmp_path / "p" / "c", "seamless.profile.yaml",
          "- stage prod:\n    - stage prod:gpu:\n        - queue: gpu\n"
          + LOCAL.format(name="child"))
    program = build_program(discover(str(tmp_path / "p" / "c")))
    assert [c.argument.clusters[0].name for c in program.clusters] == ["parent", "child"]
    assert [c.span.path for c in program.clusters] == [
        str(tmp_path / "p" / "seamless.yaml"), str(tmp_path / "p" / "c" / "seamless.profile.yaml")]
    project, cluster, stage = program.body
    assert (project.name, cluster.name) == ("project", "cluster")
    assert str(stage.selector) == "stage prod"
    (inner,) = stage.body
    assert str(inner.selector) == "stage prod:gpu"
    assert inner.body[0].span == Span(str(tmp_path / "p" / "c" / "seamless.profile.yaml"),
                                      3, 11, 3, 16)

"""loader.load_file: every command accepted, every mistake's whole message."""

from pathlib import Path

import pytest

from seamless_config.errors import ConfigError, Span
from seamless_config.language.loader import COMMANDS, load_file
from seamless_config.language.nodes import Command, SourceFile, StageBlock

@pytest.fixture
def load(tmp_path, monkeypatch):
    """Write the text as ./seamless.yaml and load it (paths show as written)."""
    monkeypatch.chdir(tmp_path)

    def load_text(text: str) -> SourceFile:
        Path("seamless.yaml").write_text(text, encoding="utf-8")
        return load_file("seamless.yaml")

    return load_text


def summary(node):
    if isinstance(node, StageBlock):
        return (str(node.selector), [summary(n) for n in node.body])
    return (node.name, node.argument)


ACCEPTED = [
    ("project", "- project: my-project", [("project", "my-project")]),
    ("subproject", "- subproject: a/b.c/d_e", [("subproject", "a/b.c/d_e")]),
    ("subproject-null", "- subproject: null", [("subproject", None)]),
    ("subproject-empty", "- subproject:", [("subproject", None)]),
    ("cluster", "- cluster: hpc-1", [("cluster", "hpc-1")]),
    ("execution", "- execution: process\n- execution: spawn\n- execution: remote",
     [("execution", "process"), ("execution", "spawn"), ("execution", "remote")]),
    ("queue", "- queue: gpu", [("queue", "gpu")]),
    ("remote", "- remote: jobserver\n- remote: daskserver\n- remote: null\n- remote: ~",
     [("remote", "jobserver"), ("remote", "daskserver"), ("remote", None), ("remote", None)]),
    ("persistent", "- persistent: true\n- persistent: false",
     [("persistent", True), ("persistent", False)]),
    ("record", "- record: true", [("record", True)]),
    ("node", "- node: n042.cluster\n- node: null", [("node", "n042.cluster"), ("node", None)]),
    ("nparallel", "- nparallel: 1\n- nparallel: 16", [("nparallel", 1), ("nparallel", 16)]),
    ("quoted-number", "- project: '2024'", [("project", "2024")]),
    ("flow-style", "[{project: a}, {cluster: b}]", [("project", "a"), ("cluster", "b")]),
    ("same-command-twice", "- project: a\n- project: b", [("project", "a"), ("project", "b")]),
    ("stage", "- stage prod:\n    - cluster: hpc\n    - execution: remote",
     [("stage prod", [("cluster", "hpc"), ("execution", "remote")])]),
    ("stage-empty-list", "- stage prod: []", [("stage prod", [])]),
    ("stage-nested", "- stage prod:\n  - stage prod:gpu:\n    - queue: gpu\n  - queue: cpu",
     [("stage prod", [("stage prod:gpu", [("queue", "gpu")]), ("queue", "cpu")])]),
    ("stage-space-before-colon", "- stage prod :gpu: []", [("stage prod:gpu", [])]),
    ("stage-spaces-quoted", "- 'stage prod : gpu': []", [("stage prod:gpu", [])]),
    ("stage-quoted", "- 'stage prod:gpu': []", [("stage prod:gpu", [])]),
    ("empty-file", "", []),
    ("comments-only", "# nothing yet\n", []),
    ("empty-document", "---\n", []),
    ("empty-list", "[]", []),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted(load, text, expected):
    source = load(text)
    assert source.found and not source.inherit
    assert [summary(n) for n in source.nodes] == expected


@pytest.mark.parametrize("text,inherit", [
    ("- inherit_from_parent", True),
    ("- inherit_from_parent: true", True),
    ("- inherit_from_parent: false", False),
    ("- inherit_from_parent:", True),
    ("- inherit_from_parent\n- inherit_from_parent: false", False),
])
def test_inherit_from_parent(load, text, inherit):
    source = load(text + "\n- project: p")
    assert source.inherit is inherit
    assert [summary(n) for n in source.nodes] == [("project", "p")]  # no Command for it


def test_missing_file(tmp_path):
    path = str(tmp_path / "seamless.profile.yaml")
    assert load_file(path) == SourceFile(path, False)


def test_spans(load):
    source = load("- project: p\n- inherit_from_parent\n- stage prod:\n    - remote: null\n")
    project, stage = source.nodes
    assert project == Command("project", "p", Span("seamless.yaml", 1, 3, 1, 10),
                              Span("seamless.yaml", 1, 12, 1, 13))
    assert stage.span == Span("seamless.yaml", 3, 3, 3, 13)
    (remote,) = stage.body
    assert remote.span == Span("seamless.yaml", 4, 7, 4, 13)
    assert remote.arg_span == Span("seamless.yaml", 4, 15, 4, 19)
    assert remote.source_text() == "remote: null"


def test_commands_table():
    assert COMMANDS == ("project", "subproject", "cluster", "execution", "queue", "remote",
                        "persistent", "record", "node", "nparallel", "clusters",
                        "inherit_from_parent")


LIST = "start each command with '- ', e.g. '- project: my-project'"
ITEM = "write '- COMMAND' or '- COMMAND: VALUE'"
KNOWN = ("expected one of: cluster, clusters, execution, inherit_from_parent, node, nparallel, "
         "persistent, project, queue, record, remote, stage NAME, subproject")
BLOCK = "and indent its commands under it, each starting with '- '"
F = "seamless.yaml"

ERRORS = [
    ("top-mapping", "project: x",
     f"{F}:1:1: a configuration file must be a YAML list of commands, not a mapping; {LIST}"),
    ("top-string", "project",
     f"{F}:1:1: a configuration file must be a YAML list of commands, not a string; {LIST}"),
    ("top-null", "~",
     f"{F}:1:1: a configuration file must be a YAML list of commands, not null; {LIST}"),
    ("unknown", "- projet: a",
     f"{F}:1:3: unknown command 'projet'; did you mean 'project'? {KNOWN}"),
    ("unknown-bare", "- inherit",
     f"{F}:1:3: unknown command 'inherit'; {KNOWN}"),
    ("unknown-stages", "- stages prod: []",
     f"{F}:1:3: unknown command 'stages prod'; did you mean 'stage'? {KNOWN}"),
    ("unknown-Stage", "- Stage prod: []",
     f"{F}:1:3: unknown command 'Stage prod'; did you mean 'stage'? {KNOWN}"),
    ("unknown-long", "- " + "x" * 80,
     f"{F}:1:3: unknown command '{'x' * 57}...'; {KNOWN}"),
    ("unknown-control-char", '- "a\\tb"', f"{F}:1:3: unknown command 'a\\tb'; {KNOWN}"),
    ("no-space-after-colon", "- project:x",
     f"{F}:1:3: 'project:x' is a single string, not a command with a value; "
     "write '- project: x' with a space after ':' and no quotes"),
    ("quoted-command", "- 'cluster: hpc'",
     f"{F}:1:3: 'cluster: hpc' is a single string, not a command with a value; "
     "write '- cluster: hpc' with a space after ':' and no quotes"),
    ("bare-project", "- project", f"{F}:1:3: project needs a value; write '- project: NAME'"),
    ("empty-project", "- project:", f"{F}:1:3: project needs a value; write '- project: NAME'"),
    ("bare-subproject", "- subproject",
     f"{F}:1:3: subproject needs a value; write '- subproject: NAME'"),
    ("bare-cluster", "- cluster", f"{F}:1:3: cluster needs a value; write '- cluster: NAME'"),
    ("bare-execution", "- execution",
     f"{F}:1:3: execution needs a value; write '- execution: remote'"),
    ("bare-queue", "- queue", f"{F}:1:3: queue needs a value; write '- queue: NAME'"),
    ("bare-remote", "- remote", f"{F}:1:3: remote needs a value; write '- remote: jobserver'"),
    ("bare-persistent", "- persistent",
     f"{F}:1:3: persistent needs a value; write '- persistent: true'"),
    ("bare-record", "- record", f"{F}:1:3: record needs a value; write '- record: true'"),
    ("bare-node", "- node", f"{F}:1:3: node needs a value; write '- node: HOSTNAME'"),
    ("bare-nparallel", "- nparallel", f"{F}:1:3: nparallel needs a value; write '- nparallel: 4'"),
    ("bare-clusters", "- clusters",
     f"{F}:1:3: clusters needs a mapping of cluster definitions; "
     "write '- clusters:' and indent one 'NAME:' entry per cluster under it"),
    ("clusters-not-mapping", "- clusters: [a]",
     f"{F}:1:13: clusters needs a mapping of cluster definitions, not a list; "
     "write '- clusters:' and indent one 'NAME:' entry per cluster under it"),
    ("inherit-with-value", "- inherit_from_parent: yes please",
     f"{F}:1:24: inherit_from_parent takes no value, not a string; "
     "write '- inherit_from_parent' (or 'inherit_from_parent: false')"),
    ("inherit-with-list", "- inherit_from_parent: [a]",
     f"{F}:1:24: inherit_from_parent takes no value, not a list; "
     "write '- inherit_from_parent' (or 'inherit_from_parent: false')"),
    ("second-key", "- project: a\n  cluster: b",
     f"{F}:2:3: a second key 'cluster' in one item: each item must be a single-key mapping; "
     "start every command with '- '"),
    ("empty-mapping", "- {}", f"{F}:1:3: an empty mapping is not a command; {ITEM}"),
    ("item-integer", "- 42",
     f"{F}:1:3: a command must be a string or a single-key mapping, not an integer; {ITEM}"),
    ("item-null", "-",
     f"{F}:1:2: a command must be a string or a single-key mapping, not null; {ITEM}"),
    ("item-list", "- [project, a]",
     f"{F}:1:3: a command must be a string or a single-key mapping, not a list; {ITEM}"),
    ("key-not-string", "- 1: a", f"{F}:1:3: item keys must be plain strings, not an integer; "
     "quote the key"),
    ("duplicate-key", "- {project: a, project: b}",
     f"{F}:1:16: duplicate key 'project' in one item (first at line 1); "
     "YAML would silently keep only the last one; remove one"),
    ("project-int", "- project: 2024",
     f"{F}:1:12: project must be a string, but YAML reads 2024 as an integer; "
     'write "2024" in quotes if you meant the text'),
    ("project-no", "- project: no",
     f"{F}:1:12: project must be a string, but YAML reads no as a boolean; "
     'write "no" in quotes if you meant the text'),
    ("project-null", "- project: null",
     f"{F}:1:12: project must be a string, but YAML reads null as null; "
     'write "null" in quotes if you meant the text'),
    ("project-list", "- project: [a]", f"{F}:1:12: project must be a string, not a list"),
    ("cluster-float", "- cluster: 1.5",
     f"{F}:1:12: cluster must be a string, but YAML reads 1.5 as a number; "
     'write "1.5" in quotes if you meant the text'),
    ("node-int", "- node: 7",
     f"{F}:1:9: node must be a string, but YAML reads 7 as an integer; "
     'write "7" in quotes if you meant the text'),
    ("execution-unknown", "- execution: remot",
     f"{F}:1:14: invalid execution 'remot'; did you mean 'remote'? "
     "expected one of: process, remote, spawn"),
    ("execution-empty", "- execution:",
     f"{F}:1:3: execution needs a value; write '- execution: remote'"),
    ("remote-unknown", "- remote: dask",
     f"{F}:1:11: invalid remote 'dask'; expected one of: daskserver, jobserver, null"),
    ("persistent-string", "- persistent: sure",
     f"{F}:1:15: persistent must be true or false, not a string; write true or false"),
    ("record-int", "- record: 1",
     f"{F}:1:11: record must be true or false, not an integer; write true or false"),
    ("nparallel-zero", "- nparallel: 0", f"{F}:1:14: nparallel must be at least 1, not 0"),
    ("nparallel-bool", "- nparallel: true",
     f"{F}:1:14: nparallel must be an integer, not a boolean"),
    ("nparallel-string", "- nparallel: four",
     f"{F}:1:14: nparallel must be an integer, not a string"),
    ("name-dashes", "- project: a--b",
     f"{F}:1:12: project name 'a--b' must not contain '--' (it separates key parts)"),
    ("name-STAGE", "- cluster: STAGE-x",
     f"{F}:1:12: cluster name 'STAGE-x' must not contain 'STAGE-' (it marks stage directories)"),
    ("name-slash", "- queue: a/b", f"{F}:1:10: queue name 'a/b' must not contain '/'"),
    ("name-dotdot", "- subproject: a/../b",
     f"{F}:1:15: subproject name 'a/../b' must not be '.' or '..' or contain them as a path part"),
    ("name-empty", "- project: ''", f"{F}:1:12: project name must not be empty"),
    ("name-chars", "- project: my project",
     f"{F}:1:12: project name 'my project' may only contain letters, digits, '.', '_', '-'"),
    ("subproject-chars", "- subproject: a/$b",
     f"{F}:1:15: subproject name 'a/$b' may only contain letters, digits, '.', '_', '-' and '/'"),
    ("stage-bare", "- stage prod",
     f"{F}:1:3: 'stage prod' needs a list of commands; write '- stage prod:' {BLOCK}"),
    ("stage-empty", "- stage prod:",
     f"{F}:1:3: 'stage prod' needs a list of commands; write '- stage prod:' {BLOCK}"),
    ("stage-mapping", "- stage prod:\n    cluster: hpc",
     f"{F}:2:5: 'stage prod' needs a list of commands, not a mapping; "
     f"write '- stage prod:' {BLOCK}"),
    ("stage-string", "- stage prod:gpu: hpc",
     f"{F}:1:19: 'stage prod:gpu' needs a list of commands, not a string; "
     f"write '- stage prod:gpu:' {BLOCK}"),
    ("stage-key", "- stage :gpu: []",
     f"{F}:1:9: missing stage name before ':'; write 'stage NAME' or 'stage NAME:SUBSTAGE'"),
    ("stage-key-quoted", "- 'stage :gpu': []",
     f"{F}:1:10: missing stage name before ':'; write 'stage NAME' or 'stage NAME:SUBSTAGE'"),
    ("stage-alone", "- stage: []",
     f"{F}:1:8: missing stage name after 'stage'; write 'stage NAME' or 'stage NAME:SUBSTAGE'"),
    ("stage-name", "- stage a--b: []",
     f"{F}:1:9: stage name 'a--b' must not contain '--' (it separates key parts)"),
    ("clusters-in-stage", "- stage prod:\n    - clusters: {}",
     f"{F}:2:7: clusters must be at the top level of a file, not inside 'stage prod'; "
     "move it out of the stage block"),
    ("inherit-in-stage", "- stage prod:\n  - stage prod:gpu:\n    - inherit_from_parent",
     f"{F}:3:7: inherit_from_parent must be at the top level of a file, "
     "not inside 'stage prod:gpu'; move it out of the stage block"),
    ("self-containing-stage", "- &a {'stage x': [*a]}",
     f"{F}:1:19: YAML alias '*a' refers to a node that contains it, which would repeat "
     "forever; write the values out instead of nesting aliases"),
    ("invalid-yaml", "- project: [a",
     f"{F}:2:1: invalid YAML: did not find expected ',' or ']' "
     "(while parsing a flow sequence at line 1, column 12); check indentation, quoting and the ':' after each key"),
]


@pytest.mark.parametrize("text,message", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors(load, text, message):
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.render(with_source=False) == message


def test_all_mistakes_of_a_list_together(load):
    text = "- project: a--b\n- stage prod:\n    - queue\n    - nparallel: 0\n- cluster: x\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.render(with_source=False) == "\n".join([
        f"{F}:1:12: project name 'a--b' must not contain '--' (it separates key parts)",
        f"{F}:3:7: queue needs a value; write '- queue: NAME'",
        f"{F}:4:18: nparallel must be at least 1, not 0",
    ])


def test_error_with_source(load):
    with pytest.raises(ConfigError) as info:
        load("- project: p\n- cluster: hpc\n  queue: gpu\n")
    assert info.value.render() == "\n".join([
        f"{F}:3:3: a second key 'queue' in one item: each item must be a single-key mapping; "
        "start every command with '- '",
        "    3 |   queue: gpu",
        "      |   ^~~~~",
    ])


def test_not_utf8(load, tmp_path):
    (tmp_path / "seamless.yaml").write_bytes(b"- project: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_file("seamless.yaml")
    assert info.value.render(with_source=False) == (
        f"{F}:1:15: file is not UTF-8 text (byte 14); save it as UTF-8")


def test_directory_instead_of_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("seamless.yaml").mkdir()
    with pytest.raises(ConfigError) as info:
        load_file("seamless.yaml")
    assert info.value.render(with_source=False) == (
        f"{F}:1:1: cannot read file: it is a directory, not a regular file; only regular "
        "files are read; replace it with one")


# Inline clusters: validated by catalogue.parse_clusters, kept in source order.

LOCAL = """\
- clusters:
    {name}:
      type: local
      frontends:
        - hashserver:
            bufferdir: /tmp/buffers
            network_interface: 127.0.0.1
            port_start: 55100
            port_end: 55199
"""


def test_clusters_inline(load):
    source = load(LOCAL.format(name="one") + LOCAL.format(name="two")[len("- clusters:\n"):]
                  + "- cluster: two\n")
    clusters, cluster = source.nodes
    assert clusters.name == "clusters" and clusters.span == Span(F, 1, 3, 1, 11)
    assert [c.name for c in clusters.argument] == ["one", "two"]
    assert all(c.source == "inline" for c in clusters.argument)
    assert clusters.source_text() == "clusters: {one, two}"
    assert summary(cluster) == ("cluster", "two")


def test_clusters_empty_mapping(load):
    (clusters,) = load("- clusters: {}").nodes
    assert tuple(clusters.argument) == () and clusters.argument.local_cluster is None


def test_clusters_local_cluster_inline(load):
    """0.3.2 read local_cluster from any clusters mapping; project files
    written for it name their local cluster inline."""
    (clusters,) = load(LOCAL.format(name="one") + "    local_cluster: one\n").nodes
    assert [c.name for c in clusters.argument] == ["one"]
    assert clusters.argument.local_cluster == "one"
    assert clusters.argument.local_span == Span(F, 10, 20, 10, 23)

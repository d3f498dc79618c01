"""Launcher keys are injective: two scopes never share a key, so two projects
never share a server and its storage (issue 13, item 2). Proved by reading
every key back into its parts; and the names that used to collide are
refused where they are written, with file:line:col."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seamless_config.core import paths
from seamless_config.errors import ConfigError
from seamless_config.evaluation.pipeline import evaluate_workdir
from seamless_config.core.names import name_problem, node_problem, path_problem, token_problem
from seamless_config.services.operations import parse_key

# Words that make keys collide when names may hold them: the separators'
# letters, the modes and the stage markers' words.
WORDS = ["a", "x", "rw", "ro", "r", "w", "SUB", "STAGE", "SUBSTAGE", "b.c", "_", "0"]
word = st.one_of(st.sampled_from(WORDS), st.text("-rwoSTAGEUBx.", min_size=1, max_size=4))


def names(what: str, allow_slash: bool = False):
    joined = st.lists(word, min_size=1, max_size=4).flatmap(
        lambda ws: st.sampled_from(["-", "", "--", "/"] if allow_slash else ["-", "", "--"])
        .map(lambda sep: sep.join(ws)))
    return joined.filter(lambda n: name_problem(n, what, allow_slash) is None)


scopes = st.fixed_dictionaries({
    "cluster": names("cluster"), "project": names("project"),
    "subproject": st.none() | names("subproject", allow_slash=True),
    "stage": st.none() | names("stage"), "substage": st.none() | names("substage"),
})
FIELDS = ("service", "cluster", "project", "subproject", "stage", "substage")


@settings(max_examples=1500, deadline=None)
@given(scope=scopes, service=st.sampled_from(["hashserver", "database", "jobserver",
                                              "daskserver"]), mode=st.sampled_from(["rw", "ro"]))
def test_every_key_reads_back_into_its_scope(scope, service, mode):
    storage = service in ("hashserver", "database")
    substage = None if storage else scope["substage"]
    subpath = (paths.storage_subpath(scope["project"], scope["subproject"], scope["stage"])
               if storage else paths.scope_subpath(scope["project"], scope["subproject"],
                                                    scope["stage"], substage))
    key = paths.service_key(service, scope["cluster"], mode, subpath)
    found = parse_key(key)
    assert tuple(found[f] for f in FIELDS) == (service, scope["cluster"], scope["project"],
                                               scope["subproject"], scope["stage"], substage)


@settings(max_examples=500, deadline=None)
@given(cluster=names("cluster"), queue=names("queue"))
def test_pure_dask_keys_read_back(cluster, queue):
    key = paths.pure_dask_key(cluster, queue)
    assert key.startswith("pure-daskserver-")
    assert key[len("pure-daskserver-"):].split("--") == [cluster, queue]
    assert parse_key(key)["cluster"] == cluster


def test_the_collisions_of_the_issue_are_refused():
    """p- + x vs p + -x, cluster a-rw + x vs a + rw-x, and pure Dask's
    a-b + c vs a + b-c gave one key each before."""
    assert name_problem("p-", "project") == (
        "project name 'p-' must not start or end with '-' (server keys join names with "
        "'-' and '--')")
    assert name_problem("-x", "subproject", allow_slash=True) == (
        "subproject name '-x' must not start or end with '-' or next to '/' (server keys "
        "join names with '-' and '--')")
    assert name_problem("a/-x", "subproject", allow_slash=True) is not None
    assert name_problem("a-rw", "cluster") == (
        "cluster name 'a-rw' must not contain '-rw' or '-ro' as a dash-separated part "
        "(server keys put the mode right after the cluster)")
    assert name_problem("a-ro-b", "cluster") is not None
    assert name_problem("rw-x", "project") is None and name_problem("rw-x", "cluster") is None
    assert name_problem("a-rwx", "cluster") is None
    assert paths.pure_dask_key("a-b", "c") != paths.pure_dask_key("a", "b-c")
    for what in ("cluster", "stage", "substage", "queue"):
        assert name_problem("-q", what) is not None and name_problem("q-", what) is not None


@pytest.mark.parametrize("value", ["p\n", "p\r", "p\x00", "p q", "p;x"])
def test_a_name_with_a_trailing_newline_or_control_character_is_refused(value):
    problem = name_problem(value, "project")
    assert problem is not None and "\n" not in problem and "\x00" not in problem


@pytest.mark.parametrize("check", [
    lambda v: token_problem(v, "hostname"), lambda v: path_problem(v, "bufferdir"),
    node_problem])
def test_values_are_matched_whole(check):
    assert check("x\n") is not None and check("x") is None


@pytest.mark.parametrize("value", ["-oProxyCommand=x", "-n", "-"])
def test_a_leading_dash_is_refused_in_command_line_words(value):
    assert token_problem(value, "hostname") == (
        f"hostname '{value}' must not start with '-' (a command would read it as an option)")
    assert node_problem(value) is not None


@pytest.mark.parametrize("value", ["n1;touch /tmp/x", "n1'", "n 1", "$(id)", ".n", "n1\n"])
def test_node_values_are_host_names(value):
    assert node_problem(value).startswith("node '")
    assert node_problem("n042.cluster_a-1") is None


def _write(root, text):
    (root / "seamless.yaml").write_text(text)
    return root


@pytest.mark.parametrize("text,where,message", [
    ("- project: p-\n", "1:12", "project name 'p-' must not start or end with '-'"),
    ("- project: p\n- subproject: -x\n", "2:15", "subproject name '-x' must not start or end"),
    ("- project: p\n- stage -s:\n    - project: q\n", "2:9", "stage name '-s' must not start"),
    ("- project: p\n- clusters:\n    a-rw: {type: local, frontends: [{}]}\n", "3:5",
     "cluster name 'a-rw' must not contain '-rw'"),
    ('- project: "p\\n"\n', "1:12", "project name 'p\\n' may only contain"),
    ("- project: p\n- clusters:\n    c: {type: local, frontends: [{hostname: -oX}]}\n",
     "3:45", "hostname '-oX' must not start with '-'"),
])
def test_refused_names_point_at_the_file(tree, text, where, message):
    root = tree({"seamless.yaml": text})
    with pytest.raises(ConfigError) as info:
        evaluate_workdir(str(root))
    rendered = info.value.render(with_source=False)
    assert rendered.startswith(f"seamless.yaml:{where}: {message}"), rendered

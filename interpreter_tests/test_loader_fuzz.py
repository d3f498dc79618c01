"""load_file on arbitrary input: a SourceFile or a ConfigError that points
into the file, never any other exception."""

import os
import tempfile

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from seamless_config.errors import ConfigError, Span
from seamless_config.language.loader import COMMANDS, load_file
from seamless_config.language.nodes import SourceFile
from seamless_config.language.stages import parse_stage_key

STAGE_KEYS = ("stage prod", "stage prod:gpu", "stage :gpu", "stage prod:", "stage", "stage a b",
              "stage a--b")
WORDS = COMMANDS + STAGE_KEYS + (
    "stages", "local_cluster", "type", "frontends", "hashserver", "queues",
    "TEMPLATE", "process", "remote", "jobserver", "daskserver", "a--b", "STAGE-x", "..", "/", "",
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2**70), st.floats(), st.text(max_size=12),
    st.sampled_from(WORDS),
)
keys = st.one_of(st.sampled_from(WORDS), st.text(max_size=8), st.integers(), st.booleans(),
                 st.none())
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=25,
)
# Well-formed commands, so that whole lists load too and errors come late.
VALID = (
    {"project": "p"}, {"subproject": "a/b"}, {"subproject": None}, {"cluster": "hpc"},
    {"execution": "spawn"}, {"queue": "q"}, {"remote": None}, {"remote": "daskserver"},
    {"persistent": False}, {"record": True}, {"node": "n1"}, {"nparallel": 2},
    "inherit_from_parent", {"inherit_from_parent": False}, {"clusters": {}},
    {"clusters": {"c": {"type": "local", "frontends": [{"hashserver": {
        "bufferdir": "/tmp/b", "network_interface": "127.0.0.1",
        "port_start": 50000, "port_end": 50099}}]}}},
)
command_items = st.one_of(
    st.sampled_from(VALID),
    st.sampled_from(VALID),
    st.sampled_from(WORDS),
    st.builds(lambda k, v: {k: v}, st.sampled_from(WORDS), trees),
    st.dictionaries(st.sampled_from(WORDS), trees, min_size=2, max_size=3),
)
command_lists = st.recursive(
    st.lists(command_items, max_size=6),
    lambda inner: st.lists(st.one_of(command_items, st.sampled_from(VALID),
                                     st.builds(lambda k, v: {k: v},
                                               st.sampled_from(STAGE_KEYS), inner)),
                           max_size=4),
    max_leaves=20,
)


def dumped(value, flow: bool) -> bytes:
    return yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True).encode("utf-8")


documents = st.one_of(
    st.builds(dumped, command_lists, st.booleans()),
    st.builds(dumped, trees, st.booleans()),
    st.text(max_size=80).map(lambda t: t.encode("utf-8")),
    st.binary(max_size=80),
)


def check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "seamless.yaml")
        with open(path, "wb") as f:
            f.write(data)
        try:
            result = load_file(path)
        except ConfigError as exc:
            for problem in exc.problems:
                assert problem.span is not None, problem.message
                assert problem.span.path == path and problem.span.line >= 1, problem.span
                problem.render()  # the excerpt reader must cope with any file too
        else:
            assert isinstance(result, SourceFile) and result.found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
@example(b"- &a {'stage x': [*a]}\n")
@example(b"- clusters: &c {x: {frontends: [*c]}}\n")
@example(b"- \xff\n")
@example(b"\x00")
@example(b"--- a\n--- b\n")
@example(b"- stage prod:\n  - clusters: {}\n  - inherit_from_parent\n")
@example(b"- stage a: &a [{project: p}]\n" + b"".join(  # an alias bomb (issue 13)
    b"- stage a%d: &a%d [" % (i, i) + b", ".join([b"{stage a: *a%d}" % (i - 1) if i > 1 else
                                                   b"{stage a: *a}"] * 10) + b"]\n"
    for i in range(1, 9)))
@example(b"- clusters: {c: {queues: {q: {extra_dask_config: &x {a: *x}}}}}\n")
def test_load_file_never_escapes(data):
    check(data)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(" \t:ab-/.$\u00a0\n"), max_size=12))
def test_stage_keys_never_escape(tail):
    span = Span("f.yaml", 2, 3, 2, 20)
    try:
        selector = parse_stage_key("stage" + tail, span)
    except ConfigError as exc:
        assert exc.span.path == "f.yaml" and exc.span.line == 2 and exc.span.column >= 3
    else:
        assert selector is None or selector.stage

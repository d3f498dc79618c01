"""Hostile files in a configuration tree (issue 13, items 3 and 7): special
files where configuration files belong (FIFOs, /dev/zero, link loops,
unreadable files, directories, huge files) and YAML alias bombs.

Every case runs the commands that read configuration (check, explain, plan,
jobscript) in a fresh process under a memory limit and an alarm, as a user
would run them: a case passes when each command ends by itself, within the
limits, with a ConfigError naming the file (or no error when the file is
harmless), never an internal error (exit 70) or a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from seamless_config.core import yaml_nodes as _yaml, paths
from seamless_config.errors import ConfigError

COMMANDS = ("check", "explain", "plan", "jobscript")
MEMORY_LIMIT = 2 * 2**30  # address space; the bombs of the issue needed gigabytes
SECONDS = 60  # for the four commands together, one process

CHILD = """
import json, resource, signal, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
signal.alarm({seconds})
from click.testing import CliRunner
from seamless_config.cli.main import cli
found = {{}}
for command in {commands!r}:
    result = CliRunner().invoke(cli, [command, "--workdir", {workdir!r}])
    exc = result.exception
    text = result.output
    found[command] = {{"code": result.exit_code, "output": text[:3000] + text[-3000:],
                      "exception": None if exc is None or isinstance(exc, SystemExit)
                      else type(exc).__name__}}
print(json.dumps(found))
"""

CLUSTER = """\
hpc:
  type: slurm
  frontends:
    - hostname: login.example
      hashserver: {bufferdir: /b}
      database: {database_dir: /d}
      daskserver: {}
  default_queue: q
  queues:
    q: {walltime: "01:00:00", cores: 2, memory: 2GB}
  tunnel: true
"""
PROJECT = "- project: p\n- cluster: hpc\n- remote: daskserver\n"


def bomb(levels: int = 9, where: str = "extra_dask_config") -> str:
    """The issue's alias bomb: nested lists of ten aliases, in a queue field
    passed through to dask as Python data (under 1 kB)."""
    lines = ["hpc:", "  type: slurm", "  frontends: [{hostname: login.example, "
             "hashserver: {bufferdir: /b}, database: {database_dir: /d}, daskserver: {}}]",
             "  default_queue: q", "  queues:", "    q:", '      walltime: "01:00:00"',
             "      cores: 2", "      memory: 2GB", f"      {where}:",
             "        a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"        a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]"
              for i in range(1, levels)]
    return "\n".join(lines + ["  tunnel: true"]) + "\n"


def stage_bomb(levels: int = 9) -> str:
    lines = [PROJECT.rstrip("\n"), "- stage s0: &s0 [{project: a}, {project: b}, {project: c}]"]
    lines += [f"- stage s{i}: &s{i} [" + ", ".join([f"{{stage s{i - 1}: *s{i - 1}}}"] * 10) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _fifo(path):
    os.mkfifo(path)


def _link(target):
    return lambda path: os.symlink(target, path)


def _loop(path):
    os.symlink(path + ".other", path)
    os.symlink(path, path + ".other")


def _socket(path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    sock.close()


def _unreadable(path):
    with open(path, "w") as f:
        f.write(PROJECT)
    os.chmod(path, 0)


def _huge(path):
    with open(path, "w") as f:
        f.truncate(paths.MAX_CONFIG_BYTES + 1)


def _text(text):
    def write(path):
        with open(path, "w") as f:
            f.write(text)
    return write


def _directory(path):
    os.mkdir(path)


NOT_REGULAR = "cannot read file: it is {}, not a regular file"
# (id, file: "work" seamless.yaml, "profile", "catalogue" clusters.yaml, "extra"
# clusters/x.yaml, "parent" the parent's seamless.yaml; how to make it; the
# message check must give, None when the file is harmless)
CASES = [
    ("fifo", "work", _fifo, NOT_REGULAR.format("a named pipe (FIFO)")),
    ("fifo-profile", "profile", _fifo, NOT_REGULAR.format("a named pipe (FIFO)")),
    ("fifo-catalogue", "catalogue", _fifo, NOT_REGULAR.format("a named pipe (FIFO)")),
    ("fifo-catalogue-extra", "extra", _fifo, NOT_REGULAR.format("a named pipe (FIFO)")),
    ("fifo-parent", "parent", _fifo, NOT_REGULAR.format("a named pipe (FIFO)")),
    ("dev-zero", "work", _link("/dev/zero"), NOT_REGULAR.format("a character device")),
    ("dev-zero-catalogue", "catalogue", _link("/dev/zero"),
     NOT_REGULAR.format("a character device")),
    ("dev-urandom-profile", "profile", _link("/dev/urandom"),
     NOT_REGULAR.format("a character device")),
    ("socket", "work", _socket, NOT_REGULAR.format("a socket")),
    ("directory", "work", _directory, NOT_REGULAR.format("a directory")),
    ("directory-catalogue-extra", "extra", _directory, None),  # not a file: not read
    ("link-loop", "work", _loop, "cannot read file: Too many levels of symbolic links"),
    ("link-loop-catalogue", "catalogue", _loop,
     "cannot read file: Too many levels of symbolic links"),
    ("dangling-link-catalogue", "catalogue", _link("/nonexistent/clusters.yaml"),
     "cannot read file: No such file or directory"),
    ("proc-self-mem", "work", _link("/proc/self/mem"), "cannot read file: Input/output error"),
    ("huge", "work", _huge, "cannot read file: it is larger than 8 MiB"),
    ("huge-catalogue", "catalogue", _huge, "cannot read file: it is larger than 8 MiB"),
    ("alias-bomb", "catalogue", _text(bomb()), "makes the document expand to more than 100000 nodes"),
    ("alias-bomb-resources", "catalogue", _text(bomb(where="job_extra_directives")),
     "makes the document expand to more than 100000 nodes"),
    ("alias-bomb-stages", "work", _text(stage_bomb()),
     "makes the document expand to more than 100000 nodes"),
    ("alias-recursive", "catalogue", _text(CLUSTER + "x: &r {a: *r}\n"),
     "YAML alias '*r' refers to a node that contains it"),
    ("alias-deep", "catalogue", _text(
        "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 300))),
     "makes the document expand to more than 200 levels deep"),
    ("alias-moderate", "catalogue", _text(CLUSTER.replace(
        "    q: {walltime", "    q: {extra_dask_config: {a: &b [1, {c: 3}], b: *b}, walltime")),
     None),
]
if os.geteuid() != 0:  # root reads a mode-000 file anyway
    CASES.append(("unreadable", "work", _unreadable, "cannot read file: Permission denied"))


def build(tmp_path, where: str, make) -> tuple[str, str, str]:
    """(work directory, home, path of the hostile file)."""
    home = tmp_path / "home"
    (home / ".seamless" / "clusters").mkdir(parents=True)
    parent = tmp_path / "parent"
    work = parent / "work"
    work.mkdir(parents=True)
    (home / ".seamless" / "clusters.yaml").write_text(CLUSTER)
    (work / "seamless.yaml").write_text(PROJECT + ("- inherit_from_parent\n"
                                                  if where == "parent" else ""))
    target = {"work": work / "seamless.yaml", "profile": work / "seamless.profile.yaml",
              "catalogue": home / ".seamless" / "clusters.yaml",
              "extra": home / ".seamless" / "clusters" / "x.yaml",
              "parent": parent / "seamless.yaml"}[where]
    if target.exists():
        target.unlink()
    make(str(target))
    return str(work), str(home), str(target)


def run_case(work: str, home: str, commands=COMMANDS, seconds=SECONDS) -> dict:
    code = CHILD.format(limit=MEMORY_LIMIT, seconds=seconds, commands=commands, workdir=work)
    env = dict(os.environ, HOME=home, REMOTE_HTTP_LAUNCHER_DIR=os.path.join(home, ".rhl"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    env.pop("SEAMLESS_CACHE", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=work, timeout=seconds + 30)
    assert out.returncode == 0, (f"the process ended with {out.returncode} (-14: the alarm, "
                                 f"a hang; -9 or MemoryError: the memory limit)\n{out.stderr}")
    return json.loads(out.stdout)


# Cases that must still fail, with why (strict: a fixed case fails here
# until it is removed from this table). None today.
BLOCKED: dict[str, set[str]] = {}


def _marks(case_id):
    for reason, ids in BLOCKED.items():
        if case_id in ids:
            return [pytest.mark.xfail(strict=True, reason=reason)]
    return []


def _blocked(case_id) -> bool:
    return any(case_id in ids for ids in BLOCKED.values())


@pytest.mark.parametrize("case_id,where,make,message",
                         [pytest.param(*c, id=c[0], marks=_marks(c[0])) for c in CASES])
def test_hostile_file(tmp_path, case_id, where, make, message):
    work, home, target = build(tmp_path, where, make)
    # a blocked case hangs in its first command: asking that one is enough
    found = run_case(work, home, ("check",), 4) if _blocked(case_id) else run_case(work, home)
    for command, result in found.items():
        assert result["exception"] is None, (command, result)
        assert result["code"] != 70 and "internal error" not in result["output"], (command,
                                                                                   result)
    if message is None:
        assert found["check"]["code"] == 0, found["check"]["output"]
        return
    assert found["check"]["code"] == 1, found["check"]
    shown = os.path.basename(target)
    assert f"{shown}:" in found["check"]["output"] and message in found["check"]["output"], \
        found["check"]["output"]
    for command in set(found) & {"explain", "plan"}:
        if where in ("work", "profile", "parent") or "bomb" in case_id:
            assert found[command]["code"] == 3, (command, found[command])


def test_read_text_refuses_special_files_without_opening_them(tmp_path):
    fifo = tmp_path / "seamless.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as info:
        _yaml.read_text(str(fifo))  # would block in open() if it opened the FIFO
    assert info.value.render(with_source=False) == (
        f"{fifo}:1:1: cannot read file: it is a named pipe (FIFO), not a regular file; "
        "only regular files are read; replace it with one")


def test_a_file_growing_past_the_limit_while_read_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("x" * 100)
    with pytest.raises(OSError, match="larger than 0 MiB"):
        paths.read_regular(str(path), limit=10)
    assert paths.read_regular(str(path), limit=100) == b"x" * 100


@pytest.mark.parametrize("text,message,where", [
    ("a: &a [1, 2]\nb: [*a, *a]\n", None, None),
    ("a: &a {x: *a}\n", "YAML alias '*a' refers to a node that contains it, which would "
     "repeat forever", (1, 11)),
    ("- &a [*a]\n", "YAML alias '*a' refers to a node that contains it", (1, 7)),
    (textwrap.dedent("""\
        a: &a [x, x, x, x, x, x, x, x, x, x]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
        """), "YAML alias '*d' makes the document expand to more than 100000 nodes", (5, 36)),
])
def test_aliases_are_expanded_within_a_budget(text, message, where):
    if message is None:
        assert _yaml.plain(_yaml.compose_text(text, "a.yaml"), "a.yaml") == {
            "a": [1, 2], "b": [[1, 2], [1, 2]]}
        return
    with pytest.raises(ConfigError) as info:
        _yaml.compose_text(text, "a.yaml")
    assert info.value.message.startswith(message)
    assert (info.value.span.line, info.value.span.column) == where

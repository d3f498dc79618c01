"""README.md and COMMAND_LANGUAGE.md match the program: every fenced
snippet runs, every option the prose and tables promise is accepted.

- ``sh`` blocks: each command (``&&`` splits a line; ``#`` starts a
  comment) runs as an argv list in a temporary copy of ``examples/local``
  (a line with ``$(...)`` runs under ``bash -c``, as a user would paste it);
  commands that cannot run here are listed in ``NOT_RUN`` with the reason.
- ``python`` blocks run as a script in a subprocess, in the project the
  section's ``PROJECTS`` entry names (default: the examples/local copy).
- ``yaml`` blocks whose first line names a file (``# seamless.yaml``,
  ``# seamless.profile.yaml``, ``# ~/.seamless/clusters.yaml``) are written
  there, one project and home per document, in document order, and
  ``seamless-config check --all-stages`` must pass in the project after
  each (after a catalogue snippet: ``check`` in an empty directory, which
  validates every cluster); other yaml blocks are checked alone, as a
  seamless.yaml, with ``check``.
- ``text`` and unlabelled blocks are shown output, not run; any other
  language fails this test until it says how to run it.
- Each snippet names the extras it needs next to it ("needs ``[dask]``" in
  the prose since the previous block or heading, or the previous block's
  when only blank lines separate them); what it visibly uses (``import
  seamless.``, ``get_dask_client``, ``seamless-init``) must be named.
- Inline code and tables: every ``seamless-config ...`` / ``seamless-init
  ...`` span and every row of the command tables uses only options its
  command's ``--help`` lists, and the sentences "X, Y and Z take ``--a``"
  hold for each command named.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner

from seamless_config.cli.main import cli

from .conftest import write_tree
from .test_dask_local import pure_dask_tree

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ("README.md", "COMMAND_LANGUAGE.md")
EXTRAS = {"servers", "dask", "integration", "test"}

# Commands the docs show but this test cannot run, by their first words.
NOT_RUN = {
    ("apt-get",): "installs system packages as root (the test machine has them)",
    ("python3", "-m", "pip", "install"): "installs from the package registry; this "
                                          "environment already has the package and its extras",
    ("python3", "-m", "pytest"): "the test suite itself",
    ("bench/run",): "the benchmark: minutes, and it builds two virtual environments",
    (".ci/run",): "the whole CI run, as root",
}
# Sections whose python snippets need a project of another kind.
PROJECTS = {"Dask and local workers": "pure_dask"}
# What a snippet visibly uses -> the extra it needs.
USES = [(re.compile(r"^\s*(import|from) seamless\.(?!config\b)|seamless\.transformer", re.M),
         "integration"),
        (re.compile(r"get_dask_client|^\s*(import|from) (distributed|dask)\b", re.M), "dask"),
        (re.compile(r"(^|&&\s*)seamless-init\b", re.M), "servers")]
NEEDS = re.compile(r"needs `\[([a-z,]+)\]`")
SHOWN = {"", "text"}


@dataclass
class Snippet:
    doc: str
    line: int
    lang: str
    text: str
    section: str
    extras: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return f"{self.doc}:{self.line} ({self.lang or 'plain'}, {self.section})"


def read(doc: str) -> str:
    with open(os.path.join(REPO, doc), encoding="utf-8") as f:
        return f.read()


def parse(doc: str) -> list[Snippet]:
    """Fenced blocks (indented ones too, as in list items), each with the
    extras its surrounding prose names."""
    out: list[Snippet] = []
    lines = read(doc).split("\n")
    section, prose, adjacent, i = "", [], False, 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^(\s*)```(\S*)\s*$", line)
        if line.startswith("#") and not fence:
            section, prose, adjacent = line.lstrip("#").strip(), [], False
        elif fence:
            indent, lang, start = fence.group(1), fence.group(2), i + 1
            i += 1
            body = []
            while not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            declared = {e for m in NEEDS.findall("\n".join(prose)) for e in m.split(",")}
            if not declared and adjacent and out:
                declared = set(out[-1].extras)
            out.append(Snippet(doc, start, lang, "\n".join(body) + "\n", section, declared))
            prose, adjacent = [], True
        elif line.strip():
            prose.append(line)
            adjacent = False
        i += 1
    return out


ALL = [s for doc in DOCS for s in parse(doc)]


def by_lang(*langs):
    return [pytest.param(s, id=f"{s.doc}:{s.line}") for s in ALL if s.lang in langs]


def test_every_snippet_has_a_known_language_and_names_its_extras():
    assert ALL, "no snippets found"
    for snippet in ALL:
        assert snippet.lang in {"sh", "python", "yaml"} | SHOWN, f"{snippet}: how is it run?"
        assert snippet.extras <= EXTRAS, f"{snippet}: unknown extra in {snippet.extras}"
        for pattern, extra in USES:
            if snippet.lang in ("sh", "python") and pattern.search(snippet.text):
                assert extra in snippet.extras, f"{snippet} uses [{extra}]: say 'needs `[{extra}]`'"


# -- shell ------------------------------------------------------------------------------

def commands(text: str) -> list[list[str] | str]:
    """argv lists, or a whole line for bash where it uses command substitution."""
    found: list[list[str] | str] = []
    for line in text.splitlines():
        if "$(" in line:
            found.append(line)
            continue
        words, current = shlex.split(line, comments=True), []
        for word in words + ["&&"]:
            if word == "&&":
                if current:
                    found.append(current)
                current = []
            else:
                current.append(word)
    return found


def not_run(argv) -> str | None:
    if isinstance(argv, str):
        return None
    return next((why for prefix, why in NOT_RUN.items()
                 if tuple(argv[:len(prefix)]) == prefix), None)


@pytest.fixture
def workspace(fake_home, tmp_path):
    """A copy of examples/ (the README's commands run from the repository
    root or from inside the project). The profile names stage prod:gpu, as
    the README's seamless.yaml does, for 'seamless-init --stage prod:gpu'."""
    root = tmp_path / "repo"
    shutil.copytree(os.path.join(REPO, "examples"), root / "examples",
                    ignore=shutil.ignore_patterns("data", "executions.log", "__pycache__"))
    write_tree(root / "examples" / "local", {
        "seamless.profile.yaml": "- stage prod:gpu:\n    - subproject: gpu-runs\n"})
    return root


def run_argv(argv, cwd, env=None):
    if isinstance(argv, str):
        argv = ["bash", "-c", argv]
    return subprocess.run(argv, cwd=str(cwd), capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("snippet", by_lang("sh"))
def test_shell_snippet_runs(snippet, workspace):
    ran = 0
    for argv in commands(snippet.text):
        if not_run(argv):
            continue
        words = [argv] if isinstance(argv, str) else argv
        at_root = any(w.startswith("examples/") for w in words)
        cwd = workspace if at_root else workspace / "examples" / "local"
        if not isinstance(argv, str):
            assert shutil.which(argv[0]), f"{snippet}: {argv[0]} is not installed"
        out = run_argv(argv, cwd)
        assert out.returncode == 0, f"{snippet}: {argv} exited {out.returncode}:\n{out.stderr}"
        assert "Traceback" not in out.stderr
        ran += 1
    if ran == 0:  # every command listed as not runnable: say so
        assert all(not_run(a) for a in commands(snippet.text))


# -- python -----------------------------------------------------------------------------

@pytest.mark.parametrize("snippet", by_lang("python"))
def test_python_snippet_runs(snippet, workspace):
    if PROJECTS.get(snippet.section) == "pure_dask":
        project = workspace / "pure-dask"
        pure_dask_tree(project, ports=(48700, 48799))
    else:
        project = workspace / "examples" / "local"
    script = project / f"snippet_{snippet.line}.py"
    script.write_text(snippet.text)
    out = run_argv([sys.executable, str(script)], project)
    assert out.returncode == 0, f"{snippet}:\n{out.stderr}"
    assert "Traceback" not in out.stderr


def test_example_script_guards_its_entry_point(workspace):
    """Under execution: spawn, workers import the script again: the guard
    keeps them from running it (the result is printed once)."""
    project = workspace / "examples" / "local"
    shutil.copy(os.path.join(REPO, "examples", "seamless_script.py"), project)
    (project / "seamless.profile.yaml").write_text("- execution: spawn\n")
    out = run_argv([sys.executable, "seamless_script.py"], project)
    assert (out.returncode, out.stdout) == (0, "5\n"), out.stderr
    with open(os.path.join(REPO, "examples", "seamless_script.py")) as f:
        assert 'if __name__ == "__main__":' in f.read()


# -- yaml -------------------------------------------------------------------------------

def target_of(snippet: Snippet) -> str | None:
    first = snippet.text.splitlines()[0] if snippet.text.strip() else ""
    named = re.match(r"#\s*(~/\.seamless/clusters(?:/[\w.-]+)?\.yaml|seamless(?:\.profile)?"
                     r"\.yaml)\b", first)
    return named.group(1) if named else None


def check(cwd, home, *args):
    return run_argv([sys.executable, "-m", "seamless_config.cli.main", "check", *args], cwd,
                    env={"HOME": str(home), "REMOTE_HTTP_LAUNCHER_DIR": str(home / ".rhl")})


@pytest.mark.parametrize("doc", DOCS)
def test_yaml_snippets_check(doc, tmp_path):
    found = [s for s in parse(doc) if s.lang == "yaml"]
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".seamless").mkdir(parents=True)
    project.mkdir()
    for n, snippet in enumerate(found):
        target = target_of(snippet)
        if target is None:  # a fragment of its own
            alone = tmp_path / f"alone{n}"
            write_tree(alone, {"seamless.yaml": snippet.text})
            out = check(alone, home)
        else:
            path = home / target[2:] if target.startswith("~/") else project / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(snippet.text)
            if target.startswith("~/"):
                empty = tmp_path / f"empty{n}"
                empty.mkdir()
                out = check(empty, home)
            else:
                out = check(project, home, "--all-stages")
        assert out.returncode == 0, f"{snippet}:\n{out.stdout}{out.stderr}"


# -- options promised by prose, tables and inline code ----------------------------------

def help_options(path: tuple[str, ...]) -> set[str]:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", result.output))


def init_options() -> set[str]:
    out = run_argv([sys.executable, "-m", "seamless_config.cli.init", "--help"], REPO)
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", out.stdout))


def command_path(words: list[str], group=cli) -> tuple[tuple[str, ...], list[str]]:
    path = []
    while words and hasattr(group, "commands") and words[0] in group.commands:
        group = group.commands[words[0]]
        path.append(words.pop(0))
    return tuple(path), words


def options_in(words: list[str]) -> set[str]:
    return {w.split("=")[0] for part in words for w in re.split(r"[\[\]|\\]+", part)
            if w.startswith("-") and len(w) > 1}


def inline_code(doc: str) -> list[str]:
    return re.findall(r"(?<!`)`([^`\n]+)`(?!`)", read(doc))


def test_inline_commands_use_only_their_options():
    seen = 0
    for doc in DOCS:
        for code in inline_code(doc):
            words = code.replace("\\|", "|").split()
            if not words or words[0] not in ("seamless-config", "seamless-init"):
                continue
            if words[0] == "seamless-init":
                known, rest = init_options(), words[1:]
            else:
                path, rest = command_path(words[1:])
                known = help_options(path)
            assert options_in(rest) <= known, f"{doc}: `{code}` uses {options_in(rest) - known}"
            seen += 1
    assert seen


# The tables whose first column is a command of a group.
TABLE_GROUPS = {"Explaining a configuration": (), "Managing servers": ("services",)}


def section_text(doc: str, heading: str) -> str:
    found = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", read(doc), re.M | re.S)
    assert found, f"{doc} has no section '{heading}'"
    return found.group(1)


def test_command_tables_match_the_commands():
    for heading, group in TABLE_GROUPS.items():
        text = section_text("README.md", heading)
        rows = re.findall(r"^\| `([^`]+)` \|", text, re.M)
        assert rows, heading
        for cell in rows:
            words = cell.replace("\\|", "|").split()
            path, rest = command_path(list(group) + words)
            assert len(path) > len(group), f"{heading}: '{cell}' is not a command"
            assert options_in(rest) <= help_options(path), f"{heading}: '{cell}'"


def clauses(text: str):
    """(subject, options) of every "X, Y and Z (also) take(s) `--a` and `-b`"."""
    flat = " ".join(text.split())
    for clause in re.split(r"[.;]\s|, and ", flat):
        found = re.match(r"(.*?)\b(?:also )?takes?\b(.*)", clause)
        if found and "`-" in found.group(2):
            yield found.group(1), {c.split()[0] for c in re.findall(r"`(-[^`]+)`", found.group(2))}


def test_documented_options_are_taken():
    checked = 0
    for heading, group in TABLE_GROUPS.items():
        text = section_text("README.md", heading)
        root = cli
        for name in group:
            root = root.commands[name]
        for subject, options in clauses(text):
            names = re.findall(r"`([a-z]+)`", subject)
            if not names and re.search(r"\bevery\b", subject, re.I):
                names = list(root.commands)
            assert names, f"{heading}: which commands take {options}? ({subject!r})"
            for name in names:
                known = help_options(group + (name,))
                assert options <= known, f"{heading}: {name} lacks {options - known}"
                checked += 1
    assert checked >= 10

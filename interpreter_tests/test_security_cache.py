"""The cache directory on a shared machine (issue 13, item 1): nothing is read
back from a folder or file that another user owns or may write, the grammar
tables are data (never a pickle), and the user is told once.

Each case runs ``seamless-config plan`` in a fresh process, as a user would:
the cache is read at start-up. The tests run as root here, so "another user"
is made with chown to nobody's uid."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys

import pytest

from seamless_config.language import grammars
from seamless_config.core import paths

from .conftest import local_project

NOBODY = 65534
WARNING = "not using the cache"


class Planted:
    """A pickle that, once loaded, creates the file ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".seamless").mkdir(parents=True)
    root = local_project(tmp_path / "p")
    cache_home = tmp_path / "xdg"
    cache_home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setenv("REMOTE_HTTP_LAUNCHER_DIR", str(home / ".remote-http-launcher"))
    monkeypatch.delenv("SEAMLESS_CACHE", raising=False)
    return root, cache_home / "seamless-config"


def plan(root):
    """(exit code, argv words of the hashserver, stderr) of a fresh
    ``seamless-config plan --json`` with a stage key to parse."""
    (root / "seamless.profile.yaml").write_text("- stage prod:\n    - project: demo\n")
    out = subprocess.run([sys.executable, "-m", "seamless_config.cli.main", "plan", "--json",
                          "--workdir", str(root), "--stage", "prod"],
                         capture_output=True, text=True, timeout=60, env=dict(os.environ))
    argv = None
    if out.returncode == 0:
        argv = json.loads(out.stdout)["services"][0]["argv"]
    return out.returncode, argv, out.stderr


def table_names() -> list[str]:
    """The file names of the grammar tables (template first), and the
    names of the previous version's pickles."""
    import tempfile

    names = []
    with tempfile.TemporaryDirectory() as scratch:
        old = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = scratch
        try:
            for name in ("template", "stage"):
                names.append(os.path.basename(grammars._cache_file(
                    name, grammars.grammar_text(name), {"parser": "lalr"})))
        finally:
            os.environ["XDG_CACHE_HOME"] = old
    return names + [n.rsplit(".", 1)[0] + ".lark-tables" for n in names]


def table_paths(folder) -> list[str]:
    return [os.path.join(str(folder), n) for n in table_names()]


def plant(folder, marker) -> None:
    os.makedirs(folder, exist_ok=True)
    for path in table_paths(folder):
        with open(path, "wb") as f:
            pickle.dump(Planted(str(marker)), f)


def test_the_tables_are_data_and_load_without_pickle(project, monkeypatch):
    root, folder = project
    code, argv, err = plan(root)
    assert code == 0, err
    names = sorted(os.listdir(folder))
    tables = [n for n in names if n.endswith(".lark-json")]
    assert tables == [table_names()[0]] and not [n for n in names if n.endswith(".lark-tables")]
    for name in tables:
        path = os.path.join(str(folder), name)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path, "rb") as f:
            assert isinstance(json.load(f), dict)  # JSON, not a pickle

    def refuse(*args, **kwargs):
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    grammars.parser.cache_clear()
    try:
        loaded = grammars._load_tables(os.path.join(str(folder), tables[0]))
        assert loaded is not None
    finally:
        grammars.parser.cache_clear()


def test_a_planted_pickle_in_our_own_cache_never_runs(project, tmp_path):
    """Even in a private folder, a file under the tables' names is read as
    JSON data: a pickle there is garbage, rebuilt, never executed."""
    root, folder = project
    marker = tmp_path / "pwned"
    os.makedirs(folder, mode=0o700)
    plant(folder, marker)
    code, argv, err = plan(root)
    assert code == 0, err
    assert not marker.exists()
    assert argv[0] == "hashserver"


@pytest.mark.parametrize("how", ["owned by another user", "group-writable",
                                 "world-writable", "a symbolic link"])
def test_a_cache_folder_others_can_write_is_not_used(project, tmp_path, how):
    root, folder = project
    marker = tmp_path / "pwned"
    target = folder
    if how == "a symbolic link":
        target = tmp_path / "elsewhere"
    plant(target, marker)
    if how == "owned by another user":
        for path in [target, *(os.path.join(target, n) for n in os.listdir(target))]:
            os.chown(path, NOBODY, NOBODY)
        os.chmod(target, 0o755)
    elif how == "group-writable":
        os.chmod(target, 0o770)
    elif how == "world-writable":
        os.chmod(target, 0o1777)
    else:
        os.chmod(target, 0o700)
        os.symlink(target, folder)
    before = sorted(os.listdir(target))
    code, argv, err = plan(root)
    assert code == 0, err
    assert not marker.exists()
    assert argv[0] == "hashserver"
    assert err.count(WARNING) == 1, err  # once, though both parsers and tools.yaml ask
    assert f"warning: {WARNING} {folder}: " in err
    assert sorted(os.listdir(target)) == before  # nothing written there either


def test_a_file_of_another_user_in_our_folder_is_not_read(project, tmp_path):
    root, folder = project
    marker = tmp_path / "pwned"
    os.makedirs(folder, mode=0o700)
    plant(folder, marker)
    for path in table_paths(folder):
        os.chown(path, NOBODY, NOBODY)
    code, argv, err = plan(root)
    assert code == 0, err
    assert not marker.exists()
    assert f"{WARNING} {table_paths(folder)[0]}: it is owned by uid {NOBODY}" in err


@pytest.mark.parametrize("kind", ["fifo", "symlink", "group-writable"])
def test_odd_files_in_the_cache_are_skipped_without_blocking(project, tmp_path, kind):
    root, folder = project
    os.makedirs(folder, mode=0o700)
    elsewhere = tmp_path / "tables"
    elsewhere.write_text("{}")
    for path in table_paths(folder):
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "symlink":
            os.symlink(elsewhere, path)
        else:
            with open(path, "w") as f:
                f.write("{}")
            os.chmod(path, 0o666)
    code, argv, err = plan(root)
    assert code == 0, err
    assert argv[0] == "hashserver"


def test_the_reader_and_writer_directly(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = paths.cache_dir()
    assert folder == str(tmp_path / "seamless-config")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    path = os.path.join(folder, "x.data")
    paths.write_cache_file(path, lambda f: f.write(b"payload"))
    assert paths.read_cache_file(path) == b"payload"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]
    assert paths.read_cache_file(os.path.join(folder, "absent")) is None
    assert paths.read_cache_file(path, limit=3) is None  # larger than asked: not used
    os.chown(path, NOBODY, NOBODY)
    with pytest.warns(Warning, match=f"{WARNING} {path}: it is owned by uid {NOBODY}"):
        assert paths.read_cache_file(path) is None
    os.chmod(folder, 0o777)
    with pytest.warns(Warning, match=r"it is writable by group and others \(mode 777\)"):
        assert paths.cache_dir() is None


def tools_cache(folder) -> str:
    from seamless_config.language import template

    return os.path.join(str(folder), f"tools-v{template.FORMAT}.json")


def tamper_tools_cache(folder, *, consistent: bool = True) -> None:
    """Rewrite the cached tools.yaml so that the hashserver's command would
    start another program (what the issue did with marshal). ``consistent``:
    the data and its parsed template both say so, as a forger would write
    it; otherwise only the parsed template does."""
    from seamless_config.language import template

    with open(tools_cache(folder), "rb") as f:
        doc = json.load(f)
    evil = "evil-program {workdir}"
    old = doc["tools"]["hashserver"]["command"]
    if consistent:
        doc["tools"]["hashserver"]["command"] = evil
        doc["templates"].pop(old)
        doc["templates"][evil] = template.to_data(template.parse(evil).items)
    else:
        doc["templates"][old] = template.to_data(template.parse(evil).items)
    with open(tools_cache(folder), "w") as f:
        json.dump(doc, f)


def test_the_tools_cache_is_json_read_without_marshal(project, monkeypatch):
    import marshal

    from seamless_config.plan import tooldefs

    root, folder = project
    assert plan(root)[0] == 0  # fills the cache
    assert not [n for n in os.listdir(folder) if n.endswith(".marshal")]
    assert stat.S_IMODE(os.stat(tools_cache(folder)).st_mode) == 0o600
    with open(tools_cache(folder), "rb") as f:
        doc = json.load(f)
    assert doc["tools_yaml"] == tooldefs._tools_text()

    def refuse(*args, **kwargs):
        raise AssertionError("marshal was used")
    monkeypatch.setattr(marshal, "load", refuse)
    monkeypatch.setattr(marshal, "loads", refuse)
    raw, parsed = tooldefs._read_tools_cache(tools_cache(folder), tooldefs._tools_text())
    assert raw == doc["tools"] and set(parsed) == set(doc["templates"])


def test_a_tools_cache_in_a_folder_of_another_user_is_not_read(project):
    root, folder = project
    assert plan(root)[0] == 0  # fills the cache
    tamper_tools_cache(folder)
    os.chown(folder, NOBODY, NOBODY)
    code, argv, err = plan(root)
    assert code == 0, err
    assert argv[0] == "hashserver"


def test_a_tools_cache_file_of_another_user_is_not_read(project):
    root, folder = project
    assert plan(root)[0] == 0
    tamper_tools_cache(folder)
    for name in os.listdir(folder):
        os.chown(os.path.join(str(folder), name), NOBODY, NOBODY)
    code, argv, err = plan(root)
    assert code == 0, err
    assert argv[0] == "hashserver"
    assert f"{WARNING} {tools_cache(folder)}: it is owned by uid {NOBODY}" in err


def test_a_template_that_is_not_its_source_is_not_used(project):
    """Even in our own folder: a parsed template is used only when it
    prints back to the source it is filed under; the file is rebuilt."""
    root, folder = project
    assert plan(root)[0] == 0
    tamper_tools_cache(folder, consistent=False)
    code, argv, err = plan(root)
    assert code == 0, err
    assert argv[0] == "hashserver"
    with open(tools_cache(folder), "rb") as f:
        assert "evil-program" not in f.read().decode()


def _cached_doc(project):
    from seamless_config.plan import tooldefs

    root, folder = project
    assert plan(root)[0] == 0
    with open(tools_cache(folder), "rb") as f:
        return tooldefs, tools_cache(folder), json.load(f)


@pytest.mark.parametrize("damage", [
    "format 1", "another tools.yaml", "a template missing", "a template too many",
    "text with a space", "text with a brace", "a variable's name", "an unknown filter",
    "a field missing", "a field of another type", "not an object", "nested too deep"])
def test_a_cache_document_that_is_not_what_we_wrote_is_rebuilt(project, damage):
    tooldefs, path, doc = _cached_doc(project)
    text = tooldefs._tools_text()
    assert tooldefs._read_tools_cache(path, text) is not None
    command = doc["tools"]["hashserver"]["command"]
    if damage == "format 1":
        doc["format"] = 1
    elif damage == "another tools.yaml":
        doc["tools_yaml"] = text + "\n"
    elif damage == "a template missing":
        doc["templates"].pop(command)
    elif damage == "a template too many":
        doc["templates"]["spare {workdir}"] = [["text", "spare"]]
    elif damage == "text with a space":  # one argv word where the source has two
        database = doc["tools"]["database"]["command"]
        first, space, second, *rest = doc["templates"][database]
        assert (first[0], space, second) == ("text", ["space"], ["text", "--writable"])
        doc["templates"][database] = [["text", first[1] + " --writable"], *rest]
    elif damage == "text with a brace":  # prints back right, renders the braces as text
        workdir = doc["tools"]["hashserver"]["workdir"]
        assert workdir == "{bufferdir}{storage_path}"
        doc["templates"][workdir] = [["text", workdir]]
    elif damage == "a variable's name":  # prints back right, names no variable
        workdir = doc["tools"]["hashserver"]["workdir"]
        doc["templates"][workdir] = [["var", "bufferdir}{storage_path", []]]
    elif damage == "an unknown filter":
        doc["templates"][command] = [["var", "workdir", ["eval"]]]
    elif damage == "a field missing":
        del doc["tools"]["database"]["handshake"]
    elif damage == "a field of another type":
        doc["tools"]["database"]["variables"] = 7
    elif damage == "not an object":
        doc = [doc]
    with open(path, "w") as f:
        if damage == "nested too deep":  # json.loads itself gives up
            f.write('{"format": 2, "templates": ' + "[" * 100000 + "]" * 100000 + "}")
        else:
            f.write(json.dumps(doc))
    assert tooldefs._read_tools_cache(path, text) is None

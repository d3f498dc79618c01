"""The pure parts of ``services``: keys read back into scopes, and what
``clear`` agrees to delete (tables; no servers)."""

from __future__ import annotations

import os

import pytest

from seamless_config.cli.service_table import format_uptime
from seamless_config.errors import ConfigError
from seamless_config.plan.spec import LaunchSpec
from seamless_config.services.operations import parse_key
from seamless_config.services.clear import plan_clear
from seamless_config.launch.proc import Identity
from seamless_config.launch.hosts import LocalFS, parse_etimes

KEYS = [
    ("hashserver-hpc-rw-proj", ("hashserver", "hpc", "proj", None, None, None)),
    ("database-my-cluster-ro-proj--sub--deep--STAGE-prod",
     ("database", "my-cluster", "proj", "sub/deep", "prod", None)),
    ("jobserver-hpc-rw-proj--STAGE-devSUBSTAGE-gpu", ("jobserver", "hpc", "proj", None, "dev", "gpu")),
    ("daskserver-hpc-rw-proj--SUBSTAGE-gpu", ("daskserver", "hpc", "proj", None, None, "gpu")),
    ("pure-daskserver-hpc-long", ("pure_daskserver", "hpc", None, None, None, None)),
    ("hashserver-odd", ("hashserver", None, None, None, None, None)),
    ("something-else", (None, None, None, None, None, None)),
]


@pytest.mark.parametrize("key,expected", KEYS, ids=[k for k, _ in KEYS])
def test_keys_read_back(key, expected):
    found = parse_key(key)
    assert tuple(found[f] for f in ("service", "cluster", "project", "subproject", "stage",
                                    "substage")) == expected


def test_small_helpers():
    assert [format_uptime(s) for s in (None, 0, 59, 61, 3600 + 120, 86400 * 2 + 3600)] == [
        "-", "0s", "59s", "1m01s", "1h02m", "2d01h"]
    assert parse_etimes("  12   5\n 300 7200\nbogus\n") == {12: 5, 300: 7200}
    server = Identity("hashserver", "/l/server/k.json")
    assert server.matches(["/usr/bin/python3", "/usr/local/bin/hashserver", "/data",
                           "--status-file", "/l/server/k.json"])
    assert server.matches(["hashserver", "--status-file=/l//server/k.json"])
    assert not server.matches(["/usr/bin/vim", "notes"])
    assert not server.matches(["hashserver", "--status-file", "/l/server/other.json"])
    assert not server.matches(["vim", "--status-file", "/l/server/k.json"])
    assert Identity(None, "/l/server/k.json").matches(["x", "--status-file", "/l/server/k.json"])


def target(service, root, data):
    from seamless_config.services.targets import Target

    spec = LaunchSpec(service, "k", (), os.path.dirname(data) if service == "database" else data,
                      "", meta={"service": service, "cluster": "c", "mode": "rw",
                                "project": "p"})
    return Target(service, spec, root=root, data_path=data)


def refusal(root, path, why, name="bufferdir"):
    return (f"refusing to clear {path}: {why}; clear only deletes below the configured "
            f"{name} {root}")


# <B>: the configured root (a link to <R>, which is allowed); <T>: tmp_path
REFUSALS = [
    ("'..' in the path", "hashserver", "<B>", "<B>/p/../../elsewhere",
     "the path contains '..'"),
    ("'..' in the root", "hashserver", "<B>/../x", "<B>/../x/p", "the path contains '..'"),
    ("outside the root", "hashserver", "<B>", "<T>/elsewhere/p",
     "it is not below the configured directory"),
    ("the root itself", "hashserver", "<B>", "<B>", "it is not below the configured directory"),
    ("a root sharing a prefix", "hashserver", "<B>", "<B>2/p",
     "it is not below the configured directory"),
    ("a stage linked outside", "hashserver", "<B>", "<B>/p/STAGE-out",
     "it resolves to <T>/elsewhere (outside it; symbolic links below the configured "
     "directory are not followed)"),
    ("a stage linked to its sibling", "hashserver", "<B>", "<B>/p/STAGE-alias",
     "it resolves to <R>/p/STAGE-real (through a link; symbolic links below the configured "
     "directory are not followed)"),
    ("a database file linked outside", "database", "<B>", "<B>/p/STAGE-db/seamless.db",
     "it resolves to <T>/elsewhere/seamless.db (outside it; symbolic links below the "
     "configured directory are not followed)"),
]


@pytest.fixture
def storage(tmp_path):
    """T/real-buffers (root B is a link to it: allowed), with hostile links."""
    real = tmp_path / "real-buffers"
    (real / "p" / "STAGE-real").mkdir(parents=True)
    (real / "p" / "STAGE-db").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "seamless.db").write_bytes(b"not yours")
    os.symlink(real, tmp_path / "B")
    os.symlink(tmp_path / "elsewhere", real / "p" / "STAGE-out")
    os.symlink(real / "p" / "STAGE-real", real / "p" / "STAGE-alias")
    os.symlink(tmp_path / "elsewhere" / "seamless.db", real / "p" / "STAGE-db" / "seamless.db")
    return tmp_path


@pytest.mark.parametrize("case,service,root,path,why", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_clear_refuses(storage, case, service, root, path, why):
    def place(text):
        return text.replace("<R>", str(storage / "real-buffers")).replace(
            "<B>", str(storage / "B")).replace("<T>", str(storage))
    name = "bufferdir" if service == "hashserver" else "database_dir"
    with pytest.raises(ConfigError) as info:
        plan_clear(LocalFS(), target(service, place(root), place(path)), "localhost")
    assert info.value.render() == refusal(place(root), place(path), place(why), name)
    assert (storage / "elsewhere" / "seamless.db").read_bytes() == b"not yours"


def test_clear_plans_only_hashserver_entries(tmp_path):
    stage = tmp_path / "B" / "p"
    buffer = "ab" + "1" * 62
    files = {".HASHSERVER_PREFIX": b"1\n", f"ab/{buffer}": b"x" * 10,
             f"ab/{buffer}.BUFFERLENGTH": b"10", "c" * 64 + ".zst": b"flat",
             "cd/sub/" + "cd" * 32: b"a subproject named 'cd'", "ef/notes.txt": b"not ours",
             "STAGE-dev/" + "0" * 64: b"sibling stage", "notes.txt": b"mine"}
    for rel, data in files.items():
        os.makedirs(os.path.dirname(stage / rel), exist_ok=True)
        (stage / rel).write_bytes(data)
    plan = plan_clear(LocalFS(), target("hashserver", str(tmp_path / "B"), str(stage)),
                      "localhost")
    assert [(os.path.relpath(p, stage), size) for p, size in plan.files] == [
        (".HASHSERVER_PREFIX", 2), (f"ab/{buffer}", 10), (f"ab/{buffer}.BUFFERLENGTH", 2),
        ("c" * 64 + ".zst", 4)]
    assert plan.dirs == (str(stage / "ab"),) and plan.total == 18
    assert plan.kept == ("STAGE-dev/", "cd/", "ef/", "notes.txt")

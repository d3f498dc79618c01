"""The shipped JSON Schemas: valid draft 2020-12, in step with the loaders,
accepting every golden case's files and rejecting common mistakes."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from seamless_config.core import paths, yaml_nodes as _yaml
from seamless_config.model import catalogue, queues
from seamless_config.language import loader
from seamless_config.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "seamless_config" / "schemas"
GOLDEN = ROOT / "golden"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def validator(name: str):
    return jsonschema.Draft202012Validator(schema(name))


@pytest.mark.parametrize("name", ["commands", "clusters"])
def test_schema_is_valid_draft_2020_12(name):
    doc = schema(name)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)


def test_commands_match_the_loader():
    top = schema("commands")["$defs"]["topCommand"]["anyOf"][1]["properties"]
    stage = schema("commands")["$defs"]["stageCommand"]["properties"]
    assert set(top) == set(loader.COMMANDS)
    assert set(stage) == set(loader.ARGS)


def test_cluster_vocabulary_matches_the_catalogue_loader():
    defs = schema("clusters")["$defs"]
    assert set(defs["cluster"]["properties"]) == set(catalogue._CLUSTER_KEYS)
    assert set(defs["frontend"]["properties"]) == set(catalogue._FRONTEND_KEYS)
    for kind, fields in catalogue._SERVICE_FIELDS.items():
        assert set(defs["frontend"]["properties"][kind]["properties"]) == set(fields)
    dashed = {f.replace("_", "-") for f in queues.FIELDS}
    assert set(defs["queue"]["properties"]) == set(queues.FIELDS) | dashed | {"TEMPLATE"}


def test_both_schemas_share_the_cluster_definitions():
    commands, clusters = schema("commands")["$defs"], schema("clusters")["$defs"]
    for name in ("name", "token", "cluster", "frontend", "queue"):
        assert commands[name] == clusters[name], name


# -- the golden corpus -----------------------------------------------------------------

def _loads_or_raise(kind: str, path: Path) -> None:
    if kind == "commands":
        loader.load_file(str(path))
    else:
        catalogue.parse_clusters(_yaml.compose_file(str(path)), str(path), "catalogue")


def _loads(kind: str, path: Path) -> bool:
    """Whether seamless-config itself accepts the file (checked eagerly)."""
    try:
        _loads_or_raise(kind, path)
    except ConfigError:
        return False
    return True


def corpus_files() -> list[tuple[str, Path]]:
    """Every command file and catalogue file of every golden case."""
    out = []
    for case in sorted(p for p in GOLDEN.iterdir() if (p / "case.yaml").is_file()):
        home = case / "home"
        for path in sorted(case.rglob("seamless*.yaml")):
            if home not in path.parents and "expected" not in path.parts:
                out.append(("commands", path))
        out += [("clusters", Path(p)) for p, found in paths.catalogue_files(str(home))
                if found]
    return out


FILES = corpus_files()
ACCEPTED = [(k, p) for k, p in FILES if _loads(k, p)]


@pytest.mark.parametrize("kind,path", ACCEPTED,
                         ids=[str(p.relative_to(GOLDEN)) for _, p in ACCEPTED])
def test_schema_accepts_every_file_the_loader_accepts(kind, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in validator(kind).iter_errors(data)]
    assert not errors


# Mistakes that need more than one file position or a cross-field rule: the
# loader finds them, a schema cannot (or an editor would not show them well).
SEMANTIC = ("is not a queue of cluster", "duplicate key", "exclusive queue", "needs cores",
            "is greater than port_end", "is given twice", "TEMPLATE")


def _json_like(data) -> bool:
    if isinstance(data, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in data.items())
    if isinstance(data, list):
        return all(_json_like(v) for v in data)
    return data is None or isinstance(data, (str, int, float, bool))


def _schema_level(kind: str, path: Path) -> bool:
    try:
        _loads_or_raise(kind, path)
    except ConfigError as err:
        return not all(any(m in p.message for m in SEMANTIC) for p in err.problems)
    return False


def _rejected_files() -> list[tuple[str, Path, object]]:
    out = []
    for kind, path in FILES:
        if (kind, path) in ACCEPTED or not _schema_level(kind, path):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # not YAML at all: nothing for a schema to say
        if _json_like(data):
            out.append((kind, path, data))
    return out


REJECTED = _rejected_files()


@pytest.mark.parametrize("kind,path,data", REJECTED,
                         ids=[str(p.relative_to(GOLDEN)) for _, p, _ in REJECTED])
def test_schema_rejects_files_with_schema_level_mistakes(kind, path, data):
    assert list(validator(kind).iter_errors(data))


# -- mistakes the schema catches, as an editor would show them ---------------------------

REJECTED_COMMANDS = [
    ("unknown-command", "- projcet: x"),
    ("bad-execution", "- execution: bogus"),
    ("name-dashes", "- project: a--b"),
    ("name-stage-marker", "- cluster: xSTAGE-y"),
    ("two-keys", "- project: a\n  cluster: b"),
    ("stage-two-words", "- stage prod gpu:\n    - queue: q"),
    ("stage-not-list", "- stage prod: {queue: q}"),
    ("clusters-in-stage", "- stage prod:\n    - clusters: {}"),
    ("inherit-in-stage", "- stage prod:\n    - inherit_from_parent: true"),
    ("bare-project", "- project"),
    ("not-a-list", "project: x"),
    ("nparallel-zero", "- nparallel: 0"),
    ("persistent-string", "- persistent: 'yes'"),
    ("local-cluster-inline-not-a-name", "- clusters:\n    local_cluster: a--b"),
]

CLUSTER = """\
hpc:
  type: slurm
  frontends:
    - hostname: login
      hashserver: {bufferdir: /b, port_start: 1, port_end: 2}
  queues:
    q: {cores: 2, walltime: "01:00:00", memory: 4GB}
"""

REJECTED_CLUSTERS = [
    ("frontend-typo", CLUSTER.replace("frontends:", "frontend:")),
    ("type-typo", CLUSTER.replace("slurm", "lokal")),
    ("queue-field-typo", CLUSTER.replace("cores: 2", "coers: 2")),
    ("walltime-unquoted", CLUSTER.replace('"01:00:00"', "1:00:00")),
    ("memory-unitless", CLUSTER.replace("4GB", "4")),
    ("no-bufferdir", CLUSTER.replace("bufferdir: /b, ", "")),
    ("port-too-high", CLUSTER.replace("port_end: 2", "port_end: 70000")),
    ("no-frontends", "hpc: {type: slurm}"),
    ("empty-frontends", "hpc: {type: slurm, frontends: []}"),
    ("service-typo", CLUSTER.replace("hashserver:", "hashservr:")),
]


def test_the_sample_cluster_is_valid():
    assert not list(validator("clusters").iter_errors(yaml.safe_load(CLUSTER)))
    dashed = CLUSTER.replace("cores: 2", "cores: 2, unknown-task-duration: 1m")
    assert not list(validator("clusters").iter_errors(yaml.safe_load(dashed)))


@pytest.mark.parametrize("text", [t for _, t in REJECTED_COMMANDS],
                         ids=[i for i, _ in REJECTED_COMMANDS])
def test_schema_rejects_command_mistakes(text):
    assert list(validator("commands").iter_errors(yaml.safe_load(text)))


@pytest.mark.parametrize("text", [t for _, t in REJECTED_CLUSTERS],
                         ids=[i for i, _ in REJECTED_CLUSTERS])
def test_schema_rejects_cluster_mistakes(text):
    assert list(validator("clusters").iter_errors(yaml.safe_load(text)))

"""seamless-config schema: the shipped schema documents, for editors."""

import json
from pathlib import Path

from click.testing import CliRunner

from seamless_config.cli.main import cli

SCHEMAS = Path(__file__).resolve().parent.parent / "seamless_config" / "schemas"
IDS = {"commands": "urn:seamless-config:schema:commands",
       "clusters": "urn:seamless-config:schema:clusters"}


def run(*args):
    result = CliRunner().invoke(cli, ["schema", *args])
    assert "Traceback" not in result.output
    return result


def test_schema_prints_the_shipped_documents():
    for which in ("commands", "clusters"):
        result = run(which)
        assert result.exit_code == 0
        assert result.output == (SCHEMAS / f"{which}.schema.json").read_text()
        assert json.loads(result.output)["$id"] == IDS[which]


def test_schema_path():
    result = run("clusters", "--path")
    assert result.exit_code == 0
    assert Path(result.output.strip()).resolve() == (SCHEMAS / "clusters.schema.json").resolve()


def test_schema_path_without_which_prints_both_paths():
    result = run("--path")
    assert result.exit_code == 0
    assert [Path(p).resolve() for p in result.output.splitlines()] == [
        (SCHEMAS / f"{which}.schema.json").resolve() for which in ("commands", "clusters")]


def test_schema_overview_gives_the_modelines():
    result = run()
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "commands: for seamless.yaml, seamless.profile.yaml"
    installed = run("commands", "--path").output.strip()
    assert lines[2] == f"    modeline  # yaml-language-server: $schema={installed}"
    assert lines[3] == "clusters: for ~/.seamless/clusters.yaml, ~/.seamless/clusters/*.yaml"
    installed = run("clusters", "--path").output.strip()
    assert lines[5] == f"    modeline  # yaml-language-server: $schema={installed}"


def test_unknown_schema_is_a_usage_error():
    result = run("queues")
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: Invalid value for '[WHICH]': 'queues' is not one of 'commands', 'clusters'.\n")

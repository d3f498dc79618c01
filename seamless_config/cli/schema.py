"""``schema``: the JSON Schema documents (draft 2020-12) of the command
files and the cluster catalogue, for editors (yaml-language-server)."""

from __future__ import annotations

import click

from .common import verbose_option

SCHEMAS = {
    "commands": "seamless.yaml, seamless.profile.yaml",
    "clusters": "~/.seamless/clusters.yaml, ~/.seamless/clusters/*.yaml",
}


def schema_file(which: str):
    """The shipped schema (package data, so it works from a wheel too)."""
    from importlib.resources import files

    return files("seamless_config").joinpath("schemas", f"{which}.schema.json")


def _overview() -> list[str]:
    # The modeline points at the installed file: it works offline and always
    # matches the installed version's vocabulary.
    lines = []
    for which, used_for in SCHEMAS.items():
        lines += [f"{which}: for {used_for}", f"    file      {schema_file(which)}",
                  f"    modeline  # yaml-language-server: $schema={schema_file(which)}"]
    return lines + ["Print one with 'seamless-config schema commands' (or clusters)."]


@click.command()
@click.argument("which", type=click.Choice(list(SCHEMAS)), required=False, metavar="[WHICH]")
@click.option("--path", "show_path", is_flag=True,
              help="Print where the schema file is installed instead of its content.")
@verbose_option
def schema(which, show_path):
    """Print the JSON Schema of the command files (WHICH: commands) or of
    the cluster catalogue (clusters); without WHICH, list both with the
    modeline that makes an editor use them (with --path: both paths)."""
    if which is None and show_path:  # both, one per line, for scripts
        click.echo("\n".join(str(schema_file(name)) for name in SCHEMAS))
    elif which is None:
        click.echo("\n".join(_overview()))
    elif show_path:
        click.echo(str(schema_file(which)))
    else:
        click.echo(schema_file(which).read_text(encoding="utf-8"), nl=False)

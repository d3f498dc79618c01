"""``explain``, ``show`` and ``diff``: the resolved configuration, why it
is what it is, and how two stages differ. Rendering lives in
``document.py`` and ``explain.py``; these commands only wire options."""

from __future__ import annotations

import click

from .common import (echo_json, echo_lines, evaluate, guarded, json_option, parse_stage,
                     stage_option, style, verbose_option, workdir_of, workdir_option)


def _check_keys(keys) -> None:
    from ..inspect.document import KEYS
    from ..errors import did_you_mean

    for key in keys:
        if key not in KEYS:
            hint = did_you_mean(key, KEYS) or "expected one of: " + ", ".join(KEYS)
            raise click.BadParameter(f"unknown key '{key}'; {hint}", param_hint="KEY")


@click.command()
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@workdir_option
@stage_option
@json_option
@verbose_option
@guarded
def explain(keys, workdir, stage, as_json):
    """Why each setting has its value: the files searched, the command and
    line that set it, what it overrode, and the cluster, queue, storage
    and services that follow. KEYs (settings, or cluster, queue, storage,
    services) limit the output to those."""
    from ..inspect.document import document
    from ..inspect.explain import explain_lines

    _check_keys(keys)
    doc = document(evaluate(workdir, stage), keys or None)
    if as_json:
        echo_json(doc)
    else:
        echo_lines(explain_lines(doc, keys or None, style))


@click.command()
@workdir_option
@stage_option
@click.option("--json", "fmt", flag_value="json", help="Output the document as JSON.")
@click.option("--yaml", "fmt", flag_value="yaml", help="Output the document as YAML.")
@verbose_option
@guarded
def show(workdir, stage, fmt):
    """The resolved settings, storage paths, service keys, and which
    servers init would start where."""
    from ..inspect.document import document

    doc = document(evaluate(workdir, stage))
    if fmt == "json":
        echo_json(doc)
    elif fmt == "yaml":
        import yaml

        click.echo(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), nl=False)
    else:
        from ..inspect.explain import show_lines

        echo_lines(show_lines(doc, style))


def _side(value: str, name: str):
    """``-`` is "no stage"."""
    return (None, None) if value == "-" else parse_stage(value, hint=name)


@click.command()
@click.argument("stage_a", metavar="STAGE_A")
@click.argument("stage_b", metavar="STAGE_B")
@workdir_option
@json_option
@verbose_option
@guarded
def diff(stage_a, stage_b, workdir, as_json):
    """The settings and derived values that differ between two stages, each
    STAGE[:SUBSTAGE] or '-' for no stage, with where each side came from."""
    from ..inspect.document import differences, document
    from ..evaluation.pipeline import evaluate_workdir

    docs = []
    for value, name in ((stage_a, "STAGE_A"), (stage_b, "STAGE_B")):
        st, sub = _side(value, name)
        docs.append(document(evaluate_workdir(workdir_of(workdir), stage=st, substage=sub)))
    found = differences(*docs)
    if as_json:
        sides = {k: {"stage": d["stage"], "substage": d["substage"]} for k, d in zip("ab", docs)}
        echo_json({"version": 1, **sides, "differences": found})
    else:
        from ..inspect.explain import diff_lines

        echo_lines(diff_lines(docs[0], docs[1], found, style))

"""``tools.yaml``: how each server is launched, read and checked once.

The file's data and its parsed templates are kept in one JSON file in the
user's cache directory, so that later processes need neither YAML nor lark;
a cached document is used only when it is provably what ``tools.yaml``
says (see ``_read_tools_cache``).
"""

from __future__ import annotations

import functools
import os
import re
from typing import TYPE_CHECKING, Any, Mapping

from .._record import frozen_record
from ..core.paths import cache_dir, read_cache_file, write_cache_file
from ..core.vocabulary import SERVICES
from ..model.types import frozen_map

if TYPE_CHECKING:  # lark (through template) loads only when a template is parsed
    from ..language import template

# What tools.yaml may declare; service_spec computes each of them.
INPUTS = frozenset({"cluster", "mode", "queue", "storage_path", "scope_path", "bufferdir",
                    "database_dir", "writable", "workers", "cluster_string",
                    "port_start", "port_end", "network_interface"})
# Per template, what is known by the time it is rendered, besides the inputs.
DERIVED = {"key": frozenset(), "workdir": frozenset({"key"}), "log_file": frozenset({"key"}),
           "command": frozenset({"key", "workdir", "timeout", "status_file"})}


@frozen_record
class ToolDef:
    name: str
    hosted_by: str
    variables: frozenset[str]
    key: "template.Template"
    workdir: "template.Template"
    log_file: "template.Template"
    command: "template.Template"
    handshake: Any
    timeout: int


def _tools_text() -> str:
    with open(os.path.join(os.path.dirname(__file__), "tools.yaml"), encoding="utf-8") as f:
        return f.read()


def _tools_data() -> tuple[Mapping[str, Any], dict[str, "template.Template"]]:
    """``tools.yaml`` as data, and its templates parsed. Both are kept in
    one JSON file in the user's cache directory, valid while ``tools.yaml``'s
    text is the one they were made from: a process then needs neither YAML
    (~13 ms to import where nothing else did) nor lark (~20 ms). JSON holds
    no code, the file is read only through ``paths.read_cache_file`` (this
    user's, private, regular), and each template is checked against its
    source before use."""
    from ..language import template

    text = _tools_text()
    path = _tools_cache_path(template.FORMAT)
    cached = None if path is None else _read_tools_cache(path, text)
    if cached is not None:
        return cached
    import json

    import yaml

    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    parsed = {src: template.parse(src) for src in sorted(_template_sources(raw))}
    if path is not None:
        blob = json.dumps({"format": TOOLS_CACHE_FORMAT, "tools_yaml": text, "tools": raw,
                           "templates": {src: template.to_data(t.items)
                                         for src, t in parsed.items()}}).encode()
        write_cache_file(path, lambda f: f.write(blob))
    return raw, parsed


TOOLS_CACHE_FORMAT = 2  # bump when the cached document changes shape (1: marshal)


def _template_sources(raw: Mapping[str, Any]) -> set[str]:
    """Every template source ``tools.yaml`` uses."""
    return {body[part] for body in raw.values() for part in DERIVED}


def _tools_cache_path(fmt: int) -> str | None:
    """One file per template node format; a file written from another
    version of tools.yaml fails the text check and is rewritten."""
    folder = cache_dir()
    return None if folder is None else os.path.join(folder, f"tools-v{fmt}.json")


def _read_tools_cache(path: str, text: str):
    """(data, templates) from the cache file, or None when it is absent,
    unsafe to read, written for another tools.yaml, or not what it claims:
    its templates must be exactly those its data uses, each one printing
    back to its own source."""
    import json

    from ..language import template

    blob = read_cache_file(path)
    if blob is None:
        return None
    try:
        doc = json.loads(blob)
        if doc["format"] != TOOLS_CACHE_FORMAT or doc["tools_yaml"] != text:
            return None
        raw, data = doc["tools"], doc["templates"]
        if set(data) != _template_sources(raw):
            return None
        parsed = {src: template.from_data(src, items) for src, items in data.items()}
        if not all(_source_of(t.items) == _spaced(src) for src, t in parsed.items()):
            return None
        _defs(raw, parsed)  # every field tool_defs reads is there, of its type
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError):
        return None  # not a document we wrote: parse again
    return raw, parsed


# The template language's tokens (grammar/template.lark), to print a parsed
# template back; a cached one is used only when that gives its source, so
# that its data cannot say more, or other, than tools.yaml.
_TEXT = re.compile(r"[^\s{}\[\]]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _spaced(source: str) -> str:
    return re.sub(r"\s+", " ", source)


def _source_of(items) -> str | None:
    """The source a parse would have read ``items`` from (whitespace as one
    space), or None when an item could not have come from a parse."""
    from ..language import template

    out = []
    for item in items:
        if isinstance(item, template.Text) and _TEXT.fullmatch(item.value):
            out.append(item.value)
        elif isinstance(item, template.Space):
            out.append(" ")
        elif isinstance(item, template.Var) and _NAME.fullmatch(item.name):
            out.append("{" + "|".join((item.name, *item.filters)) + "}")
        elif isinstance(item, template.Flag) and _NAME.fullmatch(item.name):
            out.append("{" + item.name + "?}")
        elif isinstance(item, template.Fragment):
            inner = _source_of(item.items)
            if inner is None:
                return None
            out.append("[" + inner + "]")
        else:
            return None
    return "".join(out)


@functools.cache
def tool_defs() -> Mapping[str, ToolDef]:
    """``tools.yaml``, read and checked once, on first use."""
    return _defs(*_tools_data())


def _defs(raw: Mapping[str, Any], parsed) -> Mapping[str, ToolDef]:
    if sorted(raw) != sorted(SERVICES):
        raise ValueError(f"tools.yaml must describe exactly: {', '.join(SERVICES)}")
    return frozen_map({name: _tool_def(name, body, parsed) for name, body in raw.items()})


def _tool_def(name: str, body: Mapping[str, Any], templates=None) -> ToolDef:
    declared = frozenset(body["variables"])
    if declared - INPUTS:
        raise ValueError(f"tools.yaml: {name} declares unknown variable(s) "
                         f"{', '.join(sorted(declared - INPUTS))}")
    from ..language import template

    parsed = {part: (templates or {}).get(body[part]) or template.parse(body[part])
              for part in DERIVED}
    for part, tpl in parsed.items():
        unknown = tpl.variables - declared - DERIVED[part]
        if unknown:
            raise ValueError(f"tools.yaml: {name}.{part} uses undeclared variable(s) "
                             f"{', '.join(sorted(unknown))}")
    handshake = body["handshake"]
    return ToolDef(name, body["hosted_by"], declared, handshake=handshake if isinstance(handshake, str)
                   else frozen_map(handshake), timeout=int(body["timeout"]), **parsed)

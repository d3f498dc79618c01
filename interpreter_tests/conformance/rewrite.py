"""The one change made to foreign test files before they run on our package.

0.3.2's tests (and some client tests) reset 0.3.2's private module state
(``monkeypatch.setattr(select, "_current_cluster", None)``, ...).  Those
names are not API and do not exist here; our state is the default session.
So each such statement becomes one call of ``default_session().reset()``:
a helper whose whole body is such statements (0.3.2's ``_reset_state``)
gets a single call, any other such statement is replaced line for line.

``rewrite`` finds the statements with ``ast``; ``check`` proves the result
independently, line by line, from a diff: every removed line is a
private-state reset of a seamless_config module, every added line is the
reset call, and nothing else changed.
"""

from __future__ import annotations

import ast
import difflib
import re

RESET = '__import__("seamless_config.session").session.default_session().reset()'
# a reset sets a plain value; a lambda or object there would be a mock
_VALUE = r'(?:None|True|False|-?\d+|"[^"]*"|\{\}|\[\]|\(\))'
_SETATTR = re.compile(r'^\s*monkeypatch\.setattr\(\s*(\w+)\s*,\s*"(_\w+)"\s*,\s*' + _VALUE
                      + r'\s*\)\s*$')
_CLEAR = re.compile(r"^\s*(\w+)\.(_\w+)\.clear\(\)\s*$")


class RewriteError(Exception):
    pass


def config_aliases(tree: ast.Module) -> set[str]:
    """Local names bound to seamless_config modules by the file's imports."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "seamless_config":
                    aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "seamless_config":
                # from seamless_config import select: a module, if it is one
                aliases.update(a.asname or a.name for a in node.names)
    return aliases


def _is_private_reset(stmt: ast.stmt, aliases: set[str]) -> bool:
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return False
    call = stmt.value
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "setattr" and isinstance(func.value, ast.Name) \
            and func.value.id == "monkeypatch" and len(call.args) == 3 and not call.keywords:
        target, name, value = call.args
        return isinstance(target, ast.Name) and target.id in aliases \
            and isinstance(name, ast.Constant) and isinstance(name.value, str) \
            and name.value.startswith("_") and _plain(value)
    if func.attr == "clear" and not call.args and isinstance(func.value, ast.Attribute):
        owner = func.value
        return isinstance(owner.value, ast.Name) and owner.value.id in aliases \
            and owner.attr.startswith("_")
    return False


def _plain(value: ast.expr) -> bool:
    """A reset value (None, a flag, a string, an empty container), not a mock."""
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return isinstance(value.operand, ast.Constant)
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return not value.elts
    return isinstance(value, ast.Dict) and not value.keys


def rewrite(source: str) -> str:
    """The file with every private-state reset replaced (unchanged if none)."""
    tree = ast.parse(source)
    aliases = config_aliases(tree)
    lines = source.splitlines(keepends=True)
    replace: dict[int, str | None] = {}  # 0-based line -> new text (None: drop)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        resets = [s for s in body if _is_private_reset(s, aliases)]
        if not resets:
            continue
        whole = isinstance(node, ast.FunctionDef) and len(resets) == len(body)
        for i, stmt in enumerate(resets):
            _replace(replace, lines, stmt, keep=not whole or i == 0)
    out = []
    for i, line in enumerate(lines):
        if i in replace:
            if replace[i] is not None:
                out.append(replace[i])
        else:
            out.append(line)
    return "".join(out)


def _replace(replace: dict, lines: list[str], stmt: ast.stmt, keep: bool) -> None:
    first, last = stmt.lineno - 1, stmt.end_lineno - 1
    indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
    replace[first] = indent + RESET + "\n" if keep else None
    for i in range(first + 1, last + 1):
        replace[i] = None
    # blank lines between a helper's resets go with them
    if not keep and first > 0 and not lines[first - 1].strip():
        replace[first - 1] = None


def check(original: str, rewritten: str) -> None:
    """Raise RewriteError unless ``rewritten`` differs from ``original`` only
    by private-state resets turned into the reset call."""
    aliases = config_aliases(ast.parse(original))
    ast.parse(rewritten)
    old, new = original.splitlines(), rewritten.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed = [ln for ln in old[a0:a1] if ln.strip()]
        added = new[b0:b1]
        bad = [ln for ln in removed if not _reset_line(ln, aliases)]
        bad += [ln for ln in added if ln.strip() != RESET]
        # one call per reset statement at most, never a call from nothing
        too_many = len(added) > len(removed)
        orphaned = not added and not _after_reset(new, b0)
        if bad or too_many or orphaned:
            raise RewriteError("the rewrite changed more than private-state resets:\n"
                               + "\n".join(f"  {ln}" for ln in bad or old[a0:a1] + added))


def _reset_line(line: str, aliases: set[str]) -> bool:
    found = _SETATTR.match(line) or _CLEAR.match(line)
    return bool(found) and found.group(1) in aliases


def _after_reset(new: list[str], at: int) -> bool:
    """Lines dropped without replacement belong to a helper whose reset call
    is the line just before them."""
    return at > 0 and new[at - 1].strip() == RESET


def rewrite_checked(source: str) -> str:
    result = rewrite(source)
    check(source, result)
    return result

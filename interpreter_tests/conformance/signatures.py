"""Compare two API dumps (``api_dump.py``): does ours accept every call 0.3.2
accepts?

For every public name of 0.3.2: it exists here; a class is still a class
(a dataclass still a dataclass with at least the same fields, so
``dataclasses.asdict`` keeps working), a function still callable, a
constant of the same type; and every parameter keeps its name, its kind,
its position among the positional ones and, if it had one, a default.
Parameters we add must have defaults.  Each finding is a ``Problem`` named
``module.name`` (``module.Class.method`` for methods).
"""

from __future__ import annotations

from dataclasses import dataclass

POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
VARIADIC = ("VAR_POSITIONAL", "VAR_KEYWORD")


@dataclass(frozen=True)
class Problem:
    name: str
    kind: str  # "absent name" or "signature" (the COMPAT.md row kinds)
    detail: str


def compare(old: dict, new: dict) -> list[Problem]:
    problems = []
    for module, names in old.items():
        theirs = new.get(module, {})
        error = theirs.get("__error__")
        for attr, entry in names.items():
            if attr == "__error__":
                continue
            qualified = f"{module}.{attr}"
            if error is not None or attr not in theirs:
                detail = f"import of {module} fails: {error}" if error else "not defined"
                problems.append(Problem(qualified, "absent name", detail))
                continue
            problems += [Problem(qualified, "signature", d)
                         for d in _entry(entry, theirs[attr])]
            if entry["kind"] == "class" and theirs[attr]["kind"] == "class":
                problems += _members(qualified, entry, theirs[attr])
    return problems


def _entry(old: dict, new: dict) -> list[str]:
    if old["kind"] == "constant":
        if new["kind"] != "constant" or new["type"] != old["type"]:
            return [f"was a {old['type']} constant, here {_what(new)}"]
        return []
    if old["kind"] == "class" and new["kind"] != "class":
        return [f"was a class, here {_what(new)}"]
    if new["kind"] == "constant":
        return [f"was callable, here {_what(new)}"]
    found = []
    if old["kind"] == "class" and old.get("fields") is not None:
        if new.get("fields") is None:
            found.append("was a dataclass (dataclasses.asdict works on it), here not")
        else:
            missing = [f for f in old["fields"] if f not in new["fields"]]
            if missing:
                found.append(f"dataclass fields missing here: {', '.join(missing)}")
    return found + parameters(old["signature"], new["signature"])


def _what(entry: dict) -> str:
    return f"a {entry['type']} constant" if entry["kind"] == "constant" else f"a {entry['kind']}"


def _members(qualified: str, old: dict, new: dict) -> list[Problem]:
    problems = []
    for attr, member in old["members"].items():
        theirs = new["members"].get(attr)
        name = f"{qualified}.{attr}"
        if theirs is None:
            problems.append(Problem(name, "absent name", "method or property not defined"))
        elif member["kind"] == "function":
            problems += [Problem(name, "signature", d) for d in
                         parameters(member["signature"], theirs.get("signature"))]
    return problems


def parameters(old: list[dict] | None, new: list[dict] | None) -> list[str]:
    """Why a call that ``old`` accepts may fail on ``new`` (empty: none)."""
    if old is None:
        return []  # 0.3.2's own signature is unknown (a builtin): nothing to hold
    if new is None:
        return ["signature not inspectable here"]
    found = []
    ours = {p["name"]: p for p in new}
    old_positional = [p["name"] for p in old if p["kind"] in POSITIONAL]
    new_positional = [p["name"] for p in new if p["kind"] in POSITIONAL]
    for p in old:
        if p["kind"] in VARIADIC:
            if not any(q["kind"] == p["kind"] for q in new):
                found.append(f"no {_star(p)} parameter here")
            continue
        q = ours.get(p["name"])
        if q is None:
            found.append(f"parameter '{p['name']}' missing")
            continue
        if q["kind"] != p["kind"]:
            found.append(f"parameter '{p['name']}' is {_kind(q)} here, {_kind(p)} in 0.3.2")
        elif p["kind"] in POSITIONAL and \
                old_positional.index(p["name"]) != new_positional.index(p["name"]):
            found.append(f"parameter '{p['name']}' is at position "
                         f"{new_positional.index(p['name']) + 1} here, "
                         f"{old_positional.index(p['name']) + 1} in 0.3.2")
        if p["default"] and not q["default"]:
            found.append(f"parameter '{p['name']}' has a default in 0.3.2, none here")
    for q in new:
        if q["name"] not in {p["name"] for p in old} and q["kind"] not in VARIADIC \
                and not q["default"]:
            found.append(f"extra parameter '{q['name']}' without a default")
    return found


def _kind(p: dict) -> str:
    return p["kind"].lower().replace("_", "-")


def _star(p: dict) -> str:
    return "*args" if p["kind"] == "VAR_POSITIONAL" else "**kwargs"

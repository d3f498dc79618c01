"""Print the public API of the installed seamless_config as JSON.

Run as a script by the interpreter of either environment (the side venv
holds 0.3.2 and none of this repository), so it imports nothing but the
standard library and seamless_config.  For every module of
``MODULES``: each public name, its kind, and for callables the parameters
(name, kind, whether it has a default); classes also list their public
methods and, for dataclasses, their fields.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import sys

# The modules 0.3.2 exposes that its clients import (COMPAT.md of the spec).
MODULES = ("seamless_config", "seamless_config.select", "seamless_config.tools",
           "seamless_config.cluster", "seamless_config.config_files",
           "seamless_config.extern_clients", "seamless_config.pure_daskserver")
PACKAGE = "seamless_config"


def main() -> None:
    api = {}
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # reported, compared as a missing module
            api[name] = {"__error__": f"{type(exc).__name__}: {exc}"}
            continue
        api[name] = {attr: describe(getattr(module, attr)) for attr in public_names(module)}
    json.dump(api, sys.stdout, indent=1, sort_keys=True)


def public_names(module) -> list[str]:
    """Names a client may use: those in ``__all__``, and every other name
    without a leading underscore except modules and things imported from
    outside the package (``os``, ``Optional``, ``dataclass`` ...)."""
    names = set(getattr(module, "__all__", ()))
    # dir(), not vars(): a module may resolve names on first use (PEP 562
    # __getattr__) and list them in __dir__; a client can call those too.
    for attr in dir(module):
        value = getattr(module, attr, None)
        if attr.startswith("_") or inspect.ismodule(value):
            continue
        home = getattr(value, "__module__", None)
        if (callable(value) or inspect.isclass(value)) and home is not None \
                and home.split(".")[0] != PACKAGE:
            continue
        if not callable(value) and not _plain_type(type(value)):
            continue  # a __future__ feature, a logger, typing aliases
        names.add(attr)
    return sorted(names)


def _plain_type(cls) -> bool:
    """Constants of these types are API (DOLLAR_RE, DISABLED, tuples of modes)."""
    return cls.__module__ in ("builtins", "re") or cls.__module__.split(".")[0] == PACKAGE


def describe(value) -> dict:
    if inspect.isclass(value):
        return {"kind": "class", "bases": [b.__name__ for b in value.__mro__[1:]],
                "signature": signature(value), "members": members(value),
                "fields": [f.name for f in dataclasses.fields(value)]
                if dataclasses.is_dataclass(value) else None}
    if callable(value):
        return {"kind": "function", "signature": signature(value)}
    return {"kind": "constant", "type": type(value).__name__}


def members(cls) -> dict:
    found = {}
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            found[attr] = {"kind": "function", "signature": signature(getattr(cls, attr))}
        elif inspect.isfunction(value):
            params = signature(value)
            found[attr] = {"kind": "function",
                           "signature": params[1:] if params else params}  # drop self
        elif isinstance(value, property):
            found[attr] = {"kind": "property"}
    return found


def signature(value) -> list[dict] | None:
    try:
        sig = inspect.signature(value)
    except (TypeError, ValueError):
        return None
    return [{"name": p.name, "kind": p.kind.name,
             "default": p.default is not inspect.Parameter.empty}
            for p in sig.parameters.values()]


if __name__ == "__main__":
    main()

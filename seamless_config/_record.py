"""Frozen value classes for the modules that evaluating a configuration
and ``configure_*`` import.

Every Seamless process that reads its configuration pays for those
imports, and ``dataclasses`` was the largest part of them: importing it
pulls in ``inspect`` (with ``ast``, ``dis`` and ``tokenize``), and
``@dataclass(frozen=True)`` writes and compiles six methods per class at
every import, about 0.26 ms each for the 30 classes concerned. Together
some 12 ms of a 46 ms ``init()`` (bench/run, "init(), README cluster
example"). ``@frozen_record`` gives those classes what they used from
dataclasses (fields in annotation order, defaults and per-instance default
factories, positional or keyword construction, equality and hashing by
value, a readable repr, no assignment after construction, ``replace``)
with plain functions shared by every class.

Construction is a generic loop, a few times slower than a generated
``__init__``: right for classes built tens to thousands of times per
process, as here. Modules off that path keep ``dataclasses``.
"""

from __future__ import annotations

from typing import Any, Callable

_MISSING = object()


class Factory:
    """A default built anew for each instance (``field(default_factory=...)``)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]):
        self.make = make


def frozen_record(cls):
    """Make ``cls`` a frozen value class of its annotated fields."""
    names = tuple(cls.__dict__.get("__annotations__", {}))
    defaults = {}
    for name in names:
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
            if isinstance(defaults[name], Factory):
                delattr(cls, name)
    required = [n for n in names if n not in defaults]
    if any(names.index(r) > names.index(d) for r in required for d in defaults):
        raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
    own = [m for m in ("__init__", "__eq__", "__hash__", "__repr__", "__setattr__", "__delattr__")
           if m in cls.__dict__]
    if own:
        raise TypeError(f"{cls.__name__} defines {', '.join(own)}, which @frozen_record writes")
    cls._fields = names
    cls._defaults = defaults
    cls.__match_args__ = names
    cls.__init__, cls.__eq__, cls.__hash__ = _init, _eq, _hash
    cls.__repr__, cls.__setattr__, cls.__delattr__ = _repr, _setattr, _delattr
    return cls


def fields(obj_or_cls) -> tuple[str, ...]:
    return obj_or_cls._fields


def replace(obj, **changes):
    """A copy of ``obj`` with ``changes`` (checked like construction)."""
    return type(obj)(**{**{n: getattr(obj, n) for n in obj._fields}, **changes})


def _init(self, *args, **kwargs):
    cls = type(self)
    names = cls._fields
    if len(args) > len(names):
        raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, {len(args)} given")
    values = dict(zip(names, args))
    for name, value in kwargs.items():
        if name in values or name not in names:
            problem = "got multiple values for" if name in values else "got an unexpected"
            raise TypeError(f"{cls.__name__}() {problem} argument '{name}'")
        values[name] = value
    state = self.__dict__
    for name in names:
        value = values.get(name, _MISSING)
        if value is _MISSING:
            value = cls._defaults.get(name, _MISSING)
            if value is _MISSING:
                raise TypeError(f"{cls.__name__}() missing argument '{name}'")
            if isinstance(value, Factory):
                value = value.make()
        state[name] = value


def _values(obj) -> tuple:
    state = obj.__dict__
    return tuple(state[n] for n in obj._fields)


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self):
    return hash((self.__class__.__name__,) + _values(self))


def _repr(self):
    inner = ", ".join(f"{n}={self.__dict__[n]!r}" for n in self._fields)
    return f"{type(self).__name__}({inner})"


def _setattr(self, name, value):
    raise AttributeError(f"cannot assign to field '{name}': {type(self).__name__} is frozen")


def _delattr(self, name):
    raise AttributeError(f"cannot delete field '{name}': {type(self).__name__} is frozen")

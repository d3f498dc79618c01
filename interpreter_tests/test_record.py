"""frozen_record: what the launch path's value classes rely on."""

from __future__ import annotations

import pickle

import pytest

from seamless_config._record import Factory, fields, frozen_record, replace


@frozen_record
class Point:
    x: int
    y: int = 0
    tags: dict = Factory(dict)

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


@frozen_record
class Other:
    x: int
    y: int = 0
    tags: dict = Factory(dict)


def test_construction_positional_keyword_and_defaults():
    assert Point(1).__dict__ == {"x": 1, "y": 0, "tags": {}}
    assert Point(1, 2) == Point(y=2, x=1)
    assert Point(3, -4).norm1() == 7
    assert fields(Point) == ("x", "y", "tags") == Point.__match_args__


def test_each_instance_gets_its_own_factory_default():
    a, b = Point(1), Point(1)
    assert a.tags is not b.tags
    assert "tags" not in Point.__dict__  # no shared class attribute left behind


@pytest.mark.parametrize("call, message", [
    (lambda: Point(), "Point() missing argument 'x'"),
    (lambda: Point(1, 2, {}, 4), "Point() takes 3 arguments, 4 given"),
    (lambda: Point(1, x=2), "Point() got multiple values for argument 'x'"),
    (lambda: Point(1, z=2), "Point() got an unexpected argument 'z'"),
])
def test_wrong_construction_is_a_type_error(call, message):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value) == message


def test_frozen():
    p = Point(1)
    with pytest.raises(AttributeError, match="cannot assign to field 'x': Point is frozen"):
        p.x = 2
    with pytest.raises(AttributeError, match="cannot delete field 'y'"):
        del p.y
    assert p.x == 1


def test_equality_and_hash_by_value_and_class():
    assert Point(1, 2) == Point(1, 2) and hash(Point(1, 2, ())) == hash(Point(1, 2, ()))
    assert Point(1, 2) != Point(2, 1)
    assert Point(1, 2) != Other(1, 2)  # same fields, another class
    assert Point(1, 2) != (1, 2, {})
    assert len({Point(1, 2, ()), Point(1, 2, ())}) == 1
    with pytest.raises(TypeError):
        hash(Point(1))  # a dict field is unhashable, as with a frozen dataclass


def test_repr_and_replace():
    assert repr(Point(1, 2, {"a": 1})) == "Point(x=1, y=2, tags={'a': 1})"
    p = Point(1, 2)
    q = replace(p, y=5)
    assert (q, p) == (Point(1, 5, {}), Point(1, 2, {}))
    with pytest.raises(TypeError, match="unexpected argument 'z'"):
        replace(p, z=1)


def test_pickles():
    p = Point(1, 2, {"a": 1})
    assert pickle.loads(pickle.dumps(p)) == p


def test_a_required_field_after_a_default_is_refused():
    with pytest.raises(TypeError, match="without a default follows"):
        @frozen_record
        class Bad:
            a: int = 1
            b: int


def test_a_class_with_its_own_methods_is_refused_not_overwritten():
    with pytest.raises(TypeError, match="Bad defines __repr__, which @frozen_record writes"):
        @frozen_record
        class Bad:
            a: int

            def __repr__(self):
                return "mine"

"""Param: coercion of request strings to the declared type, defaults, constraints."""

import pytest

from pymacaron.exceptions import InvalidParameterError
from pymacaron.spec.parameters import Param, snake_case


@pytest.mark.parametrize(
    "name,expected",
    [
        ("petId", "pet_id"),
        ("X-Request-ID", "x_request_id"),
        ("page_size", "page_size"),
        ("HTTPStatus", "http_status"),
        ("2fa", "p_2fa"),
    ],
)
def test_snake_case(name, expected):
    assert snake_case(name) == expected


def param(**spec):
    return Param({"name": "p", "in": "query", **spec}, "p")


@pytest.mark.parametrize(
    "spec,raw,value",
    [
        ({"type": "integer"}, "42", 42),
        ({"type": "integer"}, "-7", -7),
        ({"type": "number"}, "2.5", 2.5),
        ({"type": "number"}, "3", 3),
        ({"type": "boolean"}, "TRUE", True),
        ({"type": "boolean"}, "0", False),
        ({"type": "string"}, "x y", "x y"),
        ({"type": "array", "items": {"type": "integer"}}, "1,2,3", [1, 2, 3]),
        (
            {"type": "array", "items": {"type": "string"}, "collectionFormat": "pipes"},
            "a|b",
            ["a", "b"],
        ),
        (
            {"type": "array", "items": {"type": "string"}, "collectionFormat": "ssv"},
            "a b",
            ["a", "b"],
        ),
        ({"type": "array", "items": {"type": "string"}}, "", []),
    ],
)
def test_coercion(spec, raw, value):
    assert param(**spec).parse(raw) == value


def test_multi_arrays_take_every_value():
    p = param(type="array", items={"type": "integer"}, collectionFormat="multi")
    assert p.parse("1", ["1", "2"]) == [1, 2]


@pytest.mark.parametrize(
    "spec,raw,fragment",
    [
        ({"type": "integer"}, "1.0", "expected an integer"),
        ({"type": "integer"}, " 42 ", "expected an integer"),  # no padding (issue 26)
        ({"type": "integer"}, "9" * 25, "int64 range"),
        ({"type": "integer"}, str(2**63), "int64 range"),
        ({"type": "number"}, "inf", "finite number"),
        ({"type": "number"}, "nan", "finite number"),
        ({"type": "number"}, "1" * 100, "expected a number"),
        ({"type": "boolean"}, "yes", "true or false"),
        ({"type": "integer", "minimum": 10}, "9", "bigger than or equal to 10"),
        ({"type": "integer", "minimum": 10, "exclusiveMinimum": True}, "10", "bigger than 10"),
        ({"type": "string", "enum": ["a", "b"]}, "c", "expected one of 'a', 'b'"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "A", "must match the pattern"),
        ({"type": "string", "maxLength": 2}, "abc", "shorter than or equal to 2 characters"),
        ({"type": "string", "format": "date"}, "2024-13-01", "valid date"),
        ({"type": "integer", "format": "int32"}, str(2**31), "smaller than or equal to 2147483647"),
        (
            {"type": "array", "items": {"type": "integer"}, "maxItems": 2},
            "1,2,3",
            "less than or equal to 2 items",
        ),
    ],
)
def test_violations_name_the_parameter(spec, raw, fragment):
    with pytest.raises(InvalidParameterError) as e:
        param(**spec).parse(raw)
    assert str(e.value).startswith("query parameter 'p': ")
    assert fragment in str(e.value), str(e.value)


@pytest.mark.parametrize(
    "raw", ["\u0663", "1\u0663", "\uff11\uff12", "\u00b2", "1\n", "", "-", "+1"]
)
def test_integers_are_ascii_digits_only(raw):
    # str.isdigit() (the regex-free test of a plain integer) also takes Arabic-Indic,
    # full-width and superscript digits: those stay refused, as _INT refuses them
    with pytest.raises(InvalidParameterError) as e:
        param(type="integer").parse(raw)
    assert "expected an integer" in str(e.value)
    assert param(type="integer").parse("-12") == -12 and param(type="integer").parse("0") == 0


def test_required_default_and_optional():
    with pytest.raises(InvalidParameterError, match="query parameter 'p': is required but missing"):
        param(type="string", required=True).missing()
    assert param(type="integer", default=20).missing() == 20
    assert param(type="integer").missing() is None
    path = Param({"name": "id", "in": "path", "type": "string"}, "id")
    assert path.required  # path parameters always are

"""Swagger -> JSON Schema translation and the messages of validation errors."""

import pytest

from pymacaron.validation import (
    JsonSchemaValueException,
    compile_schema,
    to_json_schema,
    violation_text,
)


def test_translation():
    out = to_json_schema(
        {
            "type": "object",
            "x-custom": 1,
            "example": {},
            "discriminator": "k",
            "properties": {
                "a": {"type": "string", "x-nullable": True, "enum": ["x"]},
                "b": {"type": "integer", "format": "int32"},
                "c": {"$ref": "#/definitions/C", "x-nullable": True},
                "d": {"type": "file"},
            },
        }
    )
    assert "x-custom" not in out and "example" not in out and "discriminator" not in out
    assert out["properties"]["a"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert out["properties"]["b"]["maximum"] == 2**31 - 1
    assert out["properties"]["c"] == {"anyOf": [{"type": "null"}, {"$ref": "#/definitions/C"}]}
    assert out["properties"]["d"] == {}


def check(schema, value, definitions=None):
    validator = compile_schema(to_json_schema(schema), definitions)
    with pytest.raises(JsonSchemaValueException) as e:
        validator(value)
    return violation_text(e.value)


@pytest.mark.parametrize(
    "schema,value,text",
    [
        (
            {"type": "object", "properties": {"n": {"type": "integer"}}},
            {"n": "1"},
            "body.n: expected an integer, got string '1'",
        ),
        ({"type": "object", "required": ["n"]}, {}, "body.n: is required but missing"),
        (
            {"type": "object", "additionalProperties": False, "properties": {}},
            {"z": 1},
            "body: has properties the spec does not declare: {'z'}",
        ),
        (
            {"type": "array", "items": {"type": "string", "enum": ["a"]}},
            ["a", "b"],
            "body[1]: expected one of 'a', got 'b'",
        ),
        (
            {"type": "number", "maximum": 5, "exclusiveMaximum": True},
            5,
            "body: must be smaller than 5, got 5",
        ),
        (
            {"type": "string", "format": "date-time"},
            "yesterday",
            "body: must be a valid date-time, got 'yesterday'",
        ),
        ({"type": "string", "format": "uuid"}, "nope", "body: must be a valid uuid, got 'nope'"),
        ({"type": "array", "uniqueItems": True}, [1, 1], "body: must contain unique items"),
    ],
)
def test_messages(schema, value, text):
    assert check(schema, value) == text


def test_references_and_recursion():
    defs = {
        "Node": to_json_schema(
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                },
            }
        )
    }
    validator = compile_schema({"$ref": "#/definitions/Node"}, defs)
    validator({"name": "a", "children": [{"name": "b", "children": []}]})
    with pytest.raises(JsonSchemaValueException) as e:
        validator({"name": "a", "children": [{"name": 2}]})
    assert violation_text(e.value) == "body.children[0].name: expected a string, got integer 2"


def test_nullable_accepts_null():
    validator = compile_schema(to_json_schema({"type": "string", "x-nullable": True}))
    assert validator(None) is None


def test_a_property_name_with_dots_and_brackets_is_one_field():
    schema = {"type": "object", "properties": {"a.b[0]": {"type": "integer"}, "a": {}}}
    validator = compile_schema(to_json_schema(schema))
    with pytest.raises(JsonSchemaValueException) as e:
        validator({"a": {"b": [1]}, "a.b[0]": "x"})
    assert e.value.path == ["data", "a.b[0]"]
    assert violation_text(e.value) == "body.a.b[0]: expected an integer, got string 'x'"


def test_the_first_bad_extra_property_is_the_same_in_every_process():
    import subprocess
    import sys

    code = (
        "from pymacaron.spec.validation import compile_schema, violation_text\n"
        "fn = compile_schema({'type': 'object', 'additionalProperties': {'type': 'integer'}})\n"
        "try:\n"
        "    fn({k: 'x' for k in 'qwertyuiopasdfghjkl'})\n"
        "except ValueError as e:\n"
        "    print(violation_text(e))\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in (1, 2, 3, 4)
    }
    assert seen == {"body.q: expected an integer, got string 'x'"}

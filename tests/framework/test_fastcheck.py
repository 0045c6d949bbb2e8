"""The draft 4 pre-check (spec/fastcheck.py) says yes only to what JSON Schema accepts:
required properties read as ``v[name]`` (a missing one is the KeyError the function turns
into "no") and ``additionalProperties: false`` counted with ``len`` instead of key sets."""

from __future__ import annotations

import jsonschema
import pytest

from pymacaron.spec import fastcheck

PRICE = {
    "type": "object",
    "required": ["amount", "currency"],
    "additionalProperties": False,
    "properties": {"amount": {"type": "number"}, "currency": {"enum": ["EUR", "USD"]}},
}
PET = {
    "type": "object",
    "required": ["id", "name"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "name": {"type": "string"},
        "price": PRICE,
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
SCHEMAS = {
    "closed, optional properties": PET,
    "closed, all required": PRICE,
    "a list of closed objects": {"type": "array", "items": PET},
    "open object, required": {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "integer"}},
    },
    "required without a property schema": {
        "type": "object",
        "required": ["a", "b"],
        "additionalProperties": False,
        "properties": {"a": {"type": "integer"}},
    },
    "required without a property schema, open": {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "integer"}},
    },
    "nullable object": {
        "type": ["object", "null"],
        "required": ["a"],
        "additionalProperties": False,
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
    },
}
DOCS = [
    None,
    [],
    {},
    {"id": 1, "name": "x"},
    {"id": 1, "name": "x", "tags": ["a"]},
    {"id": 1, "name": "x", "tags": ["a"], "price": {"amount": 1, "currency": "EUR"}},
    {"id": 1, "name": "x", "extra": 1},
    {"id": 1, "name": "x", "tags": ["a"], "extra": 1},
    {"id": 1, "tags": ["a"], "extra": 1},  # one missing, one extra: the same count
    {"id": 1, "name": "x", "price": {"amount": 1}},
    {"id": 1, "name": "x", "price": {"amount": 1, "currency": "EUR", "x": 1}},
    {"id": 1, "name": "x", "price": {"amount": 1, "cur": "EUR"}},
    {"id": 0, "name": "x"},
    {1: 1, "name": "x"},
    {"amount": 1, "currency": "EUR"},
    {"amount": 1, "currency": "GBP"},
    {"amount": 1, "currency": "EUR", "x": None},
    {"amount": 1},
    {"a": 1},
    {"a": 1, "b": 2},
    {"a": 1, "b": "x"},
    {"a": 1, "c": 2},
    {"b": 1},
    [{"id": 1, "name": "x"}, {"id": 2, "name": "y", "tags": []}],
    [{"id": 1, "name": "x"}, {"id": 2, "nom": "y"}],
    [{"id": 1, "name": "x"}, {"id": 2, "name": "y", "z": 1}],
]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_pre_check_never_accepts_what_json_schema_refuses(name):
    schema = SCHEMAS[name]
    check = fastcheck.build(schema, {})
    assert check is not None
    reference = jsonschema.Draft4Validator(schema)
    said_yes = 0
    for doc in DOCS:
        valid = reference.is_valid(doc)
        if check(doc):
            assert valid, (name, doc)
            said_yes += 1
        elif valid and not any(type(k) is not str for k in (doc or {}) if isinstance(doc, dict)):
            # plain JSON the reference accepts: the pre-check says yes too (the fast path)
            raise AssertionError(f"{name}: the pre-check refused valid {doc!r}")
    if name == "required without a property schema":
        assert said_yes == 0  # "b" is required and not allowed: nothing is valid
    else:
        assert said_yes  # every other schema has a valid document above


def test_closed_objects_are_counted_not_compared_as_key_sets():
    code, _ = fastcheck.source(PET, {})
    assert ".keys()" not in code and "len(v0) != v" in code and "except KeyError" in code
    code, _ = fastcheck.source(PRICE, {})
    assert ".keys()" not in code and "if len(v0) != 2: return False" in code
    # a required name without a property schema is not read: the key-set test stays
    code, _ = fastcheck.source(SCHEMAS["required without a property schema"], {})
    assert ".keys()" in code


def test_builtins_are_default_arguments_and_property_names_do_not_shadow_them():
    # the generated functions read type/len/... and their constants as positional default
    # arguments (locals); properties named like them are string keys, never those names
    schema = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["type", "len", "_c0"],
            "additionalProperties": False,
            "properties": {
                "type": {"type": "string", "enum": ["a", "b"]},
                "len": {"type": "integer", "minimum": 0},
                "_c0": {"type": "string", "enum": ["x"]},
            },
        },
    }
    code, consts = fastcheck.source(schema, {})
    head = code.split("\n", 1)[0]
    assert head.startswith("def check(v0, type=type, len=len") and "*" not in head
    assert all(f"{name}={name}" in head for name in consts)
    check = fastcheck.build(schema, {})
    reference = jsonschema.Draft4Validator(schema)
    for doc in (
        [{"type": "a", "len": 3, "_c0": "x"}],
        [{"type": "c", "len": 3, "_c0": "x"}],
        [{"type": "a", "len": -1, "_c0": "x"}],
        [{"type": "a", "len": 3, "_c0": "y"}],
        [{"type": "a", "len": 3}],
    ):
        assert check(doc) == reference.is_valid(doc), doc

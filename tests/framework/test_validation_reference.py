"""Verdicts of the validation engine agree with a reference validator (issue 16).

pymacaron validates with jsonschema-rs; the reference is the ``jsonschema`` package for the
draft the dialect runs as (Draft 4 for Swagger 2.0 and OpenAPI 3.0 translations, 2020-12
for OpenAPI 3.1), over a corpus of seeds and their random mutations, on the schemas of the
example service and on schemas built to exercise each dialect's keywords. Where the two
readings are known to differ by design, the reference is told: ``pattern`` is an ECMA 262
regex (``$`` ends the string; OpenAPI says so), arrays may be tuples (models'
``to_json``), and ``format`` is checked by the engine's own functions (their agreement with
schemathesis is test_formats.py's job). The spec-check cache tests live here too.
"""

from __future__ import annotations

import copy
import os
import random
import re
import textwrap

import jsonschema
import pytest
from jsonschema import validators

from pymacaron.exceptions import StartupError
from pymacaron.spec.load import load_spec
from pymacaron.spec.validation import (
    SchemaViolation,
    _format_checks,
    compile_schema,
    json_definitions,
    to_json_schema,
    violation_text,
)

HERE = os.path.dirname(os.path.abspath(__file__))
PETSHOP = os.path.join(HERE, "..", "..", "apis", "petshop.yaml")


def _ecma_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(
        re.sub(r"(?<!\\)\$", r"\\Z", pattern), instance
    ):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _reference(schema: dict, draft: int):
    base = jsonschema.Draft202012Validator if draft == 2020 else jsonschema.Draft4Validator
    checker = base.TYPE_CHECKER.redefine("array", lambda _, value: isinstance(value, list | tuple))
    cls = validators.extend(base, {"pattern": _ecma_pattern}, type_checker=checker)
    formats = jsonschema.FormatChecker(formats=())
    for name, check in _format_checks(draft).items():
        formats.checks(name)(check)
    for name in jsonschema.FormatChecker().checkers:
        if name not in formats.checkers:  # the engine's native formats, checked the same way
            formats.checks(name)(_native(name, draft))
    return cls(schema, format_checker=formats)


def _native(name: str, draft: int):
    import jsonschema_rs

    cls = jsonschema_rs.Draft202012Validator if draft == 2020 else jsonschema_rs.Draft4Validator
    check = cls({"format": name}, validate_formats=True).is_valid
    return lambda value: not isinstance(value, str) or check(value)


TRICKY = {
    "swagger2": {
        "nullable": {"type": "string", "x-nullable": True, "enum": ["a", "b"]},
        "nullable_ref": {
            "type": "object",
            "properties": {"p": {"$ref": "#/definitions/P", "x-nullable": True}},
        },
        "formats": {
            "type": "object",
            "properties": {
                "d": {"type": "string", "format": "date"},
                "t": {"type": "string", "format": "date-time"},
                "u": {"type": "string", "format": "uuid"},
                "e": {"type": "string", "format": "email"},
                "b": {"type": "string", "format": "byte"},
                "x": {"type": "string", "format": "nonsense"},
            },
        },
        "pattern": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "numbers": {
            "type": "object",
            "properties": {
                "i": {"type": "integer", "format": "int32", "minimum": 0},
                "n": {"type": "number", "maximum": 10, "exclusiveMaximum": True},
                "m": {"type": "number", "minimum": 0, "exclusiveMinimum": False},
                "k": {"type": "integer", "multipleOf": 3},
                "any": {},
            },
            "additionalProperties": {"type": "integer"},
        },
        "composed": {
            "allOf": [
                {"type": "object", "required": ["a"]},
                {"properties": {"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}},
            ]
        },
        "untyped": {"minLength": 2, "minimum": 3, "maxItems": 1, "required": ["k"]},
        "unique": {"type": "array", "uniqueItems": True, "items": {"type": "integer"}},
    },
    "oas30": {
        "nullable_enum": {"type": "string", "nullable": True, "enum": ["a", "b"]},
        "nullable_ref": {
            "type": "object",
            "properties": {
                "p": {"$ref": "#/definitions/P", "nullable": True},
                "q": {"allOf": [{"$ref": "#/definitions/P"}], "nullable": True},
            },
        },
        "discriminated": {
            "oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
            "discriminator": {"propertyName": "petType", "mapping": {"k": "Cat"}},
        },
        "pet": {"$ref": "#/definitions/Pet"},
        "composed": {
            "type": "object",
            "properties": {
                "a": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 2}]},
                "n": {"not": {"type": "string"}},
                "x": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            },
        },
    },
    "oas31": {
        "types": {
            "type": "object",
            "properties": {
                "s": {"type": ["string", "null"]},
                "c": {"const": "a"},
                "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
                "t": {"type": "array", "prefixItems": [{"type": "integer"}], "items": False},
                "u": {"type": "string", "format": "uuid"},
            },
            "dependentRequired": {"a": ["k"]},
        },
        "unevaluated": {
            "allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}],
            "properties": {"k": {}},
            "unevaluatedProperties": False,
        },
        "defs": {"$ref": "#/definitions/Thing"},
        "discriminated": {
            "anyOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
            "discriminator": {"propertyName": "petType"},
        },
        "pet": {"$ref": "#/definitions/Pet"},
    },
}
DEFINITIONS = {
    "swagger2": {"P": {"type": "object", "required": ["n"]}},
    "oas30": {
        "P": {"type": "object", "required": ["n"]},
        "Cat": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}},
        "Dog": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
        "Pet": {
            "type": "object",
            "required": ["i", "k"],
            "properties": {
                "i": {"type": "integer", "readOnly": True},
                "k": {"type": "string", "writeOnly": True},
                "d": {"type": "string", "format": "date"},
            },
        },
    },
    "oas31": {
        "Thing": {
            "type": "object",
            "properties": {"n": {"$ref": "#/definitions/Thing/$defs/N"}},
            "$defs": {"N": {"type": "integer", "minimum": 1}},
        },
        "Cat": {"type": "object", "properties": {"n": {"type": ["integer", "null"]}}},
        "Dog": {"type": "object", "required": ["a"], "properties": {"a": {"const": "x"}}},
        "Pet": {
            "type": "object",
            "required": ["i", "k"],
            "properties": {
                "i": {"type": "integer", "readOnly": True},
                "k": {"type": "string", "writeOnly": True},
            },
        },
    },
}

VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    2.5,
    3,
    10,
    9.99,
    2**40,
    2**64,
    "",
    "a",
    "k",
    "FR",
    "FR\n",
    "dog",
    "Cat",
    "Dog",
    "2024-02-29",
    "2023-02-29",
    "2024-01-01T10:00:00Z",
    "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "1b4e28ba2fa111d2883f0016d3cca427",
    "a@b.co",
    "aGk=",
    "aGk",
    [],
    ["a"],
    [1, 2],
    [1, 1],
    (1,),
    {},
    {"n": 1},
    {"a": 1},
    {"k": "v"},
    {"petType": "Cat"},
]


def _mutate(value, rnd: random.Random):
    value = copy.deepcopy(value)
    if isinstance(value, dict) and rnd.random() < 0.9:
        keys = ["extra", "k", "a", "i", "n", "d", "p", "q", "s", "c", "x", "t", "petType"]
        key = rnd.choice([*value, *keys])
        if key in value and isinstance(value[key], dict | list) and rnd.random() < 0.5:
            value[key] = _mutate(value[key], rnd)
        elif key in value and rnd.random() < 0.2:
            del value[key]
        else:
            value[key] = rnd.choice(VALUES)
        return value
    if isinstance(value, list) and value and rnd.random() < 0.9:
        i = rnd.randrange(len(value))
        value[i] = _mutate(value[i], rnd) if rnd.random() < 0.5 else rnd.choice(VALUES)
        return value
    return rnd.choice(VALUES)


def _cases():
    """(id, dialect, direction, JSON schema, definitions) for every schema of the corpus."""
    spec = load_spec(PETSHOP, validate=False)
    definitions = json_definitions(spec.definitions)
    for name in definitions:
        yield f"petshop:{name}", "swagger2", None, {"$ref": f"#/definitions/{name}"}, definitions
    yield (
        "petshop:list",
        "swagger2",
        None,
        {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
        definitions,
    )
    for dialect, schemas in TRICKY.items():
        defs = json_definitions(DEFINITIONS[dialect], dialect=dialect)
        for name, schema in schemas.items():
            for direction in (None, "request", "response") if dialect != "swagger2" else (None,):
                translated = to_json_schema(schema, dialect, direction)
                yield f"{dialect}:{name}:{direction}", dialect, direction, translated, defs


SEEDS = [
    {
        "id": 1,
        "name": "Rex",
        "species": "dog",
        "status": "available",
        "price": {"amount": 1, "currency": "EUR"},
        "tags": ["a"],
        "birth_date": "2020-01-01",
        "vaccinations": [{"name": "x", "date": "2020-01-01"}],
    },
    {
        "items": [{"pet_id": 1, "gift_wrap": True}],
        "delivery": {"name": "a", "street": "b", "city": "c", "country": "FR"},
    },
    {"status": 400, "error": "X", "error_description": "d", "error_id": "i"},
    {"amount": 2, "currency": "USD"},
    {"d": "2024-01-01", "t": "2024-01-01T00:00:00Z", "u": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"},
    {"i": 1, "n": 2.5, "m": 0, "any": [1], "k": 3},
    {"a": "x", "k": "vv"},
    {"p": {"n": 1}, "q": None},
    {"petType": "k", "n": 3},
    {"petType": "Dog", "a": "x"},
    {"i": 1, "k": "s", "d": "2024-01-01"},
    {"s": None, "c": "a", "x": 5, "t": [1], "a": 1, "k": 2},
    {"n": 2},
]


def _generate(schema, root, rnd: random.Random, depth: int):
    """A value meant to satisfy ``schema`` (often does; the reference decides)."""
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return _generate(node, root, rnd, depth + 1) if depth < 8 else None
    for key in ("allOf", "anyOf", "oneOf"):
        if schema.get(key):
            parts = schema[key] if key == "allOf" else [rnd.choice(schema[key])]
            values = [_generate(p, root, rnd, depth + 1) for p in parts]
            merged = {}
            for v in values:
                if not isinstance(v, dict):
                    return v
                merged.update(v)
            extra = _generate({k: v for k, v in schema.items() if k != key}, root, rnd, depth)
            return {**merged, **extra} if isinstance(extra, dict) else merged
    if "enum" in schema:
        return rnd.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = rnd.choice(kind)
    if kind is None:
        kind = "object" if "properties" in schema or "required" in schema else None
    if kind == "object":
        out = {}
        required = schema.get("required", [])
        for key, sub in (schema.get("properties") or {}).items():
            if key in required or (depth < 3 and rnd.random() < 0.6):
                out[key] = _generate(sub, root, rnd, depth + 1)
        for key in required:
            out.setdefault(key, "x")
        return out
    if kind == "array":
        items = schema.get("items", {})
        low = schema.get("minItems", 0)
        return [_generate(items, root, rnd, depth + 1) for _ in range(low + rnd.randint(0, 2))]
    if kind in ("integer", "number"):
        low = max(schema.get("minimum", -5), -5)
        return rnd.randint(int(low) + 1, int(low) + 20)
    if kind == "boolean":
        return rnd.random() < 0.5
    if kind == "null":
        return None
    samples = {
        "date": "2024-01-31",
        "date-time": "2024-01-31T10:00:00Z",
        "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "email": "a@b.co",
        "byte": "aGk=",
        "uri": "https://example.com/a",
    }
    if schema.get("format") in samples:
        return samples[schema["format"]]
    if "pattern" in schema:
        return rnd.choice(["FR", "US", "abc", "a1"])
    return "x" * max(schema.get("minLength", 0), rnd.randint(1, 5))


@pytest.mark.parametrize("case", list(_cases()), ids=lambda case: case[0])
def test_verdicts_agree_with_the_reference(case):
    name, dialect, direction, schema, definitions = case
    validator = compile_schema(schema, definitions, dialect=dialect, direction=direction)
    draft = 2020 if dialect == "oas31" else 4
    reference = _reference(validator.schema, draft)
    rnd = random.Random(name)
    accepted = rejected = 0
    own = [_generate(validator.schema, validator.schema, rnd, 0) for _ in range(10)]
    for seed in [*own, *SEEDS, *VALUES]:
        for _ in range(60):
            value = seed
            for _ in range(rnd.randint(0, 3)):
                value = _mutate(value, rnd)
            expected = reference.is_valid(value)
            try:
                validator(value)
                got = True
            except SchemaViolation as e:
                got = False
                text = violation_text(e)
                assert text and "Traceback" not in text
            assert got == expected, f"{name}: {value!r}: reference says {expected}"
            accepted += got
            rejected += not got
    assert accepted and rejected, (accepted, rejected)  # the corpus has both sides


def test_a_value_json_cannot_carry_is_a_violation_not_a_crash():
    import datetime

    schema = {
        "type": "object",
        "properties": {"when": {"type": "array", "items": {"type": "string"}}},
    }
    validator = compile_schema(schema)
    with pytest.raises(SchemaViolation) as e:
        validator({"when": [datetime.date(2020, 1, 1)]})
    assert violation_text(e.value) == (
        "body.when[0]: expected a JSON value, got date datetime.date(2020, 1, 1)"
    )


def test_a_broken_schema_is_a_value_error_at_compile_time():
    with pytest.raises(ValueError, match="invalid schema"):
        compile_schema({"type": "strin"})
    with pytest.raises(ValueError, match="invalid schema"):
        compile_schema({"$ref": "#/definitions/Missing"})


GOOD = """\
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200": {description: ok}
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_spec_check_is_recorded_and_a_broken_spec_still_fails(tmp_path, cache):
    path = tmp_path / "api.yaml"
    path.write_text(GOOD)
    load_spec(str(path))
    assert list((cache / "specs").glob("*.json"))
    load_spec(str(path))  # from the record
    broken = GOOD.replace("responses:", "responsez:")
    for _ in range(2):  # a failure is never recorded: it fails every time
        path.write_text(broken)
        with pytest.raises(StartupError, match="not a valid Swagger 2.0 spec"):
            load_spec(str(path))


def test_external_reference_change_invalidates_the_record(tmp_path, cache):
    (tmp_path / "defs.yaml").write_text("Thing: {type: object}\n")
    spec = GOOD.replace(
        '"200": {description: ok}',
        '"200": {description: ok, schema: {$ref: "defs.yaml#/Thing"}}',
    )
    (tmp_path / "api.yaml").write_text(spec)
    load_spec(str(tmp_path / "api.yaml"))
    (tmp_path / "defs.yaml").write_text("Thing: {type: 12}\n")
    with pytest.raises(StartupError):
        load_spec(str(tmp_path / "api.yaml"))


def test_cache_can_be_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")
    path = tmp_path / "api.yaml"
    path.write_text(textwrap.dedent(GOOD))
    load_spec(str(path))
    assert not (tmp_path / "off").exists()

"""The validation fast path changes speed, never verdicts or messages (issue 7).

fastcheck.py's pre-check may only say "valid" where fastjsonschema agrees; compile_schema
must raise fastjsonschema's own errors; the spec-check and validator caches must never
let a broken spec start.
"""

from __future__ import annotations

import copy
import os
import random
import textwrap

import fastjsonschema
import pytest

from pymacaron.exceptions import StartupError
from pymacaron.spec import fastcheck
from pymacaron.spec.load import load_spec
from pymacaron.spec.validation import DRAFT4, SWAGGER_FORMATS, compile_schema, to_json_schema

HERE = os.path.dirname(os.path.abspath(__file__))
PETSHOP = os.path.join(HERE, "..", "..", "apis", "petshop.yaml")

TRICKY = {
    "nullable": to_json_schema({"type": "string", "x-nullable": True, "enum": ["a", "b"]}),
    "nullable_ref": {
        "type": "object",
        "properties": {"p": to_json_schema({"$ref": "#/definitions/P", "x-nullable": True})},
        "definitions": {"P": {"type": "object", "required": ["n"]}},
    },
    "formats": {
        "type": "object",
        "properties": {
            "d": {"type": "string", "format": "date"},
            "t": {"type": "string", "format": "date-time"},
            "u": {"type": "string", "format": "uuid"},
            "e": {"type": "string", "format": "email"},
            "x": {"type": "string", "format": "nonsense"},
        },
    },
    "pattern": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "numbers": {
        "type": "object",
        "properties": {
            "i": to_json_schema({"type": "integer", "format": "int32", "minimum": 0}),
            "n": {"type": "number", "maximum": 10, "exclusiveMaximum": True},
            "m": {"type": "number", "minimum": 0, "exclusiveMinimum": False},
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
    10,
    9.99,
    2**40,
    float("nan"),
    "",
    "a",
    "FR",
    "FR\n",
    "dog",
    "2024-02-29",
    "2023-02-29",
    "2024-01-01T10:00:00Z",
    "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "a@b.co",
    [],
    ["a"],
    [1, 2],
    (1,),
    {},
    {"n": 1},
    {"a": 1},
    {"k": "v"},
]


def _mutate(value, rnd: random.Random):
    value = copy.deepcopy(value)
    if isinstance(value, dict) and rnd.random() < 0.9:
        key = rnd.choice([*value, "extra", "k", "a", "i", "n", "d", "p"])
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


def _schemas():
    spec = load_spec(PETSHOP, validate=False)
    definitions = {k: to_json_schema(v) for k, v in spec.definitions.items()}
    for name in definitions:
        yield f"petshop:{name}", {"$ref": f"#/definitions/{name}", "definitions": definitions}
    yield (
        "petshop:list",
        {"type": "array", "items": {"$ref": "#/definitions/Pet"}, "definitions": definitions},
    )
    yield from TRICKY.items()


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
    {"i": 1, "n": 2.5, "m": 0, "any": [1]},
    {"a": "x", "k": "vv"},
]


@pytest.mark.parametrize(
    "name,schema", list(_schemas()), ids=lambda x: x if isinstance(x, str) else ""
)
def test_precheck_never_accepts_what_fastjsonschema_rejects(name, schema):
    validator = compile_schema(schema)
    schema = {"$schema": DRAFT4, **schema}  # as compile_schema compiles it
    full = fastjsonschema.compile(schema, formats=SWAGGER_FORMATS, use_default=False)
    # None: the pre-check does not cover this schema and fastjsonschema decides alone; the
    # verdicts and messages of compile_schema must still be fastjsonschema's
    check = fastcheck.build(schema, SWAGGER_FORMATS)
    rnd = random.Random(name)
    agreed = 0
    for seed in [*SEEDS, *VALUES]:
        for _ in range(150):
            value = seed
            for _ in range(rnd.randint(0, 3)):
                value = _mutate(value, rnd)
            try:
                full(value)
                expected = None
            except fastjsonschema.JsonSchemaValueException as e:
                expected = (e.message, e.rule, list(e.path or []))
            if check is not None:
                fast = check(value)
                assert not (fast and expected), f"{name}: pre-check accepted {value!r}: {expected}"
                agreed += fast == (expected is None)
            try:
                validator(value)
                got = None
            except fastjsonschema.JsonSchemaValueException as e:
                got = (e.message, e.rule, list(e.path or []))
            assert got == expected, value
    assert check is None or agreed > 0


def test_precheck_accepts_valid_data():
    spec = load_spec(PETSHOP, validate=False)
    definitions = {k: to_json_schema(v) for k, v in spec.definitions.items()}
    check = fastcheck.build(
        {
            "$schema": DRAFT4,
            "type": "array",
            "items": {"$ref": "#/definitions/Pet"},
            "definitions": definitions,
        },
        SWAGGER_FORMATS,
    )
    assert check is not None and check([SEEDS[0]] * 3)


def test_unsupported_keywords_fall_back_to_fastjsonschema():
    assert fastcheck.build({"type": "integer", "multipleOf": 3}, SWAGGER_FORMATS) is None
    assert fastcheck.build({"oneOf": [{"type": "string"}]}, SWAGGER_FORMATS) is None
    validator = compile_schema({"type": "integer", "multipleOf": 3})
    assert validator(6) == 6
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validator(7)


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

"""Schema dialects: what OpenAPI 3.0 and 3.1 schemas mean once validated (validation.py).

Each test states one rule of the OpenAPI or JSON Schema text and checks a value on each
side of it, with the message a client would read.
"""

from __future__ import annotations

import pytest

from pymacaron.spec.validation import (
    SchemaViolation,
    annotations,
    compile_schema,
    json_definitions,
    to_json_schema,
    unenforceable,
    validator_for,
    violation_text,
)


def validator(schema, definitions=None, dialect="oas30", direction=None):
    defs = json_definitions(definitions or {}, dialect=dialect)
    return validator_for(
        to_json_schema(schema, dialect, direction), defs, dialect=dialect, direction=direction
    )


def error(fn, value, root="body") -> str:
    with pytest.raises(SchemaViolation) as e:
        fn(value)
    return violation_text(e.value, root=root)


# -- OpenAPI 3.0 ------------------------------------------------------------------------


def test_oas30_nullable_with_enum_admits_null_only_as_declared():
    fn = validator({"type": "string", "nullable": True, "enum": ["a", "b"]})
    assert fn(None) is None and fn("a") == "a"
    assert error(fn, "c") == "body: expected one of 'a', 'b', None, got 'c'"
    plain = validator({"type": "string", "enum": ["a"]})
    assert error(plain, None) == "body: expected a string, got null None"


def test_oas30_nullable_beside_a_ref_and_an_allof():
    defs = {"P": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}}
    for schema in (
        {"$ref": "#/definitions/P", "nullable": True},
        {"allOf": [{"$ref": "#/definitions/P"}], "nullable": True},
    ):
        fn = validator({"type": "object", "properties": {"p": schema}}, defs)
        assert fn({"p": None}) == {"p": None} and fn({"p": {"n": 1}})
        assert error(fn, {"p": {}}).startswith("body.p")
    fn = validator({"$ref": "#/definitions/P"}, defs)
    assert error(fn, None) == "body: expected an object, got null None"


PET = {
    "type": "object",
    "required": ["id", "name", "secret"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string"},
        "secret": {"type": "string", "writeOnly": True},
    },
}
OWNER = {"type": "object", "properties": {"pet": {"$ref": "#/definitions/Pet"}}}


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_read_only_is_not_required_in_requests_but_checked_when_sent(dialect):
    defs = {"Pet": PET, "Owner": OWNER}
    fn = validator({"$ref": "#/definitions/Pet"}, defs, dialect, "request")
    assert fn({"name": "rex", "secret": "s"})  # id: readOnly, not required in a request
    assert fn({"id": 1, "name": "rex", "secret": "s"})  # SHOULD NOT be sent: accepted
    assert error(fn, {"id": "one", "name": "rex", "secret": "s"}).startswith("body.id: expected")
    assert error(fn, {"id": 1, "name": "rex"}) == "body.secret: is required but missing"
    nested = validator({"$ref": "#/definitions/Owner"}, defs, dialect, "request")
    assert nested({"pet": {"name": "rex", "secret": "s"}})
    inline = validator(PET, {}, dialect, "request")
    assert inline({"name": "rex", "secret": "s"})


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_write_only_is_never_in_a_response_and_not_required_there(dialect):
    defs = {"Pet": PET, "Owner": OWNER}
    fn = validator({"$ref": "#/definitions/Pet"}, defs, dialect, "response")
    assert fn({"id": 1, "name": "rex"})
    assert error(fn, {"id": 1, "name": "rex", "secret": "s"}, "response") == (
        "response.secret: must not be present"
    )
    assert error(fn, {"name": "rex"}, "response") == "response.id: is required but missing"
    nested = validator({"$ref": "#/definitions/Owner"}, defs, dialect, "response")
    assert error(nested, {"pet": {"id": 1, "name": "r", "secret": "s"}}, "response") == (
        "response.pet.secret: must not be present"
    )
    inline = validator(PET, {}, dialect, "response")
    assert error(inline, {"id": 1, "name": "r", "secret": "s"}).endswith("must not be present")


def test_models_keep_read_only_and_write_only_as_declared():
    defs = json_definitions({"Pet": PET}, dialect="oas30")
    fn = compile_schema({"$ref": "#/definitions/Pet"}, defs, dialect="oas30")
    assert fn({"id": 1, "name": "rex", "secret": "s"})
    assert error(fn, {"name": "rex", "secret": "s"}) == "body.id: is required but missing"


CAT = {
    "type": "object",
    "required": ["petType"],
    "properties": {"petType": {"type": "string"}, "lives": {"type": "integer", "maximum": 9}},
}
DOG = {
    "type": "object",
    "required": ["petType", "bark"],
    "properties": {"petType": {"type": "string"}, "bark": {"type": "boolean"}},
}


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
@pytest.mark.parametrize("keyword", ["oneOf", "anyOf"])
def test_discriminator_without_mapping_uses_schema_names(dialect, keyword):
    defs = {"Cat": CAT, "Dog": DOG}
    fn = validator(
        {
            keyword: [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
            "discriminator": {"propertyName": "petType"},
        },
        defs,
        dialect,
    )
    assert fn({"petType": "Cat", "lives": 3}) and fn({"petType": "Dog", "bark": True})
    assert error(fn, {"petType": "Cow"}) == "body.petType: expected one of 'Cat', 'Dog', got 'Cow'"
    assert error(fn, {"lives": 3}) == "body.petType: is required but missing"
    # the value chooses the schema: a Cat is checked as a Cat, and told what is wrong with it
    assert error(fn, {"petType": "Cat", "lives": 12}) == (
        "body.lives: must be smaller than or equal to 9, got 12"
    )
    assert error(fn, {"petType": "Dog"}) == "body.bark: is required but missing"


@pytest.mark.parametrize("dialect", ["oas30", "oas31"])
def test_discriminator_mapping_names_the_values(dialect):
    defs = {"Cat": CAT, "Dog": DOG}
    fn = validator(
        {
            "oneOf": [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}],
            "discriminator": {
                "propertyName": "petType",
                "mapping": {"cat": "#/components/schemas/Cat", "dog": "Dog"},
            },
        },
        defs,
        dialect,
    )
    assert fn({"petType": "cat"}) and fn({"petType": "dog", "bark": False})
    assert error(fn, {"petType": "Cat"}) == "body.petType: expected one of 'cat', 'dog', got 'Cat'"
    assert error(fn, {"petType": "dog"}) == "body.bark: is required but missing"


def test_discriminator_on_a_parent_that_children_extend():
    pet = {
        "type": "object",
        "required": ["petType", "name"],
        "properties": {"petType": {"type": "string"}, "name": {"type": "string"}},
        "discriminator": {"propertyName": "petType", "mapping": {"kitty": "Cat"}},
    }
    cat = {
        "allOf": [
            {"$ref": "#/definitions/Pet"},
            {"type": "object", "properties": {"lives": {"type": "integer", "maximum": 9}}},
        ]
    }
    dog = {"allOf": [{"$ref": "#/definitions/Pet"}, {"type": "object", "required": ["bark"]}]}
    fn = validator({"$ref": "#/definitions/Pet"}, {"Pet": pet, "Cat": cat, "Dog": dog})
    assert fn({"petType": "kitty", "name": "tom"}) and fn({"petType": "Pet", "name": "x"})
    assert error(fn, {"petType": "kitty", "name": "tom", "lives": 10}).startswith("body.lives")
    assert error(fn, {"petType": "Dog", "name": "rex"}) == "body.bark: is required but missing"
    assert "expected one of 'kitty', 'Pet', 'Dog'" in error(fn, {"petType": "Cat", "name": "x"})


def test_oas30_numbers_integers_and_composition():
    fn = validator({"type": "number", "minimum": 0, "exclusiveMinimum": True})
    assert fn(0.5) and error(fn, 0) == "body: must be bigger than 0, got 0"
    fn = validator({"type": "integer", "format": "int32"})
    assert fn(2**31 - 1) and error(fn, 2**31).startswith("body: must be smaller than or equal to")
    fn = validator({"type": "integer", "format": "int64"})
    assert error(fn, 2**63).startswith("body: must be smaller than or equal to")
    fn = validator({"not": {"type": "string"}})
    assert fn(1) == 1 and error(fn, "s") == "body: must NOT match a disallowed definition"
    fn = validator({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]})
    assert fn(-1) == -1 and fn(0.5) == 0.5
    assert error(fn, 1).startswith("body: must be valid exactly by one definition")
    fn = validator({"anyOf": [{"type": "integer"}, {"type": "boolean"}]})
    assert fn(True) and error(fn, "x") == "body: cannot be validated by any definition"


# -- OpenAPI 3.1 / JSON Schema 2020-12 --------------------------------------------------


def v31(schema, definitions=None, direction=None):
    return validator(schema, definitions, "oas31", direction)


def test_oas31_type_arrays_const_and_numeric_exclusive_bounds():
    fn = v31({"type": ["string", "null"]})
    assert fn(None) is None and fn("a") == "a"
    assert error(fn, 1) == "body: expected a string or null, got integer 1"
    fn = v31({"const": "v1"})
    assert fn("v1") and error(fn, "v2") == "body: expected 'v1', got 'v2'"
    fn = v31({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10})
    assert fn(5) and error(fn, 0) == "body: must be bigger than 0, got 0"
    assert error(fn, 10) == "body: must be smaller than 10, got 10"
    # `nullable` is no 3.1 keyword: nothing admits null but the type
    # (issue 27: an annotation, warned with its migration hint, not a refusal)
    assert unenforceable({"type": "string", "nullable": True}, "oas31") == []
    assert annotations({"type": "string", "nullable": True}, "oas31") == [
        ("nullable", True, ["nullable"])
    ]


def test_oas31_prefix_items_defs_dependent_required_unevaluated_properties():
    fn = v31({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]})
    assert fn([1, "a", None]) and error(fn, [1, 2]) == "body[1]: expected a string, got integer 2"
    fn = v31({"type": "array", "prefixItems": [{"type": "integer"}], "items": False})
    assert fn([1]) and error(fn, [1, 2]) == "body[1]: must not be present"
    thing = {
        "type": "object",
        "properties": {"size": {"$ref": "#/definitions/Thing/$defs/Size"}},
        "$defs": {"Size": {"type": "integer", "minimum": 1}},
    }
    fn = v31({"$ref": "#/definitions/Thing"}, {"Thing": thing})
    assert fn({"size": 2}) and error(fn, {"size": 0}).startswith("body.size: must be bigger")
    fn = v31({"type": "object", "dependentRequired": {"card": ["cvc"]}})
    assert fn({}) == {} and fn({"card": "1", "cvc": "2"})
    assert error(fn, {"card": "1"}) == "body.cvc: is required but missing"
    fn = v31(
        {
            "allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}],
            "properties": {"b": {"type": "integer"}},
            "unevaluatedProperties": False,
            "examples": [{"a": 1}],
        }
    )
    assert fn({"a": 1, "b": 2})
    assert error(fn, {"a": 1, "z": 3}) == "body: has properties the spec does not declare: {'z'}"


def test_oas31_discriminator_and_nullable_ref():
    defs = {"Cat": CAT, "Dog": DOG}
    fn = v31(
        {
            "oneOf": [
                {"$ref": "#/definitions/Cat"},
                {"$ref": "#/definitions/Dog"},
                {"type": "null"},
            ],
            "discriminator": {"propertyName": "petType"},
        },
        defs,
    )
    assert fn({"petType": "Cat"}) and error(fn, {"petType": "Cow"}).startswith("body.petType")
    fn = v31({"anyOf": [{"$ref": "#/definitions/Cat"}, {"type": "null"}]}, defs)
    assert (
        fn(None) is None
        and error(fn, {"lives": 1}) == "body: cannot be validated by any definition"
    )


# -- refusals at startup ----------------------------------------------------------------


def test_unenforceable_names_keyword_and_json_path():
    schema = {
        "type": "object",
        "properties": {
            "$id": {"type": "string"},  # a property's name, not a keyword
            "tree": {"$dynamicRef": "#node"},
            "kind": {"type": "string", "format": "phone"},
            "n": {"type": "integer", "format": "int32"},
        },
        "$vocabulary": {},
    }
    at = ["components", "schemas", "T"]
    assert unenforceable(schema, "oas31", at) == [
        ("$dynamicRef", [*at, "properties", "tree", "$dynamicRef"]),
        ("$vocabulary", [*at, "$vocabulary"]),
    ]
    # an unknown format is an annotation (issue 27), named with its value and place
    assert annotations(schema, "oas31", at) == [
        ("format", "phone", [*at, "properties", "kind", "format"])
    ]
    later = {"allOf": [{"const": 1}], "items": {"prefixItems": []}, "format": "uri"}
    assert unenforceable(later, "oas30") == [
        ("const", ["allOf", 0, "const"]),
        ("prefixItems", ["items", "prefixItems"]),
    ]
    # Swagger 2.0: formats are open (bravado-core ignores unknown ones), as before
    assert unenforceable({"type": "string", "format": "phone"}, "swagger2") == []
    assert unenforceable({"$ref": "other.yaml#/X"}, "oas30") == [("$ref", ["$ref"])]
    assert unenforceable({"discriminator": {"mapping": {}}}, "oas30") == [
        ("discriminator", ["discriminator"])
    ]
    assert unenforceable({"$schema": "http://json-schema.org/draft-07/schema#"}, "oas31") == [
        ("$schema", ["$schema"])
    ]
    for fmt in ("uuid", "email", "uri", "date-time", "byte", "binary", "password", "double"):
        assert unenforceable({"type": "string", "format": fmt}, "oas30") == [], fmt


def test_unknown_dialect_or_direction_is_a_programming_error():
    with pytest.raises(ValueError, match="dialect"):
        to_json_schema({}, "oas32")
    with pytest.raises(ValueError, match="direction"):
        to_json_schema({}, "oas30", "sideways")

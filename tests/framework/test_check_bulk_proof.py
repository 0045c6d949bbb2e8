"""``pym check`` proves every validator compiles in bulk (spec/validation/compile.py
``prove``): one generated module per definitions table, each definition generated once,
not one module per validator; a schema that does not compile still fails with its own
error; the validators stay lazy and validate as before."""

from __future__ import annotations

import pytest

from pymacaron.spec.validation import SchemaViolation, proving, validator_for
from pymacaron.spec.validation import compile as vcompile


def _definitions(n: int) -> dict:
    defs = {"Ref": {"type": "object", "properties": {"id": {"type": "string"}}}}
    for i in range(n):
        defs[f"New{i}"] = {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "size": {"type": "integer", "minimum": i},
                "parent": {"$ref": "#/definitions/Ref"},
            },
        }
        defs[f"Thing{i}"] = {
            "allOf": [{"$ref": f"#/definitions/New{i}"}, {"required": ["id"]}],
        }
    return defs


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setattr(vcompile, "eager", lambda: True)
    vcompile._compiled.clear()


def test_one_module_for_every_validator_of_a_spec(eager, monkeypatch):
    defs = _definitions(20)
    calls = []
    real = vcompile._compile_draft4
    monkeypatch.setattr(
        vcompile, "_compile_draft4", lambda schema, **kw: calls.append(schema) or real(schema, **kw)
    )
    with proving():
        made = [
            validator_for({"$ref": f"#/definitions/{name}"}, defs, dialect="swagger2")
            for name in defs
        ] + [validator_for({"type": "integer", "maximum": 9}, defs, dialect="swagger2")]
    assert len(calls) == 1, len(calls)  # was one per validator (42)
    assert len(calls[0]["anyOf"]) == 42 and set(calls[0]["definitions"]) == set(defs)
    assert all(v._fn is None for v in made)  # still lazy: compiled on first use
    thing3 = made[list(defs).index("Thing3")]
    assert thing3({"id": "a", "name": "n", "size": 3})
    with pytest.raises(SchemaViolation):
        thing3({"id": "a", "name": "n", "size": 2})  # minimum 3
    with pytest.raises(SchemaViolation):
        made[-1](10)


def test_a_schema_that_does_not_compile_fails_the_check_with_its_own_error(eager):
    defs = _definitions(3)
    defs["Bad"] = {"type": "object", "properties": {"code": {"type": "string", "pattern": "(["}}}
    with pytest.raises(ValueError) as alone:
        vcompile.compile_schema({"$ref": "#/definitions/Bad"}, defs, dialect="swagger2")
    vcompile._compiled.clear()
    with pytest.raises(ValueError) as bulk, proving():
        for name in defs:
            validator_for({"$ref": f"#/definitions/{name}"}, defs, dialect="swagger2")
    assert str(bulk.value) == str(alone.value) and "invalid schema" in str(bulk.value)


def test_outside_a_check_eager_still_compiles_each_validator(eager):
    defs = _definitions(2)
    v = validator_for({"$ref": "#/definitions/Thing1"}, defs, dialect="swagger2")
    assert v._fn is not None  # PYM_EAGER_VALIDATORS=1 at a start: compiled now


def test_many_validators_are_proven_in_modules_of_bounded_size(eager, monkeypatch):
    defs = _definitions(20)
    calls = []
    real = vcompile._compile_draft4
    monkeypatch.setattr(vcompile, "_BULK", 10)
    monkeypatch.setattr(
        vcompile, "_compile_draft4", lambda schema, **kw: calls.append(schema) or real(schema, **kw)
    )
    with proving():
        for name in defs:
            validator_for({"$ref": f"#/definitions/{name}"}, defs, dialect="swagger2")
    assert [len(c["anyOf"]) for c in calls] == [10, 10, 10, 10, 1]
    # each module holds the definitions its own roots reach, not the whole table
    assert set(calls[-1]["definitions"]) == {"Thing19", "New19", "Ref"}

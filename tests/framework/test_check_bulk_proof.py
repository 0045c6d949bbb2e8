"""``pym check`` proves every validator compiles in bulk (spec/validation/compile.py
``prove``): one generated module per definitions table, each definition generated once,
not one module per validator, and schemas that differ only by text the code never holds
(descriptions, titles) generated once; a schema that does not compile still fails with its
own error, wherever it sits; the validators stay lazy and validate as before."""

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


def _recorded(monkeypatch) -> list:
    """The schemas handed to the draft 4 compiler (one per generated module)."""
    calls: list = []
    real = vcompile._compile_draft4
    monkeypatch.setattr(
        vcompile, "_compile_draft4", lambda schema, **kw: calls.append(schema) or real(schema, **kw)
    )
    return calls


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setattr(vcompile, "eager", lambda: True)
    vcompile._compiled.clear()


def test_one_module_for_every_validator_of_a_spec(eager, monkeypatch):
    defs = _definitions(20)
    calls = _recorded(monkeypatch)
    with proving():
        made = [
            validator_for({"$ref": f"#/definitions/{name}"}, defs, dialect="swagger2")
            for name in defs
        ] + [validator_for({"type": "integer", "maximum": 9}, defs, dialect="swagger2")]
    assert len(calls) == 1, len(calls)  # was one per validator (42)
    generated = {n for n in calls[0]["definitions"] if not n.startswith("__pym_reach")}
    # New0..New19 differ (their minimum), the Thing<i> are one shape: one is generated
    assert {f"New{i}" for i in range(20)} | {"Ref"} < generated
    assert len(generated) == 22 and len([n for n in generated if n.startswith("Thing")]) == 1
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
    calls = _recorded(monkeypatch)
    monkeypatch.setattr(vcompile, "_BULK", 10)
    with proving():
        for i in range(40):  # 40 roots of distinct shapes (their maximum), and a reference
            validator_for({"type": "integer", "maximum": i}, defs, dialect="swagger2")
        validator_for({"$ref": "#/definitions/Thing19"}, defs, dialect="swagger2")
    roots = [[b for b in c["anyOf"] if "__pym_reach" not in b.get("$ref", "")] for c in calls]
    assert [len(r) for r in roots] == [10, 10, 10, 10, 1]
    # each module holds the definitions its own roots reach, not the whole table
    assert [set(c.get("definitions", {})) for c in calls[:4]] == [set()] * 4
    assert set(calls[-1]["definitions"]) == {"Thing19", "New19", "Ref", "__pym_reach_0"}


def _described(n: int, broken: int | None = None) -> dict:
    """``n`` resources of one shape, each with its own text, each reaching its own Part
    (Part<broken> with a pattern that does not compile)."""
    defs = {}
    for i in range(n):
        defs[f"Thing{i}"] = {
            "type": "object",
            "title": f"Thing {i}",
            "description": f"The thing of kind {i}, as its owner wrote it.",
            "properties": {
                "name": {"type": "string", "description": f"Name of thing {i}"},
                "part": {"$ref": f"#/definitions/Part{i}"},
            },
        }
        defs[f"Part{i}"] = {"type": "string", "description": f"Part of {i}"}
        if i == broken:
            defs[f"Part{i}"]["pattern"] = "(["
    return defs


def test_schemas_differing_only_by_their_text_are_generated_once(eager, monkeypatch):
    defs = _described(30)
    calls = _recorded(monkeypatch)
    with proving():
        made = [
            validator_for({"$ref": f"#/definitions/Thing{i}"}, defs, dialect="swagger2")
            for i in range(30)
        ]
    generated = {n for n in calls[0]["definitions"] if not n.startswith("__pym_reach")}
    assert len(calls) == 1 and len(generated) == 2, generated  # was 60
    assert made[7]({"name": "a", "part": "b"})
    with pytest.raises(SchemaViolation):
        made[7]({"name": "a", "part": 3})


def test_a_broken_schema_behind_one_of_the_same_shape_still_fails_the_check(eager):
    """Thing3 has the shape of every Thing, but the Part it reaches does not compile: the
    check follows each definition's own references, not only its shape's first one."""
    defs = _described(6, broken=3)
    with pytest.raises(ValueError) as alone:
        vcompile.compile_schema({"$ref": "#/definitions/Thing3"}, defs, dialect="swagger2")
    vcompile._compiled.clear()
    with pytest.raises(ValueError) as bulk, proving():
        for i in range(6):
            validator_for({"$ref": f"#/definitions/Thing{i}"}, defs, dialect="swagger2")
    assert str(bulk.value) == str(alone.value) and "invalid schema" in str(bulk.value)


def test_a_reference_the_shapes_do_not_follow_is_proven_as_written(eager, monkeypatch):
    defs = _described(3)
    defs["Odd name"] = {"type": "integer", "description": "a name with a space"}
    defs["Thing0"]["properties"]["odd"] = {"$ref": "#/definitions/Odd name"}
    calls = _recorded(monkeypatch)
    with proving():
        for i in range(3):
            validator_for({"$ref": f"#/definitions/Thing{i}"}, defs, dialect="swagger2")
    assert len(calls) == 1 and len(calls[0]["anyOf"]) == 3  # each root as written
    assert "Odd name" in calls[0]["definitions"]

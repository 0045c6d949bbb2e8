"""The one $ref / allOf resolver (spec/refs.py): both spec versions' schema references,
sibling keys, allOf folding, and cycles that end (issue 28)."""

from __future__ import annotations

import pytest

from pymacaron.persist import convert
from pymacaron.server import docs
from pymacaron.spec import checks, errormodel, parameters, refs

PET = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
}


@pytest.mark.parametrize("prefix", ["#/definitions/", "#/components/schemas/"])
def test_both_spec_versions_resolve_by_name(prefix):
    definitions = {"Pet": PET}
    assert refs.schema_name(prefix + "Pet") == "Pet"
    assert refs.target(prefix + "Pet", definitions) is PET
    assert refs.follow({"$ref": prefix + "Pet"}, definitions) is PET
    dog = {"allOf": [{"$ref": prefix + "Pet"}, {"properties": {"barks": {"type": "boolean"}}}]}
    flat = refs.merged(dog, {"Pet": PET, "Dog": dog})
    assert flat["type"] == "object"
    assert set(flat["properties"]) == {"name", "age", "barks"}
    assert flat["required"] == ["name"]
    # every user agrees
    assert parameters._resolved(dog, definitions)["properties"] == flat["properties"]
    assert errormodel._resolve(dog, definitions) == ("object", flat["properties"], {"name"})
    assert convert._resolve(dog, definitions)["properties"] == flat["properties"]
    assert docs._inline({"schema": {"$ref": prefix + "Pet"}}, definitions) == {"schema": PET}


def test_siblings_of_a_ref_win_and_own_properties_win():
    definitions = {"Pet": PET}
    flat = refs.merged({"$ref": "#/definitions/Pet", "description": "mine"}, definitions)
    assert flat["description"] == "mine" and flat["type"] == "object"
    own = {"allOf": [{"$ref": "#/definitions/Pet"}], "properties": {"age": {"type": "string"}}}
    assert refs.merged(own, definitions)["properties"]["age"] == {"type": "string"}


@pytest.mark.parametrize("prefix", ["#/definitions/", "#/components/schemas/"])
def test_cycles_end(prefix):
    node = {
        "type": "object",
        "properties": {"child": {"$ref": prefix + "Node"}},
        "allOf": [{"$ref": prefix + "Node"}],
    }
    loop_a = {"$ref": prefix + "B"}
    loop_b = {"$ref": prefix + "A"}
    definitions = {"Node": node, "A": loop_a, "B": loop_b}
    assert refs.merged({"$ref": prefix + "A"}, definitions) == {}
    assert refs.follow({"$ref": prefix + "A"}, definitions) == {}
    flat = refs.merged({"$ref": prefix + "Node"}, definitions)
    assert flat["type"] == "object" and "child" in flat["properties"]
    inlined = refs.inline({"$ref": prefix + "Node"}, definitions)
    # the recursive reference inside its own target stays a reference
    assert inlined["properties"]["child"] == {"$ref": prefix + "Node"}
    assert errormodel._resolve({"$ref": prefix + "A"}, definitions) == (None, {}, set())
    assert convert._resolve({"$ref": prefix + "A"}, definitions) == {}
    assert parameters._resolved({"$ref": prefix + "A"}, definitions) == {}


def test_a_whole_document_resolves_any_local_pointer():
    spec = {
        "definitions": {"Pet": PET, "Loop": {"$ref": "#/definitions/Loop"}},
        "parameters": {"P": {"name": "p", "in": "query", "type": "string"}},
    }
    assert refs.follow({"$ref": "#/parameters/P"}, root=spec)["name"] == "p"
    assert refs.follow({"$ref": "#/definitions/Pet/properties/age"}, root=spec) == {
        "type": "integer"
    }
    assert refs.follow({"$ref": "#/definitions/Nope"}, root=spec) == {}
    assert refs.follow({"$ref": "other.yaml#/X"}, root=spec) == {"$ref": "other.yaml#/X"}
    assert checks._collapsed(spec, {"$ref": "#/definitions/Loop"}) == ({}, set())
    props, required = checks._collapsed(
        spec, {"allOf": [{"$ref": "#/definitions/Pet"}, {"required": ["age"]}]}
    )
    assert set(props) == {"name", "age"} and required == {"name", "age"}


def test_the_five_former_resolvers_are_refs():
    """parameters._resolved, errormodel._resolve, persist/convert._resolve, checks._deref /
    _collapsed and docs._inline walk no $ref or allOf of their own any more."""
    import inspect

    for fn in (
        parameters._resolved,
        errormodel._resolve,
        convert._resolve,
        checks._deref,
        checks._collapsed,
        docs._inline,
    ):
        source = inspect.getsource(fn)
        assert "$ref" not in source.split('"""')[-1] and "allOf" not in source.split('"""')[-1]
        assert "refs." in source or "merged(" in source, fn.__qualname__

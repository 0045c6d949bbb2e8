"""Models built from definitions: access, JSON round trips, nesting, allOf, x-parent, merging."""

import pytest

from pymacaron.exceptions import InvalidParameterError
from pymacaron.models import PyMacaronModel, build_models, is_model_schema

DEFS = {
    "Owner": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
    },
    "Pet": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "owner": {"$ref": "#/definitions/Owner"},
            "friends": {"type": "array", "items": {"$ref": "#/definitions/Owner"}},
            "by_name": {"type": "object", "additionalProperties": {"$ref": "#/definitions/Owner"}},
            "born": {"type": "string", "format": "date"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Untyped": {"properties": {"a": {"type": "integer"}}},
    "Composed": {
        "allOf": [{"$ref": "#/definitions/Owner"}, {"properties": {"level": {"type": "integer"}}}]
    },
    "Names": {"type": "array", "items": {"type": "string"}},
    "Code": {"type": "string", "enum": ["a", "b"]},
}


@pytest.fixture(scope="module")
def models():
    return build_models("zoo", DEFS)


def test_only_object_definitions_become_models(models):
    assert set(models) == {"Owner", "Pet", "Untyped", "Composed"}
    assert is_model_schema(DEFS["Untyped"]) and not is_model_schema(DEFS["Names"])
    assert all(issubclass(m, PyMacaronModel) for m in models.values())


def test_attribute_and_item_access(models):
    pet = models["Pet"](name="Rex", tags=["a"])
    assert pet.name == "Rex" and pet["name"] == "Rex"
    assert pet.owner is None  # declared, not set
    pet["name"] = "Max"
    assert pet.name == "Max"
    assert "name" in pet and "owner" not in pet
    with pytest.raises(AttributeError, match="no property 'colour'"):
        pet.colour  # noqa: B018


def test_nested_models_from_json(models):
    Owner, Pet = models["Owner"], models["Pet"]
    pet = Pet.from_json(
        {
            "name": "Rex",
            "owner": {"name": "Ann"},
            "friends": [{"name": "Bo"}, {"name": "Cy"}],
            "by_name": {"x": {"name": "Xi"}},
            "born": "2020-02-03",
        }
    )
    assert isinstance(pet.owner, Owner) and pet.owner.name == "Ann"
    assert [f.name for f in pet.friends] == ["Bo", "Cy"] and isinstance(pet.friends[0], Owner)
    assert isinstance(pet.by_name["x"], Owner)
    assert pet.born.isoformat() == "2020-02-03"
    assert pet.to_json() == {
        "name": "Rex",
        "owner": {"name": "Ann"},
        "friends": [{"name": "Bo"}, {"name": "Cy"}],
        "by_name": {"x": {"name": "Xi"}},
        "born": "2020-02-03",
    }


def test_to_json_drops_none_and_converts_assigned_models(models):
    pet = models["Pet"](name="Rex", owner=None)
    pet.owner = models["Owner"](name="Ann")
    assert pet.to_json() == {"name": "Rex", "owner": {"name": "Ann"}}


def test_equality_clone_update(models):
    Pet = models["Pet"]
    a = Pet.from_json({"name": "Rex", "owner": {"name": "Ann"}})
    b = a.clone()
    assert a == b and a is not b and a.owner is not b.owner
    b.owner.name = "Bob"
    assert a != b and a.owner.name == "Ann"
    b.update_from_dict({"owner": {"name": "Ann"}})
    assert a == b and isinstance(b.owner, models["Owner"])
    assert a != models["Owner"](name="Rex")


def test_untyped_definition_and_all_of(models):
    assert models["Untyped"](a=1).to_json() == {"a": 1}
    composed = models["Composed"](name="n", level=3)
    assert composed.__properties__ == {"name", "email", "level"}
    assert composed.level == 3 and composed.email is None


def test_validate_uses_the_spec():
    from pymacaron.apipool import _LazyValidator
    from pymacaron.spec.validation import to_json_schema

    classes = build_models("zoo2", DEFS)
    Owner = classes["Owner"]
    Owner.__validator__ = _LazyValidator("Owner", {k: to_json_schema(v) for k, v in DEFS.items()})
    Owner(name="ok").validate()
    with pytest.raises(InvalidParameterError, match="Owner: name: is required but missing"):
        Owner(email="x").validate()


def test_is_error_model(models):
    Error = build_models(
        "e",
        {
            "Error": {
                "type": "object",
                "properties": {"status": {"type": "integer"}, "error": {"type": "string"}},
            }
        },
    )["Error"]
    assert Error(status=404, error="NOT_FOUND").is_error()
    assert not models["Owner"](name="x").is_error()


def test_x_parent_import_error_is_clear():
    with pytest.raises(ImportError, match="nowhere"):
        build_models("p", {"P": {"type": "object", "x-parent": "nowhere.Klass", "properties": {}}})


def test_pymacaron_core_alias():
    from pymacaron.apipool import ApiPool
    from pymacaron_core.models import PyMacaronModel as Alias
    from pymacaron_core.swagger.apipool import ApiPool as PoolAlias

    assert Alias is PyMacaronModel and PoolAlias is ApiPool


def test_a_definition_named_like_an_annotation_is_its_model(monkeypatch):
    """spec/models.py's annotation names (Schema, Value...) exist for the type checker only:
    every name of that module is also a name of pymacaron.models, where it would hide a
    definition of that name."""
    import pymacaron.models
    from pymacaron.models import ModelEntry, register_model
    from pymacaron.spec import models as spec_models

    names = ["Schema", "Value", "Properties", "Definitions", "JsonObject", "Nested", "Mixins"]
    names += ["ModelClass", "Validator", "Any", "Self", "Mapping", "Literal", "cast"]
    defs = {n: {"type": "object", "properties": {"a": {"type": "string"}}} for n in names}
    monkeypatch.setattr(spec_models, "_registry", {})
    built = build_models("annotations", defs)
    for name, cls in built.items():
        register_model(name, ModelEntry(cls, "annotations.yaml", defs[name]))
    assert [n for n in names if getattr(pymacaron.models, n) is not built[n]] == []
    assert pymacaron.models.Schema(a="x").to_json() == {"a": "x"}

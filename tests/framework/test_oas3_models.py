"""Models from OpenAPI 3.0 / 3.1 components/schemas (spec/models.py through the normalized
view): ApiPool.<api>.model.X and pymacaron.models.X, allOf, nested models, x-parent,
unions with a discriminator, nullable properties, the merging rules across specs."""

from __future__ import annotations

import datetime
import textwrap

import pytest

from pymacaron.apipool import ApiPool, load_api
from pymacaron.exceptions import StartupError
from tests.conftest import reset_pymacaron

SPEC_30 = """\
openapi: 3.0.3
info: {title: zoo30, version: "1"}
paths: {}
components:
  schemas:
    Animal:
      type: object
      required: [name, tag]
      properties:
        name: {type: string}
        tag: {type: string, nullable: true}
        born: {type: string, format: date-time}
    Keeper:
      x-parent: PARENT
      type: object
      properties: {id: {type: integer}}
    Cat:
      allOf:
        - $ref: "#/components/schemas/Animal"
        - type: object
          properties:
            kind: {type: string}
            purrs: {type: boolean}
    Dog:
      allOf:
        - $ref: "#/components/schemas/Animal"
        - type: object
          properties:
            kind: {type: string}
            barks: {type: boolean}
    AnyAnimal:
      oneOf:
        - $ref: "#/components/schemas/Cat"
        - $ref: "#/components/schemas/Dog"
      discriminator:
        propertyName: kind
        mapping:
          cat: "#/components/schemas/Cat"
          dog: "#/components/schemas/Dog"
    Enclosure:
      type: object
      properties:
        keeper:
          nullable: true
          allOf: [{$ref: "#/components/schemas/Keeper"}]
        star: {$ref: "#/components/schemas/AnyAnimal"}
        animals:
          type: array
          items: {$ref: "#/components/schemas/AnyAnimal"}
        byName:
          type: object
          additionalProperties: {$ref: "#/components/schemas/Cat"}
"""

SPEC_31 = """\
openapi: 3.1.0
info: {title: zoo31, version: "1"}
paths: {}
components:
  schemas:
    Owner:
      type: object
      required: [nickname]
      properties:
        id: {type: integer}
        nickname: {type: [string, "null"]}
        since: {type: [string, "null"], format: date}
    Bird:
      type: object
      required: [kind]
      properties:
        kind: {type: string, enum: [Bird]}
        sings: {type: boolean}
    Fish:
      type: object
      required: [kind]
      properties:
        kind: {const: Fish}
        fins: {type: integer}
    Pet:
      anyOf:
        - $ref: "#/components/schemas/Bird"
        - $ref: "#/components/schemas/Fish"
      discriminator: {propertyName: kind}
    Home:
      type: object
      properties:
        owner:
          oneOf: [{$ref: "#/components/schemas/Owner"}, {type: "null"}]
        pets: {type: array, items: {$ref: "#/components/schemas/Pet"}}
        coords: {$ref: "#/components/schemas/Home/$defs/coords"}
      $defs:
        coords: {type: array, prefixItems: [{type: number}, {type: number}]}
"""


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")
    reset_pymacaron()
    (tmp_path / "zoo_parent.py").write_text(
        "class Base:\n    def hello(self):\n        return 'hi ' + str(self.id)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "zoo30.yaml").write_text(SPEC_30.replace("PARENT", "zoo_parent.Base"))
    (tmp_path / "zoo31.yaml").write_text(SPEC_31)
    load_api(str(tmp_path / "zoo30.yaml"))
    load_api(str(tmp_path / "zoo31.yaml"))
    yield tmp_path
    reset_pymacaron()


def test_component_schemas_are_models(zoo):
    import pymacaron.models as models

    assert ApiPool.zoo30.model.Animal is models.Animal
    assert set(ApiPool.zoo30.model) == {"Animal", "Keeper", "Cat", "Dog", "Enclosure"}
    cat = models.Cat(name="Tom", purrs=True)
    assert cat.to_json() == {"name": "Tom", "purrs": True}
    # allOf: the properties of the $ref'd branch are the model's
    assert {"name", "tag", "born", "kind", "purrs"} <= type(cat).__properties__
    born = models.Animal.from_json({"name": "a", "born": "2024-05-01T10:00:00+00:00"}).born
    assert isinstance(born, datetime.datetime)


def test_x_parent_on_a_component_schema(zoo):
    keeper = ApiPool.zoo30.model.Keeper(id=7)
    assert keeper.hello() == "hi 7"
    assert type(keeper).__mro__[1].__name__ == "Base"


def test_unions_are_not_models_and_their_values_become_the_named_branch(zoo):
    assert "AnyAnimal" not in ApiPool.zoo30.model and "Pet" not in ApiPool.zoo31.model
    Enclosure = ApiPool.zoo30.model.Enclosure
    e = Enclosure.from_json(
        {
            "star": {"kind": "dog", "name": "Rex", "barks": True},
            "animals": [{"kind": "cat", "name": "Tom"}, {"kind": "emu", "name": "?"}, 3],
            "byName": {"tom": {"name": "Tom"}},
            "keeper": {"id": 1},
        }
    )
    assert type(e.star).__name__ == "Dog" and e.star.barks is True
    assert type(e.animals[0]).__name__ == "Cat"
    # a value the discriminator does not name stays as it came
    assert e.animals[1] == {"kind": "emu", "name": "?"} and e.animals[2] == 3
    assert type(e.byName["tom"]).__name__ == "Cat"
    # 3.0's nullable idiom (allOf of one $ref) is that model
    assert type(e.keeper).__name__ == "Keeper"
    assert e.to_json()["star"] == {"kind": "dog", "name": "Rex", "barks": True}


def test_31_implicit_mapping_and_or_null_refs(zoo):
    Home = ApiPool.zoo31.model.Home
    h = Home.from_json(
        {"owner": {"id": 1, "since": "2020-01-02"}, "pets": [{"kind": "Fish", "fins": 2}]}
    )
    assert type(h.owner).__name__ == "Owner" and h.owner.since == datetime.date(2020, 1, 2)
    assert type(h.pets[0]).__name__ == "Fish" and h.pets[0].fins == 2
    assert Home.from_json({"owner": None}).owner is None


def test_nullable_properties_set_to_none_are_null(zoo):
    Animal = ApiPool.zoo30.model.Animal
    assert Animal(name="a", tag=None).to_json() == {"name": "a", "tag": None}
    assert Animal.from_json({"name": "a", "tag": None}).to_json() == {"name": "a", "tag": None}
    # required through allOf
    assert ApiPool.zoo30.model.Cat(name="a", tag=None).to_json() == {"name": "a", "tag": None}
    # not nullable, or never set: None is left out, as before
    assert Animal(name="a", born=None).to_json() == {"name": "a"}
    assert Animal(name="a").to_json() == {"name": "a"}
    Owner = ApiPool.zoo31.model.Owner
    assert Owner(id=1, nickname=None).to_json() == {"id": 1, "nickname": None}
    # nullable and optional: a null set is a null sent (a PATCH clearing a field)
    assert Owner(id=1, nickname="n", since=None).to_json() == {
        "id": 1,
        "nickname": "n",
        "since": None,
    }
    Home = ApiPool.zoo31.model.Home
    assert Home(owner=None).to_json() == {"owner": None}
    assert Home().to_json() == {}


def test_same_named_schemas_must_be_identical_across_specs(zoo):
    other = zoo / "other.yaml"
    other.write_text(
        textwrap.dedent(
            """\
            openapi: 3.1.0
            info: {title: other, version: "1"}
            paths: {}
            components:
              schemas:
                Owner:
                  type: object
                  properties: {id: {type: string}}
            """
        )
    )
    with pytest.raises(StartupError) as e:
        load_api(str(other))
    message = str(e.value)
    assert "definition 'Owner' differs from the one in" in message
    assert "components.schemas.Owner (line 7)" in message


def test_identical_schemas_of_a_31_and_a_20_spec_are_one_model(zoo):
    swagger = zoo / "legacy.yaml"
    swagger.write_text(
        'swagger: "2.0"\ninfo: {title: l, version: "1"}\npaths: {}\ndefinitions:\n'
        "  Bird:\n    type: object\n    required: [kind]\n    properties:\n"
        "      kind: {type: string, enum: [Bird]}\n      sings: {type: boolean}\n"
    )
    load_api(str(swagger))
    assert ApiPool.legacy.model.Bird is ApiPool.zoo31.model.Bird


def test_an_x_parent_that_does_not_import_names_the_component(tmp_path, monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")
    reset_pymacaron()
    spec = tmp_path / "bad.yaml"
    spec.write_text(SPEC_30.replace("PARENT", "no_such_module_zz.Base"))
    with pytest.raises(StartupError) as e:
        load_api(str(spec))
    assert "components.schemas.Keeper" in str(e.value) and "does not import" in str(e.value)


def test_x_persist_on_a_component_schema_is_read_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")
    reset_pymacaron()
    spec = tmp_path / "store.yaml"
    text = textwrap.dedent(
        """\
        openapi: 3.0.3
        info: {title: store, version: "1"}
        paths: {}
        components:
          schemas:
            Item:
              type: object
              required: [id]
              properties: {id: {type: string}, owner: {$ref: "#/components/schemas/Who"}}
              x-persist: {table: items, key: KEY}
            Who: {type: object, properties: {name: {type: string}}}
        """
    )
    spec.write_text(text.replace("KEY", "id"))
    from pymacaron.persist import persisted_specs
    from pymacaron.spec.load import load_spec

    api = load_spec(str(spec))
    assert persisted_specs(api.definitions)["Item"].table == "items"
    spec.write_text(text.replace("KEY", "nope"))
    with pytest.raises(StartupError) as e:
        load_spec(str(spec))
    assert "x-persist" in str(e.value) and "components.schemas.Item.x-persist" in str(e.value)
    assert "(line " in str(e.value)

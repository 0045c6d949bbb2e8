"""OpenAPI 3.0 / 3.1 specs loaded into the one internal interface (spec/load.py, the
normalization of spec/openapi3.py): what the server, the models and the client read is the
same shape whatever the version of the file, and a 3.0 spec serves through the pipeline."""

from __future__ import annotations

import copy
import itertools
import json
import textwrap

import pytest

from pymacaron.exceptions import StartupError
from pymacaron.spec.load import load_spec
from tests.conftest import build_app

_ids = itertools.count()

PETSTORE_30 = """\
openapi: 3.0.3
info: {title: petstore, version: "1.0.0"}
servers:
  - url: "{scheme}://{env}.pets.example.com:8443/{base}/"
    variables:
      scheme: {default: https, enum: [https, http]}
      env: {default: api}
      base: {default: v1}
  - url: http://localhost:8080/
paths:
  /pets/{petId}:
    parameters:
      - $ref: "#/components/parameters/PetId"
      - {name: verbose, in: query, schema: {type: boolean}}
    get:
      operationId: petstore.get_pet
      x-decorate-server: some.decorator
      parameters:
        - {name: verbose, in: query, description: the operation's, schema: {type: integer}}
        - name: filter
          in: query
          content: {application/json: {schema: {$ref: "#/components/schemas/Filter"}}}
        - {name: X-Trace-Id, in: header, schema: {type: string, format: uuid}}
        - {name: session, in: cookie, required: true, schema: {type: string}}
        - {name: fields, in: query, style: pipeDelimited, schema: {type: array, items: {type: string}}}
        - {name: coords, in: query, style: deepObject, explode: true, schema: {type: object}}
      responses:
        "200":
          description: a pet
          headers:
            X-Rate-Limit: {$ref: "#/components/headers/RateLimit"}
            X-Plain: {description: inline, schema: {type: string}}
          content:
            application/json: {schema: {$ref: "#/components/schemas/Pet"}}
            application/xml: {schema: {$ref: "#/components/schemas/Pet"}}
        "404": {$ref: "#/components/responses/NotFound"}
        default: {$ref: "#/components/responses/Error"}
    put:
      requestBody: {$ref: "#/components/requestBodies/PetBody"}
      responses:
        "204": {description: updated}
  /pets:
    post:
      x-bind-server: petstore.add_pet
      requestBody:
        description: the new pet
        content:
          application/json: {schema: {$ref: "#/components/schemas/NewPet"}}
      responses:
        "201":
          description: created
          content:
            application/json; charset=utf-8: {schema: {$ref: "#/components/schemas/Pet"}}
    get:
      x-no-bind-server: true
      parameters:
        - {$ref: "#/components/parameters/Limit"}
      responses:
        "200":
          description: the pets
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
            text/csv: {schema: {type: string}}
components:
  parameters:
    PetId: {name: petId, in: path, required: true, schema: {type: integer, format: int64}}
    Limit: {$ref: "#/components/parameters/LimitInner"}
    LimitInner: {name: limit, in: query, schema: {type: integer, maximum: 100, default: 20}}
  headers:
    RateLimit: {description: calls left, schema: {type: integer}}
  requestBodies:
    PetBody:
      required: true
      content:
        application/x-www-form-urlencoded: {schema: {$ref: "#/components/schemas/NewPet"}}
        application/merge-patch+json: {schema: {$ref: "#/components/schemas/NewPet"}}
        application/octet-stream: {}
  responses:
    NotFound:
      description: no such pet
      content:
        application/problem+json: {schema: {$ref: "#/components/schemas/Error"}}
    Error:
      description: an error
      content:
        application/json: {schema: {$ref: "#/components/schemas/Error"}}
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        tag: {type: string, nullable: true}
        owner: {$ref: "#/components/schemas/Owner"}
    Pet:
      allOf:
        - $ref: "#/components/schemas/NewPet"
        - type: object
          required: [id]
          properties: {id: {type: integer, readOnly: true}}
    Owner: {type: object, properties: {id: {type: integer}, name: {type: string}}}
    Filter: {type: object, properties: {q: {type: string}}}
    Error:
      type: object
      properties: {status: {type: integer}, error: {type: string}}
"""


def write(tmp_path, text: str, name: str = "api.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("PYM_CACHE_DIR", "off")


def op_of(api, method: str, path: str):
    return next(o for o in api.operations if o.method == method and o.path == path)


def params_of(op) -> dict:
    return {(p["in"], p["name"]): p for p in op.parameters}


# -- OpenAPI 3.0 ----------------------------------------------------------------------------
def test_30_dialect_document_and_definitions(tmp_path):
    path = write(tmp_path, PETSTORE_30)
    api = load_spec(path)
    assert api.dialect == "oas30"
    # the document is the file as written: its references untouched
    pet = api.document["components"]["schemas"]["Pet"]
    assert pet["allOf"][0] == {"$ref": "#/components/schemas/NewPet"}
    # the view: definitions are components/schemas, references rewritten everywhere
    assert set(api.definitions) == {"NewPet", "Pet", "Owner", "Filter", "Error"}
    assert api.definitions["Pet"]["allOf"][0] == {"$ref": "#/definitions/NewPet"}
    assert api.definitions["NewPet"]["properties"]["owner"] == {"$ref": "#/definitions/Owner"}
    assert api.definitions["NewPet"]["properties"]["tag"] == {"type": "string", "nullable": True}
    assert "#/components/schemas/" not in json.dumps(api.spec["paths"])
    assert "#/components/schemas/" not in json.dumps(api.spec["definitions"])


def test_30_servers_give_base_path_host_and_scheme(tmp_path):
    api = load_spec(write(tmp_path, PETSTORE_30))
    assert api.base_path == "/v1"
    assert api.host == "api.pets.example.com:8443"
    assert api.schemes == ["https"]


def test_30_parameters_are_resolved_merged_and_filled(tmp_path):
    api = load_spec(write(tmp_path, PETSTORE_30))
    get = op_of(api, "get", "/pets/{petId}")
    params = params_of(get)
    assert params["path", "petId"] == {
        "name": "petId",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "format": "int64"},
        "style": "simple",
        "explode": False,
        "x-pym-oas": "3.0",
    }
    # the operation's 'verbose' wins over the path item's
    assert params["query", "verbose"]["schema"] == {"type": "integer"}
    assert params["query", "verbose"]["description"] == "the operation's"
    assert [p["name"] for p in get.parameters] == [
        "petId",
        "verbose",
        "filter",
        "X-Trace-Id",
        "session",
        "fields",
        "coords",
    ]
    content = params["query", "filter"]
    assert content["schema"] == {"$ref": "#/definitions/Filter"}
    assert content["x-pym-content-type"] == "application/json"
    assert (content["style"], content["explode"]) == ("form", True)
    assert params["header", "X-Trace-Id"]["style"] == "simple"
    assert params["header", "X-Trace-Id"]["explode"] is False
    assert (params["cookie", "session"]["style"], params["cookie", "session"]["explode"]) == (
        "form",
        True,
    )
    # an explicit style keeps it; explode defaults to true only for form
    assert (params["query", "fields"]["style"], params["query", "fields"]["explode"]) == (
        "pipeDelimited",
        False,
    )
    assert params["query", "coords"]["explode"] is True
    assert all(p["x-pym-oas"] == "3.0" for p in get.parameters)
    # a chain of references ends at the Parameter Object
    limit = params_of(op_of(api, "get", "/pets"))["query", "limit"]
    assert limit["schema"] == {"type": "integer", "maximum": 100, "default": 20}
    # the path item's parameters reach every operation of the path
    assert ("path", "petId") in params_of(op_of(api, "put", "/pets/{petId}"))


def test_30_request_body_is_the_last_parameter(tmp_path):
    api = load_spec(write(tmp_path, PETSTORE_30))
    put = op_of(api, "put", "/pets/{petId}")
    body = put.parameters[-1]
    assert body["in"] == "body" and body["name"] == "body" and body["required"] is True
    # the +json media type's schema, not the first media type's
    assert body["schema"] == {"$ref": "#/definitions/NewPet"}
    assert list(body["x-pym-content"]) == [
        "application/x-www-form-urlencoded",
        "application/merge-patch+json",
        "application/octet-stream",
    ]
    assert body["x-pym-content"]["application/merge-patch+json"]["schema"] == {
        "$ref": "#/definitions/NewPet"
    }
    assert put.consumes == [
        "application/x-www-form-urlencoded",
        "application/merge-patch+json",
        "application/octet-stream",
    ]
    post = op_of(api, "post", "/pets")
    body = post.parameters[-1]
    assert body["required"] is False and body["description"] == "the new pet"
    assert post.consumes == ["application/json"]
    # no requestBody: no body parameter, JSON by default
    get = op_of(api, "get", "/pets/{petId}")
    assert all(p["in"] != "body" for p in get.parameters)
    assert get.consumes == ["application/json"]


def test_30_responses_headers_and_produces(tmp_path):
    api = load_spec(write(tmp_path, PETSTORE_30))
    get = op_of(api, "get", "/pets/{petId}")
    assert set(get.responses) == {"200", "404", "default"}
    ok = get.responses["200"]
    assert ok["description"] == "a pet"
    assert ok["schema"] == {"$ref": "#/definitions/Pet"}
    assert ok["headers"]["X-Rate-Limit"]["schema"] == {"type": "integer"}
    assert ok["headers"]["X-Rate-Limit"]["description"] == "calls left"
    assert ok["headers"]["X-Plain"]["schema"] == {"type": "string"}
    assert list(ok["x-pym-content"]) == ["application/json", "application/xml"]
    # a $ref'd response, with a +json media type only
    assert get.responses["404"]["schema"] == {"$ref": "#/definitions/Error"}
    assert get.responses["404"]["description"] == "no such pet"
    assert get.responses["default"]["schema"] == {"$ref": "#/definitions/Error"}
    assert get.produces == ["application/json", "application/xml", "application/problem+json"]
    # a response without content has no schema; produces falls back to JSON
    put = op_of(api, "put", "/pets/{petId}")
    assert "schema" not in put.responses["204"] and put.responses["204"]["headers"] == {}
    assert put.produces == ["application/json"]
    # a media type with parameters is still the JSON one
    post = op_of(api, "post", "/pets")
    assert post.responses["201"]["schema"] == {"$ref": "#/definitions/Pet"}
    assert post.produces == ["application/json; charset=utf-8"]
    lst = op_of(api, "get", "/pets")
    assert lst.responses["200"]["schema"]["items"] == {"$ref": "#/definitions/Pet"}
    assert lst.produces == ["application/json", "text/csv"]


def test_30_vendor_extensions_stay_on_the_operation(tmp_path):
    api = load_spec(write(tmp_path, PETSTORE_30))
    get = op_of(api, "get", "/pets/{petId}")
    assert get.operation_id == "petstore.get_pet"
    assert get.x("decorate-server") == "some.decorator"
    assert op_of(api, "post", "/pets").x("bind-server") == "petstore.add_pet"
    assert op_of(api, "get", "/pets").x("no-bind-server") is True


def test_loading_leaves_the_document_as_parsed(tmp_path):
    from pymacaron.spec.load import _stringify_keys
    from pymacaron.spec.yamlfile import load_yaml

    path = write(tmp_path, PETSTORE_30)
    api = load_spec(path)
    assert api.document == _stringify_keys(load_yaml(path))
    before = copy.deepcopy(api.document)
    for op in api.operations:  # normalized entries are copies, not the document's dicts
        for p in op.parameters:
            p["mutated"] = True
    assert api.document == before


# -- OpenAPI 3.1 ----------------------------------------------------------------------------
PETSTORE_31 = """\
openapi: 3.1.0
info: {title: petstore, version: "2.0.0", license: {name: MIT, identifier: MIT}}
jsonSchemaDialect: https://spec.openapis.org/oas/3.1/dialect/base
servers:
  - url: /api/v2/
webhooks:
  newPet:
    post:
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
      responses: {"200": {description: ok}}
paths:
  /pets:
    post:
      operationId: pets31.add
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: "#/components/schemas/Pet"}}
      responses:
        "201":
          description: created
          content:
            application/json: {schema: {$ref: "#/components/schemas/Pet"}}
        "400":
          description: bad
          content:
            text/plain: {schema: {type: string}}
  /pets/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: [integer, string]}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
      responses:
        "200":
          description: any
          content:
            "*/*": {schema: {$ref: "#/components/schemas/Pet"}}
components:
  pathItems: {}
  schemas:
    Pet:
      type: object
      required: [name, kind]
      properties:
        name: {type: string}
        nickname: {type: [string, "null"]}
        kind: {$ref: "#/components/schemas/Kind"}
        coords: {$ref: "#/components/schemas/Pet/$defs/coords"}
      oneOf:
        - $ref: "#/components/schemas/Cat"
        - $ref: "#/components/schemas/Dog"
      discriminator:
        propertyName: kind
        mapping:
          cat: "#/components/schemas/Cat"
          dog: Dog
      $defs:
        coords: {type: array, prefixItems: [{type: number}, {type: number}]}
    Kind: {type: string, enum: [cat, dog]}
    Cat: {type: object, properties: {kind: {const: cat}, purrs: {type: boolean}}}
    Dog: {type: object, properties: {kind: {const: dog}, barks: {type: boolean}}}
"""


def test_31_normalizes_like_30(tmp_path):
    api = load_spec(write(tmp_path, PETSTORE_31))
    assert api.dialect == "oas31"
    assert api.base_path == "/api/v2" and api.host is None and api.schemes == ["http"]
    pet = api.definitions["Pet"]
    assert pet["oneOf"] == [{"$ref": "#/definitions/Cat"}, {"$ref": "#/definitions/Dog"}]
    assert pet["properties"]["coords"] == {"$ref": "#/definitions/Pet/$defs/coords"}
    # mapping values are references too (a bare name stays a name)
    assert pet["discriminator"]["mapping"] == {"cat": "#/definitions/Cat", "dog": "Dog"}
    # schemas stay in their dialect
    assert pet["properties"]["nickname"] == {"type": ["string", "null"]}
    assert pet["$defs"]["coords"]["prefixItems"] == [{"type": "number"}, {"type": "number"}]
    post = op_of(api, "post", "/pets")
    assert post.parameters == [
        {
            "in": "body",
            "name": "body",
            "required": True,
            "schema": {"$ref": "#/definitions/Pet"},
            "x-pym-content": {"application/json": {"schema": {"$ref": "#/definitions/Pet"}}},
            "x-pym-oas": "3.1",
        }
    ]
    assert post.responses["201"]["schema"] == {"$ref": "#/definitions/Pet"}
    assert "schema" not in post.responses["400"]  # no JSON media type
    assert post.responses["400"]["x-pym-content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert post.produces == ["application/json", "text/plain"]
    get = op_of(api, "get", "/pets/{id}")
    params = params_of(get)
    assert params["path", "id"]["schema"] == {"type": ["integer", "string"]}
    assert params["query", "tags"]["x-pym-oas"] == "3.1"
    assert (params["query", "tags"]["style"], params["query", "tags"]["explode"]) == (
        "form",
        True,
    )
    # */* counts as JSON when no JSON type is declared
    assert get.responses["200"]["schema"] == {"$ref": "#/definitions/Pet"}
    # webhooks are not served
    assert {(o.method, o.path) for o in api.operations} == {
        ("post", "/pets"),
        ("get", "/pets/{id}"),
    }


@pytest.mark.parametrize(
    "servers,base,host",
    [
        (None, "", None),
        ([{"url": "/"}], "", None),
        ([{"url": "https://x.example.com"}], "", "x.example.com"),
        ([{"url": "https://x.example.com/"}], "", "x.example.com"),
        ([{"url": "https://x.example.com/a/b/"}], "/a/b", "x.example.com"),
        ([{"url": "v1"}], "/v1", None),
        ([{"url": "//cdn.example.com/v3"}], "/v3", "cdn.example.com"),
        (
            [
                {
                    "url": "http://{host}/{v}",
                    "variables": {"host": {"default": "h:81"}, "v": {"default": "x"}},
                }
            ],
            "/x",
            "h:81",
        ),
    ],
)
def test_base_path_is_the_path_of_the_first_server(tmp_path, servers, base, host):
    doc = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}
    if servers is not None:
        doc["servers"] = servers
    api = load_spec(write(tmp_path, json.dumps(doc), "api.json"))
    assert (api.base_path, api.host) == (base, host)


def test_swagger_2_gets_a_dialect_and_its_own_document(tmp_path):
    api = load_spec(
        write(
            tmp_path,
            'swagger: "2.0"\ninfo: {title: t, version: "1"}\nbasePath: /v2/\npaths: {}\n',
        )
    )
    assert api.dialect == "swagger2" and api.document is api.spec and api.base_path == "/v2"


@pytest.mark.parametrize(
    "head,expected",
    [
        ("openapi: 3.2.0", "expected openapi: 3.0.x or 3.1.x"),
        ("openapi: 3.1", 'write the full version as a string: openapi: "3.1.0"'),
        ("openapi: 2.0.0", "got '2.0.0'"),
        ('swagger: "1.2"', "expected swagger: \"2.0\", got '1.2'"),
        ("info: {}", "neither key"),
    ],
)
def test_unknown_versions_are_one_line_errors(tmp_path, head, expected):
    path = write(tmp_path, head + "\ninfo: {title: t, version: '1'}\npaths: {}\n")
    if head.startswith("info"):
        path = write(tmp_path, "info: {title: t, version: '1'}\npaths: {}\n")
    with pytest.raises(StartupError) as e:
        load_spec(path)
    message = str(e.value)
    assert expected in message and "\n" not in message and "api.yaml" in message
    if not head.startswith("info"):
        assert "(line 1)" in message


# -- external references ---------------------------------------------------------------
def test_references_to_other_files_are_inlined(tmp_path):
    (tmp_path / "models.yaml").write_text(
        textwrap.dedent(
            """\
            Pet:
              type: object
              properties:
                name: {type: string}
                owner: {$ref: "#/Owner"}
            Owner: {type: object, properties: {id: {type: integer}}}
            """
        )
    )
    (tmp_path / "common.yaml").write_text(
        textwrap.dedent(
            """\
            components:
              parameters:
                Limit: {name: limit, in: query, schema: {type: integer}}
              responses:
                Pets:
                  description: pets
                  content:
                    application/json:
                      schema: {type: array, items: {$ref: "models.yaml#/Pet"}}
            """
        )
    )
    path = write(
        tmp_path,
        textwrap.dedent(
            """\
            openapi: 3.0.3
            info: {title: t, version: "1"}
            paths:
              /pets:
                get:
                  parameters: [{$ref: "common.yaml#/components/parameters/Limit"}]
                  responses:
                    "200": {$ref: "common.yaml#/components/responses/Pets"}
                post:
                  requestBody:
                    content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
                  responses: {"204": {description: ok}}
            components:
              schemas:
                Pet: {$ref: "models.yaml#/Pet"}
            """
        ),
    )
    api = load_spec(path)
    assert "models.yaml" not in json.dumps(api.document)
    assert "common.yaml" not in json.dumps(api.document)
    schemas = api.document["components"]["schemas"]
    assert schemas["Pet"]["properties"]["owner"] == {"$ref": "#/components/schemas/Owner"}
    assert set(schemas) == {"Pet", "Owner"}
    get = op_of(api, "get", "/pets")
    assert params_of(get)["query", "limit"]["schema"] == {"type": "integer"}
    assert get.responses["200"]["schema"]["items"] == {"$ref": "#/definitions/Pet"}
    assert api.definitions["Pet"]["properties"]["owner"] == {"$ref": "#/definitions/Owner"}


# -- served through today's pipeline ---------------------------------------------------------
def serve(tmp_path, specs: dict, handlers: str, config: str = ""):
    module = f"oas3_handlers_{next(_ids)}"
    (tmp_path / "apis").mkdir(exist_ok=True)
    for name, text in specs.items():
        (tmp_path / "apis" / name).write_text(text.replace("H.", module + "."))
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(handlers))
    (tmp_path / "pym-config.yaml").write_text("name: oas3\n" + config)
    return build_app(str(tmp_path)).test_client()


SIMPLE_30 = """\
openapi: 3.0.3
info: {title: simple, version: "1"}
servers: [{url: "https://api.example.com/v1"}]
paths:
  /owners/{owner}/pets:
    parameters:
      - {name: owner, in: path, required: true, schema: {type: string, minLength: 3}}
    post:
      x-bind-server: H.add_pet
      parameters:
        - {name: note, in: query, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: "#/components/schemas/Pet"}}
      responses:
        "201":
          description: created
          content:
            application/json: {schema: {$ref: "#/components/schemas/Pet"}}
        default:
          description: error
          content:
            application/json: {schema: {$ref: "#/components/schemas/Error"}}
    get:
      operationId: H.list_pets
      responses:
        "200":
          description: pets
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        owner: {type: string}
        toy: {$ref: "#/components/schemas/Toy"}
    Toy: {type: object, required: [kind], properties: {kind: {type: string}}}
    Error:
      type: object
      properties:
        status: {type: integer}
        error: {type: string}
        error_description: {type: string}
        error_id: {type: string}
"""

SIMPLE_HANDLERS = """\
from pymacaron.models import PyMacaronModel

def add_pet(pet, owner, note=None):
    assert isinstance(pet, PyMacaronModel) and type(pet).__name__ == "Pet"
    assert pet.toy is None or type(pet.toy).__name__ == "Toy"
    if note == "bad-reply":
        return {"owner": owner}, 201
    pet.owner = owner
    return pet, 201

def list_pets(owner):
    return [{"name": "rex", "owner": owner}]
"""


def test_a_30_spec_serves_through_the_pipeline(tmp_path):
    client = serve(tmp_path, {"simple.yaml": SIMPLE_30}, SIMPLE_HANDLERS)
    r = client.post("/v1/owners/alice/pets?note=hi", json={"name": "rex", "toy": {"kind": "ball"}})
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"name": "rex", "owner": "alice", "toy": {"kind": "ball"}}
    assert client.get("/v1/owners/alice/pets").get_json() == [{"name": "rex", "owner": "alice"}]
    # the request is validated against the components' schemas
    r = client.post("/v1/owners/alice/pets", json={"toy": {"kind": "ball"}})
    assert r.status_code == 400 and r.get_json()["error"] == "INVALID_PARAMETER"
    assert "name" in r.get_json()["error_description"]
    r = client.post("/v1/owners/alice/pets", json={"name": "rex", "toy": {}})
    assert r.status_code == 400 and "kind" in r.get_json()["error_description"]
    r = client.post("/v1/owners/alice/pets")
    assert r.status_code == 400 and "body" in r.get_json()["error_description"]
    # the reply is validated too
    r = client.post("/v1/owners/alice/pets?note=bad-reply", json={"name": "rex"})
    assert r.status_code == 500 and r.get_json()["error"] == "BAD_RESPONSE"
    # served under the path of servers[0].url only
    assert client.get("/owners/alice/pets").status_code == 404


def test_ignore_base_path_applies_to_servers(tmp_path):
    client = serve(
        tmp_path, {"simple.yaml": SIMPLE_30}, SIMPLE_HANDLERS, config="ignore_base_path: true\n"
    )
    assert client.get("/owners/bob/pets").get_json() == [{"name": "rex", "owner": "bob"}]


def test_models_of_a_30_spec_are_in_the_pool(tmp_path):
    serve(tmp_path, {"simple.yaml": SIMPLE_30}, SIMPLE_HANDLERS)
    from pymacaron.apipool import ApiPool

    Pet = ApiPool.simple.model.Pet
    pet = Pet.from_json({"name": "rex", "toy": {"kind": "ball"}})
    assert type(pet.toy).__name__ == "Toy" and pet.to_json()["toy"] == {"kind": "ball"}
    assert ApiPool.simple.spec.dialect == "oas30"


def test_swagger_2_and_openapi_3_in_one_service(tmp_path):
    swagger = """\
swagger: "2.0"
info: {title: old, version: "1"}
basePath: /old
produces: [application/json]
paths:
  /hello:
    get:
      x-bind-server: H.hello
      responses: {"200": {description: hi, schema: {$ref: "#/definitions/Hello"}}}
definitions:
  Hello: {type: object, properties: {hello: {type: string}}}
"""
    oas31 = """\
openapi: 3.1.0
info: {title: new, version: "1"}
servers: [{url: /new}]
paths:
  /hello:
    get:
      x-bind-server: H.hello
      responses:
        "200":
          description: hi
          content: {application/json: {schema: {$ref: "#/components/schemas/Hello"}}}
components:
  schemas:
    Hello: {type: object, properties: {hello: {type: string}}}
"""
    client = serve(
        tmp_path,
        {"old.yaml": swagger, "new.yaml": oas31, "simple.yaml": SIMPLE_30},
        SIMPLE_HANDLERS + "\ndef hello():\n    return {'hello': 'world'}\n",
    )
    assert client.get("/old/hello").get_json() == {"hello": "world"}
    assert client.get("/new/hello").get_json() == {"hello": "world"}
    assert client.get("/v1/owners/bob/pets").status_code == 200
    from pymacaron.apipool import ApiPool

    assert [ApiPool.get(n).spec.dialect for n in ("old", "new", "simple")] == [
        "swagger2",
        "oas31",
        "oas30",
    ]
    # one model for two identical definitions of two versions
    assert ApiPool.old.model.Hello is ApiPool.new.model.Hello


def test_31_path_item_references_and_a_spec_without_paths(tmp_path):
    api = load_spec(
        write(
            tmp_path,
            textwrap.dedent(
                """\
                openapi: 3.1.0
                info: {title: t, version: "1"}
                paths:
                  /a/{id}: {$ref: "#/components/pathItems/ById"}
                components:
                  pathItems:
                    ById:
                      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
                      get: {responses: {"200": {description: ok}}}
                      trace: {responses: {"200": {description: ok}}}
                """
            ),
        )
    )
    assert {(o.method, o.path) for o in api.operations} == {
        ("get", "/a/{id}"),
        ("trace", "/a/{id}"),
    }
    assert params_of(op_of(api, "get", "/a/{id}"))["path", "id"]["style"] == "simple"
    only_webhooks = load_spec(
        write(
            tmp_path,
            'openapi: 3.1.0\ninfo: {title: t, version: "1"}\nwebhooks:\n'
            "  ping: {post: {responses: {'200': {description: ok}}}}\n",
            "hooks.yaml",
        )
    )
    assert only_webhooks.operations == [] and only_webhooks.definitions == {}


def test_a_31_trace_operation_is_served(tmp_path):
    client = serve(
        tmp_path,
        {
            "t.yaml": 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /echo:\n'
            "    trace:\n      x-bind-server: H.echo\n"
            "      responses: {'200': {description: ok, content: {application/json: {}}}}\n"
        },
        "def echo():\n    return {'traced': True}\n",
    )
    assert client.open("/echo", method="TRACE").get_json() == {"traced": True}

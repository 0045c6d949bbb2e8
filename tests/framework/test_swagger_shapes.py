"""Swagger 2.0 as people publish it (issue 15): each test serves a spec of the shape that
public specs (Docker Engine, the OpenAPI examples, a chat platform's Web API, SDK test
servers) use, written here, and checks it loads and is served as the specification says."""

from __future__ import annotations

import itertools
import logging
import textwrap

import pytest

from pymacaron.exceptions import StartupError
from tests.conftest import build_app

_ids = itertools.count()

HEAD = 'swagger: "2.0"\ninfo: {title: shapes, version: "1"}\n'


def serve(tmp_path, spec: str, handlers: str = "", config: str = "", fmt: str = "yaml", **files):
    """A test client of a service made of ``spec`` (``H.`` names its handlers module)."""
    module = f"shapes_handlers_{next(_ids)}"
    (tmp_path / "apis").mkdir(exist_ok=True)
    (tmp_path / "apis" / f"shapes.{fmt}").write_text(spec.replace("H.", module + "."))
    for name, text in files.items():
        (tmp_path / "apis" / name.replace("__", ".")).write_text(text)
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(handlers))
    (tmp_path / "pym-config.yaml").write_text("name: shapes\n" + config)
    return build_app(str(tmp_path)).test_client()


# -- valid specs that must load ---------------------------------------------------------
def test_required_property_from_another_allof_branch(tmp_path):
    """The OpenAPI examples' NewPet: required names a property of the $ref'd branch."""
    client = serve(
        tmp_path,
        HEAD
        + """paths:
  /pets:
    post:
      x-bind-server: H.add
      parameters: [{name: pet, in: body, required: true, schema: {$ref: "#/definitions/NewPet"}}]
      responses: {"200": {description: ok, schema: {$ref: "#/definitions/Pet"}}}
definitions:
  Pet:
    type: object
    properties: {name: {type: string}, tag: {type: string}}
  NewPet:
    allOf:
      - $ref: "#/definitions/Pet"
      - required: [name]
""",
        "def add(pet):\n    return {'name': pet.name}\n",
    )
    assert client.post("/pets", json={"name": "rex"}).get_json() == {"name": "rex"}
    r = client.post("/pets", json={"tag": "x"})
    assert r.status_code == 400 and "body.name" in r.get_json()["error_description"]


def test_required_names_a_property_not_under_properties(tmp_path, caplog):
    """Docker's ImageSummary: required [Size, UnpackedSize] with only Size defined."""
    with caplog.at_level(logging.WARNING, logger="pymacaron"):
        client = serve(
            tmp_path,
            HEAD
            + """paths:
  /images/json:
    get:
      x-bind-server: H.images
      responses:
        "200": {description: ok, schema: {type: array, items: {$ref: "#/definitions/ImageSummary"}}}
definitions:
  ImageSummary:
    type: object
    required: [Size, UnpackedSize]
    properties: {Size: {type: integer}}
""",
            "def images():\n    return [{'Size': 1, 'UnpackedSize': 2}]\n",
        )
    assert client.get("/images/json").get_json() == [{"Size": 1, "UnpackedSize": 2}]
    warned = [r.getMessage() for r in caplog.records if "UnpackedSize" in r.getMessage()]
    assert warned and "definitions.ImageSummary (line " in warned[0], warned


def test_type_list_is_enforced_as_draft4(tmp_path):
    client = serve(
        tmp_path,
        HEAD
        + """paths:
  /notes:
    post:
      x-bind-server: H.note
      parameters: [{name: body, in: body, schema: {$ref: "#/definitions/Note"}}]
      responses: {"200": {description: ok}}
definitions:
  Note:
    type: object
    properties: {text: {type: [string, "null"]}}
""",
        "def note(body):\n    return None\n",
    )
    assert client.post("/notes", json={"text": None}).status_code == 200
    assert client.post("/notes", json={"text": "hi"}).status_code == 200
    r = client.post("/notes", json={"text": 3})
    assert r.status_code == 400 and "body.text" in r.get_json()["error_description"]


DISCRIMINATED = (
    HEAD
    + """paths:
  /pets:
    post:
      x-bind-server: H.add
      parameters: [{name: body, in: body, required: true, schema: {$ref: "#/definitions/Pet"}}]
      responses: {"200": {description: ok, schema: {$ref: "#/definitions/Pet"}}}
definitions:
  Kind: {type: string}
  Pet:
    type: object
    discriminator: petType
    required: [name, petType]
    properties:
      name: {type: string}
      petType: {$ref: "#/definitions/Kind"}
  Dog:
    allOf:
      - $ref: "#/definitions/Pet"
      - type: object
        required: [birth_date]
        properties: {birth_date: {type: string, format: date}}
  Cat:
    allOf:
      - $ref: "#/definitions/Pet"
      - {type: object, properties: {lives: {type: integer, maximum: 9}}}
"""
)
PETS = """
def add(body):
    if body.name == "liar":
        return {"name": "liar", "petType": "Dog"}
    return body
"""


def test_discriminator_by_ref_to_a_string_definition_is_enforced(tmp_path):
    client = serve(tmp_path, DISCRIMINATED, PETS)
    dog = {"name": "rex", "petType": "Dog", "birth_date": "2020-01-02"}
    assert client.post("/pets", json=dog).get_json() == dog
    assert client.post("/pets", json={"name": "tom", "petType": "Cat"}).status_code == 200
    assert client.post("/pets", json={"name": "any", "petType": "Pet"}).status_code == 200
    r = client.post("/pets", json={"name": "rex", "petType": "Dog"})
    assert r.status_code == 400, r.get_json()
    assert "body.birth_date: is required" in r.get_json()["error_description"]
    r = client.post("/pets", json={"name": "tom", "petType": "Cat", "lives": 12})
    assert r.status_code == 400 and "body.lives" in r.get_json()["error_description"]
    r = client.post("/pets", json={"name": "u", "petType": "Unicorn"})
    assert r.status_code == 400 and "body.petType" in r.get_json()["error_description"]
    assert "Unicorn" in r.get_json()["error_description"]
    # and in responses: a Dog without its birth date is not a valid reply
    r = client.post("/pets", json={"name": "liar", "petType": "Pet"})
    assert r.status_code == 500 and r.get_json()["error"] == "BAD_RESPONSE"


def test_root_path_with_an_untagged_operation(tmp_path):
    client = serve(
        tmp_path,
        HEAD
        + """paths:
  /:
    get:
      x-bind-server: H.root
      responses: {"200": {description: ok}}
""",
        "def root():\n    return {'root': True}\n",
    )
    assert client.get("/").get_json() == {"root": True}


def test_ref_to_a_missing_file_inside_an_extension_is_opaque(tmp_path):
    client = serve(
        tmp_path,
        HEAD
        + """x-tooling: {$ref: "./not-here.yaml#/Thing"}
paths:
  /x:
    get:
      x-bind-server: H.x
      x-codegen: {$ref: "missing.json"}
      responses: {"200": {description: ok}}
""",
        "def x():\n    return {}\n",
    )
    assert client.get("/x").status_code == 200


# -- refusals name the place in the file -----------------------------------------------
def test_a_refused_definition_is_named_where_it_is_in_the_file(tmp_path):
    spec = (
        HEAD
        + """paths:
  /images/json:
    get:
      x-bind-server: H.images
      responses:
        "200": {description: ok, schema: {type: array, items: {$ref: "#/definitions/Image"}}}
definitions:
  Image:
    type: object
    properties:
      Size: {type: integr}
"""
    )
    with pytest.raises(StartupError) as e:
        serve(tmp_path, spec, "def images():\n    return []\n")
    message = str(e.value)
    assert "definitions.Image.properties.Size" in message and "(line 13)" in message, message
    assert "paths./images/json" not in message and "top level" not in message


def test_a_discriminator_that_is_not_required_is_refused_at_its_line(tmp_path):
    spec = DISCRIMINATED.replace("required: [name, petType]", "required: [name]")
    with pytest.raises(StartupError) as e:
        serve(tmp_path, spec, PETS)
    assert "definitions.Pet.discriminator (line 13)" in str(e.value), str(e.value)
    assert "must be listed in 'required'" in str(e.value)


# -- served as declared ------------------------------------------------------------------
HEAD_OPTIONS = (
    HEAD
    + """paths:
  /blobs/{digest}:
    parameters: [{name: digest, in: path, required: true, type: string}]
    get:
      x-bind-server: H.get
      responses: {"200": {description: ok}}
    head:
      x-bind-server: H.head
      responses: {"200": {description: ok}}
    options:
      x-bind-server: H.options
      responses: {"200": {description: ok}}
  /plain:
    get:
      x-bind-server: H.get_plain
      responses: {"200": {description: ok}}
"""
)
HEAD_HANDLERS = """
calls = []

def get(digest):
    calls.append("get")
    return {"digest": digest}

def head(digest):
    calls.append("head")
    return None, 200, {"X-Digest": digest}

def options(digest):
    calls.append("options")
    return None, 200, {"Allow": "GET, HEAD, OPTIONS"}

def get_plain():
    return {"plain": True}
"""


def test_head_and_options_operations_of_the_spec_run(tmp_path):
    client = serve(tmp_path, HEAD_OPTIONS, HEAD_HANDLERS)
    import sys

    handlers = sys.modules[[m for m in sys.modules if m.startswith("shapes_handlers_")][-1]]
    assert client.get("/blobs/abc").get_json() == {"digest": "abc"}
    r = client.head("/blobs/abc")
    assert r.status_code == 200 and r.headers["X-Digest"] == "abc"
    r = client.options("/blobs/abc")
    assert r.status_code == 200 and r.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert handlers.calls == ["get", "head", "options"]
    # where the spec declares none, the automatic ones still answer
    assert client.head("/plain").status_code == 200
    r = client.options("/plain")
    assert r.status_code == 200 and "GET" in r.headers["Allow"]


MEDIA = (
    HEAD
    + """consumes: [application/json, text/json]
paths:
  /things:
    post:
      x-bind-server: H.create
      parameters: [{name: body, in: body, required: true, schema: {$ref: "#/definitions/Thing"}}]
      responses: {"200": {description: ok, schema: {$ref: "#/definitions/Thing"}}}
  /images/load:
    post:
      x-bind-server: H.load
      consumes: [application/octet-stream, application/x-tar]
      parameters: [{name: imagesTarball, in: body, schema: {type: string, format: binary}}]
      responses: {"200": {description: ok}}
  /xml:
    post:
      x-bind-server: H.xml
      consumes: [application/xml]
      produces: [application/xml]
      parameters: [{name: doc, in: body, schema: {type: object}}]
      responses: {"200": {description: ok, schema: {type: string}}}
  /health:
    get:
      x-bind-server: H.health
      produces: [text/plain]
      responses: {"200": {description: ok, schema: {type: string}}}
  /export:
    get:
      x-bind-server: H.export
      produces: [application/json, application/octet-stream]
      responses: {"200": {description: ok}}
definitions:
  Thing:
    properties: {name: {type: string}}
"""
)
MEDIA_HANDLERS = """
def create(body):
    return body

def load(images_tarball):
    return {"size": len(images_tarball), "bytes": type(images_tarball).__name__}

def xml(doc):
    return doc.replace("a", "b")

def health():
    return "OK"

def export():
    return b"\\x00\\x01"
"""


def test_declared_request_media_types_are_accepted(tmp_path):
    client = serve(tmp_path, MEDIA, MEDIA_HANDLERS)
    r = client.post("/things", data=b'{"name": "a"}', content_type="text/json")
    assert r.status_code == 200 and r.get_json() == {"name": "a"}
    r = client.post("/things", data=b'{"name": 1}', content_type="text/json")
    assert r.status_code == 400  # validated as JSON too
    r = client.post("/images/load", data=b"\x00tar\xff", content_type="application/x-tar")
    assert r.get_json() == {"size": 5, "bytes": "bytes"}
    r = client.post("/xml", data="<a/>", content_type="application/xml")
    assert r.status_code == 200 and r.data == b"<b/>" and r.mimetype == "application/xml"
    r = client.post("/things", data=b"name=a", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert r.get_json()["error"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/json or text/json" in r.get_json()["error_description"]


def test_replies_are_serialised_as_the_negotiated_declared_type(tmp_path):
    client = serve(tmp_path, MEDIA, MEDIA_HANDLERS)
    r = client.get("/health")
    assert r.status_code == 200 and r.data == b"OK" and r.mimetype == "text/plain"
    r = client.get("/health", headers={"Accept": "application/json"})
    assert r.status_code == 406 and r.get_json()["error"] == "NOT_ACCEPTABLE"
    r = client.get("/export", headers={"Accept": "application/octet-stream"})
    assert r.data == b"\x00\x01" and r.mimetype == "application/octet-stream"
    r = client.get("/things", headers={"Accept": "text/html"})  # no route: 405 JSON error
    assert r.status_code == 405
    r = client.post("/things", json={"name": "a"}, headers={"Accept": "text/html"})
    assert r.status_code == 406
    r = client.post("/things", json={"name": "a"}, headers={"Accept": "text/html, */*;q=0.1"})
    assert r.status_code == 200 and r.mimetype == "application/json"


def test_percent_encoded_path_keys_are_routed_decoded(tmp_path):
    client = serve(
        tmp_path,
        HEAD
        + """paths:
  /queries/enum/green%20color:
    get:
      x-bind-server: H.green
      responses: {"200": {description: ok}}
""",
        "def green():\n    return {'color': 'green'}\n",
    )
    assert client.get("/queries/enum/green%20color").get_json() == {"color": "green"}
    assert client.get("/queries/enum/green%2520color").status_code == 404


@pytest.mark.parametrize(
    "data, where",
    [(b"null", "body: expected an object"), (b'"x"', "body: expected an object"), (b"3", "body")],
)
def test_a_body_the_model_cannot_represent_is_a_400(tmp_path, data, where):
    client = serve(tmp_path, MEDIA, MEDIA_HANDLERS)
    r = client.post("/things", data=data, content_type="application/json")
    assert r.status_code == 400, r.data
    assert r.get_json()["error"] == "INVALID_PARAMETER"
    assert where in r.get_json()["error_description"]


def test_json_specs_load_and_referenced_fragments_are_not_apis(tmp_path):
    spec = """{
\t"swagger": "2.0",
\t"info": {"title": "shapes", "version": "1"},
\t"paths": {"/colors": {"get": {"x-bind-server": "H.colors",
\t\t"responses": {"200": {"description": "ok",
\t\t\t"schema": {"$ref": "common.yaml#/Colors"}}}}}}
}"""
    client = serve(
        tmp_path,
        spec,
        "def colors():\n    return {'colors': ['red']}\n",
        fmt="json",
        common__yaml="Colors:\n  type: object\n  properties:\n    colors: {type: array, items: {type: string}}\n",
    )
    assert client.get("/colors").get_json() == {"colors": ["red"]}
    from pymacaron.apipool import ApiPool

    assert "common" not in ApiPool.names() and "shapes" in ApiPool.names()


def test_json_spec_errors_name_the_line(tmp_path):
    spec = '{\n\t"swagger": "2.0",\n\t"info": {"title": "x", "version": "1"},\n\t"paths": {"/a": {"get": {}}}\n}'
    with pytest.raises(StartupError) as e:
        serve(tmp_path, spec, fmt="json")
    assert "apis/shapes.json" in str(e.value) and "paths./a.get" in str(e.value)
    assert "(line 4)" in str(e.value), str(e.value)


# -- error_model: auto -------------------------------------------------------------------
ERRORS = (
    HEAD
    + """paths:
  /images/{name}/json:
    get:
      x-bind-server: H.inspect
      parameters:
        - {name: name, in: path, required: true, type: string}
        - {name: size, in: query, type: integer}
      responses:
        "200": {description: ok}
        "404": {description: no such image, schema: {$ref: "#/definitions/ErrorResponse"}}
        "400": {description: bad parameter, schema: {$ref: "#/definitions/ErrorResponse"}}
        "500": {description: server error, schema: {$ref: "#/definitions/ErrorResponse"}}
  /pets:
    get:
      x-bind-server: H.pets
      parameters: [{name: limit, in: query, type: integer, maximum: 10}]
      responses:
        "200": {description: ok}
        default: {description: unexpected error, schema: {$ref: "#/definitions/ErrorModel"}}
  /chat.post:
    get:
      x-bind-server: H.pets
      parameters: [{name: limit, in: query, type: integer, maximum: 10}]
      responses:
        "200": {description: ok}
        default:
          description: failure
          schema:
            type: object
            required: [ok, error]
            additionalProperties: false
            properties: {ok: {type: boolean}, error: {type: string}, warning: {type: string}}
definitions:
  ErrorResponse:
    type: object
    required: [message]
    properties: {message: {type: string}}
  ErrorModel:
    type: object
    required: [code, message]
    properties: {code: {type: integer, format: int32}, message: {type: string}}
"""
)
ERROR_HANDLERS = """
from pymacaron.exceptions import NotFoundError

def inspect(name, size=None):
    if name == "crash":
        raise RuntimeError("boom")
    raise NotFoundError(f"no such image: {name}")

def pets(limit=None):
    return {}
"""


def test_error_model_auto_renders_errors_in_the_declared_schema(tmp_path):
    client = serve(tmp_path, ERRORS, ERROR_HANDLERS, config="error_model: auto\n")
    r = client.get("/images/alpine/json")
    assert r.status_code == 404 and r.get_json() == {"message": "no such image: alpine"}
    r = client.get("/images/alpine/json?size=big")
    assert r.status_code == 400 and list(r.get_json()) == ["message"]
    assert "size" in r.get_json()["message"]
    r = client.get("/images/crash/json")
    assert r.status_code == 500 and list(r.get_json()) == ["message"]
    r = client.get("/pets?limit=99")
    assert r.status_code == 400 and r.get_json()["code"] == 400
    assert set(r.get_json()) == {"code", "message"}
    r = client.get("/chat.post?limit=99")
    assert r.status_code == 400 and r.get_json() == {"ok": False, "error": "INVALID_PARAMETER"}


def test_without_error_model_auto_errors_keep_pymacarons_body(tmp_path):
    client = serve(tmp_path, ERRORS, ERROR_HANDLERS)
    body = client.get("/images/alpine/json").get_json()
    assert body["error"] == "NOT_FOUND" and body["status"] == 404 and "error_id" in body


def test_error_model_auto_warns_on_an_error_schema_it_cannot_fill(tmp_path, caplog):
    """Issue 27: never a refusal; that status keeps the uniform body."""
    spec = ERRORS.replace(
        "required: [message]\n    properties: {message: {type: string}}",
        "required: [message, errorDetail]\n"
        "    properties: {message: {type: string}, errorDetail: {type: object}}",
    )
    caplog.set_level(logging.WARNING, "pymacaron")
    client = serve(tmp_path, spec, ERROR_HANDLERS, config="error_model: auto\n")
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "cannot fill the required field 'errorDetail'" in said, said
    assert "responses.404.schema.errorDetail" in said, said
    body = client.get("/images/alpine/json").get_json()
    assert body["error"] == "NOT_FOUND" and body["status"] == 404 and "error_id" in body

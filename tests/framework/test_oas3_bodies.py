"""OpenAPI 3 request bodies over HTTP (JSON, +json, urlencoded forms, multipart with files
and encoded parts, other media types) and responses by media type."""

import io

import orjson
import pytest

from tests.framework import oas3_helpers
from tests.framework.oas3_helpers import make_client, operation

PET = {
    "type": "object",
    "required": ["name"],  # readOnly "id" out of required: 16valid (direction) decides that
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string", "minLength": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
        "age": {"type": "integer"},
    },
}
DEFS = {"Pet": PET}
REF = {"$ref": "#/definitions/Pet"}


def body(content, required=True):
    media = next(iter(content))
    return {
        "in": "body",
        "name": "body",
        "required": required,
        "schema": content[media].get("schema"),
        "x-pym-content": content,
    }


def client_for(content, required=True, definitions=DEFS, **kw):
    op = operation("/b", [body(content, required)], method="post", consumes=list(content), **kw)
    return make_client([op], definitions)


def post(client, **kw):
    r = client.post("/b", **kw)
    return r.status_code, r.get_json()


def test_json_body_is_a_model_first_positional_argument():
    client = client_for({"application/json": {"schema": REF}})
    status, out = post(client, json={"name": "rex", "tags": ["a"]})
    assert status == 200
    assert out["__body__"] == {"__model__": "Pet", "name": "rex", "tags": ["a"]}


def test_read_only_property_sent_is_dropped():
    client = client_for({"application/json": {"schema": REF}})
    status, out = post(client, json={"name": "rex", "id": 5})
    assert status == 200
    assert out["__body__"] == {"__model__": "Pet", "name": "rex"}


def test_json_body_errors_name_the_field():
    client = client_for({"application/json": {"schema": REF}})
    status, out = post(client, json={"name": ""})
    assert status == 400 and out["error"] == "INVALID_PARAMETER"
    assert out["error_description"].startswith("body.name")
    status, out = post(client, data=b"{nope", content_type="application/json")
    assert status == 400 and out["error_description"].startswith("body: ")


def test_array_of_refs_is_a_list_of_models():
    client = client_for({"application/json": {"schema": {"type": "array", "items": REF}}})
    status, out = post(client, json=[{"name": "a"}, {"name": "b"}])
    assert status == 200
    assert [p["name"] for p in out["__body__"]] == ["a", "b"]
    assert {p["__model__"] for p in out["__body__"]} == {"Pet"}


def test_plus_json_media_types_are_json():
    client = client_for({"application/vnd.pets+json": {"schema": REF}})
    data = orjson.dumps({"name": "rex"})
    status, out = post(client, data=data, content_type="application/vnd.pets+json")
    assert status == 200 and out["__body__"]["__model__"] == "Pet"
    status, out = post(client, data=data, content_type="application/merge-patch+json")
    assert status == 200 and out["__body__"]["name"] == "rex"


def test_the_content_type_picks_the_schema():
    content = {
        "application/json": {"schema": REF},
        "text/plain": {"schema": {"type": "string"}},
        "application/octet-stream": {},
    }
    client = client_for(content)
    assert post(client, json={"name": "x"})[1]["__body__"]["__model__"] == "Pet"
    status, out = post(client, data="hello", content_type="text/plain; charset=utf-8")
    assert (status, out["__body__"]) == (200, "hello")
    status, out = post(client, data=b"\x00\x01", content_type="application/octet-stream")
    assert (status, out["__body__"]) == (200, {"__bytes__": "\x00\x01"})


def test_wrong_content_type_is_415():
    client = client_for({"application/json": {"schema": REF}})
    status, out = post(client, data="name=x", content_type="application/x-www-form-urlencoded")
    assert status == 415 and out["error"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/json" in out["error_description"]


def test_wildcard_media_type_takes_anything():
    client = client_for({"*/*": {}})
    status, out = post(client, data=b"abc", content_type="image/png")
    assert (status, out["__body__"]) == (200, {"__bytes__": "abc"})
    status, out = post(client, json={"a": 1})
    assert (status, out["__body__"]) == (200, {"a": 1})


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", None]
)
def test_missing_required_body_names_the_body(content_type):
    client = client_for({"application/json": {"schema": REF}, FORM: {"schema": REF}})
    kw = {"content_type": content_type} if content_type else {}
    status, out = post(client, **kw)
    assert status == 400 and out["error"] == "INVALID_PARAMETER"
    assert out["error_description"] == "body: a JSON request body is required by POST /b"


def test_optional_body_absent_is_none():
    client = client_for({"application/json": {"schema": REF}}, required=False)
    assert post(client) == (200, {"__body__": None})


FORM = "application/x-www-form-urlencoded"
MULTI = "multipart/form-data"


def test_urlencoded_form_fields_are_coerced():
    client = client_for({FORM: {"schema": REF}})
    status, out = post(client, data="name=rex&age=3&tags=a&tags=b", content_type=FORM)
    assert status == 200
    assert out["__body__"] == {"__model__": "Pet", "name": "rex", "age": 3, "tags": ["a", "b"]}
    status, out = post(client, data="name=rex&age=old", content_type=FORM)
    assert status == 400 and out["error_description"].startswith("body.age: expected an integer")
    status, out = post(client, data="age=3", content_type=FORM)
    assert status == 400 and "name" in out["error_description"]


def test_urlencoded_encoding_style_and_json_parts():
    schema = {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}},
            "meta": {"type": "object", "properties": {"k": {"type": "integer"}}},
        },
    }
    encoding = {
        "ids": {"style": "form", "explode": False},
        "meta": {"contentType": "application/json"},
    }
    client = client_for({FORM: {"schema": schema, "encoding": encoding}})
    status, out = post(client, data="ids=1,2,3&meta=%7B%22k%22%3A1%7D", content_type=FORM)
    assert (status, out["__body__"]) == (200, {"ids": [1, 2, 3], "meta": {"k": 1}})


UPLOAD = {
    "type": "object",
    "required": ["file", "meta"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "meta": {
            "type": "object",
            "properties": {"size": {"type": "integer"}},
            "required": ["size"],
        },
        "count": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "doc": {"type": "string"},
    },
}


def test_multipart_with_a_file_and_an_encoded_json_part():
    encoding = {"doc": {"contentType": "application/json"}}
    client = client_for({MULTI: {"schema": UPLOAD, "encoding": encoding}})
    data = {
        "file": (io.BytesIO(b"PNG..."), "a.png", "image/png"),
        "meta": '{"size": 6}',
        "count": "2",
        "tags": ["x", "y"],
        "doc": '"quoted"',
    }
    status, out = post(client, data=data, content_type=MULTI)
    assert status == 200, out
    assert out["__body__"] == {
        "file": {"__file__": "a.png", "content": "PNG..."},
        "meta": {"size": 6},
        "count": 2,
        "tags": ["x", "y"],
        "doc": "quoted",
    }


def test_multipart_errors_name_the_part():
    client = client_for({MULTI: {"schema": UPLOAD}})
    file = (io.BytesIO(b"x"), "a.bin")
    status, out = post(client, data={"file": file, "meta": "{bad"}, content_type=MULTI)
    assert status == 400 and out["error_description"].startswith("body.meta: expected a JSON part")
    file = (io.BytesIO(b"x"), "a.bin")
    status, out = post(client, data={"file": file, "meta": "{}"}, content_type=MULTI)
    assert status == 400 and "size" in out["error_description"]
    status, out = post(client, data={"meta": '{"size": 1}'}, content_type=MULTI)
    assert status == 400 and "file" in out["error_description"]


def test_multipart_missing_required_body():
    client = client_for({MULTI: {"schema": UPLOAD}})
    status, out = post(client, data={}, content_type=MULTI)
    assert status == 400 and out["error_description"].startswith("body: a multipart/form-data")


# -- responses by media type ----------------------------------------------------------------
def reply_client(responses, produces):
    op = operation("/r", [], responses=responses, produces=produces, handler="reply_with")
    return make_client([op], DEFS)


def test_reply_media_type_picks_the_schema():
    responses = {
        "200": {
            "description": "ok",
            "schema": REF,
            "x-pym-content": {
                "application/json": {"schema": REF},
                "text/plain": {"schema": {"type": "string", "maxLength": 3}},
            },
        }
    }
    client = reply_client(responses, ["application/json", "text/plain"])
    oas3_helpers.REPLY["value"] = "abc"
    r = client.get("/r", headers={"Accept": "text/plain"})
    assert (r.status_code, r.mimetype, r.data) == (200, "text/plain", b"abc")
    oas3_helpers.REPLY["value"] = "abcdef"
    r = client.get("/r", headers={"Accept": "text/plain"})
    assert r.status_code == 500 and r.get_json()["error"] == "BAD_RESPONSE"
    oas3_helpers.REPLY["value"] = {"name": "x", "id": 1}
    r = client.get("/r")
    assert (r.status_code, r.mimetype) == (200, "application/json")
    oas3_helpers.REPLY["value"] = {"id": 1}
    assert client.get("/r").status_code == 500


def test_each_status_answers_in_its_own_media_type_and_default_covers_the_rest():
    problem = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
    responses = {
        "200": {"description": "ok", "x-pym-content": {"text/csv": {"schema": {"type": "string"}}}},
        "default": {
            "description": "error",
            "schema": problem,
            "x-pym-content": {"application/problem+json": {"schema": problem}},
        },
    }
    client = reply_client(responses, ["text/csv", "application/problem+json"])
    oas3_helpers.REPLY["value"] = ("a,b\n", 200)
    r = client.get("/r")
    assert (r.status_code, r.mimetype, r.data) == (200, "text/csv", b"a,b\n")
    oas3_helpers.REPLY["value"] = ({"title": "gone"}, 410)
    r = client.get("/r", headers={"Accept": "text/csv"})
    assert (r.status_code, r.mimetype) == (410, "application/problem+json")
    assert r.get_json() == {"title": "gone"}
    oas3_helpers.REPLY["value"] = ({"nope": 1}, 409)
    assert client.get("/r").status_code == 500


def test_declared_response_headers_are_checked():
    responses = {
        "201": {
            "description": "created",
            "headers": {
                "X-Rate": {"schema": {"type": "integer"}, "required": True},
                "X-Tags": {"schema": {"type": "array", "items": {"type": "string"}}},
            },
            "x-pym-content": {},
        }
    }
    client = reply_client(responses, ["application/json"])
    oas3_helpers.REPLY["value"] = (None, 201, {"X-Rate": "5", "X-Tags": "a,b"})
    r = client.get("/r")
    assert r.status_code == 201 and r.headers["X-Rate"] == "5"
    oas3_helpers.REPLY["value"] = (None, 201, {"X-Rate": "many"})
    assert client.get("/r").status_code == 500
    oas3_helpers.REPLY["value"] = (None, 201)
    r = client.get("/r")
    assert r.status_code == 500 and r.get_json()["error"] == "BAD_RESPONSE"


def test_form_fields_the_schema_does_not_name():
    closed = {**PET, "additionalProperties": False}
    client = client_for({FORM: {"schema": closed}})
    status, out = post(client, data="name=rex&colour=red", content_type=FORM)
    assert status == 400 and "colour" in out["error_description"]
    typed = {**PET, "additionalProperties": {"type": "integer"}}
    client = client_for({FORM: {"schema": typed}, MULTI: {"schema": typed}})
    status, out = post(client, data="name=rex&n=3", content_type=FORM)
    assert (status, out["__body__"]) == (200, {"name": "rex", "n": 3})
    status, out = post(client, data="name=rex&m=4&m=5", content_type=FORM)  # a list
    assert status == 400 and "body.m" in out["error_description"]
    status, out = post(client, data="name=rex&n=x", content_type=FORM)
    assert status == 400 and out["error_description"].startswith("body.n: expected an integer")
    status, out = post(client, data={"name": "rex", "n": "7"}, content_type=MULTI)
    assert (status, out["__body__"]) == (200, {"name": "rex", "n": 7})
    status, out = post(
        client, data={"name": "rex", "f": (io.BytesIO(b"x"), "f.bin")}, content_type=MULTI
    )
    assert status == 400 and "body.f" in out["error_description"]

"""OpenAPI 3 client calls against a pymacaron server of the same operations: parameters
by style, cookies, bodies by media type, replies decoded into models by media type."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymacaron.spec.models import PyMacaronModel
from tests.framework import oas3_helpers
from tests.framework.oas3_helpers import make_pair, operation, param

INT = {"type": "integer"}
OBJ = {"type": "object", "properties": {"R": INT, "G": INT}}
PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "age": INT,
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
DEFS = {"Pet": PET}
REF = {"$ref": "#/definitions/Pet"}
ECHO_REPLY = {"200": {"description": "ok", "x-pym-content": {"application/json": {}}}}


def bound(op, name):
    op.operation["x-bind-client"] = name
    return op


STYLED = [
    ("label_path", "path", "label", True, {"type": "array", "items": INT}, [1, 2, 3]),
    ("matrix_path", "path", "matrix", True, OBJ, {"R": 1, "G": 2}),
    (
        "matrix_flat",
        "path",
        "matrix",
        False,
        {"type": "array", "items": {"type": "string"}},
        ["a b", "c"],
    ),
    ("simple_obj", "path", "simple", True, OBJ, {"R": 5}),
    (
        "form_arr",
        "query",
        "form",
        True,
        {"type": "array", "items": {"type": "string"}},
        ["a,b", "c&d"],
    ),
    (
        "form_flat",
        "query",
        "form",
        False,
        {"type": "array", "items": {"type": "string"}},
        ["a,b", "c"],
    ),
    ("form_obj", "query", "form", True, OBJ, {"R": 1, "G": 2}),
    ("deep", "query", "deepObject", True, OBJ, {"R": 1, "G": 2}),
    ("space", "query", "spaceDelimited", False, {"type": "array", "items": INT}, [1, 2]),
    ("pipe", "query", "pipeDelimited", False, OBJ, {"R": 1}),
    ("header_obj", "header", "simple", True, OBJ, {"R": 1, "G": 2}),
    ("cookie_arr", "cookie", "form", False, {"type": "array", "items": INT}, [4, 5]),
    ("cookie_str", "cookie", "form", True, {"type": "string"}, "a b;c"),
]


@pytest.mark.parametrize("name,where,style,explode,schema,value", STYLED)
def test_client_call_round_trips_every_style(name, where, style, explode, schema, value):
    pname = "X-Val" if where == "header" else "val"
    path = "/s/{val}" if where == "path" else "/s"
    p = param(pname, where, schema, style=style, explode=explode, required=True)
    _, client, _ = make_pair([bound(operation(path, [p]), "call")])
    kwarg = "x_val" if where == "header" else "val"
    assert client.call(**{kwarg: value}) == {kwarg: value}


def test_content_encoded_param_and_optional_params_left_out():
    ps = [
        param("q", "query", OBJ, **{"x-pym-content-type": "application/json"}),
        param("n", "query", INT),
    ]
    _, client, adapter = make_pair([bound(operation("/s", ps), "call")])
    assert client.call(q={"R": 1}) == {"q": {"R": 1}, "n": None}
    assert "n=" not in adapter.sent[-1].url


def test_client_refuses_bad_values_before_sending():
    p = param("n", "query", {"type": "integer", "maximum": 3}, required=True)
    _, client, adapter = make_pair([bound(operation("/s", [p]), "call")])
    with pytest.raises(ValueError, match="query parameter 'n'"):
        client.call(n=4)
    with pytest.raises(TypeError, match="is required"):
        client.call()
    assert adapter.sent == []


def test_json_body_and_model_reply():
    responses = {
        "200": {
            "description": "ok",
            "schema": REF,
            "x-pym-content": {"application/json": {"schema": REF}},
        }
    }
    op = operation(
        "/pets",
        [_body({"application/json": {"schema": REF}})],
        method="post",
        responses=responses,
        handler="first_arg",
    )
    _, client, adapter = make_pair([bound(op, "add")], DEFS)
    pet = client.add({"name": "rex", "age": 2})
    assert isinstance(pet, PyMacaronModel) and type(pet).__name__ == "Pet"
    assert (pet.name, pet.age) == ("rex", 2)
    assert adapter.sent[-1].headers["Content-Type"] == "application/json"


def _body(content, required=True):
    media = next(iter(content))
    return {
        "in": "body",
        "name": "body",
        "required": required,
        "schema": content[media].get("schema"),
        "x-pym-content": content,
    }


def test_form_body():
    content = {
        "application/x-www-form-urlencoded": {
            "schema": PET,
            "encoding": {"tags": {"explode": False}},
        }
    }
    op = operation("/f", [_body(content)], method="post", consumes=list(content))
    _, client, adapter = make_pair([bound(op, "send")])
    assert client.send({"name": "a&b", "age": 3, "tags": ["x", "y,z"]}) == {
        "__body__": {"name": "a&b", "age": 3, "tags": ["x", "y,z"]}
    }
    assert adapter.sent[-1].headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_multipart_body_with_file_and_json_part():
    schema = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "meta": {"type": "object", "properties": {"size": INT}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "count": INT,
        },
    }
    content = {"multipart/form-data": {"schema": schema}}
    op = operation("/m", [_body(content)], method="post", consumes=list(content))
    _, client, adapter = make_pair([bound(op, "upload")])
    out = client.upload(
        {
            "file": ("a.txt", io.BytesIO(b"hello"), "text/plain"),
            "meta": {"size": 5},
            "tags": ["x", "y"],
            "count": 2,
        }
    )
    assert out == {
        "__body__": {
            "file": {"__file__": "a.txt", "content": "hello"},
            "meta": {"size": 5},
            "tags": ["x", "y"],
            "count": 2,
        }
    }
    assert adapter.sent[-1].headers["Content-Type"].startswith("multipart/form-data; boundary=")


def test_content_type_option_picks_the_media_type():
    content = {"application/json": {"schema": PET}, "text/plain": {"schema": {"type": "string"}}}
    op = operation("/b", [_body(content)], method="post", consumes=list(content))
    _, client, adapter = make_pair([bound(op, "send")])
    assert client.send("hi", content_type="text/plain") == {"__body__": "hi"}
    assert adapter.sent[-1].headers["Content-Type"] == "text/plain"
    assert client.send({"name": "x"}) == {"__body__": {"name": "x"}}
    with pytest.raises(ValueError, match="not one of"):
        client.send("hi", content_type="image/png")


def test_replies_decoded_by_media_type():
    responses = {
        "200": {
            "description": "ok",
            "x-pym-content": {
                "text/plain": {"schema": {"type": "string"}},
                "application/octet-stream": {},
            },
        },
        "default": {"description": "err", "x-pym-content": {"application/json": {}}},
    }
    op = operation(
        "/r",
        [],
        responses=responses,
        produces=["text/plain", "application/octet-stream"],
        handler="reply_with",
    )
    _, client, _ = make_pair([bound(op, "get")])
    oas3_helpers.REPLY["value"] = "plain text"
    assert client.get() == "plain text"
    oas3_helpers.REPLY["value"] = b"\x00\x01"
    assert client.get(request_headers={"Accept": "application/octet-stream"}) == b"\x00\x01"


def test_reply_not_matching_the_media_schema_is_an_error_model():
    responses = {
        "200": {
            "description": "ok",
            "schema": REF,
            "x-pym-content": {"application/json": {"schema": REF}},
        }
    }
    op = operation("/r", [], responses=responses, handler="reply_with")
    _, client, _ = make_pair([bound(op, "get")], DEFS)
    oas3_helpers.REPLY["value"] = {"name": "rex"}
    assert client.get().name == "rex"
    oas3_helpers.REPLY["value"] = {"age": 1}
    assert client.get().is_error()  # the server refuses to send it (BAD_RESPONSE)


def test_decorate_request_wraps_3x_calls():
    p = param("n", "query", INT)
    op = bound(operation("/s", [p]), "call")
    op.operation["x-decorate-request"] = "tests.framework.oas3_helpers.add_marker"
    _, client, adapter = make_pair([op])
    assert client.call(n=1) == {"n": 1}
    assert adapter.sent[-1].headers["X-Marker"] == "yes"


# -- ApiPool's client of a 3.1 spec file, against the app serving it --------------------
@pytest.fixture(scope="module")
def styles_client():
    from pymacaron.apipool import ApiPool
    from pymacaron.client.transport import _session
    from tests.conftest import build_app
    from tests.framework.test_oas3_params import SERVICE

    app = build_app(SERVICE)
    adapter = oas3_helpers._FlaskAdapter(app.test_client(use_cookies=False))
    _session().mount("http://styles.test", adapter)
    return ApiPool.styles.client, adapter


def test_spec_file_client_round_trip(styles_client):
    client, adapter = styles_client
    read = client.get_items(
        ids=[1, 2],
        filter={"color": "red", "size": 2},
        tags=["a,b", "c"],
        x_trace="abc",
        session=5,
        q={"a": 1},
        pick=False,
    )
    assert type(read).__name__ == "Read"
    assert read.to_json() == {
        "ids": [1, 2],
        "filter": {"color": "red", "size": 2},
        "tags": ["a,b", "c"],
        "trace": "abc",
        "session": 5,
        "q": {"a": 1},
        "pick": False,
    }
    sent = adapter.sent[-1]
    assert "/v3/items/;ids=1;ids=2?" in sent.url
    assert sent.headers["Cookie"] == "session=5"
    assert client.get_items(ids=[3], x_trace="csv", request_headers={"Accept": "text/csv"}) == "3"


def test_spec_file_client_bodies(styles_client):
    client, _ = styles_client
    pet = client.add_pet({"name": "rex", "age": 2})
    assert type(pet).__name__ == "Pet" and (pet.name, pet.id) == ("rex", 7)
    pet = client.add_pet(
        {"name": "rex", "photo": ("p.png", b"PNG", "image/png"), "meta": {"w": 1}},
        content_type="multipart/form-data",
    )
    assert (pet.photo_name, pet.tags, pet.model) == ("p.png", ["PNG"], "dict")
    with pytest.raises(ValueError, match=r"add_pet\(\): body.name"):
        client.add_pet({"name": ""}, content_type="application/x-www-form-urlencoded")


# -- the same property over HTTP: requests prepares the URL, werkzeug parses it --------------
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=10)
_STR_ARRAY = {"type": "array", "items": {"type": "string"}}
_STR_OBJ = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
HTTP_CASES = [
    ("query", "form", True, _STR_ARRAY, st.lists(_TEXT, min_size=1, max_size=3)),
    ("query", "form", False, _STR_ARRAY, st.lists(_TEXT, min_size=2, max_size=3)),
    ("query", "deepObject", True, _STR_OBJ, st.fixed_dictionaries({"a": _TEXT, "b": _TEXT})),
    ("query", "form", True, {"type": "string"}, _TEXT),
    ("cookie", "form", False, _STR_ARRAY, st.lists(_TEXT, min_size=2, max_size=3)),
    ("cookie", "form", True, {"type": "string"}, _TEXT),
]


@pytest.fixture(scope="module")
def http_clients():
    ops = []  # one app: make_pair mounts its app on the one client host
    for i, (where, style, explode, schema, _) in enumerate(HTTP_CASES):
        p = param("val", where, schema, style=style, explode=explode, required=True)
        ops.append(bound(operation(f"/h{i}", [p]), f"call{i}"))
    _, client, adapter = make_pair(ops)
    return {i: getattr(client, f"call{i}") for i in range(len(HTTP_CASES))}, adapter


@pytest.mark.parametrize("case", range(len(HTTP_CASES)))
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_value_round_trips_over_http(http_clients, case, data):
    from pymacaron.client.transport import _session

    calls, adapter = http_clients
    _session().mount(f"http://{oas3_helpers.CLIENT_HOST}", adapter)  # another test's app may own it
    value = data.draw(HTTP_CASES[case][4])
    assert calls[case](val=value) == {"val": value}

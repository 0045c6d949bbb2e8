"""OpenAPI 3 parameters over HTTP: every style/explode for primitives, arrays and objects,
in path, query, header and cookie; coercion by schema; errors naming the parameter."""

import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymacaron.exceptions import StartupError
from tests.framework.oas3_helpers import make_client, operation, param

INT = {"type": "integer"}
ARR = {"type": "array", "items": {"type": "integer"}}
OBJ = {"type": "object", "properties": {"R": {"type": "integer"}, "G": {"type": "integer"}}}


def get(client, url, **kw):
    r = client.get(url, **kw)
    return r.status_code, r.get_json()


def path_client(style, explode, schema):
    p = param("color", "path", schema, style=style, explode=explode, required=True)
    return make_client([operation("/p/{color}", [p])])


# (style, explode, schema, wire text, value) -- the examples of the OAS 3 style table
PATH_CASES = [
    ("simple", False, INT, "5", 5),
    ("simple", True, INT, "5", 5),
    ("simple", False, ARR, "3,4,5", [3, 4, 5]),
    ("simple", True, ARR, "3,4,5", [3, 4, 5]),
    ("simple", False, OBJ, "R,100,G,200", {"R": 100, "G": 200}),
    ("simple", True, OBJ, "R=100,G=200", {"R": 100, "G": 200}),
    ("label", False, INT, ".5", 5),
    ("label", True, INT, ".5", 5),
    ("label", False, ARR, ".3,4,5", [3, 4, 5]),
    ("label", True, ARR, ".3.4.5", [3, 4, 5]),
    ("label", False, OBJ, ".R,100,G,200", {"R": 100, "G": 200}),
    ("label", True, OBJ, ".R=100.G=200", {"R": 100, "G": 200}),
    ("matrix", False, INT, ";color=5", 5),
    ("matrix", True, INT, ";color=5", 5),
    ("matrix", False, ARR, ";color=3,4,5", [3, 4, 5]),
    ("matrix", True, ARR, ";color=3;color=4;color=5", [3, 4, 5]),
    ("matrix", False, OBJ, ";color=R,100,G,200", {"R": 100, "G": 200}),
    ("matrix", False, ARR, ";3,4,5", [3, 4, 5]),  # without the name, as schemathesis sends
    ("matrix", True, OBJ, ";R=100;G=200", {"R": 100, "G": 200}),
]


@pytest.mark.parametrize("style,explode,schema,wire,value", PATH_CASES)
def test_path_styles(style, explode, schema, wire, value):
    assert get(path_client(style, explode, schema), f"/p/{wire}") == (200, {"color": value})


# the same wire texts with a value that is not an integer, or the wrong prefix
PATH_BAD = [
    ("simple", False, INT, "x"),
    ("simple", False, ARR, "3,x"),
    ("simple", False, OBJ, "R,100,G"),
    ("simple", True, OBJ, "R=1,G"),
    ("label", False, INT, "5"),
    ("label", True, ARR, ".3.y"),
    ("label", False, OBJ, ".R,x"),
    ("matrix", False, INT, ";other=5"),
    ("matrix", True, ARR, ";color=3;size=4"),
    ("matrix", True, OBJ, ";R=1;G=two"),
]


@pytest.mark.parametrize("style,explode,schema,wire", PATH_BAD)
def test_path_styles_refuse_bad_values(style, explode, schema, wire):
    status, body = get(path_client(style, explode, schema), f"/p/{wire}")
    assert status == 400, body
    assert body["error"] == "INVALID_PARAMETER"
    assert body["error_description"].startswith("path parameter 'color': ")


def query_client(name, schema, **extra):
    return make_client([operation("/q", [param(name, "query", schema, **extra)])])


QUERY_CASES = [
    ("form", True, INT, "color=5", 5),
    ("form", False, INT, "color=5", 5),
    ("form", True, ARR, "color=3&color=4&color=5", [3, 4, 5]),
    ("form", False, ARR, "color=3,4,5", [3, 4, 5]),
    ("form", True, OBJ, "R=100&G=200", {"R": 100, "G": 200}),
    ("form", False, OBJ, "color=R,100,G,200", {"R": 100, "G": 200}),
    ("spaceDelimited", False, ARR, "color=3%204%205", [3, 4, 5]),
    ("spaceDelimited", False, ARR, "color=3+4+5", [3, 4, 5]),
    ("spaceDelimited", True, ARR, "color=3&color=4", [3, 4]),
    ("spaceDelimited", False, OBJ, "color=R%20100%20G%20200", {"R": 100, "G": 200}),
    ("pipeDelimited", False, ARR, "color=3|4|5", [3, 4, 5]),
    ("pipeDelimited", False, ARR, "color=3%7C4%7C5", [3, 4, 5]),
    ("pipeDelimited", True, ARR, "color=3&color=4", [3, 4]),
    ("pipeDelimited", False, OBJ, "color=R|100|G|200", {"R": 100, "G": 200}),
    ("deepObject", True, OBJ, "color[R]=100&color[G]=200", {"R": 100, "G": 200}),
    ("deepObject", True, OBJ, "color%5BR%5D=100", {"R": 100}),
]


@pytest.mark.parametrize("style,explode,schema,query,value", QUERY_CASES)
def test_query_styles(style, explode, schema, query, value):
    client = query_client("color", schema, style=style, explode=explode)
    assert get(client, f"/q?{query}") == (200, {"color": value})


QUERY_BAD = [
    ("form", True, INT, "color=five"),
    ("form", True, ARR, "color=3&color=x"),
    ("form", False, ARR, "color=3,,5"),
    ("form", True, OBJ, "R=red"),
    ("form", False, OBJ, "color=R,100,G"),
    ("spaceDelimited", False, ARR, "color=3%20x"),
    ("pipeDelimited", False, OBJ, "color=R|1|G"),
    ("deepObject", True, OBJ, "color[R]=red"),
]


@pytest.mark.parametrize("style,explode,schema,query", QUERY_BAD)
def test_query_styles_refuse_bad_values(style, explode, schema, query):
    status, body = get(query_client("color", schema, style=style, explode=explode), f"/q?{query}")
    assert status == 400, body
    assert body["error"] == "INVALID_PARAMETER"
    assert body["error_description"].startswith("query parameter 'color': "), body


def test_form_array_splits_before_decoding():
    client = query_client("tags", {"type": "array", "items": {"type": "string"}}, explode=False)
    assert get(client, "/q?tags=a%2Cb,c") == (200, {"tags": ["a,b", "c"]})
    # no raw separator: a client that encoded its separators too (requests, schemathesis)
    assert get(client, "/q?tags=a%2Cb%2Cc") == (200, {"tags": ["a", "b", "c"]})
    assert get(client, "/q?tags=abc") == (200, {"tags": ["abc"]})
    assert get(client, "/q?tags=") == (200, {"tags": []})


def test_deep_object_constraints_and_missing():
    schema = {**OBJ, "additionalProperties": False, "required": ["R"]}
    client = query_client("filter", schema, style="deepObject", explode=True)
    assert get(client, "/q?filter[R]=1&other=2") == (200, {"filter": {"R": 1}})
    status, body = get(client, "/q?filter[B]=1")
    assert status == 400 and "query parameter 'filter'" in body["error_description"]
    assert get(client, "/q") == (200, {"filter": None})


def test_deep_object_strings_and_unknown_query_refused():
    schema = {"type": "object", "properties": {"color": {"type": "string"}, "size": {}}}
    op = operation("/q", [param("filter", "query", schema, style="deepObject", explode=True)])
    client = make_client([op], reject_unknown_query_params=True)
    assert get(client, "/q?filter[color]=red&filter[size]=L") == (
        200,
        {"filter": {"color": "red", "size": "L"}},
    )
    status, body = get(client, "/q?filter[color]=red&colour=1")
    assert status == 400 and "query parameter 'colour' is not declared" in body["error_description"]


def test_exploded_free_form_object_takes_the_other_names():
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    ops = [operation("/q", [param("limit", "query", INT), param("extra", "query", schema)])]
    client = make_client(ops)
    assert get(client, "/q?limit=3&a=1&b=2") == (200, {"limit": 3, "extra": {"a": 1, "b": 2}})
    assert get(client, "/q?limit=3") == (200, {"limit": 3, "extra": None})


@pytest.mark.parametrize(
    "schema,query,value",
    [
        ({"type": "integer", "nullable": True}, "n=null", None),
        ({"type": "integer", "nullable": True}, "n=4", 4),
        ({"type": ["integer", "null"]}, "n=null", None),
        ({"type": ["integer", "null"]}, "n=", None),
        ({"type": ["string", "null"]}, "n=null", "null"),
        ({"type": ["boolean", "integer"]}, "n=1", True),
        ({"type": ["integer", "boolean"]}, "n=1", 1),
        ({"oneOf": [{"type": "integer"}, {"type": "boolean"}]}, "n=true", True),
        ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, "n=x1", "x1"),
        ({"anyOf": [{"type": "number"}, {"type": "string"}]}, "n=2.5", 2.5),
        ({"enum": [1, 2, 3]}, "n=2", 2),
        ({"type": "string", "enum": ["a", "b"]}, "n=b", "b"),
        ({"type": "number"}, "n=1e3", 1000.0),
        ({"type": "boolean"}, "n=false", False),
        ({"type": "string", "default": "z"}, "", "z"),
    ],
)
def test_coercion_by_schema(schema, query, value):
    assert get(query_client("n", schema), f"/q?{query}") == (200, {"n": value})


@pytest.mark.parametrize(
    "schema,query,expected",
    [
        ({"type": "integer"}, "n=null", "expected an integer"),
        ({"type": "integer", "minimum": 3}, "n=2", "bigger than or equal to 3"),
        ({"type": "string", "enum": ["a", "b"]}, "n=c", "one of"),
        ({"enum": [1, 2, 3]}, "n=4", "one of"),
        ({"oneOf": [{"type": "integer"}, {"type": "boolean"}]}, "n=x", "integer or boolean"),
        ({"type": "array", "items": INT, "maxItems": 1}, "n=1&n=2", "n"),
        ({"type": "number"}, "n=nan", "finite"),
        ({"type": "integer"}, "n=99999999999999999999999", "int64"),
    ],
)
def test_coercion_errors_name_the_parameter(schema, query, expected):
    status, body = get(query_client("n", schema), f"/q?{query}")
    assert status == 400
    assert body["error"] == "INVALID_PARAMETER"
    assert body["error_description"].startswith("query parameter 'n': ")
    assert expected in body["error_description"]


def test_content_encoded_query_parameter():
    schema = {"type": "object", "properties": {"a": INT}, "required": ["a"]}
    client = query_client("q", schema, **{"x-pym-content-type": "application/json"})
    assert get(client, "/q?q=%7B%22a%22%3A1%7D") == (200, {"q": {"a": 1}})
    status, body = get(client, "/q?q=%7B%22a%22%3A%22x%22%7D")
    assert status == 400 and body["error_description"].startswith("query parameter 'q': ")
    status, body = get(client, "/q?q=%7Bnot-json")
    assert status == 400 and "expected JSON" in body["error_description"]


def test_allow_empty_value():
    client = query_client("n", INT, allowEmptyValue=True)
    assert get(client, "/q?n=") == (200, {"n": None})
    status, body = get(query_client("n", INT), "/q?n=")
    assert status == 400 and "expected an integer" in body["error_description"]


def header_client(schema, explode=False, required=False):
    p = param("X-Color", "header", schema, explode=explode, required=required)
    return make_client([operation("/h", [p])])


@pytest.mark.parametrize(
    "schema,explode,sent,value",
    [
        (INT, False, "5", 5),
        (ARR, False, "3,4,5", [3, 4, 5]),
        (ARR, True, "3,4,5", [3, 4, 5]),
        (OBJ, False, "R,100,G,200", {"R": 100, "G": 200}),
        (OBJ, True, "R=100,G=200", {"R": 100, "G": 200}),
    ],
)
def test_header_simple_style(schema, explode, sent, value):
    assert get(header_client(schema, explode), "/h", headers={"X-Color": sent}) == (
        200,
        {"x_color": value},
    )


def test_header_bad_and_missing_required():
    client = header_client(INT, required=True)
    status, body = get(client, "/h", headers={"X-Color": "x"})
    assert status == 400 and body["error_description"].startswith("header parameter 'X-Color': ")
    status, body = get(client, "/h")
    assert status == 400
    assert body["error_description"] == "header parameter 'X-Color': is required but missing"


def test_accept_content_type_authorization_header_params_are_ignored():
    ps = [param("Accept", "header", INT, required=True), param("n", "query", INT)]
    assert get(make_client([operation("/h", ps)]), "/h?n=1") == (200, {"n": 1})


def cookie_client(schema, explode=True, required=False):
    p = param("session", "cookie", schema, explode=explode, required=required)
    return make_client([operation("/c", [p])])


@pytest.mark.parametrize(
    "schema,explode,cookie,value",
    [
        ({"type": "string"}, True, "session=abc", "abc"),
        (INT, True, "other=1; session=42", 42),
        (ARR, False, "session=3,4,5", [3, 4, 5]),
        (ARR, True, "session=3; session=4", [3, 4]),
        (OBJ, False, "session=R,100,G,200", {"R": 100, "G": 200}),
        (OBJ, True, "R=100; G=200", {"R": 100, "G": 200}),
        ({"type": "string"}, True, 'session="quoted"', "quoted"),
        ({"type": "string"}, True, "session=a%3Bb", "a;b"),
    ],
)
def test_cookie_form_style(schema, explode, cookie, value):
    client = cookie_client(schema, explode)
    assert get(client, "/c", headers={"Cookie": cookie}) == (200, {"session": value})


def test_cookie_bad_and_missing_required():
    client = cookie_client(INT, required=True)
    status, body = get(client, "/c", headers={"Cookie": "session=x"})
    assert status == 400 and body["error_description"].startswith("cookie parameter 'session': ")
    status, body = get(client, "/c", headers={"Cookie": "other=1"})
    assert status == 400
    assert body["error_description"] == "cookie parameter 'session': is required but missing"


def test_path_level_and_operation_params_together():
    ps = [
        param("id", "path", INT, required=True),
        param("verbose", "query", {"type": "boolean", "default": False}),
    ]
    client = make_client([operation("/items/{id}", ps)])
    assert get(client, "/items/7") == (200, {"id": 7, "verbose": False})
    assert get(client, "/items/7?verbose=true") == (200, {"id": 7, "verbose": True})
    status, body = get(client, "/items/seven")
    assert status == 400 and body["error_description"].startswith("path parameter 'id': ")


def test_schema_refs_coerce_through_definitions():
    definitions = {"Limit": {"type": "integer", "minimum": 1}}
    client = make_client(
        [operation("/q", [param("n", "query", {"$ref": "#/definitions/Limit"})])], definitions
    )
    assert get(client, "/q?n=3") == (200, {"n": 3})
    status, body = get(client, "/q?n=0")
    assert status == 400 and body["error_description"].startswith("query parameter 'n': ")


@pytest.mark.parametrize(
    "where,style,schema,message",
    [
        ("path", "deepObject", OBJ, "does not apply to path parameters"),
        ("query", "matrix", INT, "does not apply to query parameters"),
        ("query", "deepObject", ARR, "object schemas only"),
        ("query", "pipeDelimited", INT, "array and object schemas only"),
        ("header", "form", INT, "does not apply to header parameters"),
    ],
)
def test_style_that_does_not_apply_is_a_startup_error(where, style, schema, message):
    p = param("x", where, schema, style=style, required=True)
    path = "/s/{x}" if where == "path" else "/s"
    with pytest.raises(StartupError, match=message) as e:
        make_client([operation(path, [p])])
    assert "t.yaml" in str(e.value) and "GET" in str(e.value)


def test_swagger2_operations_keep_the_swagger_reader():
    p = {"name": "n", "in": "query", "type": "integer"}
    client = make_client([operation("/q", [p])], dialect="swagger2")
    assert get(client, "/q?n=2") == (200, {"n": 2})


def test_handler_must_accept_every_parameter_cookies_included():
    p = param("sid", "cookie", {"type": "string"})
    with pytest.raises(StartupError, match="does not accept the cookie parameter 'sid'"):
        make_client([operation("/c", [p], handler="strict")])


# -- through a real app built from an OpenAPI 3.1 spec file ---------------------------------
SERVICE = os.path.join(os.path.dirname(__file__), "oas3_service")


@pytest.fixture(scope="module")
def service():
    from tests.conftest import build_app

    return build_app(SERVICE).test_client(use_cookies=False)


def test_spec_file_every_kind_of_parameter(service):
    r = service.get(
        "/v3/items/;ids=1;ids=2?filter[color]=red&filter[size]=2&tags=a,b"
        "&q=%7B%22a%22%3A1%7D&pick=true",
        headers={"X-Trace": "abc", "Cookie": "session=5"},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {
        "ids": [1, 2],
        "filter": {"color": "red", "size": 2},
        "tags": ["a", "b"],
        "trace": "abc",
        "session": 5,
        "q": {"a": 1},
        "pick": True,
    }
    assert r.headers["X-Count"] == "2"
    r = service.get("/v3/items/;ids=3", headers={"X-Trace": "abc", "Cookie": "session=null"})
    assert r.status_code == 200 and r.get_json()["session"] is None


@pytest.mark.parametrize(
    "url,headers,named",
    [
        ("/v3/items/;ids=x", {"X-Trace": "abc"}, "path parameter 'ids'"),
        ("/v3/items/ids=1", {"X-Trace": "abc"}, "path parameter 'ids'"),
        ("/v3/items/;ids=1?filter[color]=green", {"X-Trace": "abc"}, "query parameter 'filter'"),
        ("/v3/items/;ids=1?filter[shape]=round", {"X-Trace": "abc"}, "query parameter 'filter'"),
        ("/v3/items/;ids=1?filter[size]=0", {"X-Trace": "abc"}, "query parameter 'filter'"),
        ("/v3/items/;ids=1?q=%7B%7D", {"X-Trace": "abc"}, "query parameter 'q'"),
        ("/v3/items/;ids=1?pick=maybe", {"X-Trace": "abc"}, "query parameter 'pick'"),
        ("/v3/items/;ids=1", {}, "header parameter 'X-Trace': is required but missing"),
        ("/v3/items/;ids=1", {"X-Trace": "a"}, "header parameter 'X-Trace'"),
        (
            "/v3/items/;ids=1",
            {"X-Trace": "abc", "Cookie": "session=abc"},
            "cookie parameter 'session'",
        ),
    ],
)
def test_spec_file_invalid_parameters_are_400_naming_them(service, url, headers, named):
    r = service.get(url, headers=headers)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"] == "INVALID_PARAMETER"
    assert named in r.get_json()["error_description"]


def test_spec_file_reply_media_type_and_headers(service):
    r = service.get("/v3/items/;ids=1;ids=2", headers={"X-Trace": "csv", "Accept": "text/csv"})
    assert (r.status_code, r.mimetype, r.data) == (200, "text/csv", b"1,2")
    r = service.get("/v3/items/;ids=1", headers={"X-Trace": "no-count"})
    assert r.status_code == 500 and r.get_json()["error"] == "BAD_RESPONSE"


def test_spec_file_bodies(service):
    r = service.post("/v3/pets", json={"name": "rex", "id": 3, "age": None})
    assert r.status_code == 201, r.get_json()
    # readOnly id dropped; the explicit null of a nullable property kept (spec/models.py)
    assert r.get_json() == {"name": "rex", "age": None, "id": 7, "model": "Pet"}
    r = service.post(
        "/v3/pets",
        data="name=rex&age=4&tags=a&tags=b",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"name": "rex", "age": 4, "tags": ["a", "b"], "id": 7, "model": "Pet"}
    r = service.post(
        "/v3/pets",
        data={
            "name": "rex",
            "photo": (io.BytesIO(b"PNG"), "p.png", "image/png"),
            "meta": '{"w": 2}',
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {
        "name": "rex",
        "photo_name": "p.png",
        "tags": ["PNG"],
        "meta": {"w": 2},
        "id": 7,
        "model": "dict",
    }
    r = service.post("/v3/pets", json={"age": 1})
    assert r.status_code == 400 and "name" in r.get_json()["error_description"]
    r = service.post("/v3/pets")
    assert r.status_code == 400
    assert (
        r.get_json()["error_description"] == "body: a JSON request body is required by POST /pets"
    )
    r = service.post("/v3/pets", data=b"<pet/>", content_type="application/xml")
    assert r.status_code == 415 and r.get_json()["error"] == "UNSUPPORTED_MEDIA_TYPE"


# -- hostile input: any query string, cookie or header is a 200 or a 400, never a 500 ------
HOSTILE_PARAMS = [
    param("n", "query", {"type": ["integer", "null"], "maximum": 10}),
    param("tags", "query", {"type": "array", "items": {"type": "number"}}, explode=False),
    param("f", "query", OBJ, style="deepObject", explode=True),
    param("p", "query", ARR, style="pipeDelimited", explode=False),
    param("j", "query", OBJ, **{"x-pym-content-type": "application/json"}),
    param("o", "query", {"oneOf": [INT, {"type": "boolean"}]}),
    param("X-H", "header", OBJ, explode=True),
    param("c", "cookie", ARR, explode=False),
]


@pytest.fixture(scope="module")
def hostile():
    ps = [*HOSTILE_PARAMS, param("id", "path", ARR, style="label", explode=True, required=True)]
    return make_client([operation("/h/{id}", ps)])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.text(
        st.sampled_from("nfjopctags[]=&,|%+. 0123456789aAzZ\u00e9\x00{}\"'"), max_size=40
    ),
    header=st.text(st.sampled_from("RG=,1 x\t"), max_size=12),
    cookie=st.text(st.sampled_from('c=1,;% x"'), max_size=12),
    segment=st.text(st.sampled_from(".12x,;=%"), min_size=1, max_size=8),
)
def test_any_input_is_a_200_or_a_400(hostile, query, header, cookie, segment):
    from urllib.parse import quote

    r = hostile.get(
        f"/h/{quote(segment, safe='.,;=')}?{query}",
        headers={"X-H": header, "Cookie": cookie},
    )
    assert r.status_code in (200, 400, 404), r.get_data()
    if r.status_code == 400:
        body = r.get_json()
        assert body["error"] == "INVALID_PARAMETER"
        assert " parameter '" in body["error_description"]

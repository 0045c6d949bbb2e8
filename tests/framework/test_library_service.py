"""A spec pymacaron was not written for (tests/fixtures/library_service), served in-process."""

import io
import os
import uuid

import pytest

from tests.conftest import FIXTURES, build_app

LIBRARY = os.path.join(FIXTURES, "library_service")


@pytest.fixture(scope="module")
def client():
    app = build_app(LIBRARY)
    return app.test_client()


def assert_error(r, status, code, contains=None):
    assert r.status_code == status, r.data
    body = r.get_json()
    assert body["status"] == status
    assert body["error"] == code
    uuid.UUID(body["error_id"], version=4)
    if contains:
        assert contains in body["error_description"], body["error_description"]
    return body


def test_base_path_is_honoured(client):
    assert client.get("/api/v2/books/dune-1").status_code == 200
    assert_error(client.get("/books/dune-1"), 404, "NOT_FOUND")


def test_builtin_endpoints_stay_at_the_root(client):
    assert client.get("/ping").get_json() == {}
    version = client.get("/version").get_json()
    assert version["name"] == "library"
    assert version["version"] == "2.3.1"
    assert version["apis"] == ["library"]


def test_csv_and_multi_arrays_header_and_camel_case_params(client):
    r = client.get(
        "/api/v2/books?authorIds=1,2&genre=fiction&genre=poetry&pageSize=3",
        headers={"X-Locale": "fr"},
    )
    assert r.status_code == 200, r.data
    body = r.get_json()
    assert [b["id"] for b in body["items"]] == ["book-1", "book-2"]
    assert body["locale"] == "fr"
    assert body["page_size"] == 3
    assert body["genres"] == ["fiction", "poetry"]


def test_default_applies_when_parameter_missing(client):
    assert client.get("/api/v2/books").get_json()["page_size"] == 10


@pytest.mark.parametrize(
    "query,fragment",
    [
        ("authorIds=1,x", "query parameter 'authorIds': expected an integer, got 'x'"),
        ("authorIds=0", "query parameter 'authorIds'"),
        ("genre=cooking", "expected one of 'fiction', 'science', 'poetry'"),
        ("pageSize=51", "query parameter 'pageSize': must be smaller than or equal to 50"),
        ("pageSize=2.5", "query parameter 'pageSize': expected an integer"),
        ("onlyAvailable=maybe", "query parameter 'onlyAvailable': expected true or false"),
    ],
)
def test_invalid_query_parameters_are_400s_naming_the_field(client, query, fragment):
    assert_error(client.get(f"/api/v2/books?{query}"), 400, "INVALID_PARAMETER", fragment)


def test_invalid_header_parameter(client):
    assert_error(
        client.get("/api/v2/books", headers={"X-Locale": "de"}),
        400,
        "INVALID_PARAMETER",
        "header parameter 'X-Locale'",
    )


def test_path_parameter_pattern(client):
    assert_error(
        client.get("/api/v2/books/A"),
        400,
        "INVALID_PARAMETER",
        "path parameter 'bookId': must match the pattern",
    )


def test_all_of_model_with_x_parent_and_datetime(client):
    from library.base import Printable

    from pymacaron.models import Author, Book

    book = Book.from_json(
        {
            "id": "x",
            "title": "T",
            "author": {"name": "N"},
            "available": True,
            "created": "2024-01-01T00:00:00+00:00",
        }
    )
    assert isinstance(book, Printable)
    assert isinstance(book.author, Author)
    assert book.headline() == "T by N"
    assert book.created.year == 2024
    assert book.to_json()["created"] == "2024-01-01T00:00:00+00:00"
    r = client.get("/api/v2/books/dune-1")
    assert r.get_json()["created"] == "2024-01-02T03:04:05+00:00"


def test_body_model_and_201(client):
    r = client.post("/api/v2/books", json={"title": "X", "author": {"name": "Y"}, "subtitle": None})
    assert r.status_code == 201, r.data
    assert r.get_json() == {
        "title": "X",
        "author": {"name": "Y"},
        "id": "new-book",
        "available": True,
    }


def test_int32_bound_in_body(client):
    assert_error(
        client.post("/api/v2/books", json={"title": "X", "author": {"name": "Y", "born": 2**31}}),
        400,
        "INVALID_PARAMETER",
        "body.author.born: must be smaller than or equal to 2147483647",
    )


def test_missing_required_body_property(client):
    assert_error(
        client.post("/api/v2/books", json={"title": "X"}),
        400,
        "INVALID_PARAMETER",
        "body.author: is required but missing",
    )


def test_204_with_decorator(client):
    from library import handlers

    before = len(handlers.AUDIT)
    r = client.delete("/api/v2/books/dune-1")
    assert r.status_code == 204
    assert r.data == b""
    assert handlers.AUDIT[before:] == [{"book_id": "dune-1"}]


def test_shared_response_ref_and_custom_error(client):
    assert_error(client.delete("/api/v2/books/missing"), 404, "BOOK_NOT_FOUND", "no book missing")


def test_multipart_form_with_file(client):
    r = client.post(
        "/api/v2/books/dune-1/cover",
        data={"caption": "hi", "image": (io.BytesIO(b"abcdef"), "c.png")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.data
    assert r.get_json() == {"size": 6, "caption": "hi"}


def test_form_constraints_and_required_file(client):
    assert_error(
        client.post(
            "/api/v2/books/dune-1/cover",
            data={"caption": "x" * 21, "image": (io.BytesIO(b"a"), "c.png")},
            content_type="multipart/form-data",
        ),
        400,
        "INVALID_PARAMETER",
        "form parameter 'caption'",
    )
    assert_error(
        client.post(
            "/api/v2/books/dune-1/cover", data={"caption": "x"}, content_type="multipart/form-data"
        ),
        400,
        "INVALID_PARAMETER",
        "form parameter 'image': is required",
    )


def test_response_not_matching_spec_is_bad_response(client, caplog):
    body = assert_error(client.get("/api/v2/books/dune-1/broken"), 500, "BAD_RESPONSE")
    assert "title" not in body["error_description"]  # the detail stays in the log
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert body["error_id"] in logged
    assert "does not match the spec: response.author: is required but missing" in logged


def test_unhandled_exception_is_500_without_traceback(client, caplog):
    body = assert_error(client.get("/api/v2/crash"), 500, "UNHANDLED_SERVER_ERROR")
    assert "hunter2" not in str(body)
    assert "Traceback" not in str(body)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert body["error_id"] in logged
    assert "Traceback (most recent call last)" in logged


def test_no_bind_server_is_not_routed(client):
    assert_error(client.post("/api/v2/admin/reindex"), 404, "NOT_FOUND")


def test_custom_config_key_readable():
    from pymacaron.config import get_config

    build_app(LIBRARY)
    assert get_config().my_custom_key == 42

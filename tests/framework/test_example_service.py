"""The example petshop service, in-process: every endpoint, the built-ins, auth, errors."""

import uuid

import pytest

from tests.conftest import REPO, build_app, fresh_tables


@pytest.fixture(scope="module")
def client(tmp_path_factory):

    fresh_tables("example")
    app = build_app(REPO, serve="petshop")
    return app.test_client()


@pytest.fixture
def auth(token_for):
    return {"Authorization": f"Bearer {token_for('alice')}"}


def error_of(r, status, code):
    assert r.status_code == status, r.data
    body = r.get_json()
    assert (body["status"], body["error"]) == (status, code)
    assert uuid.UUID(body["error_id"]).version == 4
    return body


ORDER = {
    "items": [{"pet_id": 1, "gift_wrap": True}, {"pet_id": 2}],
    "delivery": {"name": "Ann", "street": "1 rue", "city": "Paris", "country": "FR"},
}


def test_ping_and_version(client):
    assert client.get("/ping").get_json() == {}
    v = client.get("/version").get_json()
    assert set(v) == {"name", "version", "container", "pym_env", "apis"}
    assert v["name"] == "petshop" and v["apis"] == ["petshop"] and v["version"] == "1.2.0"


def test_auth_version_needs_a_token(client, auth):
    body = error_of(client.get("/auth/version"), 401, "AUTHORIZATION_HEADER_MISSING")
    assert "Authorization" in body["error_description"]
    assert client.get("/auth/version", headers=auth).get_json()["name"] == "petshop"
    error_of(
        client.get("/auth/version", headers={"Authorization": "Bearer garbage"}),
        401,
        "TOKEN_INVALID",
    )


def test_list_filters_and_limits(client):
    pets = client.get("/pets?limit=2").get_json()
    assert [p["id"] for p in pets] == [1, 2]
    assert [p["name"] for p in client.get("/pets?tags=friendly&status=available").get_json()] == [
        "Rex"
    ]
    assert (
        client.get("/pets?tags=dog,friendly").get_json()[0]["vaccinations"][0]["name"] == "rabies"
    )


@pytest.mark.parametrize(
    "query,fragment",
    [
        ("limit=0", "query parameter 'limit': must be bigger than or equal to 1, got 0"),
        ("limit=101", "query parameter 'limit': must be smaller than or equal to 100"),
        ("limit=ten", "query parameter 'limit': expected an integer, got 'ten'"),
        (
            "status=lost",
            "query parameter 'status': expected one of 'available', 'reserved', 'sold'",
        ),
        ("tags=a,b,c,d,e,f", "query parameter 'tags': must contain less than or equal to 5 items"),
    ],
)
def test_list_rejects_bad_queries(client, query, fragment):
    body = error_of(client.get(f"/pets?{query}"), 400, "INVALID_PARAMETER")
    assert fragment in body["error_description"]


def test_get_pet_and_custom_error(client):
    assert client.get("/pets/2").get_json()["name"] == "Tom"
    body = error_of(client.get("/pets/999"), 404, "PET_NOT_FOUND")
    assert body["user_message"] == "This pet is not in our shop."
    body = error_of(client.get("/pets/0"), 400, "INVALID_PARAMETER")
    assert "path parameter 'pet_id'" in body["error_description"]


def test_create_pet_requires_auth_and_validates_nested_body(client, auth):
    new = {
        "name": "Fido",
        "species": "dog",
        "price": {"amount": 99.5, "currency": "EUR"},
        "tags": ["puppy"],
        "vaccinations": [{"name": "rabies", "date": "2025-01-01"}],
    }
    error_of(client.post("/pets", json=new), 401, "AUTHORIZATION_HEADER_MISSING")
    r = client.post("/pets", json=new, headers=auth)
    assert r.status_code == 201, r.data
    pet = r.get_json()
    assert (
        pet["id"] >= 1000
        and pet["status"] == "available"
        and pet["vaccinations"] == new["vaccinations"]
    )
    assert client.get(f"/pets/{pet['id']}").get_json()["name"] == "Fido"
    bad = {**new, "vaccinations": [{"name": "rabies", "date": "yesterday"}]}
    body = error_of(client.post("/pets", json=bad, headers=auth), 400, "INVALID_PARAMETER")
    assert body["error_description"].startswith("body.vaccinations[0].date: must be a valid date")
    body = error_of(
        client.post("/pets", json={**new, "colour": "red"}, headers=auth), 400, "INVALID_PARAMETER"
    )
    assert "colour" in body["error_description"]


def test_body_must_be_json(client, auth):
    body = error_of(
        client.post(
            "/pets", data="name=x", headers=auth, content_type="application/x-www-form-urlencoded"
        ),
        415,  # a Content-Type the operation does not consume (issue 15: was a 400)
        "UNSUPPORTED_MEDIA_TYPE",
    )
    assert "Content-Type application/json" in body["error_description"]
    body = error_of(
        client.post("/pets", data="{oops", headers=auth, content_type="application/json"),
        400,
        "INVALID_PARAMETER",
    )
    assert "not valid JSON" in body["error_description"]
    body = error_of(client.post("/pets", headers=auth), 400, "INVALID_PARAMETER")
    assert "JSON body is required" in body["error_description"]


def test_order_uses_identity_and_custom_409(client, token_for):
    headers = {"Authorization": f"Bearer {token_for('bob')}"}
    r = client.post("/orders", json=ORDER, headers=headers)
    assert r.status_code == 201, r.data
    order = r.get_json()
    assert order["customer"] == "bob"
    assert order["total"] == {"amount": 575.0, "currency": "EUR"}
    sold = {**ORDER, "items": [{"pet_id": 3}]}
    body = error_of(client.post("/orders", json=sold, headers=headers), 409, "PET_NOT_AVAILABLE")
    assert body["user_message"] == "Sorry, Coco is not available."


def test_method_not_allowed_and_unknown_route(client):
    error_of(client.delete("/pets/1"), 405, "METHOD_NOT_ALLOWED")
    error_of(client.get("/no/such/route"), 404, "NOT_FOUND")


def test_request_id_is_returned_and_generated(client):
    r = client.get("/ping", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/ping").headers["X-Request-ID"]
    assert len(generated) == 32
    # a hostile id (log injection) is replaced, not echoed
    hostile = "id with spaces; and=more"
    assert client.get("/ping", headers={"X-Request-ID": hostile}).headers["X-Request-ID"] != hostile


def test_request_id_in_log_lines(client, caplog):
    import logging

    with caplog.at_level(logging.INFO):
        client.get("/pets/999", headers={"X-Request-ID": "trace-me-42"})
    lines = [
        r
        for r in caplog.records
        if getattr(r, "request_id", None) == "trace-me-42" or "trace-me-42" in r.getMessage()
    ]
    assert lines, [r.getMessage() for r in caplog.records]

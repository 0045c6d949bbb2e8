"""Regression tests for what contract fuzzing (test_fuzz.py) found, replayed in-process.

Each test is the request schemathesis sent, the reply it got, and the reply the spec promises.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO, build_app, table_prefix

from .support import FUZZ_SERVICE

ITEM = {"name": "saw", "price": 10.0, "sku": "ABC-0001", "category": "tools"}


@pytest.fixture
def fuzz_app():
    return build_app(FUZZ_SERVICE).test_client()


@pytest.fixture
def auth(token_for):
    return {"Authorization": f"Bearer {token_for('fuzzer')}"}


def test_exclusive_minimum_admits_a_value_just_above_the_bound(fuzz_app):
    """Found: POST /events [{"type": "buy", "at": "2000-01-01T00:00:00Z", "amount": 5e-324}]
    got 400 'body[0].amount: must be bigger than True'. The spec (minimum: 0,
    exclusiveMinimum: true, x-nullable) admits any amount > 0: expected 202."""
    event = {"type": "buy", "at": "2000-01-01T00:00:00Z", "amount": 5e-324}
    reply = fuzz_app.post("/api/v1/events", json=[event])
    assert reply.status_code == 202, reply.get_json()
    assert reply.get_json() == {"accepted": 1, "types": ["buy"]}


def test_exclusive_minimum_still_refuses_the_bound_and_says_so(fuzz_app):
    event = {"type": "buy", "at": "2000-01-01T00:00:00Z", "amount": 0}
    reply = fuzz_app.post("/api/v1/events", json=[event])
    assert reply.status_code == 400
    message = reply.get_json()["error_description"]
    assert message.startswith("body[0].amount: must be bigger than 0"), message
    assert "True" not in message, message


def test_exclusive_maximum_admits_a_value_just_below_the_bound(fuzz_app, auth):
    """Found: POST /items with price 999998.9999999999 (maximum: 1000000, exclusiveMaximum:
    true) got 400 'body.price: must be smaller than True': expected 201."""
    reply = fuzz_app.post("/api/v1/items", json={**ITEM, "price": 999998.9999999999}, headers=auth)
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["price"] == 999998.9999999999


def test_exclusive_maximum_refuses_the_bound_naming_it(fuzz_app, auth):
    reply = fuzz_app.post("/api/v1/items", json={**ITEM, "price": 1000000}, headers=auth)
    assert reply.status_code == 400
    message = reply.get_json()["error_description"]
    assert message.startswith("body.price: must be smaller than 1000000"), message


def test_exclusive_minimum_on_a_query_parameter(fuzz_app):
    """GET /measure/length?value=3&scale=0 (minimum: 0, exclusiveMinimum: true)."""
    ok = fuzz_app.get("/api/v1/measure/length?value=3&scale=0.5")
    assert ok.status_code == 200 and ok.get_json()["rounded"] == 1.5
    refused = fuzz_app.get("/api/v1/measure/length?value=3&scale=0")
    assert refused.status_code == 400
    message = refused.get_json()["error_description"]
    assert message.startswith("query parameter 'scale': must be bigger than 0"), message


def test_a_204_reply_is_declared_json_not_html(fuzz_app, auth):
    """Found: DELETE /api/v1/items/<id> -> 204 with 'Content-Type: text/html; charset=utf-8'
    (Flask's default) while the spec produces application/json; schemathesis ST105.
    Without any Content-Type it is ST104. Expected: application/json on empty replies too."""
    created = fuzz_app.post("/api/v1/items", json={**ITEM, "price": 0.5}, headers=auth)
    assert created.status_code == 201, created.get_json()
    reply = fuzz_app.delete(f"/api/v1/items/{created.get_json()['id']}", headers=auth)
    assert reply.status_code == 204
    assert reply.get_data() == b""
    assert reply.headers.get("Content-Type", "").startswith("application/json"), dict(reply.headers)


def test_an_order_of_expensive_pets_is_not_a_server_error(tmp_path, monkeypatch, token_for):
    """Found on the example: four pets at 100000 EUR ordered at once -> 500 BAD_RESPONSE
    ('response.total.amount: must be smaller than or equal to 100000, got 400000.0'):
    Order.total reuses Price, whose maximum is per pet. Expected: the order (201) or a
    declared client error, never a 5xx."""
    monkeypatch.setenv("PYM_DYNAMODB_TABLE_PREFIX", table_prefix("fuzz"))
    client = build_app(REPO, serve="petshop").test_client()
    auth = {"Authorization": f"Bearer {token_for('alice')}"}
    pet = {"name": "Gold", "species": "fish", "price": {"amount": 100000, "currency": "EUR"}}
    created = client.post("/pets", json=pet, headers=auth)
    assert created.status_code == 201, created.get_json()
    pet_id = created.get_json()["id"]
    order = {
        "items": [{"pet_id": pet_id}] * 4,
        "delivery": {"name": "A", "street": "1 rue", "city": "Paris", "country": "FR"},
    }
    reply = client.post("/orders", json=order, headers=auth)
    assert reply.status_code < 500, reply.get_json()
    if reply.status_code == 201:
        assert reply.get_json()["total"] == {"amount": 400000.0, "currency": "EUR"}

"""OpenAPI 3.0 and 3.1 services over HTTP, on real servers (gunicorn on 127.0.0.1).

Three services: tests/fixtures/oas30_issues (GitHub-like, 3.0), tests/fixtures/oas31_payments
(Stripe-like, 3.1) and the example's apis/adoption.yaml (3.1, beside the 2.0 petshop.yaml).
Every case answers the right status: valid requests, each kind of invalid one, nulls,
discriminator mismatches, parameter styles, missing required header, cookie and body. Then
`pym fuzz` on each: no server error, no reply outside its spec.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest
import requests

from tests.conftest import (
    FIXTURES,
    REPO,
    TEST_SECRET,
    LiveServer,
    free_port,
    gunicorn_cmd,
    table_prefix,
)

pytestmark = pytest.mark.slow

ISSUES = os.path.join(FIXTURES, "oas30_issues")
PAYMENTS = os.path.join(FIXTURES, "oas31_payments")


def _serve(service_dir: str, **env) -> LiveServer:
    port = free_port()
    # no request-line limit: the fuzzer's invalid queries can pass gunicorn's 4094 bytes,
    # and gunicorn's own HTML 414 is not the service's reply
    return LiveServer(
        [*gunicorn_cmd(port, workers=1), "--limit-request-line", "0"],
        cwd=service_dir,
        port=port,
        # the secret this process signs test tokens with (make test exports its own)
        env={"JWT_SECRET": os.environ.get("JWT_SECRET", TEST_SECRET), **env},
    ).wait()


@pytest.fixture(scope="module")
def issues():
    server = _serve(ISSUES)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def payments():
    server = _serve(PAYMENTS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def example():
    server = _serve(REPO, PYM_DYNAMODB_TABLE_PREFIX=table_prefix("oas3"), PYM_ENV="staging")
    yield server
    server.stop()


def token_of(service_dir: str, user: str = "alice") -> str:
    from pymacaron import config
    from pymacaron.auth import generate_token

    config.set_config(config.load_config(service_dir))
    try:
        return generate_token(user)
    finally:
        config.set_config(None)


def error_of(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    body = r.json()
    if code is not None:
        assert body["error"] == code, body
        assert uuid.UUID(body["error_id"]).version == 4
    return body


# -- OpenAPI 3.0: the GitHub-like issues service, under /api/v3 ----------------------------
def test_issues_create_get_list(issues):
    base = f"{issues.url}/api/v3/repos/octo/hello"
    new = {"title": "Found a bug", "body": None, "labels": ["bug", "ui"], "milestone": None}
    r = requests.post(f"{base}/issues", json=new, headers={"X-GitHub-Api-Version": "2022-11-28"})
    assert r.status_code == 201, r.text
    issue = r.json()
    assert issue["body"] is None and issue["milestone"] is None and issue["state"] == "open"
    assert r.headers["Location"] == f"/api/v3/repos/octo/hello/issues/{issue['number']}"
    got = requests.get(f"{base}/issues/{issue['number']}")
    assert got.status_code == 200 and got.json() == issue
    # labels: a form array, not exploded
    listed = requests.get(f"{base}/issues", params={"labels": "bug,ui", "per_page": 5})
    assert listed.status_code == 200 and [i["number"] for i in listed.json()] == [issue["number"]]
    assert 'rel="next"' in listed.headers["Link"]
    assert requests.get(f"{base}/issues", params={"labels": "bug,nope"}).json() == []
    assert requests.get(f"{base}/issues", params={"state": "closed"}).json() == []


@pytest.mark.parametrize(
    "path, params, headers",
    [
        ("/repos/bad!owner/hello/issues", {}, {}),  # path pattern
        ("/repos/octo/hello/issues/abc", {}, {}),  # path integer
        ("/repos/octo/hello/issues/0", {}, {}),  # path minimum
        ("/repos/octo/hello/issues", {"per_page": "0"}, {}),
        ("/repos/octo/hello/issues", {"per_page": "101"}, {}),
        ("/repos/octo/hello/issues", {"page": "x"}, {}),
        ("/repos/octo/hello/issues", {"state": "weird"}, {}),
        ("/repos/octo/hello/issues", {"since": "yesterday"}, {}),
        ("/repos/octo/hello/issues", {"labels": "bad label"}, {}),
        ("/repos/octo/hello/issues", {}, {"X-GitHub-Api-Version": "2020-01-01"}),
    ],
)
def test_issues_invalid_parameters(issues, path, params, headers):
    r = requests.get(f"{issues.url}/api/v3{path}", params=params, headers=headers)
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"message"} and r.json()["message"]  # error_model: auto


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (None, None, 400),  # a required body missing
        (b"{not json", "application/json", 400),
        (b'{"title": "t"}', "text/plain", 415),
        (b"{}", "application/json", 400),  # title required
        (b'{"title": ""}', "application/json", 400),
        (b'{"title": null}', "application/json", 400),  # not nullable
        (b'{"title": "t", "milestone": 0}', "application/json", 400),
        (b'{"title": "t", "extra": 1}', "application/json", 400),
        (b'{"title": "t", "labels": "bug"}', "application/json", 400),
        (b'{"title": "t", "body": null, "milestone": null}', "application/json", 201),
    ],
)
def test_issues_create_bodies(issues, body, content_type, status):
    headers = {"Content-Type": content_type} if content_type else {}
    r = requests.post(f"{issues.url}/api/v3/repos/o/r/issues", data=body, headers=headers)
    assert r.status_code == status, r.text


def test_issues_update_nulls_and_optional_body(issues):
    base = f"{issues.url}/api/v3/repos/octo/nulls/issues"
    number = requests.post(base, json={"title": "t", "milestone": 3}).json()["number"]
    r = requests.patch(f"{base}/{number}", json={"state": "closed"})
    assert r.status_code == 200 and r.json()["milestone"] == 3 and r.json()["state"] == "closed"
    assert requests.patch(f"{base}/{number}", json={}).status_code == 400  # minProperties
    assert requests.patch(f"{base}/{number}", json={"state": None}).status_code == 400
    assert requests.patch(f"{base}/{number}").status_code == 400  # required body
    # an optional body: absent, or valid, or refused when invalid
    assert requests.put(f"{base}/{number}/lock").status_code == 204
    assert requests.put(f"{base}/{number}/lock", json={"lock_reason": "spam"}).status_code == 204
    assert requests.get(f"{base}/{number}").json()["active_lock_reason"] == "spam"
    assert requests.put(f"{base}/{number}/lock", json={"lock_reason": "x"}).status_code == 400
    missing = requests.get(f"{base}/999")
    assert missing.status_code == 404 and "#999" in missing.json()["message"]


def test_issues_patch_null_clears_a_field(issues):
    base = f"{issues.url}/api/v3/repos/octo/clear/issues"
    number = requests.post(base, json={"title": "t", "milestone": 3}).json()["number"]
    r = requests.patch(f"{base}/{number}", json={"milestone": None})
    assert r.status_code == 200 and r.json()["milestone"] is None


@pytest.mark.parametrize(
    "path, headers, status, expected",
    [
        ("/styles/label/.3,4,5", {}, 200, {"ids": [3, 4, 5]}),  # not exploded: commas
        ("/styles/label/.7", {}, 200, {"ids": [7]}),
        ("/styles/label/3,4", {}, 400, None),  # no leading dot
        ("/styles/label/.0", {}, 400, None),
        ("/styles/matrix/;x=1;y=-2", {}, 200, {"point": {"x": 1, "y": -2}}),
        ("/styles/matrix/;x=1", {}, 400, None),  # y required
        ("/styles/matrix/x=1;y=2", {}, 400, None),  # no leading ;
        ("/styles/simple/x,1,y,2", {}, 200, {"point": {"x": 1, "y": 2}}),
        ("/styles/simple/x,1,y", {}, 400, None),
        ("/styles/simple/x,1,y,two", {}, 400, None),
        (
            "/styles/delimited?pipes=ab|cd&spaces=1%202",
            {"X-Tags": "a,b"},
            200,
            {"pipes": ["ab", "cd"], "spaces": [1, 2], "x_tags": ["a", "b"]},
        ),
        ("/styles/delimited?pipes=AB", {}, 400, None),
        ("/styles/delimited?spaces=1%20x", {}, 400, None),
        ("/styles/delimited", {"X-Tags": "a,B"}, 400, None),
    ],
)
def test_issues_parameter_styles(issues, path, headers, status, expected):
    r = requests.get(f"{issues.url}/api/v3{path}", headers=headers)
    assert r.status_code == status, r.text
    if expected is not None:
        assert r.json() == expected


def test_issues_served_spec(issues):
    doc = requests.get(f"{issues.url}/api/v3/openapi.json").json()
    assert doc["openapi"] == "3.0.3" and "/repos/{owner}/{repo}/issues" in doc["paths"]
    assert {"/ping", "/version", "/auth/version"} <= set(doc["paths"])
    assert doc["paths"]["/ping"]["servers"] == [{"url": "https://issues.example.com/"}]
    assert requests.get(f"{issues.url}/openapi.json").json() == doc
    assert requests.get(f"{issues.url}/swagger.json").status_code == 404  # not a 2.0 API


# -- OpenAPI 3.1: the Stripe-like payments service, under /v1 ------------------------------
def _customer(payments, **fields) -> dict:
    r = requests.post(f"{payments.url}/v1/customers", data=fields)  # form-urlencoded
    assert r.status_code == 200, r.text
    return r.json()


def test_payments_customers(payments):
    created = _customer(payments, email="ann@example.com", name="Ann", balance="12")
    assert created["object"] == "customer" and created["balance"] == 12
    assert created["description"] is None  # a null, declared as such
    assert re.fullmatch(r"cus_[A-Za-z0-9]{8,24}", created["id"])
    as_json = requests.post(
        f"{payments.url}/v1/customers", json={"name": "Bob", "description": None}
    )
    assert as_json.status_code == 200 and as_json.json()["description"] is None
    assert as_json.headers["X-Request-ID"]
    got = requests.get(f"{payments.url}/v1/customers/{created['id']}")
    assert got.status_code == 200 and got.json() == created
    listed = requests.get(f"{payments.url}/v1/customers", params={"email": "ann@example.com"})
    assert [c["id"] for c in listed.json()["data"]] == [created["id"]]
    deleted = requests.delete(f"{payments.url}/v1/customers/{created['id']}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    error_of(requests.get(f"{payments.url}/v1/customers/{created['id']}"), 404, "RESOURCE_MISSING")


def test_payments_deep_object_filters(payments):
    created = _customer(payments, name="Deep")
    url = f"{payments.url}/v1/customers"
    since = {"created[gte]": str(created["created"] - 1), "created[lt]": "99999999999"}
    ids = [c["id"] for c in requests.get(url, params={**since, "limit": 100}).json()["data"]]
    assert created["id"] in ids
    later = requests.get(url, params={"created[gt]": "99999999999"})
    assert later.status_code == 200 and later.json()["data"] == []
    for bad in ({"created[gte]": "soon"}, {"created[around]": "1"}, {"limit": "0"}):
        error_of(requests.get(url, params=bad), 400, "INVALID_PARAMETER")


@pytest.mark.parametrize(
    "fields, as_json",
    [
        ({"email": "not an email"}, False),
        ({"balance": "ten"}, False),
        ({"description": "x" * 351}, False),
        ({"unknown": "1"}, False),
        ({"name": None}, True),  # not nullable
        ({"balance": 1.5}, True),
    ],
)
def test_payments_invalid_customers(payments, fields, as_json):
    if as_json:
        r = requests.post(f"{payments.url}/v1/customers", json=fields)
    else:
        r = requests.post(f"{payments.url}/v1/customers", data=fields)
    error_of(r, 400, "INVALID_PARAMETER")


CARD = {"type": "card", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
SEPA = {"type": "sepa_debit", "iban_last4": "3000", "country": "FR"}


@pytest.fixture(scope="module")
def charge_auth(payments):
    return {"Authorization": f"Bearer {token_of(PAYMENTS)}"}


def _charge(customer_id: str, **overrides) -> dict:
    return {"amount": 2000, "currency": "eur", "customer": customer_id, "payment_method": CARD,
            **overrides}  # fmt: skip


def test_payments_charges(payments, charge_auth):
    customer = _customer(payments, name="Payer")
    url = f"{payments.url}/v1/charges"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    r = requests.post(url, json=_charge(customer["id"]), headers={**charge_auth, **key})
    assert r.status_code == 200, r.text
    charge = r.json()
    assert charge["customer"] == customer["id"] and charge["description"] is None
    again = requests.post(url, json=_charge(customer["id"]), headers={**charge_auth, **key})
    assert again.json()["id"] == charge["id"]  # the same key: the same charge
    sepa = requests.post(
        url,
        json=_charge(customer["id"], payment_method=SEPA, application_fee_percent=2.5),
        headers={**charge_auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert sepa.status_code == 200 and sepa.json()["payment_method"] == SEPA
    got = requests.get(f"{url}/{charge['id']}")
    assert got.status_code == 200 and got.json()["customer"] == customer["id"]
    expanded = requests.get(f"{url}/{charge['id']}", params={"expand": "customer"})
    assert expanded.json()["customer"]["id"] == customer["id"]  # anyOf: the object
    error_of(requests.get(f"{url}/{charge['id']}", params={"expand": "nope"}), 400)
    error_of(requests.get(f"{url}/ch_000000000000"), 404, "CHARGE_MISSING")


@pytest.mark.parametrize(
    "overrides, why",
    [
        ({"payment_method": {**SEPA, "type": "card"}}, "discriminator says card, fields are sepa"),
        ({"payment_method": {**CARD, "type": "sepa_debit"}}, "discriminator says sepa"),
        ({"payment_method": {**SEPA, "type": "paypal"}}, "no such discriminator value"),
        ({"payment_method": {k: v for k, v in CARD.items() if k != "type"}}, "no discriminator"),
        ({"payment_method": {k: v for k, v in CARD.items() if k != "exp_year"}}, "dependentRequired"),
        ({"application_fee_percent": 0}, "exclusiveMinimum"),
        ({"application_fee_percent": 100}, "exclusiveMaximum"),
        ({"amount": None}, "not nullable"),
        ({"amount": 49}, "minimum"),
        ({"currency": "EUR"}, "pattern"),
        ({"customer": "nobody"}, "pattern of a $ref'd schema"),
        ({"description": 5}, "a string or null"),
    ],
)  # fmt: skip
def test_payments_invalid_charges(payments, charge_auth, overrides, why):
    r = requests.post(
        f"{payments.url}/v1/charges",
        json=_charge("cus_0000000000", **overrides),
        headers={**charge_auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    error_of(r, 400, "INVALID_PARAMETER")


def test_payments_charges_need_a_token_a_key_and_a_body(payments, charge_auth):
    url = f"{payments.url}/v1/charges"
    key = {"Idempotency-Key": "k1"}
    body = _charge("cus_0000000000")
    error_of(requests.post(url, json=body, headers=key), 401, "AUTHORIZATION_HEADER_MISSING")
    error_of(requests.post(url, json=body, headers=charge_auth), 400, "INVALID_PARAMETER")
    error_of(requests.post(url, headers={**charge_auth, **key}), 400, "INVALID_PARAMETER")
    bad_key = {**charge_auth, "Idempotency-Key": ""}
    error_of(requests.post(url, json=body, headers=bad_key), 400, "INVALID_PARAMETER")
    # valid, but no such customer: the handler's 404
    error_of(requests.post(url, json=body, headers={**charge_auth, **key}), 404)


def test_payments_served_spec(payments):
    doc = requests.get(f"{payments.url}/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0" and "/charges" in doc["paths"]
    assert doc["paths"]["/version"]["servers"] == [{"url": "https://payments.example.com/"}]


# -- the example's OpenAPI 3.1 API (apis/adoption.yaml), beside the 2.0 petshop ------------
def test_example_serves_both_apis(example):
    assert requests.get(f"{example.url}/pets", params={"limit": 1}).status_code == 200
    assert requests.get(f"{example.url}/adoption/v1/animals").status_code == 200
    assert requests.get(f"{example.url}/version").json()["apis"][:2] == ["petshop", "adoption"]
    assert requests.get(f"{example.url}/openapi.json").json()["swagger"] == "2.0"
    assert requests.get(f"{example.url}/adoption/v1/openapi.json").json()["openapi"] == "3.1.0"


@pytest.mark.parametrize(
    "params, headers, status, names",
    [
        ({}, {}, 200, ["Biscuit", "Pistache", "Kiwi", "Moka"]),
        ({"species": ["dog", "cat"]}, {}, 200, ["Biscuit", "Pistache", "Moka"]),  # exploded
        ({"species": "dog,cat"}, {}, 400, None),  # one item, not in the enum
        ({"species": "fish"}, {}, 400, None),
        ({"age": "1,6"}, {}, 200, ["Biscuit", "Pistache"]),  # not exploded
        ({"age": "1"}, {}, 400, None),  # minItems 2
        ({"age": "1,2,3"}, {}, 400, None),
        ({"age": "1,old"}, {}, 400, None),
        ({}, {"X-Shop-Locale": "fr"}, 200, ["Biscuit", "Pistache", "Kiwi", "Moka"]),
        ({}, {"X-Shop-Locale": "de"}, 400, None),
    ],
)
def test_example_animals(example, params, headers, status, names):
    r = requests.get(f"{example.url}/adoption/v1/animals", params=params, headers=headers)
    assert r.status_code == status, r.text
    if names is not None:
        assert [a["name"] for a in r.json()] == names
        locale = headers.get("X-Shop-Locale", "en")
        assert r.headers["Content-Language"] == locale
        notes = {a["name"]: a["notes"] for a in r.json()}
        assert notes["Biscuit"] is None  # a null field, sent as null
        if locale == "fr":
            assert notes["Pistache"] == "Timide au début"


def test_example_one_animal(example):
    base = f"{example.url}/adoption/v1/animals"
    assert requests.get(f"{base}/1").json()["notes"] is None
    error_of(requests.get(f"{base}/99"), 404, "ANIMAL_NOT_FOUND")
    error_of(requests.get(f"{base}/0"), 400, "INVALID_PARAMETER")
    error_of(requests.get(f"{base}/one"), 400, "INVALID_PARAMETER")


HOUSE = {"home": "house", "animal_id": 1, "garden": True, "notes": None}
FLAT = {"home": "flat", "animal_id": 2, "floor": 3, "lift": False}


@pytest.mark.parametrize(
    "body, cookies, status",
    [
        (HOUSE, {"adopter": "ann1"}, 201),
        (FLAT, {"adopter": "ann1"}, 201),
        ({**FLAT, "notes": "Near a park"}, {"adopter": "bob2"}, 201),
        (HOUSE, {}, 400),  # the required cookie missing
        (HOUSE, {"adopter": "A!"}, 400),
        (None, {"adopter": "ann1"}, 400),  # the required body missing
        ({**HOUSE, "home": "flat"}, {"adopter": "ann1"}, 400),  # discriminator mismatch
        ({**FLAT, "home": "house"}, {"adopter": "ann1"}, 400),
        ({**HOUSE, "home": "boat"}, {"adopter": "ann1"}, 400),
        ({k: v for k, v in HOUSE.items() if k != "home"}, {"adopter": "ann1"}, 400),
        ({**HOUSE, "garden": None}, {"adopter": "ann1"}, 400),  # not nullable
        ({**HOUSE, "notes": 3}, {"adopter": "ann1"}, 400),
        ({**HOUSE, "animal_id": 3}, {"adopter": "ann1"}, 409),  # adopted already
        ({**HOUSE, "animal_id": 42}, {"adopter": "ann1"}, 404),
    ],
)
def test_example_applications(example, body, cookies, status):
    r = requests.post(f"{example.url}/adoption/v1/applications", json=body, cookies=cookies)
    assert r.status_code == status, r.text
    if status == 201:
        reply = r.json()
        assert reply["adopter"] == cookies["adopter"] and reply["home"] == body["home"]
        assert reply["notes"] == body.get("notes")
        assert uuid.UUID(reply["id"])
    else:
        assert set(r.json()) >= {"status", "error", "error_description", "error_id"}


# -- pym fuzz: no server error, no reply outside the spec --------------------------------
def _fuzz(server: LiveServer, service_dir: str, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "pym"), "fuzz", "--url", server.url,
         "--dir", service_dir, "--max-examples", "15", "--seed", "20261201", *extra],
        cwd=service_dir,
        env={**os.environ, "JWT_SECRET": TEST_SECRET},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    summary = [line for line in result.stdout.splitlines() if line.startswith("pym fuzz:")]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    print("\n".join(summary))
    counted = [line for line in summary if " cases, " in line]
    assert counted and all(", 0 failure(s)" in line for line in counted), summary
    log = server.output()
    assert "Traceback" not in log and "UNHANDLED_SERVER_ERROR" not in log, log[-4000:]
    return result


# Every check, the two data checks included (positive_data_acceptance,
# negative_data_rejection): pym fuzz tells schemathesis pymacaron's int64 bound on integers
# without a format and drops generated header values HTTP would trim (testing/fuzz.py,
# fuzzhooks.py); they were left out before (docs/decisions.md).


# The issues fixture's style operations are ambiguous on the wire for a schema-violating
# case, so negative_data_rejection is left out there (and only there): an integer where a
# label-style array is declared is sent as `.4194303`, which is a valid one-item array; a
# header array item with a space around it is trimmed by HTTP into a valid one.
ISSUES_CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,ignored_auth,positive_data_acceptance"
)


def test_fuzz_issues(issues):
    _fuzz(issues, ISSUES, "--checks", ISSUES_CHECKS)


def test_fuzz_payments(payments):
    _fuzz(payments, PAYMENTS)


def test_fuzz_example_adoption(example):
    _fuzz(example, REPO, "--spec", os.path.join(REPO, "apis", "adoption.yaml"), "--no-builtin")

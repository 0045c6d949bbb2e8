"""POST /orders (authenticated): priced for the caller."""

import jwt
import pytest


def order(address, *pet_ids, gift_wrap=False):
    return {"items": [{"pet_id": i, "gift_wrap": gift_wrap} for i in pet_ids], "delivery": address}


def test_order_needs_a_token(pym_client, address):
    pym_client.assertCallReturnError(
        "POST", "/orders", 401, "AUTHORIZATION_HEADER_MISSING", data=order(address, 1)
    )


def test_order_is_priced_for_the_caller(pym_client, pym_auth, address):
    j = pym_client.assertCallReturnJson(
        "POST", "orders", order(address, 1, 2, gift_wrap=True), auth=pym_auth, status=201
    )
    token = pym_auth.split()[1]
    assert j["customer"] == jwt.decode(token, options={"verify_signature": False})["sub"]
    assert j["status"] == "placed"
    assert j["total"] == {"amount": 580.0, "currency": "EUR"}  # 450 + 120 + 2 x 5 wrapping
    assert j["delivery"] == address


@pytest.mark.parametrize(
    "pet_id,status,error", [(3, 409, "PET_NOT_AVAILABLE"), (99999, 404, "PET_NOT_FOUND")]
)
def test_order_refused(pym_client, pym_auth, address, pet_id, status, error):
    pym_client.assertCallReturnError(
        "POST", "/orders", status, error, data=order(address, pet_id), auth=pym_auth
    )


def test_order_validates_the_address(pym_client, pym_auth, address):
    bad = order({**address, "country": "France"}, 1)
    j = pym_client.assertCallReturnError(
        "POST", "/orders", 400, "INVALID_PARAMETER", data=bad, auth=pym_auth
    )
    assert "body.delivery.country" in j["error_description"]

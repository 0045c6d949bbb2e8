"""POST /orders notifies the customer through a task (pymacaron.tasks); observed over HTTP.

With ``with_async: false`` the task ran inline before the order's reply; with
``with_async: true`` (``PYM_WITH_ASYNC=1``) the task worker sends it shortly after, so the
test polls. Either way the notification carries the caller's identity and the request id
of the request that placed the order: both travelled with the task.
"""

import time
import uuid

import jwt

WAIT_SECONDS = 30


def place_order(pym_client, pym_auth, address, request_id):
    body = {"items": [{"pet_id": 2}, {"pet_id": 4}], "delivery": address}
    r = pym_client.call(
        "POST", "/orders", body, auth=pym_auth, headers={"X-Request-ID": request_id}
    )
    assert r.status_code == 201, r.text
    return r.json()


def notifications(pym_client, pym_auth, order_id):
    return pym_client.assertGetReturnJson(f"/orders/{order_id}/notifications", auth=pym_auth)


def test_an_order_notifies_its_customer(pym_client, pym_auth, address):
    request_id = f"accept-{uuid.uuid4().hex}"
    order = place_order(pym_client, pym_auth, address, request_id)
    deadline = time.monotonic() + WAIT_SECONDS
    found = notifications(pym_client, pym_auth, order["id"])
    while not found and time.monotonic() < deadline:
        time.sleep(0.25)
        found = notifications(pym_client, pym_auth, order["id"])
    assert len(found) == 1, f"no notification for order {order['id']} after {WAIT_SECONDS}s"
    [note] = found
    customer = jwt.decode(pym_auth.split()[1], options={"verify_signature": False})["sub"]
    assert note["order_id"] == order["id"] and note["kind"] == "order_placed"
    assert note["customer"] == customer == order["customer"]
    assert note["request_id"] == request_id
    assert "2 pets, 135.50 EUR" in note["message"] and address["city"] in note["message"]


def test_notifications_need_a_token(pym_client):
    pym_client.assertGetReturnError(
        f"/orders/{uuid.uuid4()}/notifications", 401, "AUTHORIZATION_HEADER_MISSING"
    )


def test_an_unknown_order_has_no_notifications(pym_client, pym_auth):
    assert notifications(pym_client, pym_auth, str(uuid.uuid4())) == []

"""GET /pets/{pet_id}/delivery: the pet shop calls the delivery service (ApiPool client).

When the runner says the delivery service is provided (PYM_ACCEPT_PROVIDED), the real
quote and the delivery service's own refusal are asserted; when it is not, the clean
503 DOWNSTREAM_UNAVAILABLE reply is.
"""


def test_quote(pym_client, delivery_provided):
    if delivery_provided:
        j = pym_client.assertGetReturnJson("/pets/1/delivery?country=FR", 200)
        assert j == {
            "pet_id": 1,
            "country": "FR",
            "carrier": "La Poste Animaux",
            "price": {"amount": 25.0, "currency": "EUR"},
            "days": 2,
        }
        fish = pym_client.assertGetReturnJson("/pets/4/delivery?country=FR&postcode=75001", 200)
        assert fish["price"]["amount"] == 45.0  # the tank surcharge is computed downstream
    else:
        j = pym_client.assertGetReturnError(
            "/pets/1/delivery?country=FR", 503, "DOWNSTREAM_UNAVAILABLE"
        )
        assert j["user_message"] == "Delivery quotes are unavailable right now, please retry later."
        assert "127.0.0.1" not in j["error_description"]  # no internal address leaks


def test_downstream_refusal_keeps_its_error(pym_client, delivery_provided):
    if delivery_provided:
        j = pym_client.assertGetReturnError(
            "/pets/1/delivery?country=JP", 422, "COUNTRY_NOT_SERVED"
        )
        assert j["user_message"] == "Sorry, we do not deliver to JP yet."
    else:
        pym_client.assertGetReturnError(
            "/pets/1/delivery?country=JP", 503, "DOWNSTREAM_UNAVAILABLE"
        )


def test_checks_before_calling_downstream(pym_client):
    pym_client.assertGetReturnError("/pets/99999/delivery?country=FR", 404, "PET_NOT_FOUND")
    pym_client.assertGetReturnError("/pets/1/delivery?country=france", 400, "INVALID_PARAMETER")
    pym_client.assertGetReturnError("/pets/1/delivery", 400, "INVALID_PARAMETER")

"""Handlers of apis/petshop.yaml (bound with x-bind-server)."""

from __future__ import annotations

import uuid

from pymacaron.apipool import ApiPool
from pymacaron.auth import get_userid
from pymacaron.client import DownstreamUnavailableError, error_to_exception
from pymacaron.exceptions import add_error, is_error
from pymacaron.models import DeliveryQuote, Order, Pet

from . import store
from .notifications import notify_order_placed

PetNotFoundError = add_error("PetNotFoundError", "PET_NOT_FOUND", 404)
PetNotAvailableError = add_error("PetNotAvailableError", "PET_NOT_AVAILABLE", 409)
MixedCurrenciesError = add_error("MixedCurrenciesError", "MIXED_CURRENCIES", 400)

GIFT_WRAP_PRICE = 5.0


def list_pets(limit=20, status=None, tags=None):
    """GET /pets: a list response, filtered by query parameters."""
    return [Pet.from_json(p) for p in store.search(limit, status=status, tags=tags)]


def get_pet(pet_id):
    """GET /pets/{pet_id}: one pet, or the custom error PET_NOT_FOUND."""
    pet = store.get(pet_id)
    if pet is None:
        raise PetNotFoundError(
            f"there is no pet with id {pet_id}", user_message="This pet is not in our shop."
        )
    return Pet.from_json(pet)


def create_pet(new_pet):
    """POST /pets (authenticated): the body arrives as a NewPet model."""
    pet = store.add(new_pet.to_json())
    return Pet.from_json(pet), 201


def create_order(new_order):
    """POST /orders (authenticated): prices an order for the caller."""
    currency = None
    total = 0.0
    for item in new_order.items:
        pet = store.get(item.pet_id)
        if pet is None:
            raise PetNotFoundError(f"items: there is no pet with id {item.pet_id}")
        if pet["status"] != "available":
            raise PetNotAvailableError(
                f"pet {item.pet_id} is {pet['status']}",
                user_message=f"Sorry, {pet['name']} is not available.",
            )
        if currency and pet["price"]["currency"] != currency:
            raise MixedCurrenciesError("all pets of one order must be priced in one currency")
        currency = pet["price"]["currency"]
        total += pet["price"]["amount"] + (GIFT_WRAP_PRICE if item.gift_wrap else 0.0)
    order = Order(
        id=str(uuid.uuid4()),
        customer=get_userid(),
        items=new_order.items,
        delivery=new_order.delivery,
        total={"amount": round(total, 2), "currency": currency},
        status="placed",
        note=new_order.note,
    )
    notify_order_placed(order)  # a task: queued with with_async, else run inline
    return order, 201


def quote_delivery(pet_id, country, postcode=None):
    """GET /pets/{pet_id}/delivery: a service-to-service call to the delivery API.

    The delivery service's own refusal (COUNTRY_NOT_SERVED) is passed on with its error_id;
    any other failure (unreachable, timeout, bad reply) is a clean 503 DOWNSTREAM_UNAVAILABLE
    under the client's error_id.
    """
    pet = store.get(pet_id)
    if pet is None:
        raise PetNotFoundError(f"there is no pet with id {pet_id}")
    request = ApiPool.delivery.model.QuoteRequest(
        species=pet["species"], country=country, postcode=postcode
    )
    quote = ApiPool.delivery.client.get_quote(request)
    if is_error(quote):
        if quote.error == "COUNTRY_NOT_SERVED":
            raise error_to_exception(quote)
        raise DownstreamUnavailableError(
            f"the delivery service could not quote ({quote.error}, see the log)",
            error_id=quote.error_id,
            user_message="Delivery quotes are unavailable right now, please retry later.",
        )
    return DeliveryQuote(
        pet_id=pet_id,
        country=country,
        carrier=quote.carrier,
        price={"amount": quote.amount, "currency": quote.currency},
        days=quote.days,
    )

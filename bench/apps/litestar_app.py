"""Litestar serving the petstore with msgspec Structs: the body is decoded into NewPet
(unknown fields refused, every constraint of bench/petstore.yaml as msgspec ``Meta``),
parameters are validated by Litestar's own (``Parameter(ge=..., le=...)``), and each
reply is converted into Pet structs (``msgspec.convert``: the response validated) before
Litestar encodes it. ``async def`` handlers, served by uvicorn[standard] (bench/run.py).
"""

from typing import Annotated, Literal

import msgspec
from data import NEW_ID, PETS, PETS_BY_ID
from litestar import Litestar, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from msgspec import UNSET, Meta, Struct, UnsetType

Species = Literal["dog", "cat", "bird", "fish", "rabbit"]
Tag = Annotated[str, Meta(min_length=1, max_length=32)]
Tags = Annotated[list[Tag], Meta(max_length=10)]


class Price(Struct, forbid_unknown_fields=True):
    amount: Annotated[float, Meta(ge=0, le=100000)]
    currency: Literal["EUR", "USD", "GBP"]


class NewPet(Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    species: Species
    price: Price
    tags: Tags | UnsetType = UNSET


class Pet(Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: Annotated[int, Meta(ge=1, le=2**63 - 1)]
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    species: Species
    status: Literal["available", "reserved", "sold"]
    price: Price
    tags: Tags | UnsetType = UNSET


@get("/ping")
async def ping() -> dict:
    return {}


@get("/pets/{pet_id:int}")
async def get_pet(pet_id: Annotated[int, Parameter(ge=1, le=2**63 - 1)]) -> Pet:
    pet = PETS_BY_ID.get(pet_id)
    if pet is None:
        raise NotFoundException("PET_NOT_FOUND")
    return msgspec.convert(pet, Pet)


@get("/pets")
async def list_pets(limit: Annotated[int, Parameter(ge=1, le=100)] = 20) -> list[Pet]:
    return msgspec.convert(PETS[:limit], list[Pet])


@post("/pets")  # Litestar's POST default status is 201
async def create_pet(data: NewPet) -> Pet:
    pet = msgspec.to_builtins(data)
    pet["id"], pet["status"] = NEW_ID, "available"
    return msgspec.convert(pet, Pet)


app = Litestar([ping, get_pet, list_pets, create_pet])

"""FastAPI + pydantic 2: the same endpoints and constraints, validated both ways.

Request parameters and bodies are validated by pydantic; responses through response_model.
``app`` declares its handlers with ``async def``, as FastAPI's docs recommend for handlers
that do not block (they run on the event loop); ``app_def`` declares the same handlers with
``def``, which FastAPI runs in a worker thread per request (anyio's threadpool).
"""

from typing import Annotated, Literal

from data import NEW_ID, PETS, PETS_BY_ID
from fastapi import FastAPI, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

Species = Literal["dog", "cat", "bird", "fish", "rabbit"]
Tag = Annotated[str, Field(min_length=1, max_length=32)]


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: float = Field(ge=0, le=100000)
    currency: Literal["EUR", "USD", "GBP"]


class NewPet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    species: Species
    price: Price
    tags: list[Tag] | None = Field(default=None, max_length=10)


class Pet(NewPet):
    id: int = Field(ge=1, le=2**63 - 1)
    status: Literal["available", "reserved", "sold"]


KW = {"response_model_exclude_none": True}

# -- what a FastAPI user writes for non-blocking handlers: async def ---------------------
app = FastAPI()


@app.get("/ping")
async def ping():
    return {}


@app.get("/pets/{pet_id}", response_model=Pet, **KW)
async def get_pet(pet_id: Annotated[int, Path(ge=1, le=2**63 - 1)]):
    pet = PETS_BY_ID.get(pet_id)
    if pet is None:
        raise HTTPException(404, "PET_NOT_FOUND")
    return pet


@app.get("/pets", response_model=list[Pet], **KW)
async def list_pets(limit: Annotated[int, Query(ge=1, le=100)] = 20):
    return PETS[:limit]


@app.post("/pets", response_model=Pet, status_code=201, **KW)
async def create_pet(pet: NewPet):
    return {**pet.model_dump(exclude_none=True), "id": NEW_ID, "status": "available"}


# -- the same with def: each request runs in anyio's threadpool (the extra row) ----------
app_def = FastAPI()


@app_def.get("/ping")
def ping_def():
    return {}


@app_def.get("/pets/{pet_id}", response_model=Pet, **KW)
def get_pet_def(pet_id: Annotated[int, Path(ge=1, le=2**63 - 1)]):
    pet = PETS_BY_ID.get(pet_id)
    if pet is None:
        raise HTTPException(404, "PET_NOT_FOUND")
    return pet


@app_def.get("/pets", response_model=list[Pet], **KW)
def list_pets_def(limit: Annotated[int, Query(ge=1, le=100)] = 20):
    return PETS[:limit]


@app_def.post("/pets", response_model=Pet, status_code=201, **KW)
def create_pet_def(pet: NewPet):
    return {**pet.model_dump(exclude_none=True), "id": NEW_ID, "status": "available"}

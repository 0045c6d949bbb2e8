"""FastAPI + pydantic 2: the same endpoints and constraints, validated both ways.

Request parameters and bodies are validated by pydantic; responses through response_model.
"""

from typing import Annotated, Literal

from data import NEW_ID, PETS, PETS_BY_ID
from fastapi import FastAPI, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

app = FastAPI()

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


@app.get("/ping")
def ping():
    return {}


@app.get("/pets/{pet_id}", response_model=Pet, response_model_exclude_none=True)
def get_pet(pet_id: Annotated[int, Path(ge=1, le=2**63 - 1)]):
    pet = PETS_BY_ID.get(pet_id)
    if pet is None:
        raise HTTPException(404, "PET_NOT_FOUND")
    return pet


@app.get("/pets", response_model=list[Pet], response_model_exclude_none=True)
def list_pets(limit: Annotated[int, Query(ge=1, le=100)] = 20):
    return PETS[:limit]


@app.post("/pets", response_model=Pet, status_code=201, response_model_exclude_none=True)
def create_pet(pet: NewPet):
    return {**pet.model_dump(exclude_none=True), "id": NEW_ID, "status": "available"}

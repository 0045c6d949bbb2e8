"""pymacaron handlers of bench/petstore.yaml.

Like the other servers' handlers, they return what the store holds (dicts): the bench
measures the framework (parameters, body model, validation both ways, serialisation),
not building response models in the handler. The body still arrives as a NewPet model.
Set BENCH_MODELS=1 to return Pet models instead (the petshop example's style).
"""

import os

from data import NEW_ID, PETS, PETS_BY_ID

from pymacaron.exceptions import add_error
from pymacaron.models import Pet

PetNotFoundError = add_error("PetNotFoundError", "PET_NOT_FOUND", 404)
MODELS = os.environ.get("BENCH_MODELS") == "1"


def get_pet(pet_id):
    pet = PETS_BY_ID.get(pet_id)
    if pet is None:
        raise PetNotFoundError(f"there is no pet with id {pet_id}")
    return Pet.from_json(pet) if MODELS else pet


def list_pets(limit=20):
    if MODELS:
        return [Pet.from_json(p) for p in PETS[:limit]]
    return PETS[:limit]


def create_pet(new_pet):
    pet = {**new_pet.to_json(), "id": NEW_ID, "status": "available"}
    return (Pet.from_json(pet) if MODELS else pet), 201

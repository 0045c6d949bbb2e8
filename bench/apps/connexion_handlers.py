"""connexion 3 handlers of bench/petstore.yaml (connexion validates requests and responses)."""

from data import NEW_ID, PETS, PETS_BY_ID


def ping():
    return {}


def get_pet(pet_id):
    pet = PETS_BY_ID.get(pet_id)
    if pet is None:
        return {"status": 404, "error": "PET_NOT_FOUND"}, 404
    return pet


def list_pets(limit=20):
    return PETS[:limit]


def create_pet(body):
    return {**body, "id": NEW_ID, "status": "available"}, 201

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


# AsyncApp runs a plain def in a threadpool; its docs' choice for non-blocking handlers
# (what the connexion-async row measures) is async def.
async def async_ping():
    return ping()


async def async_get_pet(pet_id):
    return get_pet(pet_id)


async def async_list_pets(limit=20):
    return list_pets(limit)


async def async_create_pet(body):
    return create_pet(body)
